package fetcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
)

// gateRig is a server that counts requests per path and numbers its answers,
// an http.Client through Gates, and a notify channel.
type gateRig struct {
	srv     *httptest.Server
	g       *Gates
	hc      *http.Client
	hits    atomic.Int64
	cookies chan string
	changed chan struct{}
}

func newGateRig(t *testing.T) *gateRig {
	t.Helper()
	r := &gateRig{cookies: make(chan string, 100), changed: make(chan struct{}, 1)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := r.hits.Add(1)
		select {
		case r.cookies <- req.Header.Get("Cookie"):
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"n":%d,"q":%q}`, n, req.URL.Query().Get("q"))
	}))
	t.Cleanup(r.srv.Close)
	r.g = NewGates(r.srv.Client().Transport)
	r.g.SetNotify(func() {
		select {
		case r.changed <- struct{}{}:
		default:
		}
	})
	r.hc = &http.Client{Transport: r.g}
	return r
}

// waitUntil blocks until cond holds, woken by the gate's notify.
func (r *gateRig) waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s (held %d, in flight %d)", what, r.g.Held(), r.g.InFlight())
		}
	}
}

type result struct {
	tag  string
	body string
	err  error
}

// get issues GET path?q=tag in the background and reports on out. Like the
// engine, it marks the call's Handoff taken once the result is on out.
func (r *gateRig) get(ctx context.Context, path, tag string, out chan<- result) {
	go func() {
		ctx, h := authstate.WithHandoff(ctx)
		defer h.Taken()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.srv.URL+path+"?q="+tag, nil)
		resp, err := r.hc.Do(req)
		if err != nil {
			out <- result{tag: tag, err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		out <- result{tag: tag, body: string(b), err: err}
	}()
}

func recv(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no result")
	}
	return result{}
}

func noResult(t *testing.T, ch <-chan result) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("unexpected result %+v", r)
	default:
	}
}

func TestHoldResponsesReleaseOrder(t *testing.T) {
	r := newGateRig(t)
	ctx := testCtx(t)
	r.g.HoldResponses("token", true)
	out := make(chan result, 10)
	for i, tag := range []string{"a", "b", "c", "d"} {
		r.get(ctx, "/api/auth/convex/token", tag, out)
		r.waitUntil(t, "held "+tag, func() bool { return r.g.Held() == i+1 })
	}
	if got := r.hits.Load(); got != 4 {
		t.Fatalf("server saw %d requests, want 4 (response holds let requests through)", got)
	}
	items := r.g.HeldItems()
	for i, it := range items {
		if it.Kind != KindResponse || it.Endpoint != "token" || it.Since.IsZero() || (i > 0 && it.ID <= items[i-1].ID) {
			t.Errorf("item %d = %+v", i, it)
		}
	}
	noResult(t, out)

	if n := r.g.Release("oldest"); n != 1 {
		t.Fatalf("Release(oldest) = %d", n)
	}
	if res := recv(t, out); res.tag != "a" || res.err != nil || !strings.Contains(res.body, `"q":"a"`) {
		t.Fatalf("first = %+v", res)
	}
	if n := r.g.Release("latest"); n != 1 {
		t.Fatalf("Release(latest) = %d", n)
	}
	if res := recv(t, out); res.tag != "d" {
		t.Fatalf("latest = %+v", res)
	}
	if n := r.g.Release("all"); n != 2 {
		t.Fatalf("Release(all) = %d", n)
	}
	// "all" hands back in arrival order.
	if x, y := recv(t, out), recv(t, out); x.tag != "b" || y.tag != "c" {
		t.Fatalf("all = %s, %s; want b, c", x.tag, y.tag)
	}
	if n := r.g.Release("all"); n != 0 {
		t.Fatalf("Release with nothing held = %d", n)
	}
	if n := r.g.Release("bogus"); n != 0 {
		t.Fatalf("Release(bogus) = %d", n)
	}
	r.waitUntil(t, "nothing in flight", func() bool { return r.g.InFlight() == 0 })
}

func TestHoldRequestsCarryTheCookieOfTheMoment(t *testing.T) {
	r := newGateRig(t)
	ctx := testCtx(t)
	jar := newJar(t)
	r.hc.Jar = jar
	u := mustURL(t, r.srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "better-auth.session_token", Value: "A"}})

	r.g.HoldRequests("get-session", true)
	out := make(chan result, 1)
	r.get(ctx, "/api/auth/get-session", "x", out)
	r.waitUntil(t, "request held", func() bool { return r.g.Held() == 1 })
	if it := r.g.HeldItems()[0]; it.Kind != KindRequest || it.Endpoint != "get-session" {
		t.Fatalf("held = %+v", it)
	}
	// The session rotates while the request waits.
	jar.SetCookies(u, []*http.Cookie{{Name: "better-auth.session_token", Value: "B"}})
	if got := r.hits.Load(); got != 0 {
		t.Fatalf("server saw %d requests while the request was held", got)
	}
	r.g.Release("all")
	if res := recv(t, out); res.err != nil {
		t.Fatal(res.err)
	}
	if c := <-r.cookies; c != "better-auth.session_token=A" {
		t.Fatalf("server saw cookie %q, want the one of the moment the request was issued", c)
	}
	// Other endpoints are not held.
	r.get(ctx, "/api/auth/convex/token", "t", out)
	if res := recv(t, out); res.err != nil {
		t.Fatal(res.err)
	}
}

func TestHoldBothRequestAndResponse(t *testing.T) {
	r := newGateRig(t)
	ctx := testCtx(t)
	r.g.HoldRequests("token", true)
	r.g.HoldResponses("token", true)
	out := make(chan result, 1)
	r.get(ctx, "/api/auth/convex/token", "x", out)
	r.waitUntil(t, "request held", func() bool { return r.g.Held() == 1 && r.g.HeldItems()[0].Kind == KindRequest })
	r.g.Release("all")
	r.waitUntil(t, "response held", func() bool { return r.g.Held() == 1 && r.g.HeldItems()[0].Kind == KindResponse })
	if r.hits.Load() != 1 {
		t.Fatal("server not reached after request release")
	}
	noResult(t, out)
	r.g.Release("oldest")
	if res := recv(t, out); res.err != nil {
		t.Fatal(res.err)
	}
}

func TestHeldItemCancelled(t *testing.T) {
	r := newGateRig(t)
	for _, kind := range []string{KindRequest, KindResponse} {
		t.Run(kind, func(t *testing.T) {
			if kind == KindRequest {
				r.g.HoldRequests("get-session", true)
				defer r.g.HoldRequests("get-session", false)
			} else {
				r.g.HoldResponses("get-session", true)
				defer r.g.HoldResponses("get-session", false)
			}
			ctx, cancel := context.WithCancel(context.Background())
			out := make(chan result, 1)
			r.get(ctx, "/api/auth/get-session", "x", out)
			r.waitUntil(t, "held", func() bool { return r.g.Held() == 1 })
			cancel()
			if res := recv(t, out); !errors.Is(res.err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", res.err)
			}
			r.waitUntil(t, "held set empty", func() bool { return r.g.Held() == 0 && r.g.InFlight() == 0 })
			if n := r.g.Release("all"); n != 0 {
				t.Fatalf("Release after cancel = %d", n)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	r := newGateRig(t)
	r.g.SetLatency("token", 30*time.Millisecond)
	if r.g.Latency("token") != 30*time.Millisecond || r.g.Latency("jwks") != 0 {
		t.Fatal("Latency")
	}
	start := time.Now()
	out := make(chan result, 1)
	r.get(testCtx(t), "/api/auth/convex/token", "x", out)
	if res := recv(t, out); res.err != nil {
		t.Fatal(res.err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("answered after %v, before the latency", d)
	}

	r.g.SetLatency("token", time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	r.get(ctx, "/api/auth/convex/token", "y", out)
	r.waitUntil(t, "in flight", func() bool { return r.g.InFlight() == 1 })
	cancel()
	if res := recv(t, out); !errors.Is(res.err, context.Canceled) {
		t.Fatalf("err = %v", res.err)
	}
	if r.hits.Load() != 1 {
		t.Fatal("cancelled request reached the server")
	}
	r.g.SetLatency("token", 0)
	if r.g.Latency("token") != 0 {
		t.Fatal("latency not removed")
	}
}

func TestInjectedFaults(t *testing.T) {
	r := newGateRig(t)
	c, err := New(Options{BaseURL: r.srv.URL + "/api/auth", Transport: r.g})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	r.g.InjectFault("token", Fault{Status: 503})
	r.g.InjectFault("token", Fault{Network: true})
	r.g.InjectFault("token", Fault{}) // ignored
	if r.g.PendingFaults("token") != 2 {
		t.Fatalf("PendingFaults = %d", r.g.PendingFaults("token"))
	}

	_, err = c.ConvexToken(ctx)
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 503 || he.Code != InjectedCode || !he.Transient() {
		t.Fatalf("first: %v", err)
	}
	_, err = c.ConvexToken(ctx)
	var ne *NetError
	if !errors.As(err, &ne) || !errors.Is(err, ErrInjected) || ne.Timeout() || ne.Endpoint != "token" {
		t.Fatalf("second: %v (%T)", err, err)
	}
	if Reason(err) != "network error (injected)" {
		t.Errorf("Reason = %q", Reason(err))
	}
	if r.hits.Load() != 0 {
		t.Fatal("faulted requests reached the server")
	}
	// The queue is spent: the next request reaches the server (which answers {"n":1}: not a token).
	if _, err = c.ConvexToken(ctx); !errors.Is(err, ErrBadResponse) || r.hits.Load() != 1 {
		t.Fatalf("third: %v, hits %d", err, r.hits.Load())
	}
}

func TestFaultWhileHeld(t *testing.T) {
	r := newGateRig(t)
	r.g.HoldResponses("token", true)
	r.g.InjectFault("token", Fault{Network: true})
	out := make(chan result, 1)
	r.get(testCtx(t), "/api/auth/convex/token", "x", out)
	r.waitUntil(t, "held failure", func() bool { return r.g.Held() == 1 })
	noResult(t, out)
	r.g.Release("all")
	if res := recv(t, out); !errors.Is(res.err, ErrInjected) {
		t.Fatalf("err = %v", res.err)
	}
}

func TestHeldResponseTooLarge(t *testing.T) {
	big := strings.Repeat("x", 2000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.(http.Flusher).Flush() // chunked: no Content-Length
		io.WriteString(w, `"`+big+`"`)
	}))
	t.Cleanup(srv.Close)
	g := NewGates(srv.Client().Transport)
	g.SetMaxBody(1000)
	g.HoldResponses("jwks", true)
	held := make(chan struct{}, 1)
	g.SetNotify(func() {
		if g.Held() > 0 {
			select {
			case held <- struct{}{}:
			default:
			}
		}
	})
	c, _ := New(Options{BaseURL: srv.URL + "/api/auth", Transport: g})
	done := make(chan error, 1)
	go func() { _, err := c.JWKS(context.Background()); done <- err }()
	<-held
	g.Release("all")
	if err := <-done; !errors.Is(err, ErrBodyTooLarge) || !strings.Contains(err.Error(), "jwks") {
		t.Fatalf("err = %v", err)
	}
}

func TestNotifyNeverUnderLock(t *testing.T) {
	r := newGateRig(t)
	var calls atomic.Int64
	// Calling back into the gate from notify would deadlock if notify ran under the lock.
	r.g.SetNotify(func() {
		calls.Add(1)
		_ = r.g.Held()
		_ = r.g.InFlight()
		select {
		case r.changed <- struct{}{}:
		default:
		}
	})
	r.g.HoldResponses("jwks", true)
	out := make(chan result, 1)
	r.get(testCtx(t), "/api/auth/convex/jwks", "x", out)
	r.waitUntil(t, "held", func() bool { return r.g.Held() == 1 })
	r.g.Release("all")
	recv(t, out)
	r.waitUntil(t, "idle", func() bool { return r.g.InFlight() == 0 })
	// in-flight +1, held +1, release, in-flight -1: at least 4.
	if calls.Load() < 4 {
		t.Fatalf("notify called %d times", calls.Load())
	}
}

func TestGatesConcurrent(t *testing.T) {
	r := newGateRig(t)
	ctx := testCtx(t)
	endpoints := []string{"/api/auth/convex/token", "/api/auth/get-session", "/api/auth/convex/jwks", "/api/query"}
	out := make(chan result, 1000)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // a user pressing keys
		defer wg.Done()
		modes := []string{"all", "oldest", "latest"}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			name := EndpointOf(mustReq(t, endpoints[i%len(endpoints)]))
			r.g.HoldResponses(name, i%3 == 0)
			r.g.HoldRequests(name, i%5 == 0)
			if i%7 == 0 {
				r.g.InjectFault(name, Fault{Status: 500 + i%4})
			}
			if i%11 == 0 {
				r.g.InjectFault(name, Fault{Network: true})
			}
			r.g.SetLatency(name, time.Duration(i%3)*time.Millisecond)
			r.g.Release(modes[i%3])
			_ = r.g.HeldItems()
			time.Sleep(100 * time.Microsecond)
		}
	}()
	const n = 200
	for i := 0; i < n; i++ {
		r.get(ctx, endpoints[i%len(endpoints)], fmt.Sprint(i), out)
	}
	got := 0
	deadline := time.After(10 * time.Second)
	for got < n {
		select {
		case <-out:
			got++
		case <-time.After(5 * time.Millisecond):
			r.g.Release("all")
		case <-deadline:
			t.Fatalf("only %d of %d finished; held %d", got, n, r.g.Held())
		}
	}
	close(stop)
	wg.Wait()
	for _, e := range []string{"token", "get-session", "jwks", "query"} {
		r.g.HoldRequests(e, false)
		r.g.HoldResponses(e, false)
	}
	r.g.Release("all")
	r.waitUntil(t, "idle", func() bool { return r.g.InFlight() == 0 && r.g.Held() == 0 })
}

func newJar(t *testing.T) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

func mustReq(t *testing.T, path string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, "http://h"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
