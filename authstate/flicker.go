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
	sinceRT time.Time // wall clock
	why     string
	windows []FlickerWindow
}

// FlickerWindow is one flicker.
type FlickerWindow struct {
	Start time.Time
	End   time.Time // zero while open
	// Duration is measured on the wall clock, so that it means something
	// in scenario runs, whose engine clock is virtual.
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
		m.since, m.sinceRT = now, time.Now()
	}
}

func (m *flickerMeter) stats(now time.Time) FlickerStats {
	s := FlickerStats{Count: len(m.windows), Open: m.open, Windows: append([]FlickerWindow(nil), m.windows...)}
	for _, w := range m.windows {
		s.Total += w.Duration
	}
	if m.open {
		d := time.Since(m.sinceRT)
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
		m.since, m.sinceRT = e.now(), time.Now()
		e.emit(Event{Kind: KindFlicker, Reason: "open", Why: why, Detail: "flicker: Better Auth says signed in, but " + why})
	case why == "" && m.open:
		m.open = false
		w := FlickerWindow{Start: m.since, End: e.now(), Duration: time.Since(m.sinceRT), Why: m.why}
		m.windows = append(m.windows, w)
		if len(m.windows) > maxFlickerWindows {
			m.windows = m.windows[1:]
		}
		// The detail gives the length on the engine clock, as the event's
		// At does, so that a scenario run gives the same events every
		// time; Elapsed carries the wall-clock Duration for the fold.
		e.emit(Event{Kind: KindFlicker, Reason: "closed", Elapsed: w.Duration, Detail: fmt.Sprintf("flicker over after %s", w.End.Sub(w.Start).Round(time.Millisecond))})
	}
}
