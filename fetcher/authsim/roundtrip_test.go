package authsim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// seen is what a handler got from a request, as a server would parse it.
type seen struct {
	Method, Path, RawQuery, RequestURI, Host, Proto string
	Header                                          http.Header
	Body                                            string
	ContentLength                                   int64
	RemoteIsLoopback                                bool
	URLHasHost                                      bool
}

// echoHandler records each request and answers with a status, two
// cookies, a custom header and a body that depend on the request.
func echoHandler(got chan<- seen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		h := r.Header.Clone()
		got <- seen{
			Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, RequestURI: r.RequestURI,
			Host: r.Host, Proto: r.Proto, Header: h, Body: string(b), ContentLength: r.ContentLength,
			RemoteIsLoopback: net.ParseIP(host).IsLoopback(), URLHasHost: r.URL.Host != "",
		}
		w.Header().Add("Set-Cookie", "a=1; Path=/; HttpOnly")
		w.Header().Add("Set-Cookie", "b="+r.URL.Query().Get("v")+"; Path=/; Max-Age=60")
		w.Header().Set("X-Echo", r.Method+" "+r.URL.Path)
		if r.URL.Path == "/json" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"echo":`+`"`+string(b)+`"}`)
	})
}

// answer is what a client got back.
type answer struct {
	Status        string
	StatusCode    int
	Header        http.Header
	Body          string
	ContentLength int64
	Cookies       []string
}

func exchange(t *testing.T, hc *http.Client, base, method, path, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", base)
	req.Header.Set("Accept", "application/json")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	h := resp.Header.Clone()
	h.Del("Date") // the wall clock of each answer
	u, _ := url.Parse(base)
	var cookies []string
	for _, c := range hc.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	slices.Sort(cookies)
	return answer{Status: resp.Status, StatusCode: resp.StatusCode, Header: h, Body: string(b), ContentLength: resp.ContentLength, Cookies: cookies}
}

// A client sees the same answers, and the handler the same requests
// (method, path, query, headers with the jar's cookies, body), through the
// RoundTripper as over a loopback socket.
func TestRoundTripperMatchesTCP(t *testing.T) {
	tcpSeen, ipSeen := make(chan seen, 1), make(chan seen, 1)
	srv := httptest.NewServer(echoHandler(tcpSeen))
	defer srv.Close()
	tcpJar, _ := cookiejar.New(nil)
	ipJar, _ := cookiejar.New(nil)
	tcp := &http.Client{Jar: tcpJar, Transport: &http.Transport{}}
	inproc := &http.Client{Jar: ipJar, Transport: &RoundTripper{Handler: echoHandler(ipSeen)}}
	base := srv.URL // the same origin for both, so Host, Origin and cookies compare
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/plain?v=x", ""},
		{"POST", "/json?v=y&w=%20z", `{"k":"v"}`},
		{"GET", "/plain?v=z", ""}, // sends the cookies the first two set
		{"DELETE", "/a%2Fb/c?v=", ""},
	} {
		want := exchange(t, tcp, base, c.method, c.path, c.body)
		wantSeen := <-tcpSeen
		got := exchange(t, inproc, base, c.method, c.path, c.body)
		gotSeen := <-ipSeen
		if !reflect.DeepEqual(wantSeen, gotSeen) {
			t.Errorf("%s %s: the handler saw\n  over TCP:   %+v\n  in-process: %+v", c.method, c.path, wantSeen, gotSeen)
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s %s: the client got\n  over TCP:   %+v\n  in-process: %+v", c.method, c.path, want, got)
		}
	}
	if len(tcpJar.Cookies(mustURL(base))) != 2 {
		t.Fatalf("the jar holds %v, want the two cookies", tcpJar.Cookies(mustURL(base)))
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// The simulator itself answers a sign-in and a get-session with the same
// statuses, cookies and bodies' shapes in-process as over TCP.
func TestRoundTripperCarriesTheSimulatorsCookies(t *testing.T) {
	const origin = "http://127.0.0.1:1"
	s, err := New(Options{Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Transport: &RoundTripper{Handler: s}}
	email, password := s.DefaultUser()
	req, _ := http.NewRequest("POST", origin+"/api/auth/sign-in/email", strings.NewReader(`{"email":"`+email+`","password":"`+password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) == 0 {
		t.Fatalf("sign-in: HTTP %d with %d cookies, want 200 with the session cookie", resp.StatusCode, len(resp.Cookies()))
	}
	resp, err = hc.Get(origin + "/api/auth/get-session")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"session"`)) || !bytes.Contains(b, []byte(email)) {
		t.Fatalf("get-session after sign-in: HTTP %d %s, want the session: the jar's cookie did not reach the handler", resp.StatusCode, b)
	}
}

// A cancelled request returns at once with the context's error, whether
// the handler watches its context (it sees it end) or not.
func TestRoundTripperHonoursCancellation(t *testing.T) {
	sawEnd := make(chan struct{}, 2)
	entered := make(chan struct{}, 3)
	block := make(chan struct{})
	defer close(block)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		if r.URL.Path == "/watch" {
			<-r.Context().Done()
			sawEnd <- struct{}{}
			return
		}
		<-block // ignores its context
	})
	for _, c := range []struct {
		path   string
		inline bool
	}{{"/watch", false}, {"/ignore", false}, {"/watch", true}} {
		rt := &RoundTripper{Handler: h, Inline: c.inline}
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:1"+c.path, nil)
		done := make(chan error, 1)
		go func() {
			resp, err := rt.RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			done <- err
		}()
		<-entered
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s (inline %v): RoundTrip returned %v, want context.Canceled", c.path, c.inline, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s (inline %v): RoundTrip did not return after the request was cancelled", c.path, c.inline)
		}
		if c.path == "/watch" {
			select {
			case <-sawEnd:
			case <-time.After(10 * time.Second):
				t.Fatalf("inline %v: the handler's context did not end with the request's", c.inline)
			}
		}
	}
}

// The client's context values do not reach the handler, as they would not
// over a socket, and the handler's context ends when it returns.
func TestRoundTripperHandlerContextIsItsOwn(t *testing.T) {
	type key struct{}
	var handlerCtx context.Context
	var sawValue bool
	rt := &RoundTripper{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlerCtx = r.Context()
		sawValue = r.Context().Value(key{}) != nil
	})}
	ctx := context.WithValue(context.Background(), key{}, "secret")
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:1/", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sawValue {
		t.Error("the handler saw a value of the client's context")
	}
	if handlerCtx.Err() == nil {
		t.Error("the handler's context is still live after the round trip")
	}
	if resp.StatusCode != http.StatusOK || resp.ContentLength != 0 {
		t.Errorf("a handler that writes nothing: HTTP %d, length %d; want 200 and 0", resp.StatusCode, resp.ContentLength)
	}
}

// countingBody is a request body that says whether it was read to the end
// and closed.
type countingBody struct {
	r      io.Reader
	eof    atomic.Bool
	closed atomic.Bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

func (b *countingBody) Close() error { b.closed.Store(true); return nil }

// The request body is read in full and closed, even when the handler
// reads none of it; the response body is a reader the client closes, and
// reading it after the request was cancelled fails.
func TestRoundTripperBodies(t *testing.T) {
	rt := &RoundTripper{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello")
	})}
	body := &countingBody{r: strings.NewReader(strings.Repeat("x", 100000))}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://127.0.0.1:1/", body)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if !body.eof.Load() || !body.closed.Load() {
		t.Errorf("request body read to the end: %v, closed: %v; want both", body.eof.Load(), body.closed.Load())
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want one sniffed from the body as net/http's server does", ct)
	}
	if resp.Header.Get("Date") == "" || resp.Header.Get("Content-Length") != "5" {
		t.Errorf("headers %v, want a Date and Content-Length 5", resp.Header)
	}
	cancel()
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, context.Canceled) {
		t.Errorf("reading the body after the request was cancelled: %v, want context.Canceled", err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// A handler that panics, or aborts as a dropped connection does, fails the
// round trip with an error like a closed connection's; the process lives.
func TestRoundTripperSurvivesPanics(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"panic": func(http.ResponseWriter, *http.Request) { panic("boom") },
		"abort": func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) },
		"abort mid-body": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "par")
			panic(http.ErrAbortHandler)
		},
	} {
		for _, inline := range []bool{false, true} {
			req, _ := http.NewRequest("GET", "http://127.0.0.1:1/", nil)
			resp, err := (&RoundTripper{Handler: h, Inline: inline}).RoundTrip(req)
			if resp != nil {
				t.Errorf("%s (inline %v): got a response, HTTP %d", name, inline, resp.StatusCode)
			}
			if !errors.Is(err, ErrConnectionDropped) || !errors.Is(err, io.EOF) {
				t.Errorf("%s (inline %v): error %v, want ErrConnectionDropped (an EOF)", name, inline, err)
			}
		}
	}
	// The simulator's own dropped-connection fault goes the same way.
	s, err := New(Options{Origin: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	s.FailNth(EndpointGetSession, 1, Fault{Drop: true})
	hc := &http.Client{Transport: &RoundTripper{Handler: s}}
	if _, err := hc.Get("http://127.0.0.1:1/api/auth/get-session"); !errors.Is(err, io.EOF) {
		t.Errorf("a dropped get-session: %v, want an EOF", err)
	}
	resp, err := hc.Get("http://127.0.0.1:1/api/auth/get-session")
	if err != nil {
		t.Fatalf("the next get-session: %v", err)
	}
	resp.Body.Close()
}
