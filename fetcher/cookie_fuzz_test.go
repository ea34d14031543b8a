package fetcher

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// FuzzSetCookie feeds arbitrary Set-Cookie headers (with arbitrary bodies and
// statuses) to a client that signs in, polls, fetches a token, changes the
// password and signs out. Nothing may panic or hang; the client sends back
// only cookies the server set for it, always with its own Origin; and no
// cookie value reaches an error message.
func FuzzSetCookie(f *testing.F) {
	for _, s := range []struct{ c1, c2, body string }{
		{"better-auth.session_token=tok-secret-1.c2lnbmF0dXJl; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax", "better-auth.convex_jwt=eyJhbGciOiJFZERTQSJ9.e30.c2ln; Max-Age=900; Path=/; HttpOnly; SameSite=Lax", `{"token":"tok-secret-1","user":` + userJSON + `}`},
		{"better-auth.session_token=; Max-Age=0; Path=/", "better-auth.convex_jwt=; Max-Age=0; Path=/", `{"success":true}`},
		{"__Secure-better-auth.session_token=abc; Secure; Path=/", "stolen=value-for-elsewhere; Domain=evil.example; Path=/", `{"session":` + sessionJSON + `,"user":` + userJSON + `}`},
		{"better-auth.session_token=\x00\xff\"quoted\"; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "=; ;;; Max-Age=-1", "null"},
		{strings.Repeat("n", 300) + "=" + strings.Repeat("v", 5000) + "; Path=/api/auth", "a=b; Path=/elsewhere; Domain=sim.test", `{"token":"a.b.c"}`},
		{"x=y; Max-Age=99999999999999999999; Expires=not a date; SameSite=Bogus; Partitioned", "better-auth.session_token=a\r\nInjected: yes", `{"status":true}`},
	} {
		f.Add(s.c1, s.c2, 200, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, c1, c2 string, status int, body []byte) {
		if status < 100 || status > 999 {
			status = 200
		}
		var mu sync.Mutex
		var sent []*http.Request
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			sent = append(sent, r)
			mu.Unlock()
			h := http.Header{}
			h.Set("Content-Type", "application/json")
			h.Add("Set-Cookie", c1)
			h.Add("Set-Cookie", c2)
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: -1, Request: r}, nil
		})
		c, err := New(Options{BaseURL: "http://sim.test/api/auth", Transport: rt, MaxBody: 4096})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var errs []error
		note := func(err error) {
			var he *HTTPError
			if err != nil && !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrBodyTooLarge) && !errors.As(err, &he) {
				t.Fatalf("untyped error %v (%T)", err, err)
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
		ctx := context.Background()
		_, err = c.SignIn(ctx, "e@x.test", "a-password")
		note(err)
		_, err = c.GetSession(ctx)
		note(err)
		_, err = c.ConvexToken(ctx)
		note(err)
		_, err = c.ChangePassword(ctx, "a-password", "a-password", true)
		note(err)
		note(c.SignOut(ctx))
		_, err = c.GetSession(ctx)
		note(err)
		if d := time.Since(start); d > 10*time.Second { // generous: the machine may be busy
			t.Fatalf("six calls took %v", d)
		}

		// What the server set, as a browser would read it.
		set := map[string][]*http.Cookie{}
		var values []string
		for _, line := range []string{c1, c2} {
			if ck, err := http.ParseSetCookie(line); err == nil {
				set[ck.Name] = append(set[ck.Name], ck)
				if len(ck.Value) >= 16 && !bytes.Contains(body, []byte(ck.Value)) {
					values = append(values, ck.Value)
				}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range sent {
			if o := r.Header.Get("Origin"); o != "http://sim.test" {
				t.Fatalf("%s sent with Origin %q", r.URL.Path, o)
			}
			for _, ck := range r.Cookies() {
				if !slices.ContainsFunc(set[ck.Name], func(s *http.Cookie) bool { return scopedTo(s, r) }) {
					t.Fatalf("%s sent cookie %q, which the server never set for it", r.URL.Path, ck.Name)
				}
			}
			if strings.ContainsAny(r.Header.Get("Cookie"), "\r\n") {
				t.Fatalf("%s: a line break in the Cookie header", r.URL.Path)
			}
		}
		for _, err := range errs {
			for _, v := range values {
				if strings.Contains(err.Error(), v) {
					t.Fatalf("a cookie value reached an error message: %v", err)
				}
			}
		}
		_ = c.Cookies()
	})
}

// scopedTo reports whether a cookie set by sim.test may go with r: its
// Domain, if any, is sim.test and its Path, if any, covers r's path.
func scopedTo(c *http.Cookie, r *http.Request) bool {
	if d := strings.TrimPrefix(c.Domain, "."); d != "" && !strings.EqualFold(d, r.URL.Hostname()) {
		return false
	}
	return c.Path == "" || !strings.HasPrefix(c.Path, "/") || strings.HasPrefix(r.URL.Path, c.Path)
}
