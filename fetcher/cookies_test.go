package fetcher

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// countingJar counts the jar's answers.
type countingJar struct {
	http.CookieJar
	asked atomic.Int32
}

func (j *countingJar) Cookies(u *url.URL) []*http.Cookie {
	j.asked.Add(1)
	return j.CookieJar.Cookies(u)
}

// The Cookie header a Client sends is the one net/http's Client sends with
// the same jar contents, request after request, and it follows every
// change: a response that sets a cookie, and the expiry of one.
func TestClientCookiesAsAJarWouldSendThem(t *testing.T) {
	var seen atomic.Pointer[string]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Cookie")
		seen.Store(&h)
		switch r.URL.Path {
		case "/api/auth/sign-in/email":
			http.SetCookie(w, &http.Cookie{Name: "better-auth.session_token", Value: "tok.sig/+=", Path: "/", HttpOnly: true, MaxAge: 3600})
			http.SetCookie(w, &http.Cookie{Name: "spaced", Value: "a b", Path: "/"})
		case "/api/auth/convex/narrow":
			// A cookie for one folder only, and one with no Path (the
			// folder of the URL that set it).
			http.SetCookie(w, &http.Cookie{Name: "narrow", Value: "n", Path: "/api/auth/convex"})
			http.SetCookie(w, &http.Cookie{Name: "nopath", Value: "d"})
		case "/api/auth/refresh":
			// The same value again, with a new expiry: nothing to send changes.
			http.SetCookie(w, &http.Cookie{Name: "better-auth.session_token", Value: "tok.sig/+=", Path: "/", HttpOnly: true, MaxAge: 7200})
		case "/api/auth/change-password":
			http.SetCookie(w, &http.Cookie{Name: "better-auth.session_token", Value: "new.sig", Path: "/", HttpOnly: true, MaxAge: 60})
		case "/api/auth/sign-out":
			http.SetCookie(w, &http.Cookie{Name: "better-auth.session_token", Value: "", Path: "/", MaxAge: -1})
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	for _, given := range []bool{false, true} {
		t.Run(map[bool]string{false: "own jar", true: "given jar"}[given], func(t *testing.T) {
			testClientCookies(t, srv.URL, given, &seen)
		})
	}
}

func testClientCookies(t *testing.T, srvURL string, given bool, seen *atomic.Pointer[string]) {
	jar, _ := cookiejar.New(nil)
	cj := &countingJar{CookieJar: jar}
	opts := Options{BaseURL: srvURL + "/api/auth"}
	if given {
		opts.Jar = cj
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !given {
		c.cookies.jar = cj
	}
	clock := time.Now()
	c.cookies.now = func() time.Time { return clock }
	// The reference: net/http's own Client with a jar fed the same way.
	refJar, _ := cookiejar.New(nil)
	ref := &http.Client{Jar: refJar}
	ctx := context.Background()
	step := func(path string) {
		t.Helper()
		if _, err := c.exchange(ctx, "x", http.MethodPost, path, nil); err != nil {
			t.Fatal(err)
		}
		got := *seen.Load()
		resp, err := ref.Post(srvURL+"/api/auth"+path, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := *seen.Load(); got != want {
			t.Fatalf("%s: sent Cookie %q, net/http's client sends %q", path, got, want)
		}
	}
	step("/get-session")
	step("/sign-in/email")
	if got := *seen.Load(); got != "" {
		t.Fatalf("sign-in sent cookies %q", got)
	}
	before := cj.asked.Load()
	for range 3 {
		step("/get-session")
	}
	if got := *seen.Load(); got != `better-auth.session_token=tok.sig/+=; spaced="a b"` {
		t.Fatalf("get-session sent %q", got)
	}
	if n := cj.asked.Load() - before; n != 1 {
		t.Errorf("three get-sessions with no change asked the jar %d times, want 1", n)
	}
	if !given {
		// Its own jar holds only cookies for /: every endpoint gets the
		// header worked out once.
		before = cj.asked.Load()
		step("/convex/token")
		if n := cj.asked.Load() - before; n != 0 {
			t.Errorf("another endpoint asked the jar %d times, want 0", n)
		}
	}
	step("/refresh")
	before = cj.asked.Load()
	step("/get-session")
	if n := cj.asked.Load() - before; n != 0 {
		t.Errorf("a cookie set again to the same value made the client ask the jar %d times, want 0", n)
	}
	// Until a cookie expires, headers are remembered: these are checked
	// against net/http's from memory.
	step("/convex/narrow")
	for _, p := range []string{"/convex/token", "/get-session", "/convex/narrow", "/convex", "/convexed", "/convex/"} {
		step(p)
	}
	step("/change-password") // sets a cookie that expires in 60 s
	step("/get-session")
	if got := *seen.Load(); got != `better-auth.session_token=new.sig; spaced="a b"` {
		t.Fatalf("after the change the client sent %q", got)
	}
	before = cj.asked.Load()
	step("/get-session")
	clock = clock.Add(61 * time.Second) // the new cookie's expiry has come
	step("/get-session")
	if n := cj.asked.Load() - before; n != 1 {
		t.Errorf("past a cookie's expiry the jar was asked %d times over two calls, want 1 (the second)", n)
	}
	step("/sign-out")
	step("/get-session")
	if got := *seen.Load(); got != `spaced="a b"` {
		t.Fatalf("after sign-out the client sent %q", got)
	}
	step("/convex/token")
	if got := *seen.Load(); got != `narrow=n; nopath=d; spaced="a b"` {
		t.Fatalf("after sign-out the client sent %q to convex/token", got)
	}
	if names := cookieNames(c.Cookies()); len(names) != 1 || names[0] != "spaced" {
		t.Fatalf("Cookies() = %v", names)
	}
}

func cookieNames(cs []*http.Cookie) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}
