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
	"github.com/authscope/authscope/trace/toscenario"
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
	// build, for an output that has something to say or can fail before
	// anything is written, makes the file's bytes first; what it says
	// goes to stderr.
	build func(t *trace.Trace, file string, stderr io.Writer) ([]byte, error)
}

var exportOutputs = []exportOutput{
	{
		flag:  "html",
		arg:   "OUT.html",
		usage: "write a self-contained HTML report to `OUT.html`: header facts, swimlane timeline, event table",
		what:  "HTML report",
		write: report.HTML,
	},
	{
		flag:  "scenario",
		arg:   "OUT.yaml",
		usage: "write a scenario file to `OUT.yaml`: the recorded actions, fetches, holds, releases, faults and waits as steps, and the expectations the recording broke",
		what:  "scenario",
		build: buildScenario,
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
  --scenario OUT.yaml
                    a scenario file that reproduces the recording: the
                    recorded actions (a password change with its session
                    signal is rotate), fetches, observations, query re-runs,
                    holds, releases, faults, waits and policy switches before
                    the first step (remount) become steps, with an await
                    where a call had returned before the next input; the
                    expectations are what the recording broke (no_violations,
                    and for each call served a token of a session already
                    gone, result NAME not_session S<n>), buggy: is the
                    recorded policy. Network answers and timers are not
                    steps: the engine makes them again. What a scenario
                    cannot express (another device, latency, the session
                    poller's timing, a policy switch after the first step)
                    is left out, and stderr says which trace lines and why.

Exit status: 0 written; 2 usage error, or the trace could not be read, or the
output could not be written, or (--scenario) no recorded input becomes a step.`,
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
			// Outputs that can fail on what the trace holds are built
			// first, so that such a failure leaves no file at all.
			writes := make([]func(io.Writer) error, len(exportOutputs))
			for i, o := range exportOutputs {
				if paths[i] == "" {
					continue
				}
				writes[i] = func(w io.Writer) error { return o.write(w, t) }
				if o.build != nil {
					data, err := o.build(t, args[0], stderr)
					if err != nil {
						return fail(exitUsage, "%s: %w", o.what, err)
					}
					writes[i] = func(w io.Writer) error { _, err := w.Write(data); return err }
				}
			}
			for i, o := range exportOutputs {
				if paths[i] == "" {
					continue
				}
				if err := writeFileAtomic(paths[i], writes[i]); err != nil {
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

// buildScenario is export --scenario: the scenario's YAML, and on stderr
// what could not be exported.
func buildScenario(t *trace.Trace, file string, stderr io.Writer) ([]byte, error) {
	v, _ := buildVersion()
	res, err := toscenario.Export(t, toscenario.Options{File: file, Program: "authscope " + v})
	if err != nil {
		return nil, err
	}
	for _, n := range res.Notes {
		fmt.Fprintln(stderr, termtext.Line("authscope: export --scenario: "+n.String()))
	}
	return res.YAML, nil
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
