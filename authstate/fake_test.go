package authstate

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeBackend is a tiny in-memory Better Auth for engine unit tests. The
// scenario and integration tests run the engine against the simulator and
// a real server; this one exists to hold responses in exact orders.
type fakeBackend struct {
	mu        sync.Mutex
	clock     Clock
	n         int
	cookie    string          // session id the cookie jar holds
	live      map[string]bool // sessions that exist server-side
	hold      bool
	held      []chan struct{}
	notify    chan struct{}
	failNext  []error
	tokenReqs int
	// repeat makes the token endpoint answer with the last token again,
	// as Better Auth does within the same second.
	repeat bool
	last   *Token
	// tamper, if set, changes each token the server mints.
	tamper func(*Token)
	// hangSession makes get-session wait until its caller gives up.
	hangSession bool
	// sessionGate and queryGate, when set, make get-session and the
	// Convex query wait until they are closed.
	sessionGate, queryGate chan struct{}
}

func newFakeBackend(clock Clock) *fakeBackend {
	return &fakeBackend{clock: clock, live: map[string]bool{}, notify: make(chan struct{}, 1)}
}

func (b *fakeBackend) poke() {
	select {
	case b.notify <- struct{}{}:
	default:
	}
}

func (b *fakeBackend) newSession() string {
	b.n++
	id := fmt.Sprintf("sess-%d", b.n)
	b.live[id] = true
	b.cookie = id
	return id
}

func (b *fakeBackend) FetchToken(ctx context.Context) (*Token, error) {
	b.mu.Lock()
	b.tokenReqs++
	var tok *Token
	var err error
	if len(b.failNext) > 0 {
		err = b.failNext[0]
		b.failNext = b.failNext[1:]
	} else if b.repeat && b.last != nil {
		tok = b.last
	} else if b.live[b.cookie] {
		now := b.clock.Now()
		tok = &Token{Raw: fmt.Sprintf("jwt-%s-%d", b.cookie, b.tokenReqs), SessionID: b.cookie, IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute), Verified: true}
		if b.tamper != nil {
			b.tamper(tok)
		}
		b.last = tok
	} else {
		err = statusErr(401)
	}
	var gate chan struct{}
	if b.hold {
		gate = make(chan struct{})
		b.held = append(b.held, gate)
	}
	b.mu.Unlock()
	if gate != nil {
		b.poke()
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return tok, err
}

func (b *fakeBackend) GetSession(ctx context.Context) (*Session, error) {
	b.mu.Lock()
	if g := b.sessionGate; g != nil {
		b.mu.Unlock()
		<-g
		b.mu.Lock()
	}
	if b.hangSession {
		b.mu.Unlock()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	defer b.mu.Unlock()
	if !b.live[b.cookie] {
		return nil, nil
	}
	return &Session{ID: b.cookie, UserID: "u1", ExpiresAt: b.clock.Now().Add(7 * 24 * time.Hour)}, nil
}

func (b *fakeBackend) ChangePassword(ctx context.Context, revoke bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.live[b.cookie] {
		return statusErr(401)
	}
	if revoke {
		b.live = map[string]bool{}
		b.newSession()
	}
	return nil
}

func (b *fakeBackend) SignIn(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.newSession()
	return nil
}

func (b *fakeBackend) SignOut(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.live, b.cookie)
	b.cookie = ""
	return nil
}

func (b *fakeBackend) Held() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.held)
}

// release lets the held response at index i go (0 = oldest, -1 = latest).
func (b *fakeBackend) release(i int) {
	b.mu.Lock()
	if i < 0 {
		i = len(b.held) - 1
	}
	g := b.held[i]
	b.held = append(b.held[:i], b.held[i+1:]...)
	b.mu.Unlock()
	close(g)
	b.poke()
}

type statusErr int

func (s statusErr) Error() string   { return fmt.Sprintf("status %d", int(s)) }
func (s statusErr) Transient() bool { return s >= 500 }

type netErr struct{}

func (netErr) Error() string   { return "connection reset" }
func (netErr) Transient() bool { return true }

// harness runs an engine on a fake backend with virtual time.
type harness struct {
	t     *testing.T
	b     *fakeBackend
	e     *Engine
	clock *FakeClock
}

func newHarness(t *testing.T, policy string, initialToken bool) *harness {
	t.Helper()
	return startHarness(t, func(b *fakeBackend) Config {
		cfg := Config{Policy: policy}
		if initialToken {
			init, err := b.FetchToken(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			b.tokenReqs = 0
			cfg.InitialToken = init
		}
		return cfg
	})
}

// startHarness signs a fake client in, builds an engine from the config
// configure returns (backend, clock and log size are filled in), starts it
// and waits until it is idle.
func startHarness(t *testing.T, configure func(b *fakeBackend) Config) *harness {
	t.Helper()
	clock := NewFakeClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	b := newFakeBackend(clock)
	b.newSession()
	return startOn(t, b, b, configure(b))
}

// startOn builds an engine from cfg on the backend be (the fake b, or a
// wrapper of it), with b's clock and a log of 4096, starts it and waits
// until it is idle. Every engine test is also a test of the fold: after
// each message the fold of the event stream must say what the engine
// holds.
func startOn(t *testing.T, b *fakeBackend, be Backend, cfg Config) *harness {
	t.Helper()
	clock := b.clock.(*FakeClock)
	cfg.Backend, cfg.Clock, cfg.LogSize = be, clock, 4096
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, b: b, e: e, clock: clock}
	e.CheckFold()
	e.Start(context.Background())
	t.Cleanup(func() {
		e.Stop()
		if err := e.FoldErr(); err != nil {
			t.Errorf("views are folds: %v", err)
		}
	})
	h.settle()
	return h
}

func (h *harness) settle() {
	h.t.Helper()
	// Only a safety net against a hang: settling runs on the fake clock, and
	// a loaded machine (the race detector, the fold check) may need long.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := h.e.Settle(ctx, h.b.Held, h.b.notify, h.clock); err != nil {
		h.t.Fatalf("settle: %v", err)
	}
}

func (h *harness) fetch(name string, force bool) {
	h.e.Fetch(name, force, "test")
	h.settle()
}

func (h *harness) rotate() {
	h.e.Do(ActionChangePassword, false)
	h.settle()
	h.e.Observe("test")
	h.settle()
}

func (h *harness) call(name string) Call {
	h.t.Helper()
	c, ok := h.e.Snapshot().Call(name)
	if !ok || !c.Done {
		h.t.Fatalf("call %s: not done (%+v)", name, c)
	}
	return c
}

// sessionOf returns the label of the session a call's token is bound to.
func (h *harness) sessionOf(name string) string {
	c := h.call(name)
	if c.Token == nil {
		return "none"
	}
	return h.e.Snapshot().Label(c.Token.SessionID)
}

func (h *harness) violations() []string {
	var out []string
	for _, v := range h.e.Snapshot().Violations {
		out = append(out, v.Cause)
	}
	return out
}

// do runs f on the loop as if it were an input, and waits for it: tests use
// it to put the engine into states no input sequence reaches directly.
func (e *Engine) do(f func()) error { return e.run(message{fn: f}) }
