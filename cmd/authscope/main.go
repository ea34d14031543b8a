// Command authscope runs a Better Auth + Convex client auth stack against a
// real server or a built-in simulator, to reproduce session-rotation races.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/authscope/authscope/internal/termtext"
)

// Exit statuses (DESIGN "CLI").
const (
	exitOK       = 0
	exitFailed   = 1 // an expectation failed (or a token did not verify)
	exitUsage    = 2 // usage, config or connection error
	exitInternal = 2
)

// exitError carries an exit status up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func fail(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// quiet is an exit status with nothing more to print.
type quiet int

func (q quiet) Error() string { return fmt.Sprintf("exit status %d", int(q)) }

// gcPercent is the garbage collector's target unless GOGC says otherwise.
// The program's live heap is small (a few MB) and a scenario run allocates
// about a quarter of a megabyte, so at Go's default of 100 a batch of runs
// spends a fifth of its time collecting; at 400 it collects a quarter as
// often for a few more MB of memory.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it maps every error to an exit status
// in one place.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var q quiet
	var ee *exitError
	switch {
	case errors.As(err, &ee) && ee.code == exitInterrupted:
	case ctx.Err() != nil && errors.As(err, &q):
		// A signal ended the work: the results so far are not a verdict.
		err = &exitError{code: exitInterrupted, err: errors.New("interrupted")}
	case ctx.Err() != nil:
		// Whatever failed after the signal is its echo.
		err = &exitError{code: exitInterrupted, err: fmt.Errorf("interrupted (%w)", err)}
	case errors.As(err, &q):
		return int(q)
	}
	// Errors quote files and servers: nothing in them may act on the terminal.
	fmt.Fprintln(stderr, "authscope:", termtext.Text(err.Error()))
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}
