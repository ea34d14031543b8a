package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/internal/termtext"
	"github.com/authscope/authscope/report"
	"github.com/authscope/authscope/trace"
)

// readTrace reads a trace file for export. (On branch report it is the
// stub in trace/read_stub.go; the real trace.ReadFile replaces it at merge
// with the same signature.)
var readTrace = trace.ReadFile

// exportOutput is one kind of file export writes from a trace, chosen by
// its flag. A second kind (--scenario OUT.yaml) is one more entry in
// exportOutputs.
type exportOutput struct {
	flag  string // the flag's name
	arg   string // its argument in usage text, e.g. OUT.html
	usage string
	what  string // what the file is, for messages
	write func(w io.Writer, t *trace.Trace) error
}

var exportOutputs = []exportOutput{
	{
		flag:  "html",
		arg:   "OUT.html",
		usage: "write a self-contained HTML report to `OUT.html`: header facts, swimlane timeline, event table",
		what:  "HTML report",
		write: report.HTML,
	},
}

func newExportCmd(stdout, stderr io.Writer) *cobra.Command {
	paths := make([]string, len(exportOutputs))
	var need []string
	for _, o := range exportOutputs {
		need = append(need, "--"+o.flag+" "+o.arg)
	}
	cmd := &cobra.Command{
		Use:   "export TRACE (" + strings.Join(need, " | ") + ")",
		Short: "Turn a recorded trace into a file to share",
		Long: `Turn a trace (written by --record) into a file to share. At least one
output flag is required:

  --html OUT.html   one self-contained HTML file for a ticket: the trace's
                    header facts, a swimlane timeline (sessions, the session
                    poller, each token request, the cache, the Convex client)
                    with violations and flicker windows labelled in words, and
                    the event table with a filter. It loads nothing from the
                    network and holds nothing the trace does not; any complete
                    JWT or cookie value is removed again.

Exit status: 0 written; 2 usage error, or the trace could not be read, or the
output could not be written.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			chosen := false
			for _, p := range paths {
				chosen = chosen || p != ""
			}
			if !chosen {
				return fail(exitUsage, "export needs an output: %s", strings.Join(need, " or "))
			}
			t, err := readTrace(args[0])
			if t == nil {
				if err == nil {
					err = errors.New("no trace")
				}
				return fail(exitUsage, "read trace: %w", err)
			}
			if err != nil {
				fmt.Fprintf(stderr, "authscope: warning: trace %s: %s; exporting what could be read\n", termtext.Line(args[0]), termtext.Line(err.Error()))
			}
			if n := len(t.Problems); n > 0 {
				fmt.Fprintf(stderr, "authscope: warning: trace %s: %d line(s) could not be read (first: line %d: %s); exporting the rest\n",
					termtext.Line(args[0]), n, t.Problems[0].Line, termtext.Line(t.Problems[0].Err))
			}
			for i, o := range exportOutputs {
				if paths[i] == "" {
					continue
				}
				if err := writeFileAtomic(paths[i], func(w io.Writer) error { return o.write(w, t) }); err != nil {
					return fail(exitUsage, "write %s: %w", o.what, err)
				}
				fmt.Fprintln(stdout, termtext.Line(fmt.Sprintf("wrote %s %s (%s)", o.what, paths[i], traceCounts(t))))
			}
			return nil
		},
	}
	f := cmd.Flags()
	for i, o := range exportOutputs {
		f.StringVar(&paths[i], o.flag, "", o.usage)
	}
	return cmd
}

// traceCounts says what a trace holds, for the line export prints.
func traceCounts(t *trace.Trace) string {
	evs := t.Events()
	violations, flickers := 0, 0
	for _, e := range evs {
		switch {
		case e.Kind == authstate.KindViolation:
			violations++
		case e.Kind == authstate.KindFlicker && e.Reason == "open":
			flickers++
		}
	}
	return fmt.Sprintf("%d events, %d violations, %d flicker windows", len(evs), violations, flickers)
}

// writeFileAtomic writes a file through a temporary file in the same
// directory, so that a failed export never leaves half a file under the
// name the user gave.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	if fi, statErr := os.Stat(path); statErr == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 64<<10)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
