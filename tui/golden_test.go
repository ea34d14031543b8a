package tui

import (
	"fmt"
	"regexp"
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

// rotateHeld rotates the session (key k, or a poll when k is "") with
// token responses held, so that the Convex client's Authenticate None is
// answered before the new token arrives: the engine runs both at once, and
// a golden needs one order. held is how long the token stays held.
func (r *rig) rotateHeld(k string, held time.Duration) {
	r.press("h")
	if k == "" {
		r.eng.Observe("poll")
	} else {
		r.press(k)
	}
	r.settle()
	r.clock.Advance(held)
	r.press("h")
	r.press("R")
	r.settle()
}

// consumerStoryRig runs the Convex client model through two flickers: a
// password change whose new token is held for 600 ms (the query fails,
// then useConvexAuth loads), and a silent rotation noticed 400 ms later at
// a poll (the query fails until then).
func consumerStoryRig(t *testing.T, opts ...rigOption) *rig {
	t.Helper()
	r := newRig(t, append([]rigOption{consumer}, opts...)...)
	r.clock.Advance(3 * time.Second)
	r.rotateHeld("p", 600*time.Millisecond)
	r.clock.Advance(2 * time.Second)
	r.press("r")
	r.settle()
	r.clock.Advance(400 * time.Millisecond)
	r.rotateHeld("", 0)
	r.clock.Advance(1500 * time.Millisecond)
	r.m.Update(tickMsg{})
	return r
}

// devicesStoryRig has two devices with the Convex client model: device 1
// changes the password, device 2's query fails at its next run and its
// session ends at its next poll; then d shows device 2.
func devicesStoryRig(t *testing.T, opts ...rigOption) *rig {
	t.Helper()
	r := newRigN(t, 2, append([]rigOption{consumer}, opts...)...)
	r.clock.Advance(3 * time.Second)
	r.rotateHeld("p", 0)
	r.clock.Advance(500 * time.Millisecond)
	r.devs[1].eng.RerunQuery("interval")
	r.settle()
	r.clock.Advance(1200 * time.Millisecond)
	r.devs[1].eng.Observe("poll")
	r.settle()
	r.clock.Advance(1500 * time.Millisecond)
	r.m.Update(tickMsg{})
	return r
}

// wallDuration matches the one engine text measured on the wall clock
// (authstate's flicker meter reports how long a window lasted in real
// time, so that it means something under a virtual clock).
var wallDuration = regexp.MustCompile(`flicker over after [0-9.]+(ns|µs|ms|s)`)

// wallClockFree replaces wall-clock durations in a screen, so that a
// golden depends on the fake clock only.
func wallClockFree(screen string) string {
	return wallDuration.ReplaceAllStringFunc(screen, func(s string) string {
		return pad("flicker over after (wall)", len([]rune(s)))
	})
}

func TestGolden(t *testing.T) {
	sizes := []struct{ w, h int }{{80, 24}, {140, 45}}
	screens := []struct {
		name  string
		opts  []rigOption
		story func(*testing.T, ...rigOption) *rig
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
		{name: "consumer", story: consumerStoryRig},
		{name: "consumer_help", story: consumerStoryRig, setup: func(r *rig) { r.press("?") }},
		{name: "devices_1", story: devicesStoryRig},
		{name: "devices_2", story: devicesStoryRig, setup: func(r *rig) { r.press("d") }},
		{name: "lanes", story: staleRecipeRig, setup: func(r *rig) { r.press("w") }},
	}
	for _, sc := range screens {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, sz.w, sz.h), func(t *testing.T) {
				story := sc.story
				if story == nil {
					story = storyRig
				}
				r := story(t, sc.opts...)
				r.m.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
				if sc.setup != nil {
					sc.setup(r)
				}
				golden.RequireEqual(t, []byte(wallClockFree(r.screen())))
			})
		}
	}
}
