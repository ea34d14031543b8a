package authsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestNewOptions(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Alg() != AlgEdDSA || s.ttl != DefaultTokenTTL {
		t.Fatalf("defaults: alg %s ttl %v", s.Alg(), s.ttl)
	}
	if e, p := s.DefaultUser(); e != DefaultEmail || p != DefaultPassword {
		t.Fatalf("default user %s", e)
	}
	for _, bad := range []Options{
		{Alg: "HS256"},
		{Origin: "ftp://x"},
		{Password: "short"},
		{Email: "not-an-email"},
		{TokenTTL: time.Millisecond},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) succeeded", bad)
		}
	}
}

func TestSignUpAnswersAndCookies(t *testing.T) {
	_, ts := startSim(t, Options{})
	c := newClient(t, ts.URL)
	r := c.signUp("bob@example.com", "password123")
	wantStatus(t, r, 200)
	if !reflect.DeepEqual(keys(r.obj()), []string{"token", "user"}) {
		t.Fatalf("keys %v", keys(r.obj()))
	}
	user, _ := r.obj()["user"].(map[string]any)
	if !reflect.DeepEqual(keys(user), []string{"createdAt", "email", "emailVerified", "id", "name", "updatedAt"}) {
		t.Fatalf("user keys %v", keys(user))
	}
	if user["email"] != "bob@example.com" || user["emailVerified"] != false {
		t.Fatalf("user %v", user)
	}
	if got := cookieNames(r); !reflect.DeepEqual(got, []string{cookieSessionToken, cookieConvexJWT}) {
		t.Fatalf("cookies %v", got)
	}
	line, _ := cookieLine(r, cookieSessionToken)
	tok := r.str("token")
	want := cookieSessionToken + "=" + encodeURIComponent(tok+"."+cookieSignature([]byte(testSecret), tok)) +
		"; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
	if line != want {
		t.Fatalf("session cookie\n got %s\nwant %s", line, want)
	}
	jwtLine, _ := cookieLine(r, cookieConvexJWT)
	if !strings.HasSuffix(jwtLine, "; Max-Age=900; Path=/; HttpOnly; SameSite=Lax") {
		t.Fatalf("jwt cookie %s", jwtLine)
	}

	// Duplicate (case-insensitively), then the password rules.
	wantError(t, newClient(t, ts.URL).signUp("BOB@example.com", "password123"), 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL")
	wantError(t, newClient(t, ts.URL).signUp("c@example.com", "short"), 400, "PASSWORD_TOO_SHORT")
	wantError(t, newClient(t, ts.URL).signUp("c@example.com", strings.Repeat("x", 129)), 400, "PASSWORD_TOO_LONG")
	wantError(t, newClient(t, ts.URL).signUp("not-an-email", "password123"), 400, "VALIDATION_ERROR")
	// 128 UTF-16 units is the limit: a 64-rune string of astral characters is 128.
	wantStatus(t, newClient(t, ts.URL).signUp("d@example.com", strings.Repeat("😀", 64)), 200)
	wantError(t, newClient(t, ts.URL).signUp("e@example.com", strings.Repeat("😀", 65)), 400, "PASSWORD_TOO_LONG")
}

func TestSignUpRememberMeFalse(t *testing.T) {
	_, ts := startSim(t, Options{})
	c := newClient(t, ts.URL)
	r := c.call("POST", "/api/auth/sign-up/email", map[string]any{"email": "f@example.com", "password": "password123", "name": "F", "rememberMe": false})
	wantStatus(t, r, 200)
	if got := cookieNames(r); !reflect.DeepEqual(got, []string{cookieSessionToken, cookieDontRemember, cookieConvexJWT}) {
		t.Fatalf("cookies %v", got)
	}
	line, _ := cookieLine(r, cookieSessionToken)
	if strings.Contains(line, "Max-Age") {
		t.Fatalf("dont-remember session cookie has Max-Age: %s", line)
	}
}

func TestSignIn(t *testing.T) {
	sim, ts := startSim(t, Options{})
	email, password := sim.DefaultUser()
	c := newClient(t, ts.URL)
	r := c.signIn(strings.ToUpper(email), password)
	if got := keys(r.obj()); !reflect.DeepEqual(got, []string{"redirect", "token", "user"}) {
		t.Fatalf("keys %v", got)
	}
	if r.obj()["redirect"] != false {
		t.Fatalf("redirect %v", r.obj()["redirect"])
	}
	if got := cookieNames(r); !reflect.DeepEqual(got, []string{cookieSessionToken, cookieConvexJWT}) {
		t.Fatalf("cookies %v", got)
	}

	for _, tc := range []struct {
		body   any
		status int
		code   string
	}{
		{map[string]any{"email": email, "password": "wrong-password"}, 401, "INVALID_EMAIL_OR_PASSWORD"},
		{map[string]any{"email": "nobody@example.com", "password": password}, 401, "INVALID_EMAIL_OR_PASSWORD"},
		{map[string]any{"email": "nope", "password": password}, 400, "INVALID_EMAIL"},
		{map[string]any{"email": email}, 400, "VALIDATION_ERROR"},
	} {
		r := newClient(t, ts.URL).call("POST", "/api/auth/sign-in/email", tc.body)
		wantError(t, r, tc.status, tc.code)
		if len(r.cookies) != 0 {
			t.Errorf("%v: cookies on failure: %v", tc.body, r.cookies)
		}
	}
	r = newClient(t, ts.URL).call("POST", "/api/auth/sign-in/email", map[string]any{"email": email})
	if msg := r.str("message"); msg != "[body.password] Invalid input: expected string, received undefined" {
		t.Fatalf("validation message %q", msg)
	}

	// A callbackURL on the server's origin redirects.
	r = newClient(t, ts.URL).call("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": password, "callbackURL": "/home"})
	wantStatus(t, r, 200)
	if r.obj()["redirect"] != true || r.str("url") != "/home" || r.header.Get("Location") != "/home" {
		t.Fatalf("callback: %s loc %q", r.raw, r.header.Get("Location"))
	}
	r = newClient(t, ts.URL).call("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": password, "callbackURL": "https://evil.example/"})
	wantError(t, r, 403, "INVALID_CALLBACK_URL")
}

func TestGetSession(t *testing.T) {
	sim, ts := startSim(t, Options{})
	c := newClient(t, ts.URL)

	r := c.call("GET", "/api/auth/get-session", nil)
	wantStatus(t, r, 200)
	if string(r.raw) != "null" {
		t.Fatalf("signed out body %s", r.raw)
	}
	if got := r.cookies; len(got) != 1 || got[0] != cookieConvexJWT+"=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax" {
		t.Fatalf("signed out cookies %v", got)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("cache-control %q", r.header.Get("Cache-Control"))
	}

	email, password := sim.DefaultUser()
	in := c.signIn(email, password)
	r = c.call("GET", "/api/auth/get-session", nil)
	wantStatus(t, r, 200)
	sess, _ := r.obj()["session"].(map[string]any)
	user, _ := r.obj()["user"].(map[string]any)
	if !reflect.DeepEqual(keys(sess), []string{"createdAt", "expiresAt", "id", "ipAddress", "token", "updatedAt", "userAgent", "userId"}) {
		t.Fatalf("session keys %v", keys(sess))
	}
	if sess["token"] != in.str("token") || sess["userId"] != user["id"] {
		t.Fatalf("session %v user %v", sess, user)
	}
	if got := cookieNames(r); !reflect.DeepEqual(got, []string{cookieConvexJWT}) {
		t.Fatalf("cookies %v", got)
	}

	// A cookie with a bad signature is no session and touches nothing but convex_jwt.
	bad := newClient(t, ts.URL)
	r = bad.call("GET", "/api/auth/get-session", nil, "Cookie", cookieSessionToken+"="+url.QueryEscape("abc."+strings.Repeat("A", 43)+"="))
	if string(r.raw) != "null" || !reflect.DeepEqual(cookieNames(r), []string{cookieConvexJWT}) {
		t.Fatalf("bad signature: %s %v", r.raw, r.cookies)
	}

	// A validly signed cookie for a session that no longer exists clears the session cookies.
	gone := cookieSessionToken + "=" + signValue([]byte(testSecret), "no-such-token")
	r = bad.call("GET", "/api/auth/get-session", nil, "Cookie", gone)
	want := []string{cookieSessionToken, cookieSessionData, cookieDontRemember, cookieConvexJWT}
	if string(r.raw) != "null" || !reflect.DeepEqual(cookieNames(r), want) {
		t.Fatalf("missing session: %s %v", r.raw, r.cookies)
	}
	for _, l := range r.cookies {
		if !strings.Contains(l, "=; Max-Age=0;") {
			t.Fatalf("not a clearing cookie: %s", l)
		}
	}

	// POST without deferSessionRefresh is 405, and the after-hook still clears convex_jwt.
	r = c.call("POST", "/api/auth/get-session", nil)
	wantError(t, r, 405, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED")
}

func TestSlidingRefresh(t *testing.T) {
	clk := newFakeClock()
	sim, ts := startSim(t, Options{Now: clk.Now})
	c := newClient(t, ts.URL)
	email, password := sim.DefaultUser()
	in := c.signIn(email, password)
	first := c.call("GET", "/api/auth/get-session", nil)
	id, exp := first.str("session", "id"), first.str("session", "expiresAt")

	clk.Advance(23 * time.Hour)
	r := c.call("GET", "/api/auth/get-session", nil)
	if r.str("session", "expiresAt") != exp {
		t.Fatalf("refreshed too early: %s → %s", exp, r.str("session", "expiresAt"))
	}
	if _, ok := cookieLine(r, cookieSessionToken); ok {
		t.Fatalf("session cookie re-set before updateAge: %v", r.cookies)
	}

	clk.Advance(time.Hour)
	r = c.call("GET", "/api/auth/get-session", nil)
	if r.str("session", "id") != id || r.str("session", "token") != in.str("token") {
		t.Fatalf("refresh changed the session: %s", r.raw)
	}
	wantExp := isoTime(clk.Now().Add(7 * 24 * time.Hour))
	if r.str("session", "expiresAt") != wantExp || r.str("session", "updatedAt") != isoTime(clk.Now()) {
		t.Fatalf("expiresAt %s, want %s", r.str("session", "expiresAt"), wantExp)
	}
	if got := cookieNames(r); !reflect.DeepEqual(got, []string{cookieSessionToken, cookieConvexJWT}) {
		t.Fatalf("cookies %v", got)
	}

	// A dont_remember session is never refreshed.
	d := newClient(t, ts.URL)
	wantStatus(t, d.call("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": password, "rememberMe": false}), 200)
	clk.Advance(2 * time.Hour)
	r = d.call("GET", "/api/auth/get-session", nil)
	if _, ok := cookieLine(r, cookieSessionToken); ok || r.str("session", "id") == "" {
		t.Fatalf("dont-remember: %s %v", r.raw, r.cookies)
	}

	// The session middleware of convex/token refreshes too.
	clk.Advance(2 * 24 * time.Hour)
	r = c.call("GET", "/api/auth/convex/token", nil)
	wantStatus(t, r, 200)
	if got := cookieNames(r); !reflect.DeepEqual(got, []string{cookieSessionToken, cookieConvexJWT}) {
		t.Fatalf("token cookies %v", got)
	}

	// A rotation that also needs a refresh: the middleware re-sets the old
	// session's cookie, then the new session's cookie follows (as the real
	// server does).
	clk.Advance(25 * time.Hour)
	r = c.call("POST", "/api/auth/change-password", map[string]any{"currentPassword": password, "newPassword": password, "revokeOtherSessions": true})
	wantStatus(t, r, 200)
	if len(r.cookies) != 2 || cookieNames(r)[0] != cookieSessionToken || cookieNames(r)[1] != cookieSessionToken {
		t.Fatalf("rotation with refresh cookies %v", r.cookies)
	}
	want0 := signValue([]byte(testSecret), in.str("token"))
	want1 := signValue([]byte(testSecret), r.str("token"))
	if !strings.HasPrefix(r.cookies[0], cookieSessionToken+"="+want0+";") || !strings.HasPrefix(r.cookies[1], cookieSessionToken+"="+want1+";") {
		t.Fatalf("rotation with refresh cookies %v", r.cookies)
	}
}

func TestExpiredSession(t *testing.T) {
	clk := newFakeClock()
	sim, ts := startSim(t, Options{Now: clk.Now})
	email, password := sim.DefaultUser()

	c := newClient(t, ts.URL)
	c.signIn(email, password)
	id := sim.Sessions()[0].ID
	if !sim.ExpireSession(id) || sim.ExpireSession("nope") {
		t.Fatal("ExpireSession result")
	}
	r := c.call("GET", "/api/auth/convex/token", nil)
	wantError(t, r, 401, "UNAUTHORIZED")
	if r.str("message") != "Unauthorized" {
		t.Fatalf("message %q", r.str("message"))
	}
	if got := cookieNames(r); !reflect.DeepEqual(got, []string{cookieSessionToken, cookieSessionData, cookieDontRemember}) {
		t.Fatalf("token 401 cookies %v", got)
	}
	if len(sim.Sessions()) != 0 {
		t.Fatal("the expired session was not deleted")
	}

	// get-session on an expired session: null, session cookies cleared, and
	// (a real-server quirk) convex_jwt set from the expired session.
	c2 := newClient(t, ts.URL)
	c2.signIn(email, password)
	sim.ExpireSession(sim.Sessions()[0].ID)
	r = c2.call("GET", "/api/auth/get-session", nil)
	if string(r.raw) != "null" {
		t.Fatalf("body %s", r.raw)
	}
	if got := cookieNames(r); !reflect.DeepEqual(got, []string{cookieSessionToken, cookieSessionData, cookieDontRemember, cookieConvexJWT}) {
		t.Fatalf("cookies %v", got)
	}
	if l, _ := cookieLine(r, cookieConvexJWT); !strings.Contains(l, "Max-Age=900") {
		t.Fatalf("convex_jwt %s", l)
	}
}

func TestCSRF(t *testing.T) {
	sim, ts := startSim(t, Options{})
	email, password := sim.DefaultUser()
	c := newClient(t, ts.URL)
	c.signIn(email, password)
	body := map[string]any{"currentPassword": password, "newPassword": password}

	for _, tc := range []struct {
		name   string
		hdr    []string
		status int
		code   string
	}{
		{"no origin", []string{"Origin", ""}, 403, "MISSING_OR_NULL_ORIGIN"},
		{"null origin", []string{"Origin", "null"}, 403, "MISSING_OR_NULL_ORIGIN"},
		{"foreign origin", []string{"Origin", "https://evil.example"}, 403, "INVALID_ORIGIN"},
		{"other port", []string{"Origin", "http://127.0.0.1:1"}, 403, "INVALID_ORIGIN"},
		{"referer instead", []string{"Origin", "", "Referer", ts.URL + "/some/page"}, 200, ""},
		{"own origin", nil, 200, ""},
	} {
		r := c.call("POST", "/api/auth/change-password", body, tc.hdr...)
		if tc.code == "" {
			wantStatus(t, r, tc.status)
			continue
		}
		wantError(t, r, tc.status, tc.code)
		if len(r.cookies) != 0 {
			t.Errorf("%s: cookies %v", tc.name, r.cookies)
		}
	}
	r := c.call("POST", "/api/auth/change-password", body, "Origin", "")
	if r.str("message") != "Missing or null Origin" {
		t.Fatalf("message %q", r.str("message"))
	}

	// Without cookies, sign-in passes without Origin but not with a foreign one.
	anon := newClient(t, ts.URL)
	anon.origin = ""
	wantStatus(t, anon.call("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": password}), 200)
	fresh := newClient(t, ts.URL)
	wantError(t, fresh.call("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": password}, "Origin", "https://evil.example"), 403, "INVALID_ORIGIN")
	wantError(t, fresh.call("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": password},
		"Origin", "", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"), 403, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED")
	wantError(t, fresh.call("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": password},
		"Origin", "", "Sec-Fetch-Site", "same-origin"), 403, "MISSING_OR_NULL_ORIGIN")
	// GETs are never checked.
	wantStatus(t, c.call("GET", "/api/auth/get-session", nil, "Origin", "https://evil.example"), 200)
}

func TestChangePassword(t *testing.T) {
	sim, ts := startSim(t, Options{})
	email, password := sim.DefaultUser()
	a, b := newClient(t, ts.URL), newClient(t, ts.URL)
	inA := a.signIn(email, password)
	b.signIn(email, password)
	oldID := a.call("GET", "/api/auth/get-session", nil).str("session", "id")

	r := a.call("POST", "/api/auth/change-password", map[string]any{"currentPassword": "wrong-password", "newPassword": password})
	wantError(t, r, 400, "INVALID_PASSWORD")
	wantError(t, a.call("POST", "/api/auth/change-password", map[string]any{"currentPassword": password, "newPassword": "short"}), 400, "PASSWORD_TOO_SHORT")
	wantError(t, a.call("POST", "/api/auth/change-password", map[string]any{"currentPassword": password}), 400, "VALIDATION_ERROR")
	wantError(t, newClient(t, ts.URL).call("POST", "/api/auth/change-password", map[string]any{"currentPassword": password, "newPassword": password}), 401, "UNAUTHORIZED")

	// Without revokeOtherSessions: token null, sessions untouched, no cookies.
	r = a.call("POST", "/api/auth/change-password", map[string]any{"currentPassword": password, "newPassword": "second-password"})
	wantStatus(t, r, 200)
	if tok, present := r.obj()["token"]; !present || tok != nil || len(r.cookies) != 0 {
		t.Fatalf("no-revoke answer %s cookies %v", r.raw, r.cookies)
	}
	if len(sim.Sessions()) != 2 {
		t.Fatalf("sessions %v", sim.Sessions())
	}

	// The rotation: every session of the user goes, the caller gets a new one.
	r = a.call("POST", "/api/auth/change-password", map[string]any{"currentPassword": "second-password", "newPassword": "second-password", "revokeOtherSessions": true})
	wantStatus(t, r, 200)
	newTok := r.str("token")
	if newTok == "" || newTok == inA.str("token") {
		t.Fatalf("rotation token %q", newTok)
	}
	if got := cookieNames(r); !reflect.DeepEqual(got, []string{cookieSessionToken}) {
		t.Fatalf("rotation cookies %v (change-password must not refresh convex_jwt)", got)
	}
	ss := sim.Sessions()
	if len(ss) != 1 || ss[0].Token != newTok || ss[0].ID == oldID {
		t.Fatalf("sessions after rotation %v", ss)
	}
	after := a.call("GET", "/api/auth/get-session", nil)
	if after.str("session", "id") != ss[0].ID {
		t.Fatalf("caller session %s", after.raw)
	}
	if r := b.call("GET", "/api/auth/get-session", nil); string(r.raw) != "null" {
		t.Fatalf("other device still signed in: %s", r.raw)
	}
	wantError(t, newClient(t, ts.URL).call("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": password}), 401, "INVALID_EMAIL_OR_PASSWORD")
	newClient(t, ts.URL).signIn(email, "second-password")
}

func TestSignOut(t *testing.T) {
	sim, ts := startSim(t, Options{})
	email, password := sim.DefaultUser()
	c := newClient(t, ts.URL)
	c.signIn(email, password)
	r := c.call("POST", "/api/auth/sign-out", nil)
	wantStatus(t, r, 200)
	if string(r.raw) != `{"success":true}` {
		t.Fatalf("body %s", r.raw)
	}
	if got := cookieNames(r); !reflect.DeepEqual(got, []string{cookieSessionToken, cookieSessionData, cookieDontRemember, cookieConvexJWT}) {
		t.Fatalf("cookies %v", got)
	}
	if len(sim.Sessions()) != 0 {
		t.Fatal("session survived sign-out")
	}
	// Signed out: sign-out still answers, convex/token is 401 without cookies.
	wantStatus(t, c.call("POST", "/api/auth/sign-out", nil), 200)
	r = c.call("GET", "/api/auth/convex/token", nil)
	wantError(t, r, 401, "UNAUTHORIZED")
	if len(r.cookies) != 0 {
		t.Fatalf("cookies %v", r.cookies)
	}
}

func TestListAndRevokeSessions(t *testing.T) {
	clk := newFakeClock()
	sim, ts := startSim(t, Options{Now: clk.Now})
	email, password := sim.DefaultUser()
	a, b, c := newClient(t, ts.URL), newClient(t, ts.URL), newClient(t, ts.URL)
	a.signIn(email, password)
	inB := b.signIn(email, password)
	c.signIn(email, password)

	r := a.call("GET", "/api/auth/list-sessions", nil)
	wantStatus(t, r, 200)
	list, _ := r.json.([]any)
	if len(list) != 3 {
		t.Fatalf("list %s", r.raw)
	}

	wantError(t, a.call("POST", "/api/auth/revoke-session", map[string]any{}), 400, "VALIDATION_ERROR")
	r = a.call("POST", "/api/auth/revoke-session", map[string]any{"token": inB.str("token")})
	if string(r.raw) != `{"status":true}` {
		t.Fatalf("revoke-session %s", r.raw)
	}
	if got := b.call("GET", "/api/auth/get-session", nil); string(got.raw) != "null" {
		t.Fatal("revoked session still alive")
	}
	wantStatus(t, a.call("POST", "/api/auth/revoke-session", map[string]any{"token": "unknown"}), 200)

	wantStatus(t, a.call("POST", "/api/auth/revoke-other-sessions", nil), 200)
	if len(sim.Sessions()) != 1 {
		t.Fatalf("after revoke-other-sessions %v", sim.Sessions())
	}
	wantStatus(t, a.call("POST", "/api/auth/revoke-sessions", nil), 200)
	if len(sim.Sessions()) != 0 {
		t.Fatalf("after revoke-sessions %v", sim.Sessions())
	}
	wantError(t, a.call("GET", "/api/auth/list-sessions", nil), 401, "UNAUTHORIZED")

	// list-sessions needs a fresh session (younger than a day).
	a.signIn(email, password)
	clk.Advance(25 * time.Hour)
	wantError(t, a.call("GET", "/api/auth/list-sessions", nil), 403, "SESSION_NOT_FRESH")
}

func TestConvexTokenJWKSAndOpenID(t *testing.T) {
	for _, alg := range []string{AlgEdDSA, AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			sim, ts := startSim(t, Options{Alg: alg})
			email, password := sim.DefaultUser()
			c := newClient(t, ts.URL)
			c.signIn(email, password)
			r := c.call("GET", "/api/auth/convex/token", nil)
			wantStatus(t, r, 200)
			tok := r.str("token")
			if l, _ := cookieLine(r, cookieConvexJWT); l != cookieConvexJWT+"="+tok+"; Max-Age=900; Path=/; HttpOnly; SameSite=Lax" {
				t.Fatalf("cookie %s", l)
			}
			parts := strings.Split(tok, ".")
			if len(parts) != 3 {
				t.Fatalf("token %q", tok)
			}
			var hdr, claims map[string]any
			decodeSeg(t, parts[0], &hdr)
			decodeSeg(t, parts[1], &claims)
			if !reflect.DeepEqual(keys(hdr), []string{"alg", "kid"}) || hdr["alg"] != alg {
				t.Fatalf("header %v", hdr)
			}
			wantClaims := []string{"aud", "createdAt", "email", "emailVerified", "exp", "iat", "iss", "name", "sessionId", "sub", "updatedAt"}
			if !reflect.DeepEqual(keys(claims), wantClaims) {
				t.Fatalf("claims %v", keys(claims))
			}
			if claims["aud"] != "convex" || claims["iss"] != ts.URL || claims["exp"].(float64)-claims["iat"].(float64) != 900 {
				t.Fatalf("claims %v", claims)
			}
			if claims["sessionId"] != sim.Sessions()[0].ID {
				t.Fatalf("sessionId %v", claims["sessionId"])
			}

			jw := c.call("GET", "/api/auth/convex/jwks", nil)
			wantStatus(t, jw, 200)
			ks, _ := jw.obj()["keys"].([]any)
			key, _ := ks[0].(map[string]any)
			want := []string{"alg", "crv", "kid", "kty", "x"}
			if alg == AlgRS256 {
				want = []string{"alg", "e", "kid", "kty", "n"}
			}
			if len(ks) != 1 || !reflect.DeepEqual(keys(key), want) || key["kid"] != hdr["kid"] {
				t.Fatalf("jwks %s", jw.raw)
			}

			oc := c.call("GET", "/api/auth/convex/.well-known/openid-configuration", nil)
			wantStatus(t, oc, 200)
			if oc.str("issuer") != ts.URL || oc.str("jwks_uri") != ts.URL+"/api/auth/convex/jwks" {
				t.Fatalf("openid %s", oc.raw)
			}

			// The token passes the Convex-like verification.
			q := queryCall(t, ts.URL, tok)
			wantStatus(t, q, 200)
		})
	}
}

func TestBearerHook(t *testing.T) {
	sim, ts := startSim(t, Options{})
	email, password := sim.DefaultUser()
	tok := newClient(t, ts.URL).signIn(email, password).str("token")
	anon := newClient(t, ts.URL)
	for _, auth := range []string{"Bearer " + tok, "bearer " + signValue([]byte(testSecret), tok)} {
		r := anon.call("GET", "/api/auth/get-session", nil, "Authorization", auth)
		if r.str("session", "token") != tok {
			t.Fatalf("%q: %s", auth, r.raw)
		}
	}
	r := anon.call("GET", "/api/auth/get-session", nil, "Authorization", "Bearer forged.token")
	if string(r.raw) != "null" {
		t.Fatalf("forged bearer: %s", r.raw)
	}
}

func TestRoutingAndBadBodies(t *testing.T) {
	sim, ts := startSim(t, Options{})
	email, password := sim.DefaultUser()
	c := newClient(t, ts.URL)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/"},
		{"GET", "/api/auth"},
		{"GET", "/api/auth/"},
		{"GET", "/api/auth/nope"},
		{"GET", "/api/auth/sign-in/email"},
		{"GET", "/api/auth/get-session/"},
		{"GET", "/api/auth//get-session"},
		{"POST", "/api/auth/convex/token"},
		{"GET", "/api/auth/token"},
	} {
		r := c.call(tc.method, tc.path, nil)
		if r.status != 404 || len(r.raw) != 0 {
			t.Errorf("%s %s: %d %q", tc.method, tc.path, r.status, r.raw)
		}
	}
	wantError(t, c.call("POST", "/api/auth/sign-in/email", `{"email":`), 400, "BAD_REQUEST")
	if r := c.call("POST", "/api/auth/sign-in/email", `{"email":`); r.str("message") != "Invalid JSON in request body" {
		t.Fatalf("message %s", r.raw)
	}
	wantError(t, c.call("POST", "/api/auth/sign-in/email", `{}`, "Content-Type", "text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE")
	wantError(t, c.call("POST", "/api/auth/sign-in/email", `[1,2]`), 400, "VALIDATION_ERROR")
	r := c.call("POST", "/api/auth/sign-up/email", `null`)
	if r.str("message") != "[body] Invalid input: expected object, received null; [body] Invalid input: expected record, received null" {
		t.Fatalf("sign-up null body: %s", r.raw)
	}
	wantError(t, c.call("POST", "/api/auth/sign-in/email", `{"email":"a@b.co","password":"x"}`+strings.Repeat(" ", maxBodyBytes)), 413, "PAYLOAD_TOO_LARGE")
	// A form body on sign-in works; the same on change-password is 415.
	r = c.call("POST", "/api/auth/sign-in/email", url.Values{"email": {email}, "password": {password}}.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	wantStatus(t, r, 200)
	wantError(t, c.call("POST", "/api/auth/change-password", "a=b", "Content-Type", "application/x-www-form-urlencoded"), 415, "UNSUPPORTED_MEDIA_TYPE")
	// A POST with no body at all is fine where no body is needed.
	wantStatus(t, c.call("POST", "/api/auth/revoke-other-sessions", nil), 200)
	wantStatus(t, c.call("GET", "/api/auth/ok", nil), 200)
}

func TestSessionInfoRedaction(t *testing.T) {
	sim, ts := startSim(t, Options{})
	email, password := sim.DefaultUser()
	newClient(t, ts.URL).signIn(email, password)
	info := sim.Sessions()[0]
	if info.Token == "" {
		t.Fatal("snapshot lacks the token")
	}
	var sb strings.Builder
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("s", "session", info)
	for _, out := range []string{info.String(), fmt.Sprintf("%v %+v %#v %s", info, info, info, info), sb.String()} {
		if strings.Contains(out, info.Token) {
			t.Fatalf("token leaked: %s", out)
		}
	}
	st, _ := json.Marshal(sim.State())
	if strings.Contains(string(st), info.Token) || strings.Contains(string(st), password) {
		t.Fatalf("state leaks a secret: %s", st)
	}
}

func TestCookieHelpers(t *testing.T) {
	if got := encodeURIComponent("a+b/c=d é~*'()!"); got != "a%2Bb%2Fc%3Dd%20%C3%A9~*'()!" {
		t.Fatalf("encodeURIComponent %q", got)
	}
	m := parseCookieHeader([]string{`a=1; b="two"; a=3; c; d=%ZZ; e=x%3Dy`})
	want := map[string]string{"a": "1", "b": "two", "d": "%ZZ", "e": "x=y"}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("parse %v", m)
	}
	secret := []byte("k")
	signed, _ := url.PathUnescape(signValue(secret, "tok"))
	if raw, st := verifySigned(secret, signed); st != signedValid || raw != "tok" {
		t.Fatalf("verify %q %v", raw, st)
	}
	if _, st := verifySigned([]byte("other"), signed); st != signedInvalid {
		t.Fatalf("wrong secret: %v", st)
	}
	for _, v := range []string{"", "tok", ".sig", "tok.short=", "tok." + strings.Repeat("A", 44)} {
		if _, st := verifySigned(secret, v); st != signedAbsent {
			t.Fatalf("%q: %v", v, st)
		}
	}
	if o, ok := urlOrigin("HTTP://LocalHost:80/x?y"); !ok || o != "http://localhost" {
		t.Fatalf("origin %q", o)
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func decodeSeg(t *testing.T, seg string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestIssuedTokensKeepsDeletedSessions(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	u := "some-user"
	a := s.createSessionLocked(u, false, "", "")
	b := s.createSessionLocked(u, false, "", "")
	s.deleteSessionLocked(a)
	s.mu.Unlock()
	got := s.IssuedTokens()
	if len(got) < 2 || got[len(got)-2] != a.token || got[len(got)-1] != b.token {
		t.Fatalf("IssuedTokens() = %d tokens, want the deleted and the live one last", len(got))
	}
}

// TestChangePasswordPreserveSession checks the switch that models
// better-auth PR #9345: with revokeOtherSessions the caller keeps its
// session (same id, same token, no cookie set, token null in the answer)
// and the user's other sessions are deleted. Without the switch the same
// request rotates the caller's session.
func TestChangePasswordPreserveSession(t *testing.T) {
	for _, preserve := range []bool{true, false} {
		t.Run(fmt.Sprintf("preserve=%v", preserve), func(t *testing.T) {
			sim, ts := startSim(t, Options{PreserveSession: preserve})
			if sim.PreservesSession() != preserve {
				t.Fatalf("PreservesSession() = %v", sim.PreservesSession())
			}
			email, password := sim.DefaultUser()
			a, b := newClient(t, ts.URL), newClient(t, ts.URL)
			inA := a.signIn(email, password)
			b.signIn(email, password)
			before := a.call("GET", "/api/auth/get-session", nil)
			oldID, oldTok := before.str("session", "id"), before.str("session", "token")
			if oldTok != inA.str("token") {
				t.Fatalf("get-session token %q, sign-in token %q", oldTok, inA.str("token"))
			}

			r := a.call("POST", "/api/auth/change-password", map[string]any{"currentPassword": password, "newPassword": password, "revokeOtherSessions": true})
			wantStatus(t, r, 200)
			tok, present := r.obj()["token"]
			after := a.call("GET", "/api/auth/get-session", nil)
			ss := sim.Sessions()
			if preserve {
				if !present || tok != nil {
					t.Fatalf("answer %s: want token null", r.raw)
				}
				if len(r.cookies) != 0 {
					t.Fatalf("cookies %v: the caller's session cookie must not be replaced", cookieNames(r))
				}
				if after.str("session", "id") != oldID || after.str("session", "token") != oldTok {
					t.Fatalf("caller's session after the change %s, want id %s kept", after.raw, oldID)
				}
				if len(ss) != 1 || ss[0].ID != oldID {
					t.Fatalf("sessions after the change %v, want only the caller's %s", ss, oldID)
				}
			} else {
				if r.str("token") == "" || r.str("token") == oldTok {
					t.Fatalf("rotation answer %s: want a new session token", r.raw)
				}
				if got := cookieNames(r); !reflect.DeepEqual(got, []string{cookieSessionToken}) {
					t.Fatalf("rotation cookies %v", got)
				}
				if id := after.str("session", "id"); id == "" || id == oldID {
					t.Fatalf("caller's session after the rotation %s, want a new id", after.raw)
				}
				if len(ss) != 1 || ss[0].ID == oldID {
					t.Fatalf("sessions after the rotation %v", ss)
				}
			}
			// The other device is signed out either way.
			if r := b.call("GET", "/api/auth/get-session", nil); string(r.raw) != "null" {
				t.Fatalf("other device still signed in: %s", r.raw)
			}
			// The caller can still mint a Convex token.
			wantStatus(t, a.call("GET", "/api/auth/convex/token", nil), 200)
		})
	}
}
