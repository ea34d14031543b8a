package fetcher

import (
	"context"
	"errors"
	"fmt"
	"net/http/cookiejar"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// target is a Better Auth server to run the client against: the simulator
// or the real one.
type target struct {
	baseURL string
	origin  string // the server's own origin, also the JWT issuer
	alg     string
	// convexURL, when set, serves /api/query with auth:getAuthUser.
	convexURL string
}

var emailSeq atomic.Int64

func uniqueEmail() string {
	return fmt.Sprintf("fetcher-%d-%d@test.example", time.Now().UnixNano(), emailSeq.Add(1))
}

// targetCallTimeout bounds each call to a target. The real server hashes
// passwords with scrypt in JavaScript, on its event loop: on a busy
// two-core machine one sign-in took longer than DefaultTimeout.
const targetCallTimeout = time.Minute

func (tg target) client(t *testing.T, opts Options) *Client {
	t.Helper()
	opts.BaseURL = tg.baseURL
	if opts.Timeout == 0 {
		opts.Timeout = targetCallTimeout
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantHTTPError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != status || he.Code != code {
		t.Fatalf("err = %v (%T), want HTTP %d %s", err, err, status, code)
	}
}

func signedOut(t *testing.T, ctx context.Context, c *Client, who string) {
	t.Helper()
	s, err := c.GetSession(ctx)
	if err != nil || s != nil {
		t.Fatalf("%s: GetSession = %v, %v; want signed out", who, s, err)
	}
}

func sessionOf(t *testing.T, ctx context.Context, c *Client, who string) *SessionResponse {
	t.Helper()
	s, err := c.GetSession(ctx)
	if err != nil || s == nil {
		t.Fatalf("%s: GetSession = %v, %v; want a session", who, s, err)
	}
	return s
}

func sessionIDs(ss []Session) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}

// exerciseClient runs every Client method against tg, checking what the real
// server is observed to answer (internal/realserver/OBSERVED.md).
func exerciseClient(t *testing.T, tg target) {
	ctx := testCtx(t)
	email, pw := uniqueEmail(), "correct-horse-battery-staple"

	a := tg.client(t, Options{})
	signedOut(t, ctx, a, "fresh A")
	_, err := a.ConvexToken(ctx)
	wantHTTPError(t, err, 401, "UNAUTHORIZED")

	up, err := a.SignUp(ctx, email, pw, "Ada")
	if err != nil || up.Token == "" || up.User.Email != email || up.User.Name != "Ada" || up.User.ID == "" {
		t.Fatalf("SignUp = %v, %v", up, err)
	}
	_, err = tg.client(t, Options{}).SignUp(ctx, uniqueEmail(), "short", "X")
	wantHTTPError(t, err, 400, "PASSWORD_TOO_SHORT")

	s1 := sessionOf(t, ctx, a, "A after sign-up")
	if s1.Session.Token != up.Token || s1.User.ID != up.User.ID || s1.Session.UserID != up.User.ID ||
		s1.Session.ExpiresAt.Sub(s1.Session.CreatedAt).Round(time.Hour) != 7*24*time.Hour {
		t.Fatalf("session = %+v", s1)
	}
	names := []string{}
	for _, ck := range a.Cookies() {
		names = append(names, ck.Name)
	}
	if !slices.Contains(names, "better-auth.session_token") {
		t.Fatalf("cookies = %v", names)
	}

	keys, err := a.JWKS(ctx)
	if err != nil || len(keys.Keys) == 0 || keys.Keys[0].Alg != tg.alg {
		t.Fatalf("JWKS = %+v, %v", keys, err)
	}
	v, err := a.Verifier(ctx, tg.origin)
	if err != nil {
		t.Fatal(err)
	}
	jwt1, err := a.ConvexToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok1, err := v.Verify(jwt1)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	c := tok1.Claims
	if tok1.Header.Alg != tg.alg || c.SessionID != s1.Session.ID || c.Subject != up.User.ID || c.Issuer != tg.origin ||
		c.Email != email || !slices.Equal(c.Audience, []string{"convex"}) || c.ExpiresAt.Sub(c.IssuedAt) != 900*time.Second {
		t.Fatalf("claims = %+v header %+v", c, tok1.Header)
	}
	if tg.convexURL != "" {
		res, err := QueryConvex(ctx, nil, tg.convexURL, "auth:getAuthUser", nil, jwt1)
		if err != nil || !res.OK() {
			t.Fatalf("getAuthUser with a live session: %v, %v", res, err)
		}
	}

	// Second and third devices.
	b := tg.client(t, Options{})
	if in, err := b.SignIn(ctx, email, pw); err != nil || in.Token == "" || in.Redirect {
		t.Fatalf("SignIn B = %v, %v", in, err)
	}
	_, err = tg.client(t, Options{}).SignIn(ctx, email, "wrong-password-123")
	wantHTTPError(t, err, 401, "INVALID_EMAIL_OR_PASSWORD")
	d := tg.client(t, Options{})
	if _, err := d.SignIn(ctx, email, pw); err != nil {
		t.Fatal(err)
	}
	list, err := a.ListSessions(ctx)
	if err != nil || len(list) != 3 || !slices.Contains(sessionIDs(list), s1.Session.ID) {
		t.Fatalf("ListSessions = %v, %v", list, err)
	}

	// change-password without revoking: nothing rotates.
	if cp, err := a.ChangePassword(ctx, pw, pw, false); err != nil || cp.Token != "" || cp.User.ID != up.User.ID {
		t.Fatalf("ChangePassword(no revoke) = %v, %v", cp, err)
	}
	if s := sessionOf(t, ctx, a, "A"); s.Session.ID != s1.Session.ID {
		t.Fatal("session changed without revokeOtherSessions")
	}
	_, err = a.ChangePassword(ctx, "not-the-password", pw, true)
	wantHTTPError(t, err, 400, "INVALID_PASSWORD")

	// Rotation: A gets a new session; B and D are signed out; S1 is gone.
	cp, err := a.ChangePassword(ctx, pw, pw, true)
	if err != nil || cp.Token == "" || cp.Token == up.Token {
		t.Fatalf("ChangePassword(revoke) = %v, %v", cp, err)
	}
	s2 := sessionOf(t, ctx, a, "A after rotation")
	if s2.Session.ID == s1.Session.ID || s2.Session.Token != cp.Token {
		t.Fatalf("session after rotation = %v (before %v)", s2.Session, s1.Session)
	}
	signedOut(t, ctx, b, "B after rotation")
	signedOut(t, ctx, d, "D after rotation")
	list, err = a.ListSessions(ctx)
	if err != nil || !slices.Equal(sessionIDs(list), []string{s2.Session.ID}) {
		t.Fatalf("ListSessions after rotation = %v, %v", list, err)
	}
	// The pre-rotation JWT is still cryptographically valid: it is its sessionId that is dead.
	if tok, err := v.Verify(jwt1); err != nil || tok.Claims.SessionID != s1.Session.ID {
		t.Fatalf("old JWT: %v, %v", tok, err)
	}
	jwt2, err := a.ConvexToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := v.Verify(jwt2); err != nil || tok.Claims.SessionID != s2.Session.ID {
		t.Fatalf("new JWT: %v, %v", tok, err)
	}
	if tg.convexURL != "" {
		res, err := QueryConvex(ctx, nil, tg.convexURL, "auth:getAuthUser", nil, jwt1)
		if err != nil || res.OK() || res.ErrorMessage == "" {
			t.Fatalf("getAuthUser with the rotated-away session: %v, %v", res, err)
		}
		t.Logf("stale JWT → %s", res)
		if res, err := QueryConvex(ctx, nil, tg.convexURL, "auth:getAuthUser", nil, jwt2); err != nil || !res.OK() {
			t.Fatalf("getAuthUser with the new session: %v, %v", res, err)
		}
	}

	// revoke-session, revoke-other-sessions, revoke-sessions.
	for _, x := range []*Client{b, d} {
		if _, err := x.SignIn(ctx, email, pw); err != nil {
			t.Fatal(err)
		}
	}
	dSess := sessionOf(t, ctx, d, "D")
	if err := a.RevokeSession(ctx, dSess.Session.Token); err != nil {
		t.Fatal(err)
	}
	signedOut(t, ctx, d, "D after revoke-session")
	sessionOf(t, ctx, b, "B after D's revoke-session")
	if err := a.RevokeSession(ctx, "no-such-token"); err != nil {
		t.Fatalf("RevokeSession(unknown) = %v", err)
	}
	if err := a.RevokeOtherSessions(ctx); err != nil {
		t.Fatal(err)
	}
	signedOut(t, ctx, b, "B after revoke-other-sessions")
	if s := sessionOf(t, ctx, a, "A after revoke-other-sessions"); s.Session.ID != s2.Session.ID {
		t.Fatal("revoke-other-sessions changed the caller's session")
	}
	if _, err := b.SignIn(ctx, email, pw); err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeSessions(ctx); err != nil {
		t.Fatal(err)
	}
	signedOut(t, ctx, a, "A after revoke-sessions")
	signedOut(t, ctx, b, "B after revoke-sessions")

	// sign-out, then the token endpoint says 401.
	if _, err := a.SignIn(ctx, email, pw); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ConvexToken(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	signedOut(t, ctx, a, "A after sign-out")
	_, err = a.ConvexToken(ctx)
	wantHTTPError(t, err, 401, "UNAUTHORIZED")
	_, err = a.ListSessions(ctx)
	wantHTTPError(t, err, 401, "UNAUTHORIZED")

	// CSRF: a foreign Origin is refused, with and without cookies.
	_, err = tg.client(t, Options{Origin: "http://evil.example"}).SignIn(ctx, email, pw)
	wantHTTPError(t, err, 403, "INVALID_ORIGIN")
	jar, _ := cookiejar.New(nil)
	good := tg.client(t, Options{Jar: jar})
	if _, err := good.SignIn(ctx, email, pw); err != nil {
		t.Fatal(err)
	}
	evil := tg.client(t, Options{Jar: jar, Origin: "http://evil.example"})
	_, err = evil.ChangePassword(ctx, pw, pw, true)
	wantHTTPError(t, err, 403, "INVALID_ORIGIN")
	if Reason(err) != "HTTP 403 INVALID_ORIGIN" {
		t.Errorf("Reason = %q", Reason(err))
	}
	sessionOf(t, ctx, good, "after the refused change-password")
}

// exerciseGates shows the stale-JWT race through the client transport: a
// token fetched before a rotation but released after it carries the old
// sessionId.
func exerciseGates(t *testing.T, tg target) {
	ctx := testCtx(t)
	email, pw := uniqueEmail(), "correct-horse-battery-staple"
	g := NewGates(nil)
	changed := make(chan struct{}, 1)
	g.SetNotify(func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	a := tg.client(t, Options{Transport: g})
	if _, err := a.SignUp(ctx, email, pw, "Ada"); err != nil {
		t.Fatal(err)
	}
	before := sessionOf(t, ctx, a, "A")

	g.HoldResponses(EndpointToken, true)
	type got struct {
		jwt string
		err error
	}
	first := make(chan got, 1)
	go func() { j, err := a.ConvexToken(ctx); first <- got{j, err} }()
	for g.Held() == 0 {
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatal("token response never held")
		}
	}
	if _, err := a.ChangePassword(ctx, pw, pw, true); err != nil {
		t.Fatal(err)
	}
	after := sessionOf(t, ctx, a, "A after rotation")
	g.HoldResponses(EndpointToken, false)
	if n := g.Release("all"); n != 1 {
		t.Fatalf("Release = %d", n)
	}
	r := <-first
	if r.err != nil {
		t.Fatal(r.err)
	}
	tok, err := DecodeJWT(r.jwt)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Claims.SessionID != before.Session.ID || tok.Claims.SessionID == after.Session.ID {
		t.Fatalf("held token sessionId %s; before %s after %s", tok.Claims.SessionID, before.Session.ID, after.Session.ID)
	}
	fresh, err := a.ConvexToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok, _ := DecodeJWT(fresh); tok.Claims.SessionID != after.Session.ID {
		t.Fatalf("fresh token sessionId %s, want %s", tok.Claims.SessionID, after.Session.ID)
	}

	// Injected faults reach the client as the right error types, without the server.
	g.InjectFault(EndpointGetSession, Fault{Status: 503})
	_, err = a.GetSession(ctx)
	wantHTTPError(t, err, 503, InjectedCode)
	g.InjectFault(EndpointGetSession, Fault{Network: true})
	if _, err = a.GetSession(ctx); !IsTransient(err) || !errors.Is(err, ErrInjected) {
		t.Fatalf("network fault: %v", err)
	}
	sessionOf(t, ctx, a, "A after the faults")
	if g.InFlight() != 0 || g.Held() != 0 {
		t.Fatalf("in flight %d held %d", g.InFlight(), g.Held())
	}
}
