package authsim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitCtx bounds a wait in a test without sleeping.
func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestHoldAndRelease(t *testing.T) {
	sim, ts := startSim(t, Options{})
	email, password := sim.DefaultUser()
	c := newClient(t, ts.URL)
	c.signIn(email, password)

	sim.Hold(EndpointToken)
	type done struct {
		n      int
		status int
	}
	results := make(chan done, 3)
	var wg sync.WaitGroup
	start := func(n int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.call("GET", "/api/auth/convex/token", nil)
			results <- done{n, r.status}
		}()
	}
	// Start them one at a time so "oldest" and "latest" are well defined.
	for i := 1; i <= 3; i++ {
		start(i)
		if err := sim.WaitHeld(waitCtx(t), EndpointToken, i); err != nil {
			t.Fatalf("waiting for %d held: %v", i, err)
		}
	}
	if sim.Held(EndpointToken) != 3 || sim.Requests(EndpointToken) != 3 {
		t.Fatalf("held %d requests %d", sim.Held(EndpointToken), sim.Requests(EndpointToken))
	}
	select {
	case d := <-results:
		t.Fatalf("request %d finished while held", d.n)
	default:
	}

	if n := sim.Release(EndpointToken, "oldest"); n != 1 {
		t.Fatalf("released %d", n)
	}
	if d := <-results; d.n != 1 || d.status != 200 {
		t.Fatalf("oldest release finished %+v", d)
	}
	if n := sim.Release(EndpointToken, "latest"); n != 1 {
		t.Fatalf("released %d", n)
	}
	if d := <-results; d.n != 3 {
		t.Fatalf("latest release finished %+v", d)
	}
	if n := sim.Release(EndpointToken, "bogus"); n != 0 {
		t.Fatalf("bogus released %d", n)
	}
	if n := sim.Release(EndpointToken, "all"); n != 1 {
		t.Fatalf("released %d", n)
	}
	if d := <-results; d.n != 2 {
		t.Fatalf("all release finished %+v", d)
	}
	wg.Wait()

	// Holding stays on until Unhold.
	start(4)
	if err := sim.WaitHeld(waitCtx(t), EndpointToken, 1); err != nil {
		t.Fatal(err)
	}
	if n := sim.Unhold(EndpointToken); n != 1 {
		t.Fatalf("unhold released %d", n)
	}
	<-results
	wg.Wait()
	wantStatus(t, c.call("GET", "/api/auth/convex/token", nil), 200)
	if sim.Held(EndpointToken) != 0 || sim.Release(EndpointToken, "all") != 0 {
		t.Fatal("something still held")
	}
}

func TestHeldRequestLeavesWhenClientGivesUp(t *testing.T) {
	sim, err := New(Options{Origin: "http://sim.test"})
	if err != nil {
		t.Fatal(err)
	}
	sim.Hold(EndpointJWKS)
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest("GET", "http://sim.test/api/auth/convex/jwks", nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	finished := make(chan struct{})
	go func() {
		sim.ServeHTTP(rec, req)
		close(finished)
	}()
	if err := sim.WaitHeld(waitCtx(t), EndpointJWKS, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-finished
	if sim.Held(EndpointJWKS) != 0 || rec.Code != 200 || rec.Body.Len() != 0 {
		t.Fatalf("held %d, code %d body %q", sim.Held(EndpointJWKS), rec.Code, rec.Body.String())
	}
}

func TestFailNth(t *testing.T) {
	sim, ts := startSim(t, Options{})
	email, password := sim.DefaultUser()
	c := newClient(t, ts.URL)
	c.signIn(email, password)

	sim.FailNth(EndpointToken, 2, Fault{Status: 503})
	wantStatus(t, c.call("GET", "/api/auth/convex/token", nil), 200)
	r := c.call("GET", "/api/auth/convex/token", nil)
	wantError(t, r, 503, "SERVICE_UNAVAILABLE")
	if r.str("message") != "Service Unavailable" {
		t.Fatalf("fault body %s", r.raw)
	}
	wantStatus(t, c.call("GET", "/api/auth/convex/token", nil), 200)

	sim.FailNth(EndpointGetSession, 1, Fault{Status: 500, Code: "BOOM", Message: "kaboom"})
	r = c.call("GET", "/api/auth/get-session", nil)
	wantError(t, r, 500, "BOOM")

	sim.FailNth(EndpointSignIn, 1, Fault{Drop: true})
	req, _ := http.NewRequest("POST", ts.URL+"/api/auth/sign-in/email", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}
	if sim.Requests(EndpointSignIn) != 2 {
		t.Fatalf("sign-in requests %d", sim.Requests(EndpointSignIn))
	}
	// The query endpoint takes faults too.
	sim.FailNth(EndpointQuery, 1, Fault{Status: 502})
	wantStatus(t, queryCall(t, ts.URL, ""), 502)
}

func TestLatency(t *testing.T) {
	sim, ts := startSim(t, Options{})
	type sleepCall struct {
		d       time.Duration
		proceed chan error
	}
	calls := make(chan sleepCall)
	sim.sleep = func(ctx context.Context, d time.Duration) error {
		sc := sleepCall{d: d, proceed: make(chan error)}
		calls <- sc
		return <-sc.proceed
	}
	sim.SetLatency(EndpointJWKS, 250*time.Millisecond)
	c := newClient(t, ts.URL)
	got := make(chan *result, 1)
	go func() { got <- c.call("GET", "/api/auth/convex/jwks", nil) }()
	sc := <-calls
	if sc.d != 250*time.Millisecond {
		t.Fatalf("slept %v", sc.d)
	}
	select {
	case <-got:
		t.Fatal("answered before the latency elapsed")
	default:
	}
	sc.proceed <- nil
	wantStatus(t, <-got, 200)

	// Latency comes before the hold, and a failed wait ends the request.
	sim.Hold(EndpointJWKS)
	go func() { got <- c.call("GET", "/api/auth/convex/jwks", nil) }()
	sc = <-calls
	if sim.Held(EndpointJWKS) != 0 {
		t.Fatal("held before the latency")
	}
	sc.proceed <- nil
	if err := sim.WaitHeld(waitCtx(t), EndpointJWKS, 1); err != nil {
		t.Fatal(err)
	}
	sim.Unhold(EndpointJWKS)
	wantStatus(t, <-got, 200)

	sim.SetLatency(EndpointJWKS, 0)
	wantStatus(t, c.call("GET", "/api/auth/convex/jwks", nil), 200)

	if err := sleepContext(canceledCtx(), time.Hour); err == nil {
		t.Fatal("sleepContext ignored a canceled context")
	}
	if err := sleepContext(context.Background(), time.Nanosecond); err != nil {
		t.Fatal(err)
	}
}

func canceledCtx() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestControlHandler(t *testing.T) {
	sim, err := New(Options{Origin: "http://127.0.0.1:3210"})
	if err != nil {
		t.Fatal(err)
	}
	h := sim.ControlHandler()
	do := func(method, path, body, remote string, hdr ...string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, "http://127.0.0.1:3210"+path, strings.NewReader(body))
		req.RemoteAddr = remote
		if method == "POST" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	const local = "127.0.0.1:5555"

	for _, remote := range []string{"203.0.113.7:1234", "10.0.0.1:80", "garbage"} {
		if rec := do("GET", "/_authsim/state", "", remote); rec.Code != 403 {
			t.Fatalf("%s: %d", remote, rec.Code)
		}
	}
	if rec := do("GET", "/_authsim/state", "", "[::1]:999"); rec.Code != 200 {
		t.Fatalf("ipv6 loopback: %d", rec.Code)
	}
	if rec := do("POST", "/_authsim/hold", `{"endpoint":"token"}`, local, "Origin", "https://evil.example"); rec.Code != 403 {
		t.Fatalf("foreign origin: %d", rec.Code)
	}
	if rec := do("POST", "/_authsim/hold", `{"endpoint":"token"}`, local, "Content-Type", "text/plain"); rec.Code != 415 {
		t.Fatalf("text/plain: %d", rec.Code)
	}
	if rec := do("POST", "/_authsim/hold", `{"endpoint":"nope"}`, local); rec.Code != 400 {
		t.Fatalf("unknown endpoint: %d", rec.Code)
	}

	for _, tc := range []struct{ path, body string }{
		{"/_authsim/latency", `{"endpoint":"token","ms":150}`},
		{"/_authsim/latency", `{"endpoint":"jwks","duration":"2s"}`},
		{"/_authsim/hold", `{"endpoint":"get-session"}`},
		{"/_authsim/fault", `{"endpoint":"sign-in","nth":2,"status":503}`},
		{"/_authsim/fault", `{"endpoint":"query","drop":true}`},
		{"/_authsim/release", `{"endpoint":"get-session","which":"oldest"}`},
		{"/_authsim/unhold", `{"endpoint":"get-session"}`},
	} {
		if rec := do("POST", tc.path, tc.body, local); rec.Code != 200 {
			t.Fatalf("%s %s: %d %s", tc.path, tc.body, rec.Code, rec.Body)
		}
	}
	for _, tc := range []struct{ path, body string }{
		{"/_authsim/latency", `{"endpoint":"token","ms":-1}`},
		{"/_authsim/latency", `{"endpoint":"token","duration":"soon"}`},
		{"/_authsim/fault", `{"endpoint":"token"}`},
		{"/_authsim/release", `{"endpoint":"token","which":"middle"}`},
		{"/_authsim/expire-session", `{}`},
		{"/_authsim/teleport", `{"endpoint":"token"}`},
		{"/_authsim/hold", `{"endpoint":"token","extra":1}`},
	} {
		if rec := do("POST", tc.path, tc.body, local); rec.Code < 400 {
			t.Fatalf("%s %s accepted: %d", tc.path, tc.body, rec.Code)
		}
	}

	// expire-session and the state (mounted without the prefix, too).
	s := sim.createSessionForTest(t)
	rec := do("POST", "/expire-session", `{"sessionId":"`+s.id+`"}`, local)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"expired":true`) {
		t.Fatalf("expire-session: %d %s", rec.Code, rec.Body)
	}
	rec = do("GET", "/_authsim/state", "", local)
	var st ControlState
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Alg != AlgEdDSA || st.Endpoints[EndpointToken].LatencyMS != 150 || st.Endpoints[EndpointJWKS].LatencyMS != 2000 ||
		st.Endpoints[EndpointGetSession].Holding || len(st.Endpoints[EndpointSignIn].Faults) != 1 ||
		len(st.Sessions) != 1 || !st.Sessions[0].Expired {
		t.Fatalf("state %s", rec.Body)
	}
	if strings.Contains(rec.Body.String(), s.token) {
		t.Fatal("state leaks a session token")
	}
	if rec := do("POST", "/_authsim/state", `{}`, local); rec.Code != 405 {
		t.Fatalf("POST state: %d", rec.Code)
	}
}

// createSessionForTest opens a session for the default user directly.
func (s *Server) createSessionForTest(t testing.TB) *session {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createSessionLocked(s.byEmail[s.defEmail].id, false, "", "")
}

// FuzzServeHTTP checks that nothing a client sends makes the server panic or
// answer with a status outside the ones it is meant to use.
func FuzzServeHTTP(f *testing.F) {
	seeds := []struct{ method, path, ct, body, cookie, auth string }{
		{"POST", "/api/auth/sign-in/email", "application/json", `{"email":"alice@example.com","password":"authscope-dev-password"}`, "", ""},
		{"POST", "/api/auth/sign-up/email", "application/json", `{"email":1,"password":[],"name":{}}`, "", ""},
		{"POST", "/api/auth/change-password", "application/json", `{"currentPassword":"x","newPassword":"y","revokeOtherSessions":"yes"}`, "better-auth.session_token=a.b", ""},
		{"POST", "/api/auth/sign-in/email", "application/x-www-form-urlencoded", "email=%ZZ&password=", "", ""},
		{"GET", "/api/auth/get-session?disableRefresh=1", "", "", "better-auth.session_token=%E0%A4%A; x=\"", "Bearer %%%"},
		{"POST", "/api/query", "application/json", `{"path":"auth:getAuthUser","args":null}`, "", "Bearer a.b.c"},
		{"POST", "/api/auth/revoke-session", "application/json; charset=utf-8", `{"token":null,"callbackURL":7}`, "c=d", ""},
		{"POST", "/api/auth/sign-out", "application/vnd.api+json", `"just a string"`, "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.ct, s.body, s.cookie, s.auth)
	}
	sim, err := New(Options{Origin: "http://sim.test", TrustedOrigins: []string{"http://localhost:3210"}, Secret: testSecret})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, path, ct, body, cookie, auth string) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			method = "POST"
		}
		req, err := http.NewRequest(method, "http://sim.test/", strings.NewReader(body))
		if err != nil {
			return
		}
		req.URL.Path = path
		req.URL.RawPath = ""
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("Origin", "http://sim.test")
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 401, 403, 404, 405, 413, 415, 422, StatusFunctionFailed:
		default:
			t.Fatalf("%s %s: status %d %s", method, path, rec.Code, rec.Body)
		}
	})
}

// TestControlHandlerHostCheck: a DNS-rebinding page reaches the control API
// from a loopback address but with its own name in Host; only loopback names
// may read the state.
func TestControlHandlerHostCheck(t *testing.T) {
	sim, err := New(Options{Origin: "http://127.0.0.1:3210"})
	if err != nil {
		t.Fatal(err)
	}
	h := sim.ControlHandler()
	get := func(host string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "http://127.0.0.1:3210/_authsim/state", nil)
		req.Host = host
		req.RemoteAddr = "127.0.0.1:5555"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, host := range []string{"localhost", "localhost:3210", "LOCALHOST:3210", "127.0.0.1", "127.0.0.1:3210", "[::1]", "[::1]:3210"} {
		if rec := get(host); rec.Code != http.StatusOK {
			t.Errorf("Host %q: %d %s, want 200", host, rec.Code, rec.Body)
		}
	}
	for _, host := range []string{"evil.example", "evil.example:3210", "127.0.0.1.nip.io:3210", "localhost.evil.example", "", "[::1", "192.168.1.5:3210", "0.0.0.0:3210"} {
		rec := get(host)
		if rec.Code != http.StatusMisdirectedRequest {
			t.Errorf("Host %q: %d, want 421", host, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "sessions") || !strings.Contains(rec.Body.String(), "loopback Host") {
			t.Errorf("Host %q: body %s", host, rec.Body)
		}
	}
}

// FuzzControlHandler drives the control API with arbitrary methods, paths,
// Host and Origin headers, content types, bodies and remote addresses. It
// must never panic, answer only with its documented statuses, obey a
// request only from a loopback client under a loopback Host, and never
// show a session token.
func FuzzControlHandler(f *testing.F) {
	for _, s := range []struct{ method, path, host, origin, ct, body, remote string }{
		{"GET", "/_authsim/state", "127.0.0.1:3210", "", "", "", "127.0.0.1:5555"},
		{"POST", "/_authsim/hold", "localhost:3210", "http://localhost:3210", "application/json", `{"endpoint":"token"}`, "[::1]:1"},
		{"POST", "/_authsim/latency", "[::1]:3210", "", "application/json; charset=utf-8", `{"endpoint":"token","duration":"-1s"}`, "127.0.0.1:1"},
		{"POST", "/_authsim/fault", "127.0.0.1", "null", "application/json", `{"endpoint":"query","nth":-5,"status":99999}`, "127.0.0.1:1"},
		{"POST", "/_authsim/release", "evil.example", "", "application/json", `{"endpoint":"token","which":"LATEST"}`, "127.0.0.1:1"},
		{"POST", "/_authsim/expire-session", "127.0.0.1:3210", "https://evil.example", "application/json", `{"sessionId":"x"}`, "10.0.0.1:1"},
		{"PUT", "/_authsim//state/../state", "[::1", "%zz", "text/plain", "\xff", "garbage"},
		{"POST", "/_authsim/latency", "127.0.0.1:3210", "", "application/json", `{"endpoint":"token","ms":9223372036854775807}`, "127.0.0.1:1"},
	} {
		f.Add(s.method, s.path, s.host, s.origin, s.ct, s.body, s.remote)
	}
	sim, err := New(Options{Origin: "http://127.0.0.1:3210", Secret: testSecret})
	if err != nil {
		f.Fatal(err)
	}
	sess := sim.createSessionForTest(f)
	h := sim.ControlHandler()
	f.Fuzz(func(t *testing.T, method, path, host, origin, ct, body, remote string) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			method = "POST"
		}
		req, err := http.NewRequest(method, "http://127.0.0.1:3210/", strings.NewReader(body))
		if err != nil {
			return
		}
		req.URL.Path = path
		req.Host = host
		req.RemoteAddr = remote
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 403, 404, 405, 415, 421:
		default:
			t.Fatalf("%s %s: status %d %s", method, path, rec.Code, rec.Body)
		}
		if rec.Code == 200 && (!loopbackAddr(remote) || !loopbackHost(host)) {
			t.Fatalf("answered Host %q from %q: %s", host, remote, rec.Body)
		}
		if strings.Contains(rec.Body.String(), sess.token) {
			t.Fatal("a session token reached the control API's answer")
		}
		// Undo holds so a later input's request is never left waiting.
		for _, ep := range Endpoints() {
			sim.Unhold(ep)
		}
	})
}
