package authstate

import (
	"fmt"
	"time"
)

// flickerMeter tracks windows in which Better Auth says the user is signed
// in but the Convex side does not agree: useConvexAuth is loading or not
// authenticated, or the subscribed query fails. It starts counting once the
// consumer has been authenticated for the first time, so the initial load
// is not a flicker.
type flickerMeter struct {
	armed   bool
	open    bool
	since   time.Time // engine clock
	why     string
	windows []FlickerWindow
}

// FlickerWindow is one flicker.
type FlickerWindow struct {
	Start time.Time
	End   time.Time // zero while open
	// Duration is End-Start (while open, up to now) on the engine clock:
	// virtual time in a scenario run on the simulator, so that a run's
	// verdicts never depend on how busy the machine is; the wall clock
	// against a real target.
	Duration time.Duration
	Why      string
}

// FlickerStats sums the windows.
type FlickerStats struct {
	Windows []FlickerWindow
	Count   int
	Total   time.Duration
	Open    bool
}

// maxFlickerWindows bounds the history kept.
const maxFlickerWindows = 256

// reset forgets the windows; an open one starts again at now.
func (m *flickerMeter) reset(now time.Time) {
	m.windows = nil
	if m.open {
		m.since = now
	}
}

func (m *flickerMeter) stats(now time.Time) FlickerStats {
	s := FlickerStats{Count: len(m.windows), Open: m.open, Windows: append([]FlickerWindow(nil), m.windows...)}
	for _, w := range m.windows {
		s.Total += w.Duration
	}
	if m.open {
		d := now.Sub(m.since)
		s.Total += d
		s.Count++
		s.Windows = append(s.Windows, FlickerWindow{Start: m.since, Duration: d, Why: m.why})
	}
	return s
}

func (e *Engine) flickerUpdate() {
	c := e.consumer
	if c == nil {
		return
	}
	m := &e.flicker
	loading, authed := c.useConvexAuth()
	failing := c.lastResult != nil && !c.lastResult.OK()
	if !m.armed {
		if authed && !failing {
			m.armed = true
		}
		return
	}
	signedIn := e.view.s != nil
	var why string
	switch {
	case !signedIn:
	case loading:
		why = "useConvexAuth is loading"
	case !authed:
		why = "useConvexAuth says not authenticated"
	case failing:
		why = "the query fails: " + c.lastResult.String()
	}
	switch {
	case why != "" && !m.open:
		m.open = true
		m.why = why
		m.since = e.now()
		e.emit(Event{Kind: KindFlicker, Reason: "open", Why: why, Detail: "flicker: Better Auth says signed in, but " + why})
	case why == "" && m.open:
		m.open = false
		end := e.now()
		w := FlickerWindow{Start: m.since, End: end, Duration: end.Sub(m.since), Why: m.why}
		m.windows = append(m.windows, w)
		if len(m.windows) > maxFlickerWindows {
			m.windows = m.windows[1:]
		}
		e.emit(Event{Kind: KindFlicker, Reason: "closed", Elapsed: w.Duration, Detail: fmt.Sprintf("flicker over after %s", w.Duration.Round(time.Millisecond))})
	}
}
