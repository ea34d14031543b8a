package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// recipeRig plays the README's one-minute recipe: m m (v0.12), h t, p,
// t, R, h R. The first fetch resolves with S1's token after the rotation,
// which v0.12 serves: a violation, and a stale fetch row.
func recipeRig(t *testing.T, opts ...rigOption) *rig {
	t.Helper()
	r := newRig(t, opts...)
	for _, k := range []string{"m", "m", "h", "t", "p", "t", "R", "h", "R"} {
		r.press(k)
		if r.m.mode == modeConfirm {
			r.press("y")
		}
		r.settle()
	}
	if r.m.snap.ViolationCount == 0 {
		t.Fatalf("the recipe gave no violation:\n%s", r.screen())
	}
	return r
}

// TestHeaderIsOneLine: whatever the width, the header takes one line (the
// status line comes second) and keeps the policy and the violation count;
// wider screens show more of it.
func TestHeaderIsOneLine(t *testing.T) {
	rigs := map[string]func(*testing.T) *rig{
		"recipe":      func(t *testing.T) *rig { return recipeRig(t) },
		"real target": func(t *testing.T) *rig { return recipeRig(t, realTarget, demo) },
		"two devices": func(t *testing.T) *rig {
			r := newRigN(t, 2)
			r.press("h")
			r.press("t")
			r.settle()
			return r
		},
	}
	for name, mk := range rigs {
		t.Run(name, func(t *testing.T) {
			r := mk(t)
			shown := 0
			for _, w := range []int{50, 60, 80, 100, 120, 140, 150, 200} {
				r.m.Update(tea.WindowSizeMsg{Width: w, Height: 24})
				lines := strings.Split(r.screen(), "\n")
				head := lines[0]
				if !strings.HasPrefix(lines[1], "»") && !strings.HasPrefix(lines[1], "ready") {
					t.Fatalf("%d columns: the header takes more than one line:\n%s", w, strings.Join(lines[:3], "\n"))
				}
				if ansi.StringWidth(head) > w {
					t.Fatalf("%d columns: the header is %d wide", w, ansi.StringWidth(head))
				}
				if w >= 60 && r.m.snap.ViolationCount > 0 && !strings.Contains(head, fmt.Sprintf("%d viol", r.m.snap.ViolationCount)) {
					t.Errorf("%d columns: the header lost the violation count: %q", w, head)
				}
				if w >= 60 && !strings.Contains(head, "policy ") {
					t.Errorf("%d columns: the header lost the policy: %q", w, head)
				}
				if w >= 80 && len(r.m.devs) == 1 && r.m.snap.ViolationCount > 0 && !strings.Contains(head, "violation") {
					t.Errorf("%d columns: the violation count is abbreviated: %q", w, head)
				}
				if n := strings.Count(head, " · "); n < shown {
					t.Errorf("%d columns: %d parts, fewer than at a narrower width (%d): %q", w, n, shown, head)
				} else {
					shown = n
				}
				t.Logf("%3d: %s", w, head)
			}
		})
	}
}
