package authsim

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// queryCall posts auth:getAuthUser with an optional bearer token.
func queryCall(t *testing.T, base, token string, hdr ...string) *result {
	t.Helper()
	c := newClient(t, base)
	c.origin = ""
	if token != "" {
		hdr = append([]string{"Authorization", "Bearer " + token}, hdr...)
	}
	return c.call("POST", "/api/query", map[string]any{"path": "auth:getAuthUser", "args": map[string]any{}, "format": "json"}, hdr...)
}

func TestQueryGetAuthUser(t *testing.T) {
	clk := newFakeClock()
	sim, ts := startSim(t, Options{Now: clk.Now})
	email, password := sim.DefaultUser()
	c := newClient(t, ts.URL)
	c.signIn(email, password)
	tok := c.call("GET", "/api/auth/convex/token", nil).str("token")

	r := queryCall(t, ts.URL, tok)
	wantStatus(t, r, 200)
	if r.str("status") != "success" || r.str("value", "email") != email || r.str("value", "_id") == "" {
		t.Fatalf("success body %s", r.raw)
	}
	if ll, ok := r.obj()["logLines"].([]any); !ok || len(ll) != 0 {
		t.Fatalf("logLines %s", r.raw)
	}

	// No identity: the function throws ConvexError("Unauthenticated").
	r = queryCall(t, ts.URL, "")
	wantStatus(t, r, StatusFunctionFailed)
	if r.str("status") != "error" || r.str("errorData") != "Unauthenticated" || !strings.Contains(r.str("errorMessage"), "Unauthenticated") {
		t.Fatalf("no-auth body %s", r.raw)
	}

	// Unknown function: a function error without errorData.
	q := newClient(t, ts.URL)
	r = q.call("POST", "/api/query", map[string]any{"path": "messages:list", "args": map[string]any{}, "format": "json"})
	wantStatus(t, r, StatusFunctionFailed)
	if _, has := r.obj()["errorData"]; has || !strings.Contains(r.str("errorMessage"), "messages:list") {
		t.Fatalf("unknown function %s", r.raw)
	}

	// Auth failures never reach the function.
	parts := strings.Split(tok, ".")
	forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 64))
	for _, tc := range []struct {
		name, auth, code string
	}{
		{"not bearer", "Basic abc", "InvalidAuthHeader"},
		{"garbage", "Bearer not-a-jwt", "InvalidAuthHeader"},
		{"bad signature", "Bearer " + forged, "Unauthenticated"},
	} {
		r := newClient(t, ts.URL).call("POST", "/api/query", map[string]any{"path": "auth:getAuthUser", "args": map[string]any{}, "format": "json"}, "Authorization", tc.auth)
		wantError(t, r, 401, tc.code)
	}

	// A token from another simulator (same issuer; its own kid, though the
	// simulators of a process share one key, so its signature is one this
	// process made) fails verification.
	other, err := New(Options{Origin: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	u := other.users[other.byEmail[email].id]
	foreign, err := other.mint(&resolvedSession{session: &session{id: "x"}, user: u}, ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, queryCall(t, ts.URL, foreign), 401, "Unauthenticated")
	// Another issuer: no provider.
	wrongIss, _ := sim.mint(&resolvedSession{session: &session{id: "x"}, user: u}, "https://elsewhere.example")
	wantError(t, queryCall(t, ts.URL, wrongIss), 401, "NoAuthProvider")

	// A valid JWT whose session is gone: accepted by auth, refused by getAuthUser.
	wantStatus(t, c.call("POST", "/api/auth/change-password", map[string]any{"currentPassword": password, "newPassword": password, "revokeOtherSessions": true}), 200)
	r = queryCall(t, ts.URL, tok)
	wantStatus(t, r, StatusFunctionFailed)
	if r.str("errorData") != "Unauthenticated" {
		t.Fatalf("deleted session %s", r.raw)
	}
	fresh := c.call("GET", "/api/auth/convex/token", nil).str("token")
	wantStatus(t, queryCall(t, ts.URL, fresh), 200)

	// An expired session fails getAuthUser; an expired JWT fails auth.
	sim.ExpireSession(sim.Sessions()[0].ID)
	wantStatus(t, queryCall(t, ts.URL, fresh), StatusFunctionFailed)
	clk.Advance(901 * time.Second)
	wantError(t, queryCall(t, ts.URL, fresh), 401, "Unauthenticated")
}

func TestQueryRequestShape(t *testing.T) {
	_, ts := startSim(t, Options{})
	c := newClient(t, ts.URL)
	wantError(t, c.call("GET", "/api/query", nil), 405, "MethodNotAllowed")
	wantError(t, c.call("POST", "/api/query", `{"path":`), 400, "BadJsonBody")
	wantError(t, c.call("POST", "/api/query", `{"path":"auth:getAuthUser","format":"convex_encoded_json"}`), 400, "BadFormat")
	// "auth.js:getAuthUser" names the same function.
	r := c.call("POST", "/api/query", `{"path":"auth.js:getAuthUser","args":{}}`)
	wantStatus(t, r, StatusFunctionFailed)
	if r.str("errorData") != "Unauthenticated" {
		t.Fatalf("body %s", r.raw)
	}
}

// A minted token is remembered for the same claims and key only: a new
// second, another session or another simulator's key gives a new token.
func TestMintRemembersOnlyTheSameClaims(t *testing.T) {
	clock := newFakeClock()
	sim, ts := startSim(t, Options{Now: clock.Now})
	email, _ := sim.DefaultUser()
	u := sim.users[sim.byEmail[email].id]
	rs := &resolvedSession{session: &session{id: "s1"}, user: u}
	mint := func(s *Server, rs *resolvedSession) string {
		t.Helper()
		tok, err := s.mint(rs, ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	a := mint(sim, rs)
	if b := mint(sim, rs); b != a {
		t.Fatal("the same claims in the same second gave another token")
	}
	if mint(sim, &resolvedSession{session: &session{id: "s2"}, user: u}) == a {
		t.Fatal("another session got the same token")
	}
	clock.Advance(time.Second)
	if mint(sim, rs) == a {
		t.Fatal("a second later the token is the same (iat unchanged)")
	}
	other, err := New(Options{Origin: ts.URL, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(-time.Second)
	if mint(other, rs) == a {
		t.Fatal("another simulator (its own kid) gave the same token")
	}
}
