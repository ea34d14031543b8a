package scenario_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// scenarioEvents runs one shipped scenario against the simulator and
// returns every event it emitted, in order.
func scenarioEvents(t *testing.T, file, policy string) []authstate.Event {
	t.Helper()
	var sc *scenario.Scenario
	for _, s := range loadAll(t) {
		if filepath.Base(s.File) == file {
			sc = s
		}
	}
	if sc == nil {
		t.Fatalf("no scenario %s", file)
	}
	var mu sync.Mutex
	var evs []authstate.Event
	scenario.Run(context.Background(), &target.Sim{}, sc, policy, scenario.Options{OnEvent: func(ev authstate.Event) {
		mu.Lock()
		evs = append(evs, ev)
		mu.Unlock()
	}})
	mu.Lock()
	defer mu.Unlock()
	return append([]authstate.Event(nil), evs...)
}

// laneNamed finds a lane by its short name.
func laneNamed(t *testing.T, ls authstate.Lanes, short string) authstate.Lane {
	t.Helper()
	var names []string
	for _, l := range ls.Lanes {
		if l.Short == short {
			return l
		}
		names = append(names, l.Short)
	}
	t.Fatalf("no lane %q among %v", short, names)
	return authstate.Lane{}
}

// The stale token of a rotation while a fetch is in flight, under v0.12:
// S1 ends when the session rotates to S2; request #1 was sent under S1,
// the second call joins it, and it resolves with S1's token, which the
// cache then holds, stale; each of the two calls served it is a violation
// labelled in words.
func TestLaneSetStaleToken(t *testing.T) {
	ls := authstate.LaneSet(scenarioEvents(t, "03-rotation-in-flight.yaml", "v0.12"))
	var shorts []string
	for _, l := range ls.Lanes {
		shorts = append(shorts, l.Short)
	}
	if got := strings.Join(shorts, " "); got != "sess poll #1 cache" {
		t.Fatalf("lanes %q, want sessions, poller, request #1, cache", got)
	}
	sess := laneNamed(t, ls, "sess")
	if len(sess.Spans) != 2 || sess.Spans[0].Label != "S1" || sess.Spans[0].Style != authstate.SpanGone || sess.Spans[0].Open ||
		sess.Spans[1].Label != "S2" || !sess.Spans[1].Open || sess.Spans[0].ToSeq != sess.Spans[1].FromSeq {
		t.Errorf("sessions: %+v; want S1 ended where S2 starts, S2 still open", sess.Spans)
	}
	req := laneNamed(t, ls, "#1")
	if req.Name != "request #1 for first + second under S1" {
		t.Errorf("request lane named %q", req.Name)
	}
	if sp := req.Spans[0]; sp.Style != authstate.SpanStale || sp.Label != "S1's token, stale" || sp.Open {
		t.Errorf("request span %+v; want resolved with S1's token, stale", sp)
	}
	var joined, stale int
	for _, tk := range req.Ticks {
		switch tk.Style {
		case authstate.TickJoined:
			joined++
		case authstate.TickServedStale:
			stale++
		}
	}
	if joined != 1 || stale != 2 {
		t.Errorf("request ticks %+v: %d joins, %d stale serves; want 1 and 2", req.Ticks, joined, stale)
	}
	cache := laneNamed(t, ls, "cache")
	if n := len(cache.Spans); n != 1 || cache.Spans[0].Style != authstate.SpanStale || !cache.Spans[0].Open {
		t.Errorf("cache spans %+v; want S1's token, stale, to the end", cache.Spans)
	}
	want := []string{
		"stale token served to first: bound to S1, which has ended (now S2)",
		"stale token served to second: bound to S1, which has ended (now S2)",
	}
	if len(ls.Marks) != len(want) {
		t.Fatalf("marks %+v; want %d violations", ls.Marks, len(want))
	}
	for i, m := range ls.Marks {
		if m.Kind != authstate.MarkViolation || m.Label != want[i] || m.Seq == 0 {
			t.Errorf("mark %d: %+v; want violation %q", i, m, want[i])
		}
	}
}

// The Convex flicker after a rotation, under pr329: no violation, one
// flicker window closed, labelled with why, and the Convex lane shows the
// failing phase inside the window; the cache's S1 token turns stale when
// S1 is rotated away.
func TestLaneSetFlicker(t *testing.T) {
	ls := authstate.LaneSet(scenarioEvents(t, "20-rotation-flicker.yaml", "pr329"))
	if len(ls.Marks) != 1 {
		t.Fatalf("marks %+v; want one flicker window", ls.Marks)
	}
	m := ls.Marks[0]
	if m.Kind != authstate.MarkFlicker || m.Open || m.ToSeq <= m.Seq ||
		!strings.HasPrefix(m.Label, "flicker of ") || !strings.Contains(m.Label, "Better Auth says signed in, but the query fails") {
		t.Errorf("flicker mark %+v", m)
	}
	cvx := laneNamed(t, ls, "cvx")
	failing := false
	for _, sp := range cvx.Spans {
		if sp.Style == authstate.SpanFailing && sp.Label == "failing" && sp.FromSeq <= m.ToSeq && sp.ToSeq >= m.Seq {
			failing = true
		}
	}
	if !failing {
		t.Errorf("no failing Convex span inside the window: %+v", cvx.Spans)
	}
	stale := false
	for _, sp := range laneNamed(t, ls, "cache").Spans {
		if sp.Style == authstate.SpanStale && sp.Label == "S1's token, stale" && strings.Contains(sp.Title, "S1 rotated away to S2") {
			stale = true
		}
	}
	if !stale {
		t.Errorf("the cache never shows S1's token stale: %+v", laneNamed(t, ls, "cache").Spans)
	}
}

// No events, no lanes; quiet events alone draw nothing either.
func TestLaneSetEmpty(t *testing.T) {
	if ls := authstate.LaneSet(nil); len(ls.Lanes) != 0 || len(ls.Marks) != 0 {
		t.Errorf("lanes of nothing: %+v", ls)
	}
	if ls := authstate.LaneSet([]authstate.Event{{Kind: authstate.KindCallStarted, Seq: 1}}); len(ls.Lanes) != 0 {
		t.Errorf("lanes of a quiet event: %+v", ls)
	}
}

// A transient token failure under hardened: the request fails, is
// retried and resolves; its lane keeps the failure and the retry as ticks
// and ends fresh. Under v0.12 the same failure ends the request.
func TestLaneSetTransientFailure(t *testing.T) {
	ticks := func(l authstate.Lane) (failed, retried int) {
		for _, tk := range l.Ticks {
			switch tk.Style {
			case authstate.TickFailed:
				failed++
			case authstate.TickRetry:
				retried++
			}
		}
		return failed, retried
	}
	ls := authstate.LaneSet(scenarioEvents(t, "12-transient-token-failure.yaml", "hardened"))
	found := false
	for _, l := range ls.Lanes {
		if l.Kind != authstate.LaneRequest {
			continue
		}
		if f, r := ticks(l); f > 0 {
			found = true
			if r == 0 || l.Spans[0].Style != authstate.SpanLive || l.Spans[0].Open {
				t.Errorf("hardened: request lane %q: %d failures, %d retries, span %+v; want a retry and a fresh token", l.Name, f, r, l.Spans[0])
			}
		}
	}
	if !found {
		t.Error("hardened: no request lane shows the failure")
	}
	ls = authstate.LaneSet(scenarioEvents(t, "12-transient-token-failure.yaml", "v0.12"))
	found = false
	for _, l := range ls.Lanes {
		if f, _ := ticks(l); l.Kind == authstate.LaneRequest && f > 0 {
			found = true
			if sp := l.Spans[0]; sp.Style != authstate.SpanFailed || !strings.HasPrefix(sp.Label, "failed: ") {
				t.Errorf("v0.12: the failed request's span is %+v", sp)
			}
		}
	}
	if !found {
		t.Error("v0.12: no request lane shows the failure")
	}
}
