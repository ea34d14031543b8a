package authstate

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// answerSecondFirst is a fake backend whose first token request answers
// only after the engine has taken the second one's answer: the second call
// finishes first, every time. arrived says the first request has come.
type answerSecondFirst struct {
	*fakeBackend
	mu      sync.Mutex
	n       int
	arrived chan struct{}
	second  chan *Handoff
}

func (b *answerSecondFirst) FetchToken(ctx context.Context) (*Token, error) {
	b.mu.Lock()
	b.n++
	n := b.n
	b.mu.Unlock()
	tok, err := b.fakeBackend.FetchToken(ctx)
	switch n {
	case 1:
		close(b.arrived)
		h := <-b.second
		taken := make(chan struct{})
		h.Notify(taken)
		<-taken
	case 2:
		b.second <- HandoffFrom(ctx)
	}
	return tok, err
}

func resolvedOrder(h *harness) []int {
	var order []int
	for _, ev := range h.e.Log().All() {
		if ev.Kind == KindFetchResolved {
			order = append(order, ev.Fetch)
		}
	}
	return order
}

// Under OrderedCompletions the answers of two calls are applied in the
// order the calls started, even when the later one finished first; without
// it, in the order they finished.
func TestOrderedCompletionsFollowCallOrder(t *testing.T) {
	for _, ordered := range []bool{true, false} {
		t.Run(fmt.Sprintf("ordered=%v", ordered), func(t *testing.T) {
			clock := NewFakeClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
			fb := newFakeBackend(clock)
			fb.newSession()
			be := &answerSecondFirst{fakeBackend: fb, arrived: make(chan struct{}), second: make(chan *Handoff, 1)}
			h := startOn(t, fb, be, Config{Policy: "pr329", OrderedCompletions: ordered})
			h.e.Fetch("a", true, "test")
			<-be.arrived // request #1 is the first to reach the backend
			h.e.Fetch("b", true, "test")
			h.settle()
			if err := h.e.Returned("a", "b"); err != nil {
				t.Fatal(err)
			}
			want := []int{2, 1}
			if ordered {
				want = []int{1, 2}
			}
			if got := resolvedOrder(h); !slices.Equal(got, want) {
				t.Errorf("requests resolved in the order %v, want %v", got, want)
			}
		})
	}
}

// An Advance fires its timers one at a time: what a timer starts (here
// the poller's get-session) is answered, at the timer's time, before the
// next timer fires.
func TestAdvanceAppliesAnswersBeforeTheNextTimer(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		t.Run(fmt.Sprintf("ordered=%v", ordered), func(t *testing.T) {
			var rec recorded
			h := startHarness(t, func(b *fakeBackend) Config {
				cfg := Config{Policy: "pr329", PollInterval: time.Second, OrderedCompletions: ordered}
				rec.hook(&cfg)
				return cfg
			})
			start := h.clock.Now()
			h.e.Advance(3 * time.Second)
			h.settle()
			if got := h.clock.Now().Sub(start); got != 3*time.Second {
				t.Fatalf("the clock moved %s, want 3s", got)
			}
			var got []string
			advanced := false
			for _, en := range rec.all() {
				switch en.in.(type) {
				case Advance:
					advanced = true
				case PollTick, SessionPolled:
					if advanced {
						got = append(got, fmt.Sprintf("%s %T", en.at.Sub(start), en.in))
					}
				}
			}
			want := []string{
				"1s authstate.PollTick", "1s authstate.SessionPolled",
				"2s authstate.PollTick", "2s authstate.SessionPolled",
				"3s authstate.PollTick", "3s authstate.SessionPolled",
			}
			if !slices.Equal(got, want) {
				t.Errorf("inputs after the advance:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// A held call does not stop an Advance: it counts as waiting, not as
// running, whether it was held before the Advance or reached the hold
// while the Advance was under way.
func TestAdvanceGoesOnPastAHeldCall(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		t.Run(fmt.Sprintf("ordered=%v", ordered), func(t *testing.T) {
			var rec recorded
			h := startHarness(t, func(b *fakeBackend) Config {
				cfg := Config{Policy: "pr329", PollInterval: time.Second, OrderedCompletions: ordered}
				rec.hook(&cfg)
				return cfg
			})
			h.hold(true)
			start := h.clock.Now()
			h.e.Fetch("a", true, "held")
			h.e.Advance(3 * time.Second)
			h.settle()
			if got := h.clock.Now().Sub(start); got != 3*time.Second {
				t.Fatalf("the clock moved %s, want 3s", got)
			}
			polled := 0
			for _, en := range rec.all() {
				if _, ok := en.in.(SessionPolled); ok && en.at.After(start) {
					polled++
				}
			}
			if polled != 3 {
				t.Errorf("%d get-sessions answered during the advance, want 3", polled)
			}
			if err := h.e.Returned("a"); err == nil {
				t.Fatalf("a returned while its response was held")
			}
			h.hold(false)
			h.b.release(0)
			h.settle()
			if err := h.e.Returned("a"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
