package target

import (
	"context"
	"github.com/authscope/authscope/authstate/scenario"
	"testing"
	"time"
)

// A run on virtual time opens a deterministic simulator: the same sign-in
// gives the same session and the same token, byte for byte, in every run
// (so a trace of it repeats, and its signatures are made once). A
// simulator on the wall clock keeps random ids.
func TestVirtualTimeSimulatorIsDeterministic(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return start }
	open := func(now func() time.Time) (session, token string) {
		t.Helper()
		c, err := (&Sim{}).OpenClocked(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.SignIn(ctx); err != nil {
			t.Fatal(err)
		}
		s, err := c.GetSession(ctx)
		if err != nil || s == nil {
			t.Fatalf("get-session: %v %v", s, err)
		}
		tok, err := c.FetchToken(ctx)
		if err != nil || tok == nil {
			t.Fatalf("token: %v %v", tok, err)
		}
		return s.ID, tok.Raw
	}
	s1, t1 := open(now)
	s2, t2 := open(now)
	if s1 != s2 || t1 != t2 {
		t.Errorf("two runs on the same virtual clock differ: sessions %s / %s, tokens equal: %v", s1, s2, t1 == t2)
	}
	w1, _ := open(nil)
	w2, _ := open(nil)
	if w1 == w2 || w1 == s1 {
		t.Errorf("simulators on the wall clock share a session id: %s %s (virtual: %s)", w1, w2, s1)
	}
}

// The referee's look at the simulator gives what get-session answers, in
// every state a run can end in: signed in, rotated, signed out, expired.
func TestRefereeAgreesWithGetSession(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return at }
	for _, tcp := range []bool{false, true} {
		c, err := (&Sim{TCP: tcp}).OpenSignedIn(ctx, now, scenario.ServerSwitches{})
		if err != nil {
			t.Fatal(err)
		}
		ref := c.(scenario.Referee)
		check := func(state string, want bool) {
			t.Helper()
			got, err := ref.ServerSession(ctx)
			if err != nil {
				t.Fatal(err)
			}
			s, err := c.GetSession(ctx)
			if err != nil {
				t.Fatalf("%s: get-session: %v", state, err)
			}
			id := ""
			if s != nil {
				id = s.ID
			}
			if got != id || (id != "") != want {
				t.Errorf("tcp=%v %s: the referee says %q, get-session %q (want a session: %v)", tcp, state, got, id, want)
			}
		}
		check("signed in", true)
		if err := c.ChangePassword(ctx, true); err != nil {
			t.Fatal(err)
		}
		check("after a rotation", true)
		at = at.Add(8 * 24 * time.Hour)
		check("a week later", false)
		at = at.Add(-8 * 24 * time.Hour)
		if err := c.SignIn(ctx); err != nil {
			t.Fatal(err)
		}
		check("signed in again", true)
		if err := c.SignOut(ctx); err != nil {
			t.Fatal(err)
		}
		check("signed out", false)
		c.Close()
	}
}
