//go:build !unix

package realserver

import (
	"context"
	"errors"
	"os"
	"time"
)

// staleLockAge is how old a lock file must be before it is assumed to belong
// to a crashed process.
const staleLockAge = 15 * time.Minute

// lockFile creates path exclusively, polling until ctx is done; the returned
// function removes it. A lock file older than staleLockAge is broken.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			f.Close()
			return func() { _ = os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if fi, serr := os.Stat(path); serr == nil && time.Since(fi.ModTime()) > staleLockAge {
			_ = os.Remove(path)
			continue
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
