package authstate

import (
	"context"
	"strings"
	"testing"
	"time"
)

// fakeConvex answers like the simulator's /api/query: an expired or
// missing-session token is refused or fails getAuthUser.
type fakeConvex struct{ b *fakeBackend }

func (f fakeConvex) Query(ctx context.Context, path string, t *Token) (QueryResult, error) {
	f.b.mu.Lock()
	defer f.b.mu.Unlock()
	switch {
	case t == nil:
		return QueryResult{Error: "Unauthenticated"}, nil
	case !f.b.clock.Now().Before(t.ExpiresAt):
		return QueryResult{AuthError: "token expired"}, nil
	case !f.b.live[t.SessionID]:
		return QueryResult{Error: "Unauthenticated"}, nil
	}
	return QueryResult{Value: "alice"}, nil
}

func newConsumerHarness(t *testing.T, policy string, pr83 bool) *harness {
	t.Helper()
	clock := NewFakeClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	b := newFakeBackend(clock)
	b.newSession()
	e, err := New(Config{Backend: b, Policy: policy, Clock: clock, LogSize: 4096, Consumer: &ConsumerConfig{Backend: fakeConvex{b}, PR83: pr83}})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, b: b, e: e, clock: clock}
	e.Start(context.Background())
	t.Cleanup(e.Stop)
	h.settle()
	return h
}

func details(h *harness, kind Kind) []string {
	var out []string
	for _, ev := range h.e.Log().All() {
		if ev.Kind == kind {
			out = append(out, ev.Detail)
		}
	}
	return out
}

func TestConsumerStartsAuthenticated(t *testing.T) {
	h := newConsumerHarness(t, "pr329", false)
	s := h.e.Snapshot()
	if !s.Convex.IsAuthenticated || s.Convex.IsLoading {
		t.Fatalf("after start: %+v\n%s", s.Convex, strings.Join(details(h, KindConvex), "\n"))
	}
	if s.Convex.AuthState != "waitingForScheduledRefetch" {
		t.Errorf("auth manager in %s, want waitingForScheduledRefetch", s.Convex.AuthState)
	}
	if s.Flicker.Count != 0 {
		t.Errorf("flicker at start: %+v", s.Flicker)
	}
}

// Reference §5 case 6: a rotation flickers under every cache policy;
// PR #83 removes the clearAuth leg.
func TestRotationFlicker(t *testing.T) {
	for _, tc := range []struct {
		policy string
		pr83   bool
	}{{"v0.12", false}, {"pr329", false}, {"hardened", false}, {"pr329", true}} {
		name := tc.policy
		if tc.pr83 {
			name += "+pr83"
		}
		t.Run(name, func(t *testing.T) {
			h := newConsumerHarness(t, tc.policy, tc.pr83)
			h.e.Do(ActionChangePassword, true)
			h.settle()
			s := h.e.Snapshot()
			if s.Flicker.Count == 0 {
				t.Errorf("no flicker after a rotation:\n%s", strings.Join(details(h, KindConvex), "\n"))
			}
			if !s.Convex.IsAuthenticated {
				t.Errorf("not authenticated after the rotation settled: %+v", s.Convex)
			}
			clears := 0
			for _, d := range details(h, KindConvex) {
				if strings.Contains(d, "Authenticate None") {
					clears++
				}
			}
			if tc.pr83 && clears != 0 || !tc.pr83 && clears == 0 {
				t.Errorf("%d Authenticate None messages with pr83=%v", clears, tc.pr83)
			}
			t.Logf("%s: %d windows; query results: %v", name, s.Flicker.Count, details(h, KindQueryResult))
		})
	}
}
