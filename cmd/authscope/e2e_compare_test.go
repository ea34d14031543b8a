package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/authscope/authscope/trace"
)

// titleCells splits the compare screen's column title row into its
// columns.
func titleCells(screen string) []string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, " 1 ") && strings.Contains(l, "│") {
			return strings.Split(l, "│")
		}
	}
	return nil
}

// TestE2ECompareInTmux runs `authscope --compare v0.12,pr329` at 140x45
// and presses h t p t R: every key goes to both columns, and at the end
// the v0.12 column shows a stale token served and a violation, the pr329
// column neither, and the screen says in words where they differ. The
// recording replays as the same two columns.
func TestE2ECompareInTmux(t *testing.T) {
	bin, dir := buildForTmux(t)
	record := filepath.Join(dir, "compare.jsonl")
	s := startTmuxSize(t, bin, dir, 140, 45, "--compare", "v0.12,pr329", "--log-file", filepath.Join(dir, "authscope.log"), "--record", record)
	s.waitScreen("first screen", "compare 2 columns", " 1 v0.12", " 2 pr329", "useConvexAuth authenticated")
	s.keys("h")
	s.waitScreen("h", "HOLDING token responses", "holding token responses")
	s.keys("t")
	s.waitScreen("t", "key t")
	s.keys("p")
	// Both columns' session panels show the rotation. (The log's
	// "session rotated" row scrolls away within a moment: the Convex
	// client's events after a rotation fill the log's window.)
	s.waitFor("p: both columns on S2", func(screen string) bool {
		return strings.Count(screen, "S2 · id ") == 2
	})
	s.keys("t")
	s.waitMatch("second t", `joined in-flight request #\d+ \(sent under S1\)`)
	s.keys("R")
	s.waitFor("R: the columns differ", func(screen string) bool {
		return strings.Contains(screen, "DIFFER stale token served: v0.12 YES") && strings.Contains(screen, "DIFFER violations")
	})
	screen := s.screen()
	cells := titleCells(screen)
	if len(cells) != 2 {
		t.Fatalf("no title row with two columns:\n%s", screen)
	}
	if !strings.Contains(cells[0], "STALE served") || !strings.Contains(cells[0], "violation") {
		t.Errorf("the v0.12 column's title shows no stale token served and no violation: %q\n%s", cells[0], screen)
	}
	if strings.Contains(cells[1], "STALE") || strings.Contains(cells[1], "violation") {
		t.Errorf("the pr329 column's title shows a stale token or a violation: %q\n%s", cells[1], screen)
	}
	if !strings.Contains(screen, "pr329 no") || !strings.Contains(screen, "pr329 0") {
		t.Errorf("the difference rows do not give pr329's clean counts:\n%s", screen)
	}
	t.Logf("after h t p t R:\n%s", screen)
	s.keys("q")
	s.waitExit(dir)

	tr, err := trace.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tr.Header.Columns, ","); got != "v0.12,pr329" {
		t.Fatalf("the trace's columns are %q, want v0.12,pr329", got)
	}
	r := startTmuxSize(t, bin, t.TempDir(), 140, 45, "replay", record)
	r.waitScreen("replay", "REPLAY", " 1 v0.12", " 2 pr329")
	r.keys("End")
	r.waitScreen("replay end", "DIFFER stale token served: v0.12 YES")
}

// TestE2ECompareAllFlickerInTmux runs `authscope --compare all` and
// presses p: the Convex flicker after the password change shows in every
// column but pr329+pr83+preserve, where the server keeps the caller's
// session (scenarios/26-flicker-ladder.yaml checks the same headless).
func TestE2ECompareAllFlickerInTmux(t *testing.T) {
	bin, dir := buildForTmux(t)
	s := startTmuxSize(t, bin, dir, 140, 45, "--compare", "all", "--log-file", filepath.Join(dir, "authscope.log"))
	s.waitScreen("first screen", "compare 4 columns", " 4 pr329+pr83+preserve", "columns agree")
	s.keys("p")
	want := "DIFFER flicker windows: v0.12 1 · pr329 1 · pr329+pr83 1 · pr329+pr83+preserve 0"
	s.waitFor("p: flicker in three columns", func(screen string) bool {
		return strings.Contains(screen, want) && !strings.Contains(screen, "OPEN")
	})
	t.Logf("after p:\n%s", s.screen())
	s.keys("q")
	s.waitExit(dir)
}
