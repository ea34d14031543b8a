package authstate

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEventLogIsBounded(t *testing.T) {
	l := NewEventLog(3)
	for i := 1; i <= 5; i++ {
		l.append(Event{Seq: uint64(i)})
	}
	got := l.All()
	if len(got) != 3 || got[0].Seq != 3 || got[2].Seq != 5 {
		t.Fatalf("ring holds %+v, want seq 3..5", got)
	}
	if l.Total() != 5 {
		t.Fatalf("total %d, want 5", l.Total())
	}
	if w := l.Slice(1, 100); len(w) != 2 || w[0].Seq != 4 {
		t.Fatalf("window %+v", w)
	}
	if w := l.Slice(5, 2); w != nil {
		t.Fatalf("empty window gave %+v", w)
	}
}

// A subscriber that never reads must not stall the engine: it misses
// events, and the misses are counted.
func TestSlowSubscriberNeverBlocks(t *testing.T) {
	h := newHarness(t, "pr329", false)
	slow := h.e.Subscribe(1)
	defer slow.Close()
	fast := h.e.Subscribe(1 << 12)
	defer fast.Close()
	for i := 0; i < 50; i++ {
		h.fetch("", true)
	}
	if slow.Dropped() == 0 {
		t.Fatal("a full subscriber dropped nothing")
	}
	if fast.Dropped() != 0 {
		t.Fatalf("a subscriber with room dropped %d events", fast.Dropped())
	}
	if got := len(fast.C); got < 50*4 {
		t.Fatalf("fast subscriber got %d events, want at least 200", got)
	}
}

func TestEventJSONCarriesNoSecrets(t *testing.T) {
	h := newHarness(t, "pr329", false)
	h.fetch("a", false)
	raw := h.call("a").Token.Raw
	for _, ev := range h.e.Log().All() {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), raw) {
			t.Fatalf("event %s carries the raw JWT: %s", ev.Kind, b)
		}
		if !strings.HasPrefix(string(b), `{"type":"event"`) {
			t.Fatalf("event JSON does not start with the type: %s", b)
		}
	}
}

func TestKindNames(t *testing.T) {
	for k := Kind(1); k < kindEnd; k++ {
		back, ok := ParseKind(k.String())
		if !ok || back != k {
			t.Errorf("kind %d (%s) does not round-trip", k, k)
		}
	}
}

func TestFakeClockOrder(t *testing.T) {
	c := NewFakeClock(time.Unix(0, 0))
	var got []int
	c.AfterFunc(2*time.Second, func() { got = append(got, 2) })
	c.AfterFunc(time.Second, func() { got = append(got, 1) })
	stopped := c.AfterFunc(1500*time.Millisecond, func() { got = append(got, 99) })
	if !stopped.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	c.Advance(3 * time.Second)
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("fired %v, want [1 2]", got)
	}
	if !c.Now().Equal(time.Unix(3, 0)) {
		t.Fatalf("now %v", c.Now())
	}
}

// BenchmarkEmit measures how many events per second the engine ingests:
// log append, fan-out to a subscriber, and the invariant checker.
func BenchmarkEmit(b *testing.B) {
	e, err := New(Config{Backend: newFakeBackend(RealClock{}), Clock: NewFakeClock(time.Unix(0, 0)), LogSize: 100000})
	if err != nil {
		b.Fatal(err)
	}
	sub := e.Subscribe(1024)
	go func() {
		for range sub.C {
		}
	}()
	ti := &TokenInfo{Session: "S1", SessionID: "x", ExpiresAt: time.Unix(1e9, 0)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.emit(Event{Kind: KindTokenServed, Call: "c", Token: ti, Session: "S1"})
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	sub.Close()
}

// BenchmarkFetchCycle measures one fetchAccessToken call through the loop
// that starts a request, resolves it and serves it (about six events).
func BenchmarkFetchCycle(b *testing.B) {
	clock := NewFakeClock(time.Unix(0, 0))
	fb := newFakeBackend(clock)
	fb.newSession()
	e, err := New(Config{Backend: fb, Clock: clock, Policy: "pr329", LogSize: 100000})
	if err != nil {
		b.Fatal(err)
	}
	e.Start(context.Background())
	defer e.Stop()
	ctx := context.Background()
	if err := e.Settle(ctx, fb.Held, nil, clock); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Fetch("", true, "bench")
		if err := e.Settle(ctx, fb.Held, nil, clock); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(e.Log().Total())/b.Elapsed().Seconds(), "events/s")
}

func TestEventLogBounds(t *testing.T) {
	l := NewEventLog(3)
	if f, last := l.Bounds(); f != 0 || last != 0 {
		t.Fatalf("empty log bounds %d..%d", f, last)
	}
	for i := 1; i <= 5; i++ {
		l.append(Event{Seq: uint64(i)})
	}
	if f, last := l.Bounds(); f != 3 || last != 5 {
		t.Fatalf("bounds %d..%d, want 3..5", f, last)
	}
}

func TestUnstartedEngineFailsSoftly(t *testing.T) {
	e, err := New(Config{Backend: newFakeBackend(RealClock{})})
	if err != nil {
		t.Fatal(err)
	}
	if s := e.Snapshot(); !s.Stopped {
		t.Fatal("snapshot of an unstarted engine does not say stopped")
	}
	e.Fetch("x", false, "test")
	e.Do(ActionSignIn, true)
	e.Observe("test")
	if err := e.SetPolicy("v0.12"); err != nil {
		t.Fatal(err)
	}
}
