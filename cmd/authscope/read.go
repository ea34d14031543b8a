package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// exitInterrupted is the exit status after SIGINT or SIGTERM ended a
// command that was still working (128 + SIGINT, as shells report it).
const exitInterrupted = 130

// orInterrupt runs f, a read that may block for ever (stdin nobody types
// into, a FIFO nobody writes), and gives up on it when ctx ends: the
// signal context of main, so SIGINT or SIGTERM ends the command at once.
// The abandoned read is left to the process exit.
func orInterrupt[T any](ctx context.Context, what string, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, &exitError{code: exitInterrupted, err: fmt.Errorf("interrupted while %s", what)}
	}
}

// errTooLarge is returned by readFileLimited for a file over its limit.
var errTooLarge = errors.New("too large")

// readFileLimited reads at most limit bytes of a file and fails with
// errTooLarge if there is more: a bound on bytes read, so that /dev/zero
// or an endless pipe cannot exhaust memory.
func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

// maxTokenLine bounds the token decode reads from stdin.
const maxTokenLine = 64 << 10

// readTokenLine reads the first line of stdin, giving up on a signal. A
// line that opens a JSON object (the token endpoint's answer, perhaps
// pretty-printed) is read on until the object is complete.
func readTokenLine(ctx context.Context, stdin io.Reader) (string, error) {
	line, err := orInterrupt(ctx, "waiting for a token on stdin", func() (string, error) {
		r := bufio.NewReader(io.LimitReader(stdin, maxTokenLine))
		line, err := r.ReadString('\n')
		if !strings.HasPrefix(strings.TrimSpace(line), "{") {
			return line, err
		}
		for err == nil && !json.Valid([]byte(line)) {
			var more string
			more, err = r.ReadString('\n')
			line += more
		}
		return line, err
	})
	if err != nil && err != io.EOF {
		var ee *exitError
		if errors.As(err, &ee) {
			return "", err
		}
		return "", fail(exitUsage, "read token from stdin: %w", err)
	}
	return line, nil
}
