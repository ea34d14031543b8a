package tui

import (
	"testing"

	"github.com/authscope/authscope/authstate"
)

// BenchmarkLanes is a frame of the swimlane view with 100k events in the
// log: view is View alone (the lanes were drawn in Update), event is
// Update for one new event (the lanes redrawn: read the window and the
// lookback, fold them into lanes, draw) plus View; oldest is that with
// the cursor on the oldest event; draw is the lanes' own part of it.
// Budget: 2 ms a frame.
func BenchmarkLanes(b *testing.B) {
	for _, sz := range []struct {
		name string
		w, h int
	}{{"80x24", 80, 24}, {"140x45", 140, 45}} {
		for _, v := range []string{"view", "event", "oldest", "draw"} {
			b.Run(sz.name+"/"+v, func(b *testing.B) {
				r := fullRig(b, sz.w, sz.h, consumer)
				r.press("w")
				if v == "oldest" {
					r.press("home")
				}
				ev, _ := lastEvent(r.eng, authstate.KindTokenServed)
				msg := eventsMsg{events: []authstate.Event{ev}}
				b.ReportAllocs()
				for b.Loop() {
					if v == "draw" {
						_ = r.m.drawLanes(r.m.width, r.m.chrome.eventRows)
						continue
					}
					if v != "view" {
						// A new event (or, scrolled back, the cursor
						// moved) makes Update draw the lanes again.
						r.m.lanes.lines = nil
						r.m.Update(msg)
					}
					_ = r.m.View()
				}
			})
		}
	}
}
