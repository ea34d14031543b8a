package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
)

// fullRig is a rig whose engine log holds 100k events (it is that big in
// the CLI), all delivered to the model.
func fullRig(b *testing.B, w, h int, opts ...rigOption) *rig {
	b.Helper()
	return fullRigN(b, 1, w, h, opts...)
}

// fullRigN is fullRig with n devices; device 1's log holds the 100k.
func fullRigN(b *testing.B, n, w, h int, opts ...rigOption) *rig {
	b.Helper()
	r := newRigN(b, n, append([]rigOption{logSize(100_000)}, opts...)...)
	r.press("f")
	r.settle()
	names := authstate.PolicyNames()
	for i := 0; r.eng.Log().Len() < 100_000; i++ {
		// Each switch logs two events (cache_cleared, policy_changed)
		// without touching the network.
		r.eng.SetPolicy(names[i%len(names)])
		if i%10_000 == 0 {
			r.settle()
		}
	}
	r.settle()
	r.m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	if n := r.eng.Log().Len(); n != 100_000 {
		b.Fatalf("log holds %d events", n)
	}
	return r
}

// BenchmarkView is one frame with 100k events in the log: it costs what
// the visible rows cost. Budget: 2 ms (DESIGN.md).
func BenchmarkView(b *testing.B) {
	for _, sz := range []struct {
		name string
		w, h int
	}{{"80x24", 80, 24}, {"140x45", 140, 45}, {"250x80", 250, 80}} {
		for _, v := range []struct {
			name  string
			setup func(r *rig)
		}{
			{"tail", func(r *rig) {}},
			{"scrolled_to_oldest", func(r *rig) { r.press("home") }},
			{"filtered", func(r *rig) {
				r.press("/")
				for _, c := range "policy" {
					r.press(string(c))
				}
				r.press("enter")
			}},
			{"consumer", nil},
			{"consumer_2_devices", nil},
		} {
			b.Run(sz.name+"/"+v.name, func(b *testing.B) {
				var r *rig
				switch v.name {
				case "consumer":
					r = fullRig(b, sz.w, sz.h, consumer)
				case "consumer_2_devices":
					r = fullRigN(b, 2, sz.w, sz.h, consumer)
				default:
					r = fullRig(b, sz.w, sz.h)
					v.setup(r)
				}
				b.ReportAllocs()
				for b.Loop() {
					_ = r.m.View()
				}
			})
		}
	}
}

// BenchmarkUpdateEvent is Update for one message carrying one event: count
// it, index it for the filter, refresh the snapshot and the visible window,
// and lay out the frame.
func BenchmarkUpdateEvent(b *testing.B) {
	for _, v := range []struct {
		name     string
		filtered bool
		opts     []rigOption
	}{{"unfiltered", false, nil}, {"filtered", true, nil}, {"consumer", false, []rigOption{consumer}}} {
		filtered := v.filtered
		b.Run(v.name, func(b *testing.B) {
			r := fullRig(b, 80, 24, v.opts...)
			if filtered {
				r.m.events.setFilter("policy", r.m.src)
			}
			ev, _ := lastEvent(r.eng, authstate.KindTokenServed)
			msg := eventsMsg{events: []authstate.Event{ev}}
			b.ReportAllocs()
			for b.Loop() {
				r.m.Update(msg)
			}
		})
	}
}

// BenchmarkFilterRebuild is typing one character into the filter: one pass
// over 100k events.
func BenchmarkFilterRebuild(b *testing.B) {
	r := fullRig(b, 80, 24)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r.m.events.setFilter([]string{"policy", "fetch"}[i%2], r.m.src)
		r.m.events.refresh(r.m.src)
	}
}

// BenchmarkCompareFrame is one frame of compare mode with four columns,
// each with the Convex client model on and 100k events in its log (the
// merged log holds the newest 100k of them): a tick (every column's fold
// read, the columns and their differences laid out, the merged event
// window filled) and the View. Budget: 2 ms.
func BenchmarkCompareFrame(b *testing.B) {
	for _, sz := range []struct {
		name string
		w, h int
	}{{"80x24", 80, 24}, {"140x45", 140, 45}, {"250x80", 250, 80}} {
		b.Run(sz.name, func(b *testing.B) {
			r := rigColumns(b, []string{"v0.12", "pr329", "pr329+pr83", "hardened"}, consumer, logSize(100_000))
			r.columnsStep("f")
			names := authstate.PolicyNames()
			for _, d := range r.devs {
				for i := 0; d.eng.Log().Len() < 100_000; i++ {
					d.eng.SetPolicy(names[i%len(names)])
					if i%10_000 == 0 {
						r.settle()
					}
				}
			}
			r.settle()
			r.m.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
			if n := r.m.cmp.merged.Len(); n != mergedLogSize {
				b.Fatalf("merged log holds %d events", n)
			}
			b.ReportAllocs()
			for b.Loop() {
				r.m.Update(tickMsg{})
				_ = r.m.View()
			}
		})
	}
}
