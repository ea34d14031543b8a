//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO nobody writes to blocks a reader for ever. SIGINT or SIGTERM must
// end the program at once, with exit status 130 and what it was doing.
func TestSignalEndsBlockedRead(t *testing.T) {
	bin := buildBinary(t)
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		args []string // FIFO stands for the FIFO's path
		// stdin: the program's stdin is a second FIFO, open for writing
		// and never written; the first FIFO is then an empty config file.
		stdin bool
		want  string
	}{
		{"run on a FIFO, SIGINT", syscall.SIGINT, []string{"run", "FIFO"}, false, "interrupted while reading "},
		{"config FIFO, SIGTERM", syscall.SIGTERM, []string{"run", "--config", "FIFO", "x.yaml"}, false, "interrupted while reading config file "},
		// The signal may still find it reading the config (nothing tells
		// the test when it moved on to stdin); TestDecodeStdinInterrupted
		// covers the stdin wait itself.
		{"decode waiting on stdin, SIGTERM", syscall.SIGTERM, []string{"decode", "-", "--config", "FIFO"}, true, "interrupted while "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "fifo.yaml")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skip(err)
			}
			var args []string
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "FIFO", fifo))
			}
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), "AUTHSCOPE_CONFIG=", "HOME="+dir, "XDG_CONFIG_HOME="+dir)
			cmd.Dir = dir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if tc.stdin {
				in := filepath.Join(dir, "stdin")
				if err := syscall.Mkfifo(in, 0o600); err != nil {
					t.Fatal(err)
				}
				// Read and write: the open does not wait, and the
				// program never sees the end of its input.
				f, err := os.OpenFile(in, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				cmd.Stdin = f
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			// Opening the write end returns once the program has opened the
			// read end, after it set up its signal handling: it now waits
			// in read, for data that never comes.
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if tc.stdin {
				w.Close() // an empty config file: on to stdin
			}
			start := time.Now()
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
					t.Fatalf("exit %v, want status 130; stderr %q", err, stderr.String())
				}
				if !strings.Contains(stderr.String(), tc.want) {
					t.Fatalf("stderr %q, want %q", stderr.String(), tc.want)
				}
				t.Logf("ended %v after the signal", time.Since(start).Round(time.Millisecond))
			case <-time.After(10 * time.Second):
				t.Fatalf("still running 10 s after the signal; stderr %q", stderr.String())
			}
		})
	}
}
