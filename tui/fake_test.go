package tui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
)

// t0 is the virtual start of every deterministic test.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeServer is a tiny in-memory Better Auth server with a Convex-like
// query, shared by the devices of a test: a password change on one device
// ends the sessions of the others.
type fakeServer struct {
	mu    sync.Mutex
	clock authstate.Clock
	n     int
	live  map[string]time.Time // session id → created
}

func newFakeServer(clock authstate.Clock) *fakeServer {
	return &fakeServer{clock: clock, live: map[string]time.Time{}}
}

// newSessionLocked creates a session and returns its id (the cookie).
func (s *fakeServer) newSessionLocked() string {
	s.n++
	id := fmt.Sprintf("sess%02dAbCdEfGhIjKlMnOpQrStUv", s.n)
	s.live[id] = s.clock.Now()
	return id
}

// fakeBackend is one client of a fakeServer, with its own cookie and a
// client transport that can hold token responses, so that tests and
// goldens get exact, repeatable engine states.
type fakeBackend struct {
	*fakeServer // its mu guards the fields below too
	cookie      string
	holding     string
	held        []chan struct{}
	heldNames   []string // what held holds, as fetcher.Backend names it
	notify      chan struct{}
	unannounced int    // held, but the notify hook has not run yet
	onHeld      func() // SetNotify's
	tokens      int
	changes     int
	queries     int
	latency     map[string]time.Duration
	failNext    error
}

// newFakeClient is another device of the same server.
func newFakeClient(srv *fakeServer) *fakeBackend {
	return &fakeBackend{fakeServer: srv, notify: make(chan struct{}, 1), holding: "none", latency: map[string]time.Duration{}}
}

func (b *fakeBackend) poke() {
	select {
	case b.notify <- struct{}{}:
	default:
	}
	b.mu.Lock()
	f := b.onHeld
	b.mu.Unlock()
	if f != nil {
		f()
	}
}

// SetNotify sets f, called (without the lock) when the held set changes.
func (b *fakeBackend) SetNotify(f func()) {
	b.mu.Lock()
	b.onHeld = f
	b.mu.Unlock()
}

func (b *fakeBackend) HeldList() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.heldNames...)
}

func (b *fakeBackend) newSessionLocked() { b.cookie = b.fakeServer.newSessionLocked() }

// Query is the Convex deployment: getAuthUser fails with Unauthenticated
// without an identity or when the token's session is gone.
func (b *fakeBackend) Query(ctx context.Context, path string, t *authstate.Token) (authstate.QueryResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queries++
	switch {
	case t == nil:
		return authstate.QueryResult{Error: "Unauthenticated"}, nil
	case !b.clock.Now().Before(t.ExpiresAt):
		return authstate.QueryResult{AuthError: "token expired"}, nil
	case b.live[t.SessionID].IsZero():
		return authstate.QueryResult{Error: "Unauthenticated"}, nil
	}
	return authstate.QueryResult{Value: `{"email":"alice@example.com"}`}, nil
}

func (b *fakeBackend) FetchToken(ctx context.Context) (*authstate.Token, error) {
	b.mu.Lock()
	b.tokens++
	var tok *authstate.Token
	var err error
	switch {
	case b.failNext != nil:
		err, b.failNext = b.failNext, nil
	case !b.live[b.cookie].IsZero():
		now := b.clock.Now()
		tok = &authstate.Token{
			Raw:       fmt.Sprintf("eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzZXNzaW9uSWQiOiIl%s.c2lnbmF0dXJl%d", b.cookie, b.tokens),
			SessionID: b.cookie, Subject: "user01XyZuserIdLongEnough", Issuer: "http://127.0.0.1:3210", Audience: []string{"convex"},
			IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute), Verified: true,
		}
	default:
		err = statusErr(401)
	}
	var gate chan struct{}
	if b.holding == "token" {
		gate = make(chan struct{})
		b.held = append(b.held, gate)
		b.heldNames = append(b.heldNames, fmt.Sprintf("token response #%d", b.tokens))
		b.unannounced++
	}
	b.mu.Unlock()
	if gate != nil {
		// Held counts the item only once the notify hook has run, so a
		// settle that sees it held also finds the engine told (the TUI's
		// hook sends a HeldChanged input).
		b.poke()
		b.mu.Lock()
		b.unannounced--
		b.mu.Unlock()
		b.poke()
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return tok, err
}

func (b *fakeBackend) GetSession(ctx context.Context) (*authstate.Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	created, ok := b.live[b.cookie]
	if !ok {
		return nil, nil
	}
	return &authstate.Session{ID: b.cookie, UserID: "user01XyZuserIdLongEnough", Email: "alice@example.com", CreatedAt: created, ExpiresAt: created.Add(7 * 24 * time.Hour)}, nil
}

func (b *fakeBackend) ChangePassword(ctx context.Context, revoke bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.changes++
	if _, ok := b.live[b.cookie]; !ok {
		return statusErr(401)
	}
	if revoke {
		clear(b.live)
		b.newSessionLocked()
	}
	return nil
}

func (b *fakeBackend) SignIn(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.newSessionLocked()
	return nil
}

func (b *fakeBackend) SignOut(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.live, b.cookie)
	b.cookie = ""
	return nil
}

// Transport controls.

func (b *fakeBackend) Hold(what string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if what != "token" && what != "token_request" && what != "none" {
		return fmt.Errorf("cannot hold %q", what)
	}
	b.holding = what
	return nil
}

func (b *fakeBackend) Holding() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.holding
}

func (b *fakeBackend) Release(which string) int {
	b.mu.Lock()
	var gates []chan struct{}
	switch which {
	case "all":
		gates, b.held, b.heldNames = b.held, nil, nil
	case "oldest":
		if len(b.held) > 0 {
			gates, b.held, b.heldNames = b.held[:1], b.held[1:], b.heldNames[1:]
		}
	case "latest":
		if n := len(b.held); n > 0 {
			gates, b.held, b.heldNames = b.held[n-1:], b.held[:n-1], b.heldNames[:n-1]
		}
	}
	b.mu.Unlock()
	for _, g := range gates {
		close(g)
	}
	if len(gates) > 0 {
		b.poke()
	}
	return len(gates)
}

func (b *fakeBackend) Held() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.held) - b.unannounced
}

func (b *fakeBackend) SetLatency(endpoint string, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.latency[endpoint] = d
}

func (b *fakeBackend) Latency(endpoint string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.latency[endpoint]
}

func (b *fakeBackend) sessionID() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cookie
}

type statusErr int

func (s statusErr) Error() string   { return fmt.Sprintf("HTTP %d", int(s)) }
func (s statusErr) Transient() bool { return s >= 500 }

// rig is a model on engines on the fake server, in virtual time: b and
// eng are device 1; devs lists every device.
type rig struct {
	t     testing.TB
	clock *authstate.FakeClock
	b     *fakeBackend
	eng   *authstate.Engine
	devs  []rigDevice
	m     *Model
}

type rigDevice struct {
	b   *fakeBackend
	eng *authstate.Engine
	// clock is the device's own clock in a compare rig (nil: the rig's):
	// columns share nothing, and one shared virtual clock moved on to
	// fire one column's timer would stamp another's events at times that
	// depend on which loop ran first.
	clock *authstate.FakeClock
}

type rigOption func(*authstate.Config, *Options)

func realTarget(c *authstate.Config, o *Options) {
	o.RealTarget = true
	o.Target = "https://auth.example.com/api/auth"
}
func demo(c *authstate.Config, o *Options) { o.Demo = true }

// consumer turns on the Convex client model, querying the fake server.
func consumer(c *authstate.Config, o *Options) { c.Consumer = &authstate.ConsumerConfig{} }

func logSize(n int) rigOption {
	return func(c *authstate.Config, o *Options) { c.LogSize = n }
}

func newRig(t testing.TB, opts ...rigOption) *rig { return newRigN(t, 1, opts...) }

// rigColumns is a compare-mode rig: one device per column, each with its
// own server (so one column's rotation touches no other), running the
// column's policy; a name "pr329+pr83" turns PR #83 on in its Convex model.
func rigColumns(t testing.TB, names []string, opts ...rigOption) *rig {
	t.Helper()
	clock := authstate.NewFakeClock(t0)
	o := Options{Target: "sim 127.0.0.1:3210", Now: clock.Now, TickEvery: -1, NoColor: true, Columns: names}
	r := &rig{t: t, clock: clock}
	for i, name := range names {
		own := authstate.NewFakeClock(t0)
		b := newFakeClient(newFakeServer(own))
		if err := b.SignIn(context.Background()); err != nil {
			t.Fatal(err)
		}
		policy, rest, _ := strings.Cut(name, "+")
		cfg := authstate.Config{Backend: b, Policy: policy, Clock: own, LogSize: 4096}
		for _, f := range opts {
			f(&cfg, &o)
		}
		if cfg.Consumer != nil {
			cc := *cfg.Consumer
			cc.Backend, cc.PR83 = b, strings.Contains(rest, "pr83")
			cfg.Consumer = &cc
		}
		eng, err := authstate.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r.devs = append(r.devs, rigDevice{b: b, eng: eng, clock: own})
		if i == 0 {
			r.b, r.eng = b, eng
		}
		o.Devices = append(o.Devices, Device{Engine: eng, Transport: b})
	}
	return r.start(o)
}

// start builds the model on o, starts the engines and settles them, on
// an 80x24 screen.
func (r *rig) start(o Options) *rig {
	r.m = New(o)
	for _, d := range r.devs {
		d.eng.Start(context.Background())
		r.t.Cleanup(d.eng.Stop)
	}
	r.settle()
	r.m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	return r
}

// advance moves virtual time on by d, on every clock of the rig.
func (r *rig) advance(d time.Duration) {
	r.clock.Advance(d)
	for _, dev := range r.devs {
		if dev.clock != nil {
			dev.clock.Advance(d)
		}
	}
}

// columnsStep presses keys in compare mode the way the program runs
// them: each action goes to every column, the columns settle (on the fake
// clock here), and the model hears that they did.
func (r *rig) columnsStep(keys ...string) {
	r.t.Helper()
	for _, k := range keys {
		r.press(k)
		r.settle()
		r.m.Update(settledMsg{})
		r.settle()
	}
	// The view's clock catches up with the latest column (settling moved
	// each column's clock on to its own timers), as the wall clock would.
	for _, d := range r.devs {
		if d.clock != nil && d.clock.Now().After(r.clock.Now()) {
			r.clock.Advance(d.clock.Now().Sub(r.clock.Now()))
		}
	}
}

// newRigN is a rig with n devices of one user, each signed in to its own
// session, all on one virtual clock.
func newRigN(t testing.TB, n int, opts ...rigOption) *rig {
	t.Helper()
	clock := authstate.NewFakeClock(t0)
	srv := newFakeServer(clock)
	o := Options{Target: "sim 127.0.0.1:3210", Now: clock.Now, TickEvery: -1, NoColor: true}
	r := &rig{t: t, clock: clock}
	for i := range n {
		b := newFakeClient(srv)
		if err := b.SignIn(context.Background()); err != nil {
			t.Fatal(err)
		}
		cfg := authstate.Config{Backend: b, Policy: "pr329", Clock: clock, LogSize: 4096}
		o.Transport = b
		for _, f := range opts {
			f(&cfg, &o)
		}
		if cfg.Consumer != nil {
			cc := *cfg.Consumer
			if cc.Backend == nil {
				cc.Backend = b
			}
			cfg.Consumer = &cc
		}
		eng, err := authstate.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r.devs = append(r.devs, rigDevice{b: b, eng: eng})
		if i == 0 {
			r.b, r.eng = b, eng
		}
		if o.Transport != nil {
			o.Devices = append(o.Devices, Device{Engine: eng, Transport: b})
		} else {
			o.Devices = append(o.Devices, Device{Engine: eng})
		}
	}
	if n == 1 {
		o.Engine, o.Transport = o.Devices[0].Engine, o.Devices[0].Transport
		o.Devices = nil
	}
	return r.start(o)
}

// settle waits until the engine is idle (moving virtual time on to fire
// signals), then hands every event it emitted to the model.
func (r *rig) settle() {
	r.t.Helper()
	// Only a safety net against a hang: settling runs on the fake clock, and
	// a loaded machine (the race detector, the fold check) may need long.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// One device's work can give another some (a revoked session), so
	// go round until a whole pass finds nothing to do.
	for {
		before := r.logged()
		for _, d := range r.devs {
			clock := r.clock
			if d.clock != nil {
				clock = d.clock
			}
			if err := d.eng.Settle(ctx, d.b.Held, d.b.notify, clock); err != nil {
				r.t.Fatalf("settle: %v", err)
			}
		}
		if r.logged() == before {
			break
		}
	}
	// A read on each loop: every input sent before it (a HeldChanged from
	// the transport's hook) has been applied, and its events published.
	for _, d := range r.devs {
		d.eng.Snapshot()
	}
	r.pump()
}

func (r *rig) logged() uint64 {
	var n uint64
	for _, d := range r.devs {
		n += d.eng.Log().Total()
	}
	return n
}

// pump delivers the events waiting in the subscriptions, as the bridge
// commands would.
func (r *rig) pump() {
	for i, d := range r.m.devs {
		batch, _ := d.sub.Take(0)
		if len(batch) > 0 {
			r.m.Update(eventsMsg{dev: i, events: batch})
		}
	}
}

// press sends one key, the way a terminal reports it.
func (r *rig) press(k string) tea.Cmd {
	r.t.Helper()
	_, cmd := r.m.Update(keyMsg(k))
	return cmd
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("keyMsg: " + k)
	}
	msg := tea.KeyPressMsg{Code: r[0], Text: k}
	if r[0] >= 'A' && r[0] <= 'Z' {
		msg = tea.KeyPressMsg{Code: r[0] + ('a' - 'A'), ShiftedCode: r[0], Mod: tea.ModShift, Text: k}
	}
	return msg
}

// screen is the view without styling.
func (r *rig) screen() string { return stripView(r.m) }
