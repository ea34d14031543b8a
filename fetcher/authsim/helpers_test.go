package authsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const testSecret = "authsim-test-secret"

// startSim serves a simulator on a loopback test server whose URL is the
// simulator's origin.
func startSim(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	var sim *Server
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sim.ServeHTTP(w, r)
	}))
	ts.Start()
	t.Cleanup(ts.Close)
	if opts.Origin == "" {
		opts.Origin = ts.URL
	}
	if opts.Secret == "" {
		opts.Secret = testSecret
	}
	var err error
	sim, err = New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return sim, ts
}

// client is a browser-like client: its own cookie jar, and by default the
// server's own Origin on every request.
type client struct {
	t      *testing.T
	base   string
	origin string // sent as Origin unless empty
	hc     *http.Client
}

func newClient(t *testing.T, base string) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, origin: base, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

type result struct {
	status  int
	header  http.Header
	raw     []byte
	json    any
	cookies []string
}

func (r *result) obj() map[string]any {
	m, _ := r.json.(map[string]any)
	return m
}

func (r *result) str(path ...string) string {
	var cur any = r.json
	for _, p := range path {
		m, _ := cur.(map[string]any)
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}

// call sends a request; body nil means none, a string is sent raw as JSON,
// anything else is JSON-encoded. hdr adds or (with "") removes headers.
func (c *client) call(method, path string, body any, hdr ...string) *result {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			buf, err := json.Marshal(b)
			if err != nil {
				c.t.Fatal(err)
			}
			rd = bytes.NewReader(buf)
		}
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	res := &result{status: resp.StatusCode, header: resp.Header, raw: raw, cookies: resp.Header.Values("Set-Cookie")}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &res.json)
	}
	return res
}

func (c *client) signUp(email, password string) *result {
	c.t.Helper()
	return c.call("POST", "/api/auth/sign-up/email", map[string]any{"email": email, "password": password, "name": "Test"})
}

func (c *client) signIn(email, password string) *result {
	c.t.Helper()
	r := c.call("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": password})
	if r.status != 200 {
		c.t.Fatalf("sign-in: %d %s", r.status, r.raw)
	}
	return r
}

func wantStatus(t *testing.T, r *result, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
}

func wantError(t *testing.T, r *result, status int, code string) {
	t.Helper()
	wantStatus(t, r, status)
	if got := r.str("code"); got != code {
		t.Fatalf("code %q, want %q; body %s", got, code, r.raw)
	}
}

// cookieLine finds the Set-Cookie line for a cookie name.
func cookieLine(r *result, name string) (string, bool) {
	for _, l := range r.cookies {
		if strings.HasPrefix(l, name+"=") {
			return l, true
		}
	}
	return "", false
}

func cookieNames(r *result) []string {
	var out []string
	for _, l := range r.cookies {
		name, _, _ := strings.Cut(l, "=")
		out = append(out, name)
	}
	return out
}
