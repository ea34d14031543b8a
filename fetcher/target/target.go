// Package target opens scenario clients against the built-in simulator or a
// real Better Auth deployment.
package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher"
	"github.com/authscope/authscope/fetcher/authsim"
)

// Sim starts a fresh simulator for every Open, so runs never share server
// state. By default the client reaches it in-process, through an
// authsim.RoundTripper: the same requests and answers as over HTTP, without
// a socket. With TCP set, the simulator listens on a loopback port and the
// client dials it, as `authscope sim` and the TUI do.
type Sim struct {
	Alg      string        // EdDSA (default) or RS256
	TokenTTL time.Duration // default 900 s
	Timeout  time.Duration // per call
	// PreserveSession starts every simulator with
	// authsim.Options.PreserveSession (better-auth PR #9345).
	PreserveSession bool
	// TCP serves the simulator on a loopback socket rather than in-process.
	TCP bool
}

// InProcessOrigin is the origin of an in-process simulator: a loopback
// address, like a socket's, on a port nothing listens on (nothing dials it).
const InProcessOrigin = "http://127.0.0.1:1"

var (
	_ scenario.ClockedTarget    = (*Sim)(nil)
	_ scenario.SwitchableTarget = (*Sim)(nil)
	_ scenario.SignedInTarget   = (*Sim)(nil)
)

// Name is "sim".
func (s *Sim) Name() string { return "sim" }

// Open starts a simulator and returns a client of it holding the default
// user's credentials. Closing the client stops the simulator.
func (s *Sim) Open(ctx context.Context) (scenario.Client, error) { return s.OpenClocked(ctx, nil) }

// OpenClocked is Open with the simulator, and the client's checks of the
// tokens it mints, on the clock now (nil: the wall clock). A scenario run
// passes its virtual clock.
func (s *Sim) OpenClocked(ctx context.Context, now func() time.Time) (scenario.Client, error) {
	return s.OpenSwitched(ctx, now, scenario.ServerSwitches{})
}

// OpenSwitched is OpenClocked with the simulator's switches: those of sw,
// and PreserveSession if s has it on.
func (s *Sim) OpenSwitched(ctx context.Context, now func() time.Time, sw scenario.ServerSwitches) (scenario.Client, error) {
	opts := s.options(now, sw)
	var (
		srv    *authsim.Server
		origin string
		stop   func()
		rt     http.RoundTripper
		err    error
	)
	if s.TCP {
		srv, origin, stop, err = StartSim(opts)
	} else {
		srv, origin, stop, rt, err = startInProcess(opts)
	}
	if err != nil {
		return nil, err
	}
	b, err := s.backend(srv, origin, rt, now)
	if err != nil {
		stop()
		return nil, err
	}
	b.OnClose(stop)
	return &simClient{record(b), srv}, nil
}

// simClient is a client of a simulator, whose referee can look at the
// simulator instead of asking it.
type simClient struct {
	*recorder
	srv *authsim.Server
}

var _ scenario.Referee = (*simClient)(nil)

// ServerSession is the session the client's cookies hold on the simulator
// now, looked up without a request (see authsim.Server.SessionFor).
func (c *simClient) ServerSession(context.Context) (string, error) {
	return c.srv.SessionFor(c.CookieHeader()), nil
}

func (s *Sim) options(now func() time.Time, sw scenario.ServerSwitches) authsim.Options {
	return authsim.Options{
		Alg: s.Alg, TokenTTL: s.TokenTTL, Now: now, PreserveSession: s.PreserveSession || sw.PreserveSession,
		// A run on virtual time against a simulator only it can reach
		// is deterministic to the byte: its ids and tokens too.
		Deterministic: now != nil && !s.TCP,
	}
}

// backend is a client of srv at origin, holding the default user's
// credentials.
func (s *Sim) backend(srv *authsim.Server, origin string, rt http.RoundTripper, now func() time.Time) (*fetcher.Backend, error) {
	email, password := srv.DefaultUser()
	return fetcher.NewBackend(fetcher.BackendOptions{
		Transport: rt,
		BaseURL:   origin + "/api/auth",
		Email:     email,
		Password:  password,
		Issuer:    origin,
		Timeout:   s.Timeout,
		ConvexURL: origin,
		Now:       now,
	})
}

// OpenSignedIn is OpenSwitched followed by a sign-in. On virtual time and
// in-process, the simulator and the client start from a copy of a pair
// that signed in once at the same instant (authsim.Server.Fork, and the
// cookies that sign-in's answer set): the same state, byte for byte, as a
// sign-in of their own would leave, without its cost in every run.
func (s *Sim) OpenSignedIn(ctx context.Context, now func() time.Time, sw scenario.ServerSwitches) (scenario.Client, error) {
	if now == nil || s.TCP {
		c, err := s.OpenSwitched(ctx, now, sw)
		if err != nil {
			return nil, err
		}
		if err := c.SignIn(ctx); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	opts := s.options(now, sw)
	t, err := signedInTemplate(ctx, s, opts)
	if err != nil {
		return nil, err
	}
	srv := t.srv.Fork(now)
	b, err := s.backend(srv, InProcessOrigin, &authsim.RoundTripper{Handler: srv, Inline: true}, now)
	if err != nil {
		return nil, err
	}
	for _, set := range t.cookies {
		b.SetCookies(set.url, set.cookies)
	}
	return &simClient{record(b), srv}, nil
}

// template is a simulator right after the default user signed in, and the
// cookies the answers to its client set, in order.
type template struct {
	srv     *authsim.Server
	cookies []setCookies
}

type setCookies struct {
	url     *url.URL
	cookies []*http.Cookie
}

// templateKey is what a signed-in state depends on: the simulator's
// options, and the instant of the sign-in.
type templateKey struct {
	alg      string
	ttl      time.Duration
	preserve bool
	timeout  time.Duration
	at       time.Time
}

// templates holds the signed-in states made so far (a few: one per
// instant a batch of runs starts at, and per switch).
var templates struct {
	sync.Mutex
	m map[templateKey]*template
}

const maxTemplates = 16

// signedInTemplate returns the signed-in state for opts at opts.Now(),
// signing in once to make it.
func signedInTemplate(ctx context.Context, s *Sim, opts authsim.Options) (*template, error) {
	at := opts.Now()
	key := templateKey{alg: opts.Alg, ttl: opts.TokenTTL, preserve: opts.PreserveSession, timeout: s.Timeout, at: at}
	templates.Lock()
	defer templates.Unlock()
	if t := templates.m[key]; t != nil {
		return t, nil
	}
	opts.Now = func() time.Time { return at }
	srv, origin, _, rt, err := startInProcess(opts)
	if err != nil {
		return nil, err
	}
	t := &template{srv: srv}
	capture := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		if resp != nil {
			if set := resp.Cookies(); len(set) > 0 {
				t.cookies = append(t.cookies, setCookies{url: req.URL, cookies: set})
			}
		}
		return resp, err
	})
	b, err := s.backend(srv, origin, capture, opts.Now)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	if err := b.SignIn(ctx); err != nil {
		return nil, err
	}
	if templates.m == nil || len(templates.m) >= maxTemplates {
		templates.m = map[templateKey]*template{}
	}
	templates.m[key] = t
	return t, nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// startInProcess builds a simulator reached through an
// authsim.RoundTripper at InProcessOrigin.
func startInProcess(opts authsim.Options) (*authsim.Server, string, func(), http.RoundTripper, error) {
	opts.Origin = InProcessOrigin
	srv, err := authsim.New(opts)
	if err != nil {
		return nil, "", nil, nil, err
	}
	return srv, InProcessOrigin, func() {}, &authsim.RoundTripper{Handler: srv, Inline: true}, nil
}

// StartSim serves a simulator on 127.0.0.1 with a free port. opts.Origin is
// set to the address it listens on. stop shuts it down.
func StartSim(opts authsim.Options) (srv *authsim.Server, origin string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	origin = "http://" + ln.Addr().String()
	opts.Origin = origin
	srv, err = authsim.New(opts)
	if err != nil {
		ln.Close()
		return nil, "", nil, err
	}
	conns := &connTracker{busy: map[net.Conn]bool{}, changed: make(chan struct{})}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ConnState: conns.track}
	go hs.Serve(ln)
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		// Shutdown polls until no connection is busy, 1, 2, 4 … ms apart.
		// A client that has its last answer and has closed its connections
		// can still find the server's side busy for a few microseconds, until
		// its goroutine marks it idle or sees it closed; that would cost the
		// run a poll or more on the wall clock. Wait for that, woken by the
		// connections' state changes, so that Shutdown finds them idle.
		conns.waitNotBusy(ctx)
		if hs.Shutdown(ctx) != nil {
			hs.Close()
		}
	}
	return srv, origin, stop, nil
}

// connTracker knows a server's busy connections: new (no request read yet)
// or active (serving one), the states http.Server.Shutdown waits out.
type connTracker struct {
	mu      sync.Mutex
	busy    map[net.Conn]bool
	changed chan struct{} // closed and replaced when busy shrinks
}

func (t *connTracker) track(c net.Conn, st http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st == http.StateNew || st == http.StateActive {
		t.busy[c] = true
		return
	}
	if t.busy[c] {
		delete(t.busy, c)
		close(t.changed)
		t.changed = make(chan struct{})
	}
}

// waitNotBusy returns when no connection is busy or ctx is done.
func (t *connTracker) waitNotBusy(ctx context.Context) {
	for {
		t.mu.Lock()
		n, changed := len(t.busy), t.changed
		t.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

// URL is a real Better Auth deployment.
type URL struct {
	BaseURL  string // e.g. https://example.com/api/auth
	Email    string
	Password string
	Timeout  time.Duration
	// ConvexURL is the Convex deployment the consumer model queries.
	ConvexURL string
}

// Name is the base URL.
func (u *URL) Name() string { return u.BaseURL }

// Open returns a client with an empty cookie jar.
func (u *URL) Open(ctx context.Context) (scenario.Client, error) {
	if u.Email == "" || u.Password == "" {
		return nil, errors.New("a real target needs an email and a password (--email/--password or AUTHSCOPE_EMAIL/AUTHSCOPE_PASSWORD)")
	}
	b, err := fetcher.NewBackend(fetcher.BackendOptions{BaseURL: u.BaseURL, Email: u.Email, Password: u.Password, Timeout: u.Timeout, ConvexURL: u.ConvexURL})
	if err != nil {
		return nil, err
	}
	return record(b), nil
}

// NormalizeBaseURL accepts an origin or a base URL and returns the Better
// Auth base URL: an origin with no path gets /api/auth.
func NormalizeBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url.Error quotes the URL, password included: say why without it.
		why := err.Error()
		if ue, ok := err.(*url.Error); ok {
			why = ue.Err.Error()
		}
		if RedactURL(raw) != raw {
			why = "not a valid URL"
		}
		return "", fmt.Errorf("target %q: %s", RedactURL(raw), why)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("target %q: want an http(s) URL such as http://localhost:3000/api/auth", RedactURL(raw))
	}
	if u.User != nil {
		// The client refuses it too, but its error would quote the URL.
		return "", fmt.Errorf("target %s: no user or password in the URL (give --email and --password, or AUTHSCOPE_EMAIL and AUTHSCOPE_PASSWORD)", u.Redacted())
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/api/auth"
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u.String(), nil
}
