package authstate

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Reference §5 case 1: a late stale fetch overwrites a fresh cache.
func TestLateFetchOverwrite(t *testing.T) {
	for _, tc := range []struct {
		policy     string
		cache      string
		first      string
		violations []string
	}{
		{"v0.12", "S1", "S1", []string{InvariantLateOverwrite, InvariantGoneSession}},
		{"pr329", "S2", "none", nil},
		{"hardened", "S2", "S2", nil},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			h := newHarness(t, tc.policy, false)
			h.b.hold = true
			h.fetch("first", false)
			h.rotate()
			h.fetch("second", true)
			h.b.release(-1) // second (J_B) first
			h.settle()
			h.b.release(0) // then the late J_A
			h.settle()
			s := h.e.Snapshot()
			if got := s.Label(s.Cache.SessionID); got != tc.cache {
				t.Errorf("cache holds %s's token, want %s", got, tc.cache)
			}
			if got := h.sessionOf("second"); got != "S2" {
				t.Errorf("second got %s, want S2", got)
			}
			if got := h.sessionOf("first"); got != tc.first {
				t.Errorf("first got %s, want %s", got, tc.first)
			}
			if got := h.violations(); !sameSet(got, tc.violations) {
				t.Errorf("violations %v, want %v", got, tc.violations)
			}
		})
	}
}

// Case 2: rotation with a warm cache (SSR initial token).
func TestRotationWithInitialToken(t *testing.T) {
	for _, tc := range []struct{ policy, got string }{{"v0.12", "S1"}, {"pr329", "S2"}, {"hardened", "S2"}} {
		t.Run(tc.policy, func(t *testing.T) {
			h := newHarness(t, tc.policy, true)
			h.fetch("warm", false)
			if got := h.call("warm"); got.Source != "cache" || h.sessionOf("warm") != "S1" {
				t.Fatalf("before rotation: got %s from %s, want S1 from cache", h.sessionOf("warm"), got.Source)
			}
			h.rotate()
			h.fetch("after", false)
			if got := h.sessionOf("after"); got != tc.got {
				t.Errorf("after rotation got %s, want %s", got, tc.got)
			}
		})
	}
}

// Case 3: rotation while a fetch is in flight (shared pending promise).
func TestRotationWhileInFlight(t *testing.T) {
	for _, tc := range []struct {
		policy   string
		second   string
		requests int
	}{{"v0.12", "S1", 1}, {"pr329", "S2", 2}, {"hardened", "S2", 2}} {
		t.Run(tc.policy, func(t *testing.T) {
			h := newHarness(t, tc.policy, false)
			h.b.hold = true
			h.fetch("first", false)
			h.rotate()
			h.fetch("second", false)
			for h.b.Held() > 0 {
				h.b.release(0)
				h.settle()
			}
			if got := h.sessionOf("second"); got != tc.second {
				t.Errorf("second got %s, want %s", got, tc.second)
			}
			if got := h.e.Snapshot().TokenRequests; got != tc.requests {
				t.Errorf("%d token requests, want %d", got, tc.requests)
			}
		})
	}
}

// Case 5: logout with an SSR token.
func TestLogoutWithInitialToken(t *testing.T) {
	for _, tc := range []struct {
		policy, got   string
		authenticated bool
	}{{"v0.12", "S1", true}, {"pr329", "none", true}, {"hardened", "none", false}} {
		t.Run(tc.policy, func(t *testing.T) {
			h := newHarness(t, tc.policy, true)
			h.e.Do(ActionSignOut, true)
			h.settle()
			s := h.e.Snapshot()
			if s.Session != nil {
				t.Fatalf("still signed in after sign-out: %+v", s.Session)
			}
			if s.ProviderAuthenticated != tc.authenticated {
				t.Errorf("provider isAuthenticated = %v, want %v", s.ProviderAuthenticated, tc.authenticated)
			}
			h.fetch("after", false)
			if got := h.sessionOf("after"); got != tc.got {
				t.Errorf("after sign-out got %s, want %s", got, tc.got)
			}
		})
	}
}

// Case 11: forced-refresh pending-ref clobber (#353 item 3).
func TestForcedRefreshClobber(t *testing.T) {
	for _, tc := range []struct {
		policy     string
		requests   int
		violations []string
	}{{"v0.12", 3, []string{InvariantPendingClobber}}, {"pr329", 2, nil}, {"hardened", 1, nil}} {
		t.Run(tc.policy, func(t *testing.T) {
			h := newHarness(t, tc.policy, false)
			h.b.hold = true
			h.fetch("a", true)
			h.fetch("b", true)
			if h.b.Held() > 0 {
				h.b.release(0)
				h.settle()
			}
			h.fetch("c", false)
			for h.b.Held() > 0 {
				h.b.release(0)
				h.settle()
			}
			if got := h.e.Snapshot().TokenRequests; got != tc.requests {
				t.Errorf("%d token requests, want %d", got, tc.requests)
			}
			if got := h.violations(); !sameSet(got, tc.violations) {
				t.Errorf("violations %v, want %v", got, tc.violations)
			}
			if got := h.sessionOf("c"); got != "S1" {
				t.Errorf("c got %s, want S1", got)
			}
		})
	}
}

// Case 12: a transient token failure.
func TestTransientFailure(t *testing.T) {
	for _, tc := range []struct {
		policy   string
		got      string
		requests int
	}{{"v0.12", "none", 1}, {"pr329", "none", 1}, {"hardened", "S1", 2}} {
		t.Run(tc.policy, func(t *testing.T) {
			h := newHarness(t, tc.policy, false)
			h.b.failNext = []error{netErr{}}
			start := h.clock.Now()
			h.fetch("x", true)
			if got := h.sessionOf("x"); got != tc.got {
				t.Errorf("x got %s, want %s", got, tc.got)
			}
			if got := h.e.Snapshot().TokenRequests; got != tc.requests {
				t.Errorf("%d token requests, want %d", got, tc.requests)
			}
			if tc.policy == "hardened" {
				if waited := h.clock.Now().Sub(start); waited != hardenedBackoff[0] {
					t.Errorf("retried after %s of virtual time, want %s", waited, hardenedBackoff[0])
				}
			}
		})
	}
}

// Hardened never turns a lasting outage into a sign-out.
func TestHardenedGivesUpWithoutSigningOut(t *testing.T) {
	h := newHarness(t, "hardened", false)
	h.b.failNext = []error{netErr{}, netErr{}, netErr{}, netErr{}}
	h.fetch("x", true)
	c := h.call("x")
	if c.Token != nil || c.Err == "" {
		t.Fatalf("want an error rather than a token or a plain null, got %+v", c)
	}
	if got := h.e.Snapshot().TokenRequests; got != 4 {
		t.Errorf("%d token requests, want 4 (one try and three retries)", got)
	}
}

// Case 15: an expired cached token is served by pr329, not by hardened.
func TestExpiredCache(t *testing.T) {
	for _, tc := range []struct {
		policy     string
		violations []string
	}{{"v0.12", nil}, {"pr329", []string{InvariantExpired}}, {"hardened", nil}} {
		t.Run(tc.policy, func(t *testing.T) {
			h := newHarness(t, tc.policy, false)
			h.fetch("a", false)
			h.clock.Advance(16 * time.Minute)
			h.fetch("b", false)
			if got := h.violations(); !sameSet(got, tc.violations) {
				t.Errorf("violations %v, want %v", got, tc.violations)
			}
		})
	}
}

// Case 17: a sliding refresh keeps the session id; nothing is dropped.
func TestSlidingRefreshIsNotRotation(t *testing.T) {
	for _, policy := range PolicyNames() {
		t.Run(policy, func(t *testing.T) {
			h := newHarness(t, policy, false)
			h.fetch("a", false)
			h.clock.Advance(25 * time.Hour)
			// The fake server reports expiresAt = now + 7 days: later than before.
			h.e.Observe("poll")
			h.settle()
			kinds := map[Kind]int{}
			for _, ev := range h.e.Log().All() {
				kinds[ev.Kind]++
			}
			if kinds[KindSessionRefreshed] != 1 || kinds[KindSessionRotated] != 0 {
				t.Errorf("refreshed=%d rotated=%d, want 1 and 0", kinds[KindSessionRefreshed], kinds[KindSessionRotated])
			}
			if policy != "v0.12" && h.e.Snapshot().Cache == nil {
				t.Error("the cache was dropped by a sliding refresh")
			}
		})
	}
}

// pr329's lastSessionIdRef starts at the first render's session, ignores
// undefined→A and A→undefined, and only moves when the fetcher is called.
// After sign-out and sign-in as a new session, the first call sees A vs C
// and clears, unless the fetcher was called while signed out: then the ref
// holds undefined, the check is skipped, and the new session is served the
// old session's JWT (the reference only infers the first half).
func TestPR329SignOutSignIn(t *testing.T) {
	for _, tc := range []struct {
		name           string
		callSignedOut  bool
		want           string
		wantViolations []string
	}{
		{"no call while signed out", false, "S2", nil},
		{"call while signed out", true, "S1", []string{InvariantGoneSession}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "pr329", false)
			h.fetch("a", false)
			h.e.Do(ActionSignOut, true)
			h.settle()
			if tc.callSignedOut {
				h.fetch("signedout", false)
				if got := h.sessionOf("signedout"); got != "S1" {
					t.Errorf("pr329 without SSR keeps the last JWT after logout: got %s, want S1", got)
				}
			}
			h.e.Do(ActionSignIn, true)
			h.settle()
			h.fetch("b", false)
			if got := h.sessionOf("b"); got != tc.want {
				t.Errorf("after signing in again got %s, want %s", got, tc.want)
			}
			if got := h.violations(); !sameSet(got, tc.wantViolations) {
				t.Errorf("violations %v, want %v", got, tc.wantViolations)
			}
		})
	}
}

func TestPolicySwitchRemounts(t *testing.T) {
	h := newHarness(t, "pr329", false)
	h.fetch("a", false)
	if err := h.e.SetPolicy("v0.12"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	s := h.e.Snapshot()
	if s.Policy != "v0.12" || s.Cache != nil {
		t.Fatalf("after switch: policy %s cache %v", s.Policy, s.Cache)
	}
	if err := h.e.SetPolicy("nope"); err == nil {
		t.Fatal("unknown policy accepted")
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	a, b = slices.Compact(a), slices.Compact(b)
	return slices.Equal(a, b)
}

// The session poller observes on its interval, and a rotation made on the
// server is picked up by the next poll without any explicit observation.
func TestPollerPicksUpRotation(t *testing.T) {
	h := newHarness(t, "pr329", false)
	h.e.SetPollInterval(5 * time.Second)
	h.settle()
	h.e.Do(ActionChangePassword, false)
	h.settle()
	if s := h.e.Snapshot(); s.SessionLabel != "S1" {
		t.Fatalf("before the poll the client should still see S1, sees %s", s.SessionLabel)
	}
	h.clock.Advance(5 * time.Second)
	h.settle()
	if s := h.e.Snapshot(); s.SessionLabel != "S2" || s.LastPollResult != "rotated" {
		t.Fatalf("after one interval: session %s, last poll %q; want S2 rotated", s.SessionLabel, s.LastPollResult)
	}
	polls := 0
	for _, ev := range h.e.Log().All() {
		if ev.Cause == "poll" {
			polls++
		}
	}
	h.e.SetPollInterval(0)
	h.settle()
	h.clock.Advance(time.Minute)
	h.settle()
	after := 0
	for _, ev := range h.e.Log().All() {
		if ev.Cause == "poll" {
			after++
		}
	}
	if polls != 1 || after != polls {
		t.Fatalf("polls: %d in the first interval, %d after turning polling off; want 1 and 1", polls, after)
	}
}

// A token that failed verification teaches the engine nothing about the
// server's clock: one minted 66 minutes ago that expired 51 minutes ago
// must not make the client believe the server is 66 minutes behind, which
// would make the token look fresh. v0.12 and pr329 serve it (they do not
// verify) and the checker flags it; hardened does not serve it.
func TestUnverifiedTokenTeachesNoSkew(t *testing.T) {
	for _, tc := range []struct {
		policy     string
		violations []string
		got        string
	}{{"v0.12", []string{InvariantUnverified}, "S1"}, {"pr329", []string{InvariantUnverified}, "S1"}, {"hardened", nil, "none"}} {
		t.Run(tc.policy, func(t *testing.T) {
			h := newHarness(t, tc.policy, false)
			h.b.tamper = func(tok *Token) {
				tok.IssuedAt = tok.IssuedAt.Add(-66 * time.Minute)
				tok.ExpiresAt = tok.IssuedAt.Add(15 * time.Minute)
				tok.Verified, tok.Problem = false, "expired 51m ago"
			}
			h.fetch("a", false)
			s := h.e.Snapshot()
			if !s.ServerNow.Equal(h.clock.Now()) {
				t.Errorf("server clock estimated at %s, client clock %s: learnt from a token that failed verification", s.ServerNow, h.clock.Now())
			}
			if got := h.sessionOf("a"); got != tc.got {
				t.Errorf("a got %s, want %s", got, tc.got)
			}
			if got := h.violations(); !sameSet(got, tc.violations) {
				t.Errorf("violations %v, want %v", got, tc.violations)
			}
			for _, v := range s.Violations {
				if !strings.Contains(v.Reason, "failed verification: expired 51m ago") {
					t.Errorf("violation %q does not say why", v.Reason)
				}
			}
			if c := h.call("a"); tc.policy == "hardened" && !strings.Contains(c.Err, "not a sign-out") {
				t.Errorf("hardened: a returned %+v; want an error that is not a sign-out", c)
			}
		})
	}
}

// A get-session that hangs shows: the poll in flight is in the snapshot,
// the next poll due is skipped with a poll_pending event rather than
// cancelling it, it fails with a timeout after PollTimeout, and an explicit
// observation that replaces a poll in flight says so.
func TestHangingPollShows(t *testing.T) {
	h := newHarness(t, "pr329", false)
	h.e.SetPollInterval(2 * time.Second)
	h.settle()
	h.b.mu.Lock()
	h.b.hangSession = true
	h.b.mu.Unlock()
	kinds := func() map[Kind][]Event {
		out := map[Kind][]Event{}
		for _, ev := range h.e.Log().All() {
			out[ev.Kind] = append(out[ev.Kind], ev)
		}
		return out
	}

	h.clock.Advance(2 * time.Second) // poll #2 goes out and hangs
	s := h.e.Snapshot()
	if s.PollInFlight == 0 || !s.PollStarted.Equal(h.clock.Now()) {
		t.Fatalf("no poll in flight in the snapshot: %d since %s", s.PollInFlight, s.PollStarted)
	}
	first := s.PollInFlight
	for range 3 { // three polls due while #2 hangs
		h.clock.Advance(2 * time.Second)
		s = h.e.Snapshot()
	}
	if s.PollInFlight != first {
		t.Fatalf("poll #%d was replaced by #%d before it answered or timed out", first, s.PollInFlight)
	}
	k := kinds()
	if len(k[KindPollPending]) != 1 || !strings.Contains(k[KindPollPending][0].Detail, "no answer for 2s") {
		t.Errorf("poll_pending events %+v; want one saying the poll has had no answer for 2s", k[KindPollPending])
	}
	if len(k[KindPollFailed]) != 0 {
		t.Errorf("failed before its timeout: %+v", k[KindPollFailed])
	}

	h.clock.Advance(PollTimeout - 6*time.Second) // #2 times out
	s = h.e.Snapshot()
	if !strings.HasPrefix(s.LastPollResult, "failed") || !strings.Contains(s.LastPollResult, "timed out") {
		t.Errorf("last poll result %q; want a timeout failure", s.LastPollResult)
	}
	if f := kinds()[KindPollFailed]; len(f) != 1 || !strings.Contains(f[0].Reason, "no answer after 10s") {
		t.Errorf("poll_failed events %+v; want one timeout", f)
	}
	if s.Session == nil || s.SessionLabel != "S1" {
		t.Errorf("a poll that timed out dropped the session: %+v", s.Session)
	}

	// The next poll is in flight now (the tick at the timeout); an explicit
	// observation replaces it, and says so.
	h.clock.Advance(2 * time.Second)
	h.e.Observe("test")
	h.e.Snapshot()
	f := kinds()[KindPollFailed]
	if len(f) != 2 || !strings.Contains(f[1].Detail, "abandoned") || !strings.Contains(f[1].Detail, "a newer observation (test)") {
		t.Errorf("poll_failed events %+v; want the replaced poll reported as abandoned", f)
	}
	h.b.mu.Lock()
	h.b.hangSession = false
	h.b.mu.Unlock()
	h.e.SetPollInterval(0)
	h.clock.Advance(PollTimeout)
	h.settle()
}
