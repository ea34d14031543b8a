package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
)

func glyphs(ps []phase) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.glyph())
	}
	return b.String()
}

var (
	authed    = consumerState{known: true, signedIn: true, authed: true}
	loading   = consumerState{known: true, signedIn: true, loading: true}
	failing   = consumerState{known: true, signedIn: true, authed: true, failing: true}
	signedOut = consumerState{known: true}
)

func TestTimelineKeepsShortBlips(t *testing.T) {
	var tl timeline
	tl.set(t0, authed)
	// An 11 ms flicker inside one 100 ms cell, as on the simulator.
	tl.set(t0.Add(1200*time.Millisecond), failing)
	tl.set(t0.Add(1205*time.Millisecond), loading)
	tl.set(t0.Add(1211*time.Millisecond), authed)
	now := t0.Add(2 * time.Second)
	got := glyphs(tl.cells(20, 100*time.Millisecond, now))
	// Cells 00.100 … 02.000: the blip is cell 12 (01.200).
	if want := "███████████✗████████"; got != want {
		t.Fatalf("strip %q, want %q", got, want)
	}
	// Wider cells keep it too, and the most severe phase wins.
	if got := glyphs(tl.cells(4, 500*time.Millisecond, now)); got != "█✗██" {
		t.Fatalf("500 ms cells: %q", got)
	}
}

func TestTimelineHoldsStateUntilNow(t *testing.T) {
	var tl timeline
	tl.set(t0, authed)
	tl.set(t0.Add(300*time.Millisecond), signedOut)
	got := glyphs(tl.cells(10, 100*time.Millisecond, t0.Add(900*time.Millisecond)))
	// Before the first sample: nothing; then authenticated up to 00.300,
	// which holds both; then signed out until now.
	if want := "███_______"; got != want {
		t.Fatalf("strip %q, want %q", got, want)
	}
	// The view's clock behind the engine's: the strip ends at the newest record.
	if got := glyphs(tl.cells(3, 100*time.Millisecond, t0)); got != "██_" {
		t.Fatalf("clock behind: %q", got)
	}
}

func TestTimelineRingIsBounded(t *testing.T) {
	var tl timeline
	tl.set(t0, failing)
	tl.set(t0.Add(time.Second), authed)
	// Far beyond the ring: the old failure is forgotten, not wrapped.
	later := t0.Add(timelineCells * timelineCell * 3)
	tl.set(later, authed)
	if got := glyphs(tl.cells(timelineCells+10, timelineCell, later)); strings.Contains(got, "✗") {
		t.Fatal("a failure older than the ring is still shown")
	}
	// An event older than the latest record counts from that record.
	tl.set(t0.Add(5*time.Second), loading)
	if c := tl.cells(1, timelineCell, later); c[0] != phaseLoading {
		t.Fatalf("late event: %v", c[0])
	}
}

func TestTimelineFromEvents(t *testing.T) {
	var tl timeline
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for _, ev := range []authstate.Event{
		{At: at(0), Kind: authstate.KindSessionObserved, Session: "S1"},
		{At: at(0), Kind: authstate.KindConsumerState, Convex: &authstate.ConvexFlags{Authenticated: true}},
		{At: at(400), Kind: authstate.KindConsumerState, Convex: &authstate.ConvexFlags{Authenticated: true, Failing: true}},
		{At: at(500), Kind: authstate.KindSessionRotated, Session: "S2"},
		{At: at(500), Kind: authstate.KindConsumerState, Convex: &authstate.ConvexFlags{Loading: true, Failing: true}},
		{At: at(700), Kind: authstate.KindConsumerState, Convex: &authstate.ConvexFlags{Authenticated: true}},
		{At: at(900), Kind: authstate.KindSessionEnded},
		{At: at(950), Kind: authstate.KindConsumerState, Detail: "an event without flags is ignored"},
	} {
		tl.observe(ev)
	}
	// The first cell holds useConvexAuth's initial loading; a change on
	// a cell's boundary (00.700) does not colour that cell with the
	// state before it.
	if got, want := glyphs(tl.cells(11, 100*time.Millisecond, at(1000))), "░███✗✗░██__"; got != want {
		t.Fatalf("strip %q, want %q", got, want)
	}
	if tl.cur.phase() != phaseSignedOut {
		t.Fatalf("phase %v after the session ended", tl.cur.phase())
	}
}

func TestTimelineSampleCorrectsAMissedEvent(t *testing.T) {
	var tl timeline
	tl.set(t0, authed)
	s := authstate.Snapshot{Now: t0.Add(300 * time.Millisecond), Session: &authstate.Session{ID: "a"}}
	s.Convex = authstate.ConvexState{Enabled: true, IsLoading: true}
	tl.sample(s)
	if tl.cur.phase() != phaseLoading {
		t.Fatalf("after a loading snapshot: %v", tl.cur.phase())
	}
	s.Convex = authstate.ConvexState{Enabled: true, IsAuthenticated: true, LastResult: &authstate.QueryResult{Error: "Unauthenticated"}}
	s.Now = s.Now.Add(100 * time.Millisecond)
	tl.sample(s)
	if tl.cur.phase() != phaseFailing {
		t.Fatalf("after a failing query: %v", tl.cur.phase())
	}
}

func TestScaleFor(t *testing.T) {
	for n, want := range map[int]time.Duration{200: 100 * time.Millisecond, 120: 250 * time.Millisecond, 60: 500 * time.Millisecond, 28: time.Second, 3: 5 * time.Second} {
		if got := scaleFor(n); got != want {
			t.Errorf("scaleFor(%d) = %s, want %s", n, got, want)
		}
	}
}
