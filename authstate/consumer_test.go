package authstate

import (
	"context"
	"strings"
	"testing"
	"time"
)

// fakeConvex answers like the simulator's /api/query: an expired or
// missing-session token is refused or fails getAuthUser. rejectAuth makes
// the next n identities be refused outright.
type fakeConvex struct {
	b          *fakeBackend
	rejectAuth *int
}

func (f fakeConvex) Query(ctx context.Context, path string, t *Token) (QueryResult, error) {
	f.b.mu.Lock()
	defer f.b.mu.Unlock()
	if f.rejectAuth != nil && *f.rejectAuth > 0 && t != nil {
		*f.rejectAuth--
		return QueryResult{AuthError: "rejected by the test"}, nil
	}
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
	return startHarness(t, func(b *fakeBackend) Config {
		return Config{Policy: policy, Consumer: &ConsumerConfig{Backend: fakeConvex{b: b, rejectAuth: new(int)}, PR83: pr83}}
	})
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
	var last *ConvexFlags
	for _, ev := range h.e.Log().All() {
		if ev.Kind == KindConsumerState {
			last = ev.Convex
		}
	}
	if last == nil || !last.Authenticated || last.Loading || last.Failing {
		t.Errorf("the last consumer_state event carries %+v, want authenticated", last)
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

func (h *harness) convex() *fakeConvex {
	fc := h.e.consumer.cfg.Backend.(fakeConvex)
	return &fc
}

// inLoop runs f on the engine loop and settles.
func (h *harness) inLoop(f func(e *Engine)) {
	h.t.Helper()
	if err := h.e.do(func() { f(h.e) }); err != nil {
		h.t.Fatal(err)
	}
	h.settle()
}

// TestAuthManagerTransitions walks every transition of the
// AuthenticationManager model, one row each.
func TestAuthManagerTransitions(t *testing.T) {
	type row struct {
		name   string
		setup  func(h *harness)
		act    func(h *harness)
		state  string
		socket string
		authed bool
		check  func(t *testing.T, h *harness)
	}
	rows := []row{
		{
			name:  "setConfig with a token: cached confirmation, then a fresh token, then a scheduled refetch",
			act:   func(h *harness) {},
			state: "waitingForScheduledRefetch", socket: "ready", authed: true,
		},
		{
			name: "refetch returns the token already sent (same second): notRefetching",
			act: func(h *harness) {
				h.b.mu.Lock()
				h.b.repeat = true
				h.b.mu.Unlock()
				h.inLoop(func(e *Engine) { e.refetchToken(nil) })
			},
			state: "notRefetching", socket: "ready", authed: true,
		},
		{
			name:  "scheduled refetch fires: a new token is confirmed and a new refetch scheduled",
			act:   func(h *harness) { h.clock.Advance(15 * time.Minute); h.settle() },
			state: "waitingForScheduledRefetch", socket: "ready", authed: true,
			check: func(t *testing.T, h *harness) {
				if n := h.e.Snapshot().TokenRequests; n < 3 {
					t.Errorf("%d token requests, want a third from the scheduled refetch", n)
				}
			},
		},
		{
			name:  "refetch gets null: clearAuth and onAuthChange(false)",
			setup: func(h *harness) { h.b.failNext = []error{statusErr(401)} },
			act:   func(h *harness) { h.inLoop(func(e *Engine) { e.refetchToken(nil) }) },
			state: "noAuth", socket: "ready", authed: false,
		},
		{
			name: "auth error while confirming a fresh token, not an update attempt: ignored",
			setup: func(h *harness) {
				h.inLoop(func(e *Engine) { e.consumer.state = amWaitingFresh })
			},
			act: func(h *harness) {
				h.inLoop(func(e *Engine) { e.onAuthError(false, e.consumer.identityVersion, "expired") })
			},
			state: "waitingForServerConfirmationOfFreshToken", socket: "ready", authed: true,
		},
		{
			name: "auth error for an older identity: ignored",
			act: func(h *harness) {
				h.inLoop(func(e *Engine) { e.onAuthError(true, e.consumer.identityVersion-5, "old") })
			},
			state: "waitingForScheduledRefetch", socket: "ready", authed: true,
		},
		{
			name: "auth error on the current identity: reauthenticate with a forced fetch, restart the socket",
			act: func(h *harness) {
				h.inLoop(func(e *Engine) { e.onAuthError(true, e.consumer.identityVersion-1, "rejected") })
			},
			state: "waitingForScheduledRefetch", socket: "ready", authed: true,
			check: func(t *testing.T, h *harness) {
				if !hasDetail(h, KindConvex, "socket stopped") || !hasDetail(h, KindConvex, "socket restarted") {
					t.Error("reauthentication did not stop and restart the socket")
				}
			},
		},
		{
			name: "fresh token rejected twice: give up, clearAuth, onAuthChange(false)",
			act: func(h *harness) {
				*h.convex().rejectAuth = 10
				h.inLoop(func(e *Engine) { e.onAuthError(true, e.consumer.identityVersion-1, "rejected") })
			},
			state: "noAuth", socket: "ready", authed: false,
			check: func(t *testing.T, h *harness) {
				if !hasDetail(h, KindConvex, "giving up") {
					t.Error("no give-up after MAX_TOKEN_CONFIRMATION_ATTEMPTS")
				}
			},
		},
		{
			// The "kaboom" branch clears auth but, being in noAuth already,
			// reports nothing: isConvexAuthenticated keeps its value.
			name: "auth error with no auth state: clearAuth, stays noAuth",
			setup: func(h *harness) {
				h.inLoop(func(e *Engine) { e.resetAuthState() })
			},
			act:   func(h *harness) { h.inLoop(func(e *Engine) { e.onAuthError(true, e.consumer.identityVersion, "x") }) },
			state: "noAuth", socket: "ready", authed: true,
			check: func(t *testing.T, h *harness) {
				if !hasDetail(h, KindConvex, "Authenticate None") {
					t.Error("no Authenticate None after giving up")
				}
			},
		},
		{
			name: "setConfig overtaken by another: the first token is outdated, the second resumes the socket",
			setup: func(h *harness) {
				h.inLoop(func(e *Engine) { e.setCache(nil, "test", 0) })
			},
			act: func(h *harness) {
				h.b.mu.Lock()
				h.b.hold = true
				h.b.mu.Unlock()
				h.inLoop(func(e *Engine) {
					cfg := &amConfig{f: fetcher{gen: e.fetcherGen, sessionID: e.view.id()}, effect: e.consumer.effect}
					e.setConfig(cfg)
					e.setConfig(cfg)
				})
				if s := h.e.Snapshot().Convex.Socket; s != "paused" {
					t.Errorf("socket %s while both setConfigs wait, want paused", s)
				}
				h.b.mu.Lock()
				h.b.hold = false
				h.b.mu.Unlock()
				for h.b.Held() > 0 {
					h.b.release(0)
					h.settle()
				}
			},
			state: "waitingForScheduledRefetch", socket: "ready", authed: true,
			check: func(t *testing.T, h *harness) {
				if !hasDetail(h, KindConvex, "is outdated") {
					t.Error("the first setConfig's token was not dropped as outdated")
				}
			},
		},
		{
			// setConfig's resume ignores a stopped socket, so its cached token
			// is never sent: the client is wedged waiting for a confirmation.
			name: "setConfig during a reauthentication: the reauth is outdated and the socket stays stopped (#181)",
			act: func(h *harness) {
				h.b.mu.Lock()
				h.b.hold = true
				h.b.mu.Unlock()
				h.inLoop(func(e *Engine) { e.onAuthError(true, e.consumer.identityVersion-1, "rejected") })
				h.inLoop(func(e *Engine) { e.setConfig(e.consumer.config) })
				h.b.mu.Lock()
				h.b.hold = false
				h.b.mu.Unlock()
				for h.b.Held() > 0 {
					h.b.release(0)
					h.settle()
				}
			},
			state: "waitingForServerConfirmationOfCachedToken", socket: "stopped", authed: true,
			check: func(t *testing.T, h *harness) {
				if !hasDetail(h, KindConvex, "left stopped") {
					t.Error("no event says the socket was left stopped")
				}
			},
		},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			h := newConsumerHarness(t, "pr329", false)
			if r.setup != nil {
				r.setup(h)
			}
			r.act(h)
			c := h.e.Snapshot().Convex
			if c.AuthState != r.state || c.Socket != r.socket || c.IsAuthenticated != r.authed {
				t.Errorf("got state %s, socket %s, authenticated %v; want %s, %s, %v\n%s", c.AuthState, c.Socket, c.IsAuthenticated, r.state, r.socket, r.authed, strings.Join(details(h, KindConvex), "\n"))
			}
			if r.check != nil {
				r.check(t, h)
			}
		})
	}
}

func hasDetail(h *harness, kind Kind, sub string) bool {
	for _, d := range details(h, kind) {
		if strings.Contains(d, sub) {
			return true
		}
	}
	return false
}

// The flicker meter counts a window only after the consumer was first
// authenticated, closes it when everything agrees again, and ignores
// signed-out periods.
func TestFlickerMeter(t *testing.T) {
	h := newConsumerHarness(t, "pr329", false)
	if f := h.e.Snapshot().Flicker; f.Count != 0 || f.Open {
		t.Fatalf("startup counted as flicker: %+v", f)
	}
	h.e.Do(ActionChangePassword, true)
	h.settle()
	f := h.e.Snapshot().Flicker
	if f.Count != 1 || f.Open || f.Windows[0].End.IsZero() || f.Windows[0].Why == "" {
		t.Fatalf("after a rotation: %+v, want one closed window with a reason", f)
	}
	// Signing out: between the server deleting the session and the client
	// observing it, the query fails while Better Auth still says signed
	// in — that is one more window; the signed-out time after it is not.
	h.e.Do(ActionSignOut, true)
	h.settle()
	if f := h.e.Snapshot().Flicker; f.Count > 2 || f.Open {
		t.Fatalf("after signing out: %+v, want at most one more window and none open", f)
	}
}

// After a sign-out the cleanups set isConvexAuthenticated to null; React's
// next render sees the provider signed out and settles it at false.
func TestConsumerSignOutSettlesUnauthenticated(t *testing.T) {
	for _, policy := range PolicyNames() {
		t.Run(policy, func(t *testing.T) {
			h := newConsumerHarness(t, policy, false)
			h.e.Do(ActionSignOut, true)
			h.settle()
			c := h.e.Snapshot().Convex
			if c.IsLoading || c.IsAuthenticated {
				t.Fatalf("after sign-out: isLoading=%v isAuthenticated=%v, want false/false", c.IsLoading, c.IsAuthenticated)
			}
		})
	}
}
