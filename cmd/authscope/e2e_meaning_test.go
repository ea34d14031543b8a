package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// statusText is the status line of a screen (it starts with », and may
// wrap onto the next lines), joined into one sentence.
func statusText(screen string) string {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "» ") {
			continue
		}
		out := []string{strings.TrimSpace(strings.TrimPrefix(l, "» "))}
		for _, n := range lines[i+1:] {
			if n == "" || strings.HasPrefix(n, "──") || strings.HasPrefix(n, "Session ") || strings.HasPrefix(n, "S1 ") || strings.HasPrefix(n, "S2 ") {
				break
			}
			out = append(out, strings.TrimSpace(n))
		}
		// The wrap breaks lines at spaces and after hyphens.
		return strings.ReplaceAll(strings.Join(out, " "), "- ", "-")
	}
	return ""
}

// helpTitle is the help page's title line ("── Help lines a–b of n …").
func helpTitle(screen string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, "── Help lines ") {
			return l
		}
	}
	return ""
}

// helpAtEnd reports whether the help page shows its last line.
func helpAtEnd(screen string) bool {
	var a, b, n int
	_, err := fmt.Sscanf(strings.TrimPrefix(helpTitle(screen), "── Help lines "), "%d–%d of %d", &a, &b, &n)
	return err == nil && b == n
}

// TestE2EMeaningInTmux runs authscope against the built-in simulator at
// 80×24 and 140×45, as a new user would: ? shows the glossary of every
// symbol and term, and after p the status line explains the flicker
// (what caused it and what removes it).
func TestE2EMeaningInTmux(t *testing.T) {
	bin, _ := buildForTmux(t)
	for _, sz := range [][2]int{{80, 24}, {140, 45}} {
		name := strconv.Itoa(sz[0]) + "x" + strconv.Itoa(sz[1])
		t.Run("help_"+name, func(t *testing.T) {
			dir := t.TempDir()
			s := startTmuxSize(t, bin, dir, sz[0], sz[1], "--log-file", filepath.Join(dir, "authscope.log"))
			s.waitScreen("first screen", "S1", "flicker none")
			s.keys("?")
			s.waitScreen("help", "── Help lines 1–", "p password+signal", "c reset counters")
			// Page through it to its last line, as a user would,
			// collecting every screen.
			seen := s.screen()
			all := seen
			for page := 0; !helpAtEnd(seen); page++ {
				if page > 20 {
					t.Fatalf("the help never reached its end:\n%s", s.screen())
				}
				before := helpTitle(s.screen())
				s.keys("NPage")
				s.waitFor("the next page", func(sc string) bool { return helpTitle(sc) != before })
				seen = s.screen()
				all += seen
			}
			for _, w := range []string{
				"█ authenticated:", "░ loading:", "✗ failing:", "_ signed out:",
				"gone-session:", "unverified:", "expired:", "late-overwrite:", "pending-clobber:",
				"pending slot:", "joined:", "configVersion:", "identity version:", "the provider's effects:",
				"clearAuth:", "PR #83:", "socket ready:", "socket paused:", "socket stopped:", "socket disconnected:",
			} {
				if !strings.Contains(all, w) {
					t.Errorf("the help never showed %q", w)
				}
			}
			s.keys("Escape")
			s.waitScreen("help closed", "── Events")
			s.keys("q")
			s.waitExit(dir)
		})
		t.Run("flicker_"+name, func(t *testing.T) {
			dir := t.TempDir()
			s := startTmuxSize(t, bin, dir, sz[0], sz[1], "--log-file", filepath.Join(dir, "authscope.log"))
			s.waitScreen("first screen", "S1", "flicker none")
			s.keys("p")
			s.waitScreen("after p", "S2", "» Convex flicker of")
			status := statusText(s.screen())
			t.Logf("the status after p: %s", status)
			for _, w := range []string{
				"after the password change", "clearAuth on the fetcher swap (convex-js #82)",
				"queries failing under S1's deleted session until S2's token was confirmed",
				"no token-cache policy removes it", "PR #83 removes clearAuth",
			} {
				if !strings.Contains(status, w) {
					t.Errorf("the status after p lacks %q: %s\n%s", w, status, s.screen())
				}
			}
			s.keys("q")
			s.waitExit(dir)
		})
	}
}
