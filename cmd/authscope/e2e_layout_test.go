package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2ERecipeFetchRowInTmux plays the README's one-minute recipe
// (m m h t p t R h R) at 80×24 and 140×45, as a new user would: the header
// stays one line, and the stale fetch row, cut at 80 columns, can be
// selected with tab and read in full with enter.
func TestE2ERecipeFetchRowInTmux(t *testing.T) {
	bin, _ := buildForTmux(t)
	for _, sz := range []struct{ w, h int }{{80, 24}, {140, 45}} {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			sub := t.TempDir()
			s := startTmuxSize(t, bin, sub, sz.w, sz.h, "--log-file", filepath.Join(sub, "authscope.log"))
			s.waitScreen("first screen", "policy pr329", "── Events")
			s.keys("m", "m")
			s.waitScreen("after m m", "policy v0.12")
			s.keys("h")
			s.waitScreen("after h", "HOLD")
			s.keys("t")
			s.waitScreen("after h t", "key t")
			s.keys("p")
			s.waitScreen("after p", "S2 · id")
			s.keys("t")
			s.waitScreen("after the second t", "1 in flight")
			s.keys("R")
			s.waitScreen("after R", "✗ resolved: token for S1", "violation")
			s.keys("h", "R")

			lines := strings.Split(s.screen(), "\n")
			if !strings.Contains(lines[0], "authscope") || !strings.Contains(lines[0], "violation") || !strings.HasPrefix(lines[1], "»") {
				t.Fatalf("the header is not one line with the violation count:\n%s", s.screen())
			}

			s.keys("Tab")
			s.waitScreen("after tab", "tab back")
			for range 4 {
				if selectedStale(s.screen()) {
					break
				}
				before := selectedID(s.screen())
				s.keys("Down")
				s.waitFor("the selection to move down", func(sc string) bool { return selectedID(sc) != before })
			}
			if !selectedStale(s.screen()) {
				t.Fatalf("down never selected the stale row:\n%s", s.screen())
			}
			s.keys("Enter")
			s.waitScreen("the request in full", "── Detail request #", "sent under S1",
				"outcome ✗ resolved: token for S1 (STALE: bound to S1, which has ended)", "which ended it", "kind fetch_resolved")
			t.Logf("the stale request in full:\n%s", s.screen())
			s.keys("q")
			s.waitExit(sub)
		})
	}
}

// selectedRow is the selected fetch row of a screen ("" when none).
func selectedRow(screen string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, "› #") {
			return l
		}
	}
	return ""
}

// selectedID is the request number of the selected fetch row ("#3").
func selectedID(screen string) string {
	id, _, _ := strings.Cut(strings.TrimPrefix(selectedRow(screen), "› "), " ")
	return id
}

// selectedStale reports whether the selected fetch row is the stale one.
func selectedStale(screen string) bool {
	return strings.Contains(selectedRow(screen), "✗ resolved: token for S1")
}
