package tui

import (
	"time"

	"github.com/authscope/authscope/authstate"
)

// phase is what a user of the app sees of the Convex side at one moment.
// The order is severity: a timeline cell shows the most severe phase seen
// during its span, so a blip shorter than a cell still shows.
type phase uint8

const (
	phaseNone      phase = iota // nothing known yet
	phaseAuthed                 // useConvexAuth authenticated and the query answers
	phaseSignedOut              // Better Auth says signed out
	phaseLoading                // Better Auth says signed in, useConvexAuth is loading
	phaseFailing                // Better Auth says signed in, but Convex is not authenticated or the query fails
)

func (p phase) String() string {
	return [...]string{"unknown", "authenticated", "signed out", "loading", "failing"}[p]
}

// glyph is the cell of p in the strip: each phase has its own shape, so
// the strip reads without colour.
func (p phase) glyph() string {
	return [...]string{" ", "█", "_", "░", "✗"}[p]
}

// consumerState is what decides the phase: Better Auth's session and
// useConvexAuth with the subscribed query's last result.
type consumerState struct {
	known    bool // a session observation or a snapshot has been seen
	signedIn bool
	loading  bool
	authed   bool
	failing  bool
}

func (s consumerState) phase() phase {
	switch {
	case !s.known:
		return phaseNone
	case !s.signedIn:
		return phaseSignedOut
	case s.loading:
		return phaseLoading
	case !s.authed || s.failing:
		return phaseFailing
	}
	return phaseAuthed
}

// stateOf reads the consumer state from a snapshot.
func stateOf(s authstate.Snapshot) consumerState {
	c := s.Convex
	return consumerState{
		known:    !s.SessionPending,
		signedIn: s.Session != nil,
		loading:  c.IsLoading,
		authed:   c.IsAuthenticated,
		failing:  c.LastResult != nil && !c.LastResult.OK(),
	}
}

const (
	// timelineCell is the span of one recorded cell; the strip shows one
	// or several recorded cells per character, depending on its width.
	timelineCell = 100 * time.Millisecond
	// timelineCells bounds the history: 4096 × 100 ms ≈ 6.8 minutes.
	timelineCells = 4096
	// timelineSpan is how much history the strip aims to show: the
	// display cell is the smallest of timelineScales that covers it.
	timelineSpan = 20 * time.Second
)

// timelineScales are the spans one character of the strip may stand for.
var timelineScales = []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second}

// timeline records the consumer's phase over time in a bounded ring of
// fixed cells, by the engine's clock. It is fed by the event stream, so a
// flicker of a few milliseconds is seen even though the view refreshes
// every 250 ms: each consumer_state event carries a transition of useConvexAuth
// or of the query result at the moment it happened, and session events
// are Better Auth signing in or out. Each refresh also samples the engine's
// snapshot, which corrects the state if an event was missed.
type timeline struct {
	ring    [timelineCells]phase // cell b lives at b % timelineCells
	started bool
	newest  int64     // newest cell written
	lastAt  time.Time // time of the latest transition
	cur     consumerState
}

func cellOf(t time.Time) int64 { return t.UnixNano() / int64(timelineCell) }

// observe applies one event in the order the engine emitted it.
func (tl *timeline) observe(ev authstate.Event) {
	s := tl.cur
	if !s.known {
		// useConvexAuth starts loading.
		s.loading = true
	}
	switch ev.Kind {
	case authstate.KindSessionObserved:
		s.known, s.signedIn = true, ev.Session != ""
	case authstate.KindSessionRotated, authstate.KindSessionRefreshed:
		s.known, s.signedIn = true, true
	case authstate.KindSessionEnded:
		s.known, s.signedIn = true, false
	case authstate.KindConsumerState:
		if ev.Convex == nil {
			return
		}
		s.loading, s.authed, s.failing = ev.Convex.Loading, ev.Convex.Authenticated, ev.Convex.Failing
	default:
		return
	}
	tl.set(ev.At, s)
}

// reset forgets the history: the strip starts again at at, in the
// current state.
func (tl *timeline) reset(at time.Time) {
	cur, known := tl.cur, tl.started
	*tl = timeline{}
	if known {
		tl.set(at, cur)
	}
}

// sample applies a snapshot taken at s.Now.
func (tl *timeline) sample(s authstate.Snapshot) {
	if st := stateOf(s); st != tl.cur || !tl.started {
		tl.set(s.Now, st)
	}
}

// set records that the state became s at time at: the previous state
// filled every cell up to at, and the cell of at sees both.
func (tl *timeline) set(at time.Time, s consumerState) {
	if at.IsZero() {
		return
	}
	if !tl.started {
		tl.started, tl.newest, tl.lastAt, tl.cur = true, cellOf(at), at, s
		tl.ring[tl.newest%timelineCells] = s.phase()
		return
	}
	if at.Before(tl.lastAt) {
		// A sample ran ahead of events emitted before it: they count from
		// the sample's time.
		at = tl.lastAt
	}
	c := cellOf(at)
	if c > tl.newest {
		// The previous state held through the cells in between, and in
		// cell c up to at (unless at is the cell's very start).
		prev := tl.cur.phase()
		from := max(tl.newest+1, c-timelineCells+1)
		for k := from; k < c; k++ {
			tl.ring[k%timelineCells] = prev
		}
		tl.ring[c%timelineCells] = phaseNone
		if at.UnixNano()%int64(timelineCell) != 0 {
			tl.ring[c%timelineCells] = prev
		}
		tl.newest = c
	}
	if p := s.phase(); p > tl.ring[c%timelineCells] {
		tl.ring[c%timelineCells] = p
	}
	tl.cur, tl.lastAt = s, at
}

// cells returns n display cells of span scale each, the newest ending at
// now (or at the newest record, if the view's clock is behind it). Cells
// after the newest record carry the current phase; cells older than the
// history are phaseNone.
func (tl *timeline) cells(n int, scale time.Duration, now time.Time) []phase {
	out := make([]phase, n)
	if !tl.started || n <= 0 {
		return out
	}
	per := max(int64(scale/timelineCell), 1)
	end := max(cellOf(now), tl.newest)
	end -= end % per // display cells are aligned to their span
	cur := tl.cur.phase()
	oldest := tl.newest - timelineCells + 1
	for i := range n {
		lo := end - int64(n-1-i)*per
		worst := phaseNone
		for k := lo; k < lo+per; k++ {
			var p phase
			switch {
			case k > tl.newest:
				if k <= cellOf(now) {
					p = cur
				}
			case k >= oldest:
				p = tl.ring[k%timelineCells]
			}
			worst = max(worst, p)
		}
		out[i] = worst
	}
	return out
}

// scaleFor picks the span of one character for a strip n characters wide:
// the smallest that shows timelineSpan of history.
func scaleFor(n int) time.Duration {
	for _, s := range timelineScales {
		if time.Duration(n)*s >= timelineSpan {
			return s
		}
	}
	return timelineScales[len(timelineScales)-1]
}
