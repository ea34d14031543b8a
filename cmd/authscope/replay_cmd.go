package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/authscope/authscope/internal/termtext"
	"github.com/authscope/authscope/trace"
	"github.com/authscope/authscope/tui"
)

// replayOptions are the flags of authscope replay.
type replayOptions struct {
	demo    bool
	logFile string
}

func newReplayCmd(stdout io.Writer, inv *invocation) *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay FILE",
		Short: "Open the TUI on a recorded trace, read-only, under a playhead",
		Long: `Open the TUI on a trace written by --record (the TUI's, or run's, on the
simulator or a real server): the same panels as live, read-only, driven by a
playhead over the recorded events. Keys: space play/pause, →/← one event,
]/[ next/previous violation or flicker window, home/end, >/< speed ×¼ to ×16,
plus the event log's filter and detail views. Keys that would change a client
only say "replay: read-only".

A trace with bad lines opens with a warning naming how many and the first.

Exit status: 0 after q; 2 usage error, or the trace could not be read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd.Context(), args[0], o, inv, stdout)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.demo, "demo", false, "mask emails, ids and raw JWTs on screen, for screen sharing")
	f.StringVar(&o.logFile, "log-file", "", "where to write the log (default: <user cache dir>/authscope/authscope.log)")
	return cmd
}

// openReplay reads the trace and builds the replay's options: the
// reader's problems become the status line's first message.
func openReplay(path string, o replayOptions, inv *invocation) (*trace.Trace, tui.Options, error) {
	tr, err := trace.ReadFile(path)
	if err != nil || tr == nil {
		if err == nil {
			err = errors.New("no trace")
		}
		return nil, tui.Options{}, fail(exitUsage, "replay: %w", err)
	}
	opts := tui.Options{Demo: o.demo, NoColor: os.Getenv("NO_COLOR") != "", Notice: replayNotice(tr)}
	if inv != nil && inv.cfg != nil {
		opts.Theme, _ = inv.cfg.theme()
		opts.Keys, _ = inv.cfg.keymap()
	}
	return tr, opts, nil
}

// replayNotice is the one-line warning of a trace with bad lines: how
// many, and the first.
func replayNotice(tr *trace.Trace) string {
	n := len(tr.Problems)
	if n == 0 {
		return ""
	}
	p := tr.Problems[0]
	return termtext.Line(fmt.Sprintf("warning: %d bad line%s in the trace, first %s; replaying the rest", n, map[bool]string{true: "", false: "s"}[n == 1], p.String()))
}

func runReplay(ctx context.Context, path string, o replayOptions, inv *invocation, stdout io.Writer) error {
	tr, opts, err := openReplay(path, o, inv)
	if err != nil {
		return err
	}
	if !isTerminal(stdout) {
		return fail(exitUsage, "replay needs a terminal")
	}
	logger, closeLog, err := openLog(o.logFile)
	if err != nil {
		return fail(exitUsage, "--log-file: %w", err)
	}
	defer closeLog()
	opts.Logger = logger
	model := tui.NewReplay(tr, opts)
	if _, err := tea.NewProgram(model, tea.WithContext(ctx)).Run(); err != nil && !errors.Is(err, context.Canceled) {
		return fail(exitUsage, "terminal UI: %w", err)
	}
	return nil
}
