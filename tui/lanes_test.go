package tui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
)

// staleRecipeRig follows the README's "A stale token in one minute" under
// v0.12 with the Convex client model: m m, h, t, p, t, R, then h and R.
func staleRecipeRig(t *testing.T, opts ...rigOption) *rig {
	t.Helper()
	r := newRig(t, append([]rigOption{consumer}, opts...)...)
	step := func(keys ...string) {
		r.clock.Advance(300 * time.Millisecond)
		for _, k := range keys {
			r.press(k)
		}
		r.settle()
	}
	step("m", "m")
	step("h")
	step("t")
	step("p")
	step("t")
	step("R")
	step("h", "R")
	r.clock.Advance(500 * time.Millisecond)
	r.m.Update(tickMsg{})
	return r
}

// rowStarting is the screen line that starts with s.
func rowStarting(t *testing.T, screen, s string) string {
	t.Helper()
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, s) {
			return l
		}
	}
	t.Fatalf("no line starts with %q:\n%s", s, screen)
	return ""
}

// column is where the first r in line is, in cells.
func column(line string, r rune) int {
	for i, c := range []rune(line) {
		if c == r {
			return i
		}
	}
	return -1
}

// w switches the event log to the lanes and back; the lanes name the
// actors, show the stale S1 token in the cache and say each violation in
// words, at 80×24 and at 140×45.
func TestLanesKeySwitchesTheLog(t *testing.T) {
	for _, sz := range []struct {
		w, h  int
		lanes []string
	}{
		{80, 24, []string{"sess ", "poll ", "cache ", "cvx "}},
		{140, 45, []string{"server sessions", "session poller", "#3 for call3 + call4", "token cache", "Convex client"}},
	} {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			r := staleRecipeRig(t)
			r.m.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
			mustContain(t, r.screen(), "── Events")
			r.press("w")
			s := r.screen()
			if strings.Contains(s, "── Events") || !strings.Contains(s, "── Lanes") {
				t.Fatalf("w did not switch to the lanes:\n%s", s)
			}
			for _, name := range sz.lanes {
				rowStarting(t, s, name)
			}
			cache := "cache "
			if sz.w >= lanesWide {
				cache = "token cache"
			}
			mustContain(t, rowStarting(t, s, cache), "S1's token, stale")
			mustContain(t, s, "✗ 58 stale token served to call5: bound to S1, which has ended (now S2)")
			if sz.w >= lanesWide {
				mustContain(t, s, "✗ 54 stale token served to call3: bound to S1, which has ended (now S2)")
				mustContain(t, s, "░ 38–79 flicker of 910ms: Better Auth says signed in, but the query fails")
			}
			for _, l := range strings.Split(s, "\n") {
				if n := len([]rune(l)); n > sz.w {
					t.Errorf("a line of %d cells on a %d-wide screen: %q", n, sz.w, l)
				}
			}
			if n := strings.Count(s, "\n") + 1; n > sz.h {
				t.Errorf("%d lines on a %d-line screen", n, sz.h)
			}
			r.press("w")
			s = r.screen()
			if !strings.Contains(s, "── Events") || strings.Contains(s, "── Lanes") {
				t.Fatalf("w again did not bring the log back:\n%s", s)
			}
		})
	}
}

// The cursor is a column: ↑ moves it one event left and spells out the
// event it is on; home scrolls the window back to the oldest events.
func TestLanesCursorColumn(t *testing.T) {
	r := staleRecipeRig(t)
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	r.press("w")
	axis := func() int { return column(rowStarting(t, r.screen(), "time →"), '▲') }
	at := axis()
	mustContain(t, r.screen(), "▲ 79 03:04:07.110 flicker")
	r.press("up")
	r.press("up")
	mustContain(t, r.screen(), "▲ 77 ")
	if now := axis(); now >= at || now < 0 {
		t.Errorf("after ↑↑ the cursor column is %d, was %d", now, at)
	}
	// Event 54 is the violation: the axis draws ✗ there, and the
	// cursor on it spells the violation event out.
	for range 77 - 54 {
		r.press("up")
	}
	mustContain(t, r.screen(), "▲ 54 03:04:06.")
	mustContain(t, r.screen(), "violation")
	r.press("home")
	s := r.screen()
	mustContain(t, s, "▲ 1 03:04:05.000 session_observed")
	r.press("end")
	mustContain(t, r.screen(), "▲ 79 ")
	// With a filter the cursor goes from one match to the next: the
	// newest violation, then the one before it, each in words.
	r.press("/")
	for _, c := range "violation" {
		r.press(string(c))
	}
	r.press("enter")
	mustContain(t, r.screen(), "▲ 58 03:04:06.")
	r.press("up")
	s = r.screen()
	mustContain(t, s, "▲ 56 03:04:06.")
	mustContain(t, s, "✗ 56 stale token served to call4")
}

// sliceSource is a logSource over a fixed list of events, as a replay
// would give the panel.
type sliceSource []authstate.Event

func (s sliceSource) Len() int      { return len(s) }
func (s sliceSource) Total() uint64 { return uint64(len(s)) }
func (s sliceSource) Slice(from, to int) []authstate.Event {
	from, to = max(from, 0), min(to, len(s))
	if from >= to {
		return nil
	}
	return append([]authstate.Event(nil), s[from:to]...)
}

// The lanes draw only from the panel's events, never from the engine, and
// every string in them goes through the sanitiser: a recorded stream whose
// session labels, call names and reasons hold terminal escapes is drawn
// with none of them acting.
func TestLanesDrawFromThePanelsEventsSafely(t *testing.T) {
	r := newRig(t)
	at := t0
	var evs []authstate.Event
	add := func(ev authstate.Event) {
		at = at.Add(40 * time.Millisecond)
		ev.Seq, ev.At = uint64(len(evs)+1), at
		evs = append(evs, ev)
	}
	s1, s2, call := "S1"+inject, "S2"+inject, "evil"+inject
	tok := &authstate.TokenInfo{Session: s1}
	add(authstate.Event{Kind: authstate.KindSessionObserved, Session: s1})
	add(authstate.Event{Kind: authstate.KindFetchStarted, Fetch: 1, Call: call, Session: s1})
	add(authstate.Event{Kind: authstate.KindSessionRotated, Session: s2, From: s1})
	add(authstate.Event{Kind: authstate.KindFetchResolved, Fetch: 1, Token: tok, Stale: true, Reason: "because" + inject})
	add(authstate.Event{Kind: authstate.KindCacheSet, Fetch: 1, Token: tok, Stale: true})
	add(authstate.Event{Kind: authstate.KindTokenServed, Fetch: 1, Call: call, Token: tok, Stale: true, Source: "fetch"})
	add(authstate.Event{Kind: authstate.KindViolation, Cause: authstate.InvariantGoneSession, Call: call, Token: tok, Detail: "gone" + inject})
	r.m.src = sliceSource(evs)
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	r.press("w")
	out := r.m.View().Content
	for _, bad := range injected {
		if strings.Contains(out, bad) {
			t.Errorf("the lanes pass %q to the terminal", bad)
		}
	}
	s := r.screen()
	mustContain(t, s, "── Lanes 03:04:05.040 → 03:04:05.280 · 7 events")
	mustContain(t, s, "✗ 7 stale token served to evil")
	mustContain(t, rowStarting(t, s, "token cache"), "▒")
	if strings.Contains(s, "provider mounted") {
		t.Errorf("the lanes read the engine's own log:\n%s", s)
	}
}

// With more events than columns, home takes the window back to the oldest
// event and the title says how many newer ones are off screen; an idle
// gap over 2 s is drawn cut (┊) on the axis.
func TestLanesScrolledBack(t *testing.T) {
	r := newRig(t)
	var evs []authstate.Event
	at := t0
	for i := range 600 {
		at = at.Add(3 * time.Second)
		evs = append(evs, authstate.Event{Seq: uint64(i + 1), At: at, Kind: authstate.KindSessionObserved, Session: "S1"})
	}
	r.m.src = sliceSource(evs)
	r.m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	r.press("w")
	s := r.screen()
	mustContain(t, s, "▲ 600 ")
	mustContain(t, rowStarting(t, s, "time→"), "┊")
	r.press("home")
	s = r.screen()
	mustContain(t, s, "▲ 1 03:04:08.000 session_observed")
	if !regexp.MustCompile(`scrolled back, \d+ newer`).MatchString(s) {
		t.Errorf("home: the title does not say the window is scrolled back:\n%s", s)
	}
	lanesFit(t, "scrolled back", s, 80, 24)
}
