package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// checkFits fails when the view has more lines than the height or a line
// wider than the width.
func checkFits(t *testing.T, m *Model, w, h int, what string) {
	t.Helper()
	content := m.View().Content
	lines := strings.Split(content, "\n")
	if len(lines) > h {
		t.Fatalf("%s at %dx%d: %d lines", what, w, h, len(lines))
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Fatalf("%s at %dx%d: line %d is %d cells wide: %q", what, w, h, i+1, n, ansi.Strip(l))
		}
	}
}

// TestResize shrinks the terminal to 60x15 and grows it to 140x45 in every
// mode (and through a few absurd sizes): nothing panics, nothing overflows.
func TestResize(t *testing.T) {
	modes := []struct {
		name  string
		enter func(r *rig)
	}{
		{"normal", func(r *rig) {}},
		{"help", func(r *rig) { r.press("?") }},
		{"filter", func(r *rig) { r.press("/"); r.press("S") }},
		{"detail", func(r *rig) { r.press("enter") }},
		{"scrolled", func(r *rig) { r.press("home") }},
		{"paused", func(r *rig) { r.press("space") }},
	}
	sizes := [][2]int{{80, 24}, {60, 15}, {140, 45}, {60, 15}, {20, 5}, {1, 1}, {300, 100}, {80, 24}}
	for _, md := range modes {
		for _, opt := range []struct {
			name  string
			story func(*testing.T, ...rigOption) *rig
			opts  []rigOption
		}{
			{"sim", storyRig, nil}, {"real", storyRig, []rigOption{realTarget}}, {"demo", storyRig, []rigOption{demo}},
			{"consumer", consumerStoryRig, nil}, {"devices", devicesStoryRig, []rigOption{realTarget}},
		} {
			t.Run(md.name+"_"+opt.name, func(t *testing.T) {
				r := opt.story(t, opt.opts...)
				md.enter(r)
				for _, sz := range sizes {
					r.m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
					checkFits(t, r.m, sz[0], sz[1], md.name)
					// Keys and events keep working at any size.
					r.press("down")
					r.press("up")
					r.m.Update(tickMsg{})
					checkFits(t, r.m, sz[0], sz[1], md.name+" after keys")
				}
				// Back at 140x45 the whole frame is used again.
				r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
				if got := len(strings.Split(r.m.View().Content, "\n")); got != 45 {
					t.Fatalf("at 140x45 the view has %d lines, want 45", got)
				}
			})
		}
	}
}

// TestConfirmFitsNarrow checks the y/n question wraps instead of being cut.
func TestConfirmFitsNarrow(t *testing.T) {
	r := newRig(t, realTarget)
	r.m.Update(tea.WindowSizeMsg{Width: 60, Height: 15})
	r.press("p")
	sc := r.screen()
	for _, w := range []string{"Change the password", "revokeOtherSessions?", "y yes, do it"} {
		if !strings.Contains(sc, w) {
			t.Fatalf("question at 60x15 lacks %q:\n%s", w, sc)
		}
	}
}
