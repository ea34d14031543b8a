package tui

import (
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
)

// storyRig brings the engine into the state the goldens show: a token
// fetched for S1, the password changed (the client moved to S2 while
// pr329 still holds S1's token), then a plain fetch held in the transport.
func storyRig(t *testing.T, opts ...rigOption) *rig {
	t.Helper()
	r := newRig(t, opts...)
	r.clock.Advance(700 * time.Millisecond)
	r.press("f")
	r.settle()
	r.clock.Advance(700 * time.Millisecond)
	r.press("p")
	r.settle()
	r.clock.Advance(700 * time.Millisecond)
	r.press("h")
	r.press("+")
	r.press("+")
	r.press("]")
	r.press("]")
	r.press("]")
	r.press("t")
	r.settle()
	r.clock.Advance(300 * time.Millisecond)
	r.m.Update(tickMsg{})
	return r
}

func TestGolden(t *testing.T) {
	sizes := []struct{ w, h int }{{80, 24}, {140, 45}}
	screens := []struct {
		name  string
		opts  []rigOption
		setup func(r *rig)
	}{
		{name: "main"},
		{name: "detail", setup: func(r *rig) {
			r.press("/")
			for _, c := range "token_served" {
				r.press(string(c))
			}
			r.press("enter")
			r.press("enter")
		}},
		{name: "help", setup: func(r *rig) { r.press("?") }},
		{name: "filter", setup: func(r *rig) {
			r.press("/")
			for _, c := range "S2" {
				r.press(string(c))
			}
		}},
		{name: "scrolled", setup: func(r *rig) {
			r.press("up")
			r.press("up")
			r.press("space")
		}},
		{name: "demo", opts: []rigOption{demo}, setup: func(r *rig) {
			r.press("/")
			for _, c := range "token_served" {
				r.press(string(c))
			}
			r.press("enter")
			r.press("enter")
		}},
		{name: "confirm", opts: []rigOption{realTarget}, setup: func(r *rig) { r.press("p") }},
	}
	for _, sc := range screens {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, sz.w, sz.h), func(t *testing.T) {
				r := storyRig(t, sc.opts...)
				r.m.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
				if sc.setup != nil {
					sc.setup(r)
				}
				golden.RequireEqual(t, []byte(r.screen()))
			})
		}
	}
}
