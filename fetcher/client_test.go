package fetcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	userJSON    = `{"id":"u1","name":"Ada","email":"ada@example.com","emailVerified":false,"image":null,"createdAt":"2026-01-02T03:04:05.678Z","updatedAt":"2026-01-02T03:04:05.678Z"}`
	sessionJSON = `{"id":"s1","token":"tok-secret-1","userId":"u1","expiresAt":"2026-01-09T03:04:05.678Z","createdAt":"2026-01-02T03:04:05.678Z","updatedAt":"2026-01-02T03:04:05.678Z","ipAddress":"127.0.0.1","userAgent":null}`
)

// recorded is what the fake server saw of one request.
type recorded struct {
	method, path, origin, contentType, cookie string
	body                                      map[string]any
}

// cannedServer answers each path with a canned JSON body and records requests.
func cannedServer(t *testing.T, answers map[string]string) (http.Handler, <-chan recorded) {
	t.Helper()
	seen := make(chan recorded, 64)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorded{method: r.Method, path: r.URL.Path, origin: r.Header.Get("Origin"),
			contentType: r.Header.Get("Content-Type"), cookie: r.Header.Get("Cookie")}
		if r.Body != nil {
			b, _ := io.ReadAll(r.Body)
			if len(b) > 0 {
				if err := json.Unmarshal(b, &rec.body); err != nil {
					t.Errorf("%s: request body is not JSON: %q", r.URL.Path, b)
				}
			}
		}
		seen <- rec
		ans, ok := answers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.URL.Path == "/api/auth/sign-in/email" {
			http.SetCookie(w, &http.Cookie{Name: "better-auth.session_token", Value: "tok-secret-1.sig", Path: "/", HttpOnly: true})
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, ans)
	}), seen
}

func TestClientRequestsAndShapes(t *testing.T) {
	ed := newEdKey(t, "k1")
	jwtStr := ed.sign(t, validClaims(time.Now()))
	h, seen := cannedServer(t, map[string]string{
		"/api/auth/sign-up/email":           `{"token":null,"user":` + userJSON + `}`,
		"/api/auth/sign-in/email":           `{"redirect":false,"token":"tok-secret-1","user":` + userJSON + `}`,
		"/api/auth/get-session":             `{"session":` + sessionJSON + `,"user":` + userJSON + `}`,
		"/api/auth/change-password":         `{"token":"tok-secret-2","user":` + userJSON + `}`,
		"/api/auth/list-sessions":           `[` + sessionJSON + `]`,
		"/api/auth/revoke-session":          `{"status":true}`,
		"/api/auth/revoke-sessions":         `{"status":true}`,
		"/api/auth/revoke-other-sessions":   `{"status":true}`,
		"/api/auth/sign-out":                `{"success":true}`,
		"/api/auth/convex/token":            `{"token":"` + jwtStr + `"}`,
		"/api/auth/convex/jwks":             string(mustJSON(t, ed.jwks())),
		"/api/auth/get-session-null-unused": `null`,
	})
	c, srv := newClient(t, h, Options{})
	ctx := testCtx(t)

	check := func(method, path string, bodyKeys ...string) recorded {
		t.Helper()
		r := <-seen
		if r.method != method || r.path != path {
			t.Fatalf("request = %s %s, want %s %s", r.method, r.path, method, path)
		}
		if r.origin != srv.URL {
			t.Errorf("%s: Origin = %q, want %q", path, r.origin, srv.URL)
		}
		if method == http.MethodPost && r.contentType != "application/json" {
			t.Errorf("%s: Content-Type = %q", path, r.contentType)
		}
		for _, k := range bodyKeys {
			if _, ok := r.body[k]; !ok {
				t.Errorf("%s: body %v lacks %q", path, r.body, k)
			}
		}
		return r
	}

	up, err := c.SignUp(ctx, "ada@example.com", "pw-123456", "Ada")
	if err != nil || up.Token != "" || up.User.ID != "u1" {
		t.Fatalf("SignUp = %+v, %v", up, err)
	}
	check(http.MethodPost, "/api/auth/sign-up/email", "email", "password", "name")

	in, err := c.SignIn(ctx, "ada@example.com", "pw-123456")
	if err != nil || in.Token != "tok-secret-1" || in.User.Email != "ada@example.com" || in.User.Image != nil {
		t.Fatalf("SignIn = %+v, %v", in, err)
	}
	check(http.MethodPost, "/api/auth/sign-in/email", "email", "password")
	if got := c.Cookies(); len(got) != 1 || got[0].Name != "better-auth.session_token" {
		t.Fatalf("Cookies = %v", got)
	}

	s, err := c.GetSession(ctx)
	if err != nil || s.Session.ID != "s1" || s.Session.Token != "tok-secret-1" || s.Session.IPAddress != "127.0.0.1" ||
		s.Session.ExpiresAt.IsZero() || s.User.ID != "u1" {
		t.Fatalf("GetSession = %+v, %v", s, err)
	}
	if r := check(http.MethodGet, "/api/auth/get-session"); !strings.Contains(r.cookie, "better-auth.session_token=") {
		t.Errorf("get-session sent no session cookie: %q", r.cookie)
	}

	cp, err := c.ChangePassword(ctx, "pw-123456", "pw-123456", true)
	if err != nil || cp.Token != "tok-secret-2" {
		t.Fatalf("ChangePassword = %+v, %v", cp, err)
	}
	r := check(http.MethodPost, "/api/auth/change-password", "currentPassword", "newPassword", "revokeOtherSessions")
	if r.body["revokeOtherSessions"] != true {
		t.Errorf("revokeOtherSessions = %v", r.body["revokeOtherSessions"])
	}

	ls, err := c.ListSessions(ctx)
	if err != nil || len(ls) != 1 || ls[0].ID != "s1" {
		t.Fatalf("ListSessions = %v, %v", ls, err)
	}
	check(http.MethodGet, "/api/auth/list-sessions")

	if err := c.RevokeSession(ctx, "tok-x"); err != nil {
		t.Fatal(err)
	}
	if r := check(http.MethodPost, "/api/auth/revoke-session", "token"); r.body["token"] != "tok-x" {
		t.Errorf("revoke-session body = %v", r.body)
	}
	if err := c.RevokeSessions(ctx); err != nil {
		t.Fatal(err)
	}
	check(http.MethodPost, "/api/auth/revoke-sessions")
	if err := c.RevokeOtherSessions(ctx); err != nil {
		t.Fatal(err)
	}
	check(http.MethodPost, "/api/auth/revoke-other-sessions")

	tok, err := c.ConvexToken(ctx)
	if err != nil || tok != jwtStr {
		t.Fatalf("ConvexToken = %q, %v", tok, err)
	}
	check(http.MethodGet, "/api/auth/convex/token")

	v, err := c.Verifier(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	check(http.MethodGet, "/api/auth/convex/jwks")
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if _, err := c.Verifier(ctx, ""); err != nil { // cached: no second request
		t.Fatal(err)
	}

	if err := c.SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	check(http.MethodPost, "/api/auth/sign-out")
	select {
	case extra := <-seen:
		t.Fatalf("unexpected request %s %s", extra.method, extra.path)
	default:
	}
}

func TestGetSessionNull(t *testing.T) {
	c, _ := newClient(t, jsonHandler(200, "null"), Options{})
	s, err := c.GetSession(testCtx(t))
	if s != nil || err != nil {
		t.Fatalf("GetSession = %v, %v; want nil, nil", s, err)
	}
}

func TestNewValidates(t *testing.T) {
	for _, u := range []string{"", "ftp://x/api/auth", "http:///api/auth", "http://u:p@h/api/auth", "http://h/api/auth?x=1", "://bad"} {
		if _, err := New(Options{BaseURL: u}); err == nil {
			t.Errorf("New(%q) succeeded", u)
		}
	}
	c, err := New(Options{BaseURL: "https://example.com:8443/api/auth/"})
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != "https://example.com:8443/api/auth" || c.origin != "https://example.com:8443" {
		t.Errorf("BaseURL %q origin %q", c.BaseURL(), c.origin)
	}
}

// wantKind names what an error must be.
type wantKind int

const (
	wantBad wantKind = iota
	wantTooLarge
	wantTimeout
	wantNet
	wantHTTP
)

func checkErr(t *testing.T, err error, want wantKind, endpoint string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", want)
	}
	if !strings.Contains(err.Error(), endpoint) {
		t.Errorf("error %q does not name endpoint %q", err, endpoint)
	}
	var ne *NetError
	var he *HTTPError
	switch want {
	case wantBad:
		if !errors.Is(err, ErrBadResponse) {
			t.Errorf("error %q is not ErrBadResponse", err)
		}
	case wantTooLarge:
		if !errors.Is(err, ErrBodyTooLarge) {
			t.Errorf("error %q is not ErrBodyTooLarge", err)
		}
	case wantTimeout:
		if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || !IsTransient(err) {
			t.Errorf("error %q (%T) is not a timeout NetError", err, err)
		}
	case wantNet:
		if !errors.As(err, &ne) || ne.Timeout() || !IsTransient(err) {
			t.Errorf("error %q (%T) is not a non-timeout NetError", err, err)
		}
	case wantHTTP:
		if !errors.As(err, &he) {
			t.Errorf("error %q (%T) is not an HTTPError", err, err)
		}
	}
	t.Logf("%s → %v", endpoint, err)
}

func TestBadResponses(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 10<<20)
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })

	cases := []struct {
		name string
		h    http.HandlerFunc
		op   func(context.Context, *Client) error
		want wantKind
		ep   string
	}{
		{"malformed JSON", jsonHandler(200, `{"session": {"id": "s1",}`), getSession, wantBad, "get-session"},
		{"truncated JSON", jsonHandler(200, `{"token":"abc`), convexToken, wantBad, "token"},
		{"trailing data", jsonHandler(200, `{"success":true} {"x":1}`), signOut, wantBad, "sign-out"},
		{"wrong shape: array for object", jsonHandler(200, `[]`), getSession, wantBad, "get-session"},
		{"wrong shape: number token", jsonHandler(200, `{"token":5,"user":`+userJSON+`}`), signIn, wantBad, "sign-in"},
		{"wrong shape: no user", jsonHandler(200, `{"token":"t"}`), signIn, wantBad, "sign-in"},
		{"wrong shape: user without id", jsonHandler(200, `{"token":"t","user":{"email":"a@b"}}`), signIn, wantBad, "sign-in"},
		{"wrong shape: session only", jsonHandler(200, `{"session":`+sessionJSON+`}`), getSession, wantBad, "get-session"},
		{"wrong shape: bad date", jsonHandler(200, `{"session":{"id":"s","userId":"u","expiresAt":"yesterday"},"user":`+userJSON+`}`), getSession, wantBad, "get-session"},
		{"wrong shape: object for list", jsonHandler(200, `{"sessions":[]}`), listSessions, wantBad, "list-sessions"},
		{"wrong shape: null list", jsonHandler(200, `null`), listSessions, wantBad, "list-sessions"},
		{"wrong shape: keys object", jsonHandler(200, `{"keys":{}}`), jwks, wantBad, "jwks"},
		{"wrong shape: no keys", jsonHandler(200, `{}`), jwks, wantBad, "jwks"},
		{"wrong content: token not a JWT", jsonHandler(200, `{"token":"not-a-jwt"}`), convexToken, wantBad, "token"},
		{"wrong content: empty token", jsonHandler(200, `{"token":""}`), convexToken, wantBad, "token"},
		{"wrong content: success false", jsonHandler(200, `{"success":false}`), signOut, wantBad, "sign-out"},
		{"wrong content: status false", jsonHandler(200, `{"status":false}`), revokeSessions, wantBad, "revoke-sessions"},
		{"empty body", jsonHandler(200, ``), getSession, wantBad, "get-session"},
		{"garbage bytes", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte{0xff, 0xfe, 0x00, 0x1b, '[', '2', 'J', 0x80, 0x81})
		}, getSession, wantBad, "get-session"},
		{"wrong content type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, `<html><body>Welcome to nginx</body></html>`)
		}, getSession, wantBad, "get-session"},
		{"no content type", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			_, _ = io.WriteString(w, `{"token":"x"}`)
		}, convexToken, wantBad, "token"},
		{"oversized body with Content-Length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			_, _ = w.Write(big)
		}, getSession, wantTooLarge, "get-session"},
		{"oversized body chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.(http.Flusher).Flush()
			_, _ = w.Write(big)
		}, jwks, wantTooLarge, "jwks"},
		{"server hangs before headers", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}, convexToken, wantTimeout, "token"},
		{"server hangs mid-body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"token":`)
			w.(http.Flusher).Flush()
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}, convexToken, wantTimeout, "token"},
		{"server dies mid-body", func(w http.ResponseWriter, r *http.Request) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"session\":{\"id\":\"s1\",")
			_ = buf.Flush()
			_ = conn.Close()
		}, getSession, wantNet, "get-session"},
		{"server closes without answering", func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.Close()
		}, signIn, wantNet, "sign-in"},
		{"500 with HTML", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			_, _ = io.WriteString(w, "<h1>Bad Gateway</h1>")
		}, getSession, wantHTTP, "get-session"},
		{"redirect is not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://elsewhere.invalid/", http.StatusFound)
		}, signIn, wantHTTP, "sign-in"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newClient(t, tc.h, Options{Timeout: 500 * time.Millisecond})
			checkErr(t, tc.op(testCtx(t), c), tc.want, tc.ep)
		})
	}
}

func getSession(ctx context.Context, c *Client) error     { _, err := c.GetSession(ctx); return err }
func signIn(ctx context.Context, c *Client) error         { _, err := c.SignIn(ctx, "a@b.c", "pw"); return err }
func signOut(ctx context.Context, c *Client) error        { return c.SignOut(ctx) }
func convexToken(ctx context.Context, c *Client) error    { _, err := c.ConvexToken(ctx); return err }
func listSessions(ctx context.Context, c *Client) error   { _, err := c.ListSessions(ctx); return err }
func jwks(ctx context.Context, c *Client) error           { _, err := c.JWKS(ctx); return err }
func revokeSessions(ctx context.Context, c *Client) error { return c.RevokeSessions(ctx) }

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := New(Options{BaseURL: "http://" + addr + "/api/auth", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = convexToken(testCtx(t), c)
	checkErr(t, err, wantNet, "token")
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("error %q does not say refused", err)
	}
}

func TestHTTPErrorFields(t *testing.T) {
	c, _ := newClient(t, jsonHandler(401, `{"message":"Unauthorized","code":"UNAUTHORIZED","token":"sekret-session-token"}`), Options{})
	_, err := c.ConvexToken(testCtx(t))
	var he *HTTPError
	if !errors.As(err, &he) {
		t.Fatalf("err = %v (%T)", err, err)
	}
	if he.Endpoint != "token" || he.Status != 401 || he.Code != "UNAUTHORIZED" || he.Message != "Unauthorized" || he.Transient() {
		t.Errorf("HTTPError = %+v", he)
	}
	if strings.Contains(he.Body, "sekret") || strings.Contains(err.Error(), "sekret") {
		t.Errorf("secret leaked: body %q err %q", he.Body, err)
	}
	for _, want := range []string{"token", "401", "UNAUTHORIZED", "Unauthorized"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Error() = %q lacks %q", err, want)
		}
	}
	if got := Reason(err); got != "HTTP 401 UNAUTHORIZED" {
		t.Errorf("Reason = %q", got)
	}
	for _, s := range []int{500, 503, 429} {
		if !(&HTTPError{Status: s}).Transient() {
			t.Errorf("status %d not transient", s)
		}
	}
	if (&HTTPError{Status: 403}).Transient() {
		t.Error("403 transient")
	}
}

func TestRedactedExcerpts(t *testing.T) {
	jwtLike := "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	cases := []string{
		`{"code":"X","token":"sekret","nested":{"sessionToken":"sekret"},"list":["` + jwtLike + `"]}`,
		`<html>token=sekret; password: "sekret" ` + jwtLike + `</html>`,
		`{"password":"sekret"`,
	}
	for _, body := range cases {
		got := excerpt([]byte(body))
		if strings.Contains(got, "sekret") || strings.Contains(got, "c2lnbmF0dXJl") {
			t.Errorf("excerpt(%q) = %q leaks", body, got)
		}
	}
	if got := excerpt(bytes.Repeat([]byte("x"), 5000)); len([]rune(got)) > excerptRunes+1 {
		t.Errorf("excerpt not truncated: %d runes", len([]rune(got)))
	}
	if got := excerpt([]byte{0x1b, '[', '2', 'J', 0xff}); strings.ContainsRune(got, 0x1b) {
		t.Errorf("excerpt keeps control bytes: %q", got)
	}
}

func TestCallerCancelIsNotNetError(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	started := make(chan struct{})
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := c.GetSession(ctx)
	var ne *NetError
	if !errors.Is(err, context.Canceled) || errors.As(err, &ne) || IsTransient(err) {
		t.Fatalf("err = %v (%T), want context.Canceled and not transient", err, err)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	s := Session{ID: "s1", Token: "tok-sekret", UserID: "u1"}
	sr := SessionResponse{Session: s, User: User{ID: "u1"}}
	ar := AuthResponse{Token: "tok-sekret", User: User{ID: "u1"}}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "s", s, "sr", sr, "ar", ar, "sp", &sr, "ap", &ar)
	tok := &Token{Raw: "aaaaaaaa.bbbbbbbb.SIGNATUREsekret", Header: Header{Alg: "EdDSA"}}
	log.Info("t", "tok", tok)
	for _, v := range []any{s, sr, ar, &sr, &ar, []Session{s}, tok} {
		for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
			buf.WriteString(fmt.Sprintf(f, v))
		}
	}
	if strings.Contains(buf.String(), "sekret") {
		t.Fatalf("secret printed: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "s1") {
		t.Fatalf("session id not printed: %s", buf.String())
	}
}

func TestEndpointOf(t *testing.T) {
	cases := map[string]string{
		"/api/auth/sign-up/email":          "sign-up",
		"/api/auth/sign-in/email":          "sign-in",
		"/api/auth/sign-out":               "sign-out",
		"/api/auth/get-session":            "get-session",
		"/api/auth/change-password":        "change-password",
		"/api/auth/list-sessions":          "list-sessions",
		"/api/auth/revoke-session":         "revoke-session",
		"/api/auth/revoke-sessions":        "revoke-sessions",
		"/api/auth/revoke-other-sessions":  "revoke-other-sessions",
		"/api/auth/convex/token":           "token",
		"/custom/base/convex/jwks/":        "jwks",
		"/api/query":                       "query",
		"/api/auth/sign-in/social":         "",
		"/api/auth/convex/.well-known/x":   "",
		"/":                                "",
		"/api/auth/xrevoke-session":        "",
		"/api/auth/get-session/extra/path": "",
	}
	for p, want := range cases {
		r, _ := http.NewRequest(http.MethodGet, "http://h"+p+"?disableCookieCache=true", nil)
		if got := EndpointOf(r); got != want {
			t.Errorf("EndpointOf(%s) = %q, want %q", p, got, want)
		}
	}
	if EndpointOf(nil) != "" {
		t.Error("EndpointOf(nil)")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifierJWKSCache(t *testing.T) {
	k1, k2 := newEdKey(t, "k1"), newEdKey(t, "k2")
	var mu sync.Mutex
	var hits int
	answer := string(mustJSON(t, k1.jwks()))
	status := 200
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits++
		jsonHandler(status, answer)(w, r)
	}), Options{})
	count := func() int { mu.Lock(); defer mu.Unlock(); return hits }
	ctx := testCtx(t)
	now := time.Now()
	tok2 := k2.sign(t, validClaims(now))

	v, err := c.Verifier(ctx, "")
	if err != nil || v.Keys.Keys[0].Kid != "k1" {
		t.Fatalf("Verifier = %v, %v", v, err)
	}
	if _, err := v.Verify(tok2); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("k2 token with k1 keys: %v", err)
	}
	mu.Lock()
	answer = string(mustJSON(t, k2.jwks()))
	mu.Unlock()
	if v, _ = c.Verifier(ctx, ""); v.Keys.Keys[0].Kid != "k1" || count() != 1 {
		t.Fatalf("second Verifier refetched within JWKSMaxAge (hits %d)", hits)
	}
	if _, err := c.RefreshJWKS(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ = c.Verifier(ctx, ""); v.Keys.Keys[0].Kid != "k2" {
		t.Fatal("Verifier does not use the refreshed set")
	}
	if _, err := v.Verify(tok2); err != nil {
		t.Fatal(err)
	}
	// Past JWKSMaxAge a failing refetch keeps the previous set.
	mu.Lock()
	status = 500
	mu.Unlock()
	c.jwksMu.Lock()
	c.jwksAt = time.Now().Add(-2 * JWKSMaxAge)
	c.jwksMu.Unlock()
	if v, err = c.Verifier(ctx, ""); err != nil || v.Keys.Keys[0].Kid != "k2" || count() != 3 {
		t.Fatalf("stale refetch: %v, %v, hits %d", v, err, count())
	}
}
