package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/authscope/authscope/tui"
)

// replayScreen is the replay's screen without styling.
func replayScreen(m tea.Model) string { return ansi.Strip(m.View().Content) }

// A trace written by run --record replays: the reader's bad lines are
// named in a one-line warning, and ] reaches the stale token served under
// v0.12.
func TestReplayOpensARunTraceWithBadLines(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--policy", "v0.12", "--record", dir)
	if code != exitFailed {
		t.Fatalf("run exit %d:\n%s\n%s", code, out, errOut)
	}
	path := filepath.Join(dir, "03-rotation-in-flight.v0.12.jsonl")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	// A garbage line third, and a record cut short at the end.
	bad := strings.Join(lines[:2], "") + "not a record \x1b[2J\n" + strings.Join(lines[2:], "") + `{"type":"event","seq":`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	tr, opts, err := openReplay(path, replayOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "warning: 2 bad lines in the trace, first " + path + ":3:"
	if !strings.HasPrefix(opts.Notice, want) {
		t.Fatalf("notice %q, want it to start %q", opts.Notice, want)
	}
	m := tui.NewReplay(tr, opts)
	m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	screen := replayScreen(m)
	if !strings.Contains(screen, "warning: 2 bad lines") || strings.Contains(m.View().Content, "\x1b[2J") {
		t.Fatalf("the warning is not on screen, or not made safe:\n%s", screen)
	}
	stale := false
	for range 20 {
		m.Update(tea.KeyPressMsg{Code: ']', Text: "]"})
		if screen = replayScreen(m); strings.Contains(screen, "STALE") && strings.Contains(screen, "violation") {
			stale = true
			break
		}
	}
	if !stale {
		t.Fatalf("] never showed the stale token served:\n%s", screen)
	}
}

// A file that is not a trace exits 2 with the reader's error.
func TestReplayUnreadableTrace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "junk.jsonl")
	if err := os.WriteFile(path, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "", "replay", path)
	if code != exitUsage || !strings.Contains(errOut, "replay: "+path+":1: not a trace") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "replay", filepath.Join(dir, "missing.jsonl"))
	if code != exitUsage || !strings.Contains(errOut, "no such file") {
		t.Fatalf("missing file: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "replay")
	if code != exitUsage {
		t.Fatalf("no FILE: exit %d, stderr %q", code, errOut)
	}
}
