package authstate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Config sets up an Engine.
type Config struct {
	Backend Backend
	// Policy is the token-cache behaviour: "v0.12", "pr329" or "hardened".
	Policy string
	// Clock defaults to the wall clock.
	Clock Clock
	// LogSize bounds the event log (default 10000).
	LogSize int
	// PollInterval starts the session poller; zero leaves it off.
	PollInterval time.Duration
	// InitialToken plays the SSR initialToken handed to the provider's
	// first mount.
	InitialToken *Token
	// SignalDelay is the delay between a successful sign-in, sign-out or
	// change-password and the session refetch it triggers (Better Auth
	// flips its session signal after a 10 ms timer). Negative means none.
	SignalDelay time.Duration
	// Checker overrides the invariant checker (tests).
	Checker *Checker
	// Consumer, if set, runs the Convex client model on top of the
	// provider: ConvexProviderWithAuth and the AuthenticationManager.
	Consumer *ConsumerConfig
	// Labels names sessions S1, S2, …; engines that share one label a
	// session alike on every device. Nil: the engine has its own.
	Labels *Labeller
}

// DefaultSignalDelay mirrors Better Auth's 10 ms setTimeout before the
// session signal flips.
const DefaultSignalDelay = 10 * time.Millisecond

// Engine owns all client state. Every change happens on its one loop
// goroutine, in a defined order, and is published as an Event. Network
// calls run in their own goroutines and post their completion back.
type Engine struct {
	clock   Clock
	backend Backend
	log     *EventLog
	broker  broker
	mailbox chan message
	cfg     Config

	sigMu  sync.Mutex
	sig    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	// Everything below is owned by the loop goroutine.
	seq        uint64
	policy     Policy
	view       sessionView
	labels     *Labeller
	gone       map[string]bool
	prov       *provider
	fetcherGen int
	nextFetch  int
	promises   map[int]*promise
	calls      map[string]*Call
	callOrder  []string
	nextCall   int
	inflight   int
	timed      int
	tokenReqs  int
	checker    *Checker
	violations []Event
	// violationCount counts every violation; violations keeps the first
	// maxViolations of them.
	violationCount int
	pollInterval   time.Duration
	pollTimer      Timer
	pollSeq        int
	poll           *inflightPoll // the get-session in flight, if any
	mounted        bool
	firstErr       error
	// skew is the server's clock minus the client's, estimated from the
	// iat of the latest verified token, as convex-js does for cached
	// tokens. A scenario's wait moves only the client's clock; the estimate
	// makes it behave like a tab that slept. A token that failed
	// verification teaches nothing: its iat could make an expired token
	// look fresh.
	skew time.Duration
	// raw keeps the raw JWTs of recent tokens by fingerprint, for viewers
	// that want to show one; events carry only the fingerprint.
	rawMu      sync.Mutex
	raw        map[string]string
	rawOrder   []string
	decoded    map[string]decodedJWT
	recent     *recentToken
	lastServed *Token
	consumer   *consumer
	// renderDirty asks for a render of the Convex provider once the
	// current message is handled, as React renders after the event.
	renderDirty bool
	flicker     flickerMeter
	// reads counts the read-only messages handled (tests use it to show
	// that a waiter does not spin).
	reads int
	// report is what the engine last told the fold (see fold_emit.go).
	report foldReport
}

// message is one input to the loop. A read only looks at the state, so it
// does not close the Changed channel: if it did, a waiter's own reads
// would wake it, and waiting would spin.
type message struct {
	apply func()
	read  bool
}

// New checks cfg and returns an engine that is not yet running.
func New(cfg Config) (*Engine, error) {
	if cfg.Backend == nil {
		return nil, errors.New("authstate: no backend")
	}
	if cfg.Policy == "" {
		cfg.Policy = "pr329"
	}
	pol, err := PolicyByName(cfg.Policy)
	if err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	if cfg.LogSize <= 0 {
		cfg.LogSize = 10000
	}
	if cfg.SignalDelay == 0 {
		cfg.SignalDelay = DefaultSignalDelay
	}
	chk := cfg.Checker
	if chk == nil {
		chk = NewChecker()
	}
	e := &Engine{
		clock:        cfg.Clock,
		backend:      cfg.Backend,
		log:          NewEventLog(cfg.LogSize),
		mailbox:      make(chan message, 256),
		cfg:          cfg,
		sig:          make(chan struct{}),
		done:         make(chan struct{}),
		policy:       pol,
		view:         sessionView{pending: true},
		labels:       cfg.Labels,
		gone:         make(map[string]bool),
		promises:     make(map[int]*promise),
		calls:        make(map[string]*Call),
		checker:      chk,
		pollInterval: cfg.PollInterval,
	}
	if e.labels == nil {
		e.labels = NewLabeller()
	}
	e.prov = &provider{gen: 1}
	if cfg.Consumer != nil {
		if cfg.Consumer.Backend == nil {
			return nil, errors.New("authstate: the Convex consumer needs a backend")
		}
		e.consumer = newConsumer(*cfg.Consumer)
	}
	return e, nil
}

// Start runs the loop until ctx is done or Stop is called, and makes the
// first observation of the session, after which the provider mounts.
func (e *Engine) Start(ctx context.Context) {
	e.ctx, e.cancel = context.WithCancel(ctx)
	go e.loop()
	e.post(func() {
		e.observe("mount")
		e.armPoll()
		e.armQueryTimer()
	})
}

// Stop ends the loop and cancels every call in flight.
func (e *Engine) Stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	<-e.done
}

// Log is the bounded event log.
func (e *Engine) Log() *EventLog { return e.log }

// Subscribe streams events to the caller. A slow subscriber misses events
// (counted by Dropped) rather than slowing the engine.
func (e *Engine) Subscribe(buf int) *Subscription { return e.broker.subscribe(buf) }

// Changed returns a channel that is closed the next time the engine
// finishes handling a message that may have changed its state. Reads
// (Snapshot, Err, the checks of Settle and Await) never close it.
func (e *Engine) Changed() <-chan struct{} {
	e.sigMu.Lock()
	defer e.sigMu.Unlock()
	return e.sig
}

func (e *Engine) loop() {
	defer close(e.done)
	defer e.broker.closeAll()
	for {
		select {
		case <-e.ctx.Done():
			return
		case m := <-e.mailbox:
			m.apply()
			if m.read {
				e.reads++
				continue
			}
			for e.renderDirty {
				e.renderDirty = false
				e.consumerRender()
			}
			e.endOfMessage()
			e.sigMu.Lock()
			close(e.sig)
			e.sig = make(chan struct{})
			e.sigMu.Unlock()
		}
	}
}

// post queues f to run on the loop. It gives up if the engine has stopped
// or was never started.
func (e *Engine) post(f func()) {
	if e.ctx == nil {
		return
	}
	select {
	case e.mailbox <- message{apply: f}:
	case <-e.ctx.Done():
	}
}

// do runs f on the loop and waits for it.
func (e *Engine) do(f func()) error { return e.run(message{apply: f}) }

// read runs f, which must not change the engine's state, on the loop and
// waits for it. Unlike do, it does not signal Changed.
func (e *Engine) read(f func()) error { return e.run(message{apply: f, read: true}) }

func (e *Engine) run(m message) error {
	if e.ctx == nil {
		return errors.New("authstate: the engine has not been started")
	}
	ran := make(chan struct{})
	f := m.apply
	m.apply = func() { f(); close(ran) }
	select {
	case e.mailbox <- m:
	case <-e.ctx.Done():
		return e.ctx.Err()
	}
	select {
	case <-ran:
		return nil
	case <-e.done:
		return context.Canceled
	}
}

// ---- commands (safe from any goroutine) ----

// Fetch calls fetchAccessToken({forceRefreshToken: force}) on the current
// fetcher without waiting. name identifies the call for Await and
// expectations; an empty name gets one assigned. It returns the name.
func (e *Engine) Fetch(name string, force bool, cause string) string {
	res := make(chan string, 1)
	if e.ctx == nil {
		return name
	}
	e.post(func() { res <- e.fetch(name, force, cause).Name })
	select {
	case n := <-res:
		return n
	case <-e.ctx.Done():
		return name
	}
}

// RerunQuery asks the Convex deployment to run the subscribed query again,
// as its reactivity does when data changes. A no-op without the consumer.
func (e *Engine) RerunQuery(reason string) { e.post(func() { e.rerunQuery(reason) }) }

// Observe polls the session now (what a session signal, focus or poll does).
func (e *Engine) Observe(cause string) { e.post(func() { e.observe(cause) }) }

// Action is a server-side change the client makes.
type Action int

const (
	ActionSignIn Action = iota + 1
	ActionSignOut
	// ActionChangePassword changes the password to itself with
	// revokeOtherSessions: the caller's session rotates.
	ActionChangePassword
	// ActionChangePasswordKeep changes the password without revoking
	// sessions.
	ActionChangePasswordKeep
)

func (a Action) String() string {
	switch a {
	case ActionSignIn:
		return "sign-in"
	case ActionSignOut:
		return "sign-out"
	case ActionChangePassword:
		return "change-password (revokeOtherSessions)"
	case ActionChangePasswordKeep:
		return "change-password"
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// Do starts a server action. With signal, a successful action is followed
// by a session observation, as Better Auth's session signal does.
func (e *Engine) Do(a Action, signal bool) { e.post(func() { e.act(a, signal) }) }

// SetPolicy switches the token-cache policy live. The provider remounts:
// its cache and pending slot start empty, as after a reload.
func (e *Engine) SetPolicy(name string) error {
	pol, err := PolicyByName(name)
	if err != nil {
		return err
	}
	e.post(func() {
		old := e.policy.Name()
		e.policy = pol
		e.remount()
		e.emit(Event{Kind: KindPolicyChanged, From: old, Detail: fmt.Sprintf("policy %s → %s; provider remounted with an empty cache", old, pol.Name())})
	})
	return nil
}

// SetPollInterval changes the session poll interval; zero stops polling.
func (e *Engine) SetPollInterval(d time.Duration) {
	e.post(func() {
		e.pollInterval = d
		e.emit(Event{Kind: KindPollInterval, Interval: d})
		e.armPoll()
	})
}

// Snapshot copies the engine's state.
func (e *Engine) Snapshot() Snapshot {
	var s Snapshot
	if err := e.read(func() { s = e.snapshot() }); err != nil {
		s.Stopped = true
	}
	return s
}

// Await waits until every named call has returned, or ctx ends. It wakes
// only when the engine's state changes.
func (e *Engine) Await(ctx context.Context, names ...string) error {
	for {
		ch := e.Changed()
		s := e.Snapshot()
		if s.Stopped {
			return errors.New("engine stopped")
		}
		missing := firstMissing(s, names)
		if missing == "" {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return notReturned(s, missing)
		}
	}
}

// Returned checks, without waiting, that every named call has returned.
// After Settle this is the whole of an await: a settled engine has nothing
// left to do, so a call that has not returned waits on something held in
// the transport, and only a release can free it. The error names the first
// such call and the request it waits on.
func (e *Engine) Returned(names ...string) error {
	s := e.Snapshot()
	if s.Stopped {
		return errors.New("engine stopped")
	}
	if missing := firstMissing(s, names); missing != "" {
		return notReturned(s, missing)
	}
	return nil
}

func firstMissing(s Snapshot, names []string) string {
	for _, n := range names {
		if c, ok := s.Call(n); !ok || !c.Done {
			return n
		}
	}
	return ""
}

func notReturned(s Snapshot, name string) error {
	return fmt.Errorf("fetch %q has not returned: %s", name, whyWaiting(s, name))
}

func whyWaiting(s Snapshot, name string) string {
	c, ok := s.Call(name)
	if !ok {
		return "no such fetch was started"
	}
	for _, f := range s.InFlight {
		if f.ID == c.Fetch {
			return fmt.Sprintf("it is waiting on request #%d, %s", f.ID, f.State)
		}
	}
	return "it is still pending"
}

// ---- loop-side implementation ----

func (e *Engine) now() time.Time { return e.clock.Now() }

// serverNow is the client's estimate of the server's clock.
func (e *Engine) serverNow() time.Time { return e.now().Add(e.skew) }

func (e *Engine) learnSkew(t *Token) {
	if t != nil && t.Verified && !t.IssuedAt.IsZero() {
		e.skew = t.IssuedAt.Sub(e.now())
	}
}

func (e *Engine) emit(ev Event) {
	if !ev.Kind.Quiet() {
		e.seq++
	}
	ev.Seq = e.seq
	if ev.At.IsZero() {
		ev.At = e.now()
	}
	if ev.Policy == "" {
		ev.Policy = e.policy.Name()
	}
	if ev.Kind.Quiet() {
		e.broker.publish(ev)
		return
	}
	e.log.append(ev)
	e.broker.publish(ev)
	if ev.Kind == KindViolation {
		e.violationCount++
		if len(e.violations) < maxViolations {
			e.violations = append(e.violations, ev)
		}
		return
	}
	for _, v := range e.checker.Observe(ev) {
		e.emit(v)
	}
}

// label names a session id S1, S2, … in the order the client (or, with a
// shared Labeller, any device) first sees it.
func (e *Engine) label(id string) string { return e.labels.Label(id) }

// maxRaw bounds how many raw tokens RawToken can still find.
const maxRaw = 64

func (e *Engine) remember(t *Token) (string, decodedJWT) {
	e.rawMu.Lock()
	defer e.rawMu.Unlock()
	if r := e.recent; r != nil && r.t == t {
		// The same token again (a cached one served): no hashing.
		return r.fp, r.dec
	}
	fp := t.Fingerprint()
	if e.raw == nil {
		e.raw = make(map[string]string)
		e.decoded = make(map[string]decodedJWT)
	}
	if _, ok := e.raw[fp]; ok {
		dec := e.decoded[fp]
		e.recent = &recentToken{t: t, fp: fp, dec: dec}
		return fp, dec
	}
	dec := decodeJWT(t.Raw)
	e.raw[fp] = t.Raw
	e.decoded[fp] = dec
	e.recent = &recentToken{t: t, fp: fp, dec: dec}
	e.rawOrder = append(e.rawOrder, fp)
	if len(e.rawOrder) > maxRaw {
		delete(e.raw, e.rawOrder[0])
		delete(e.decoded, e.rawOrder[0])
		e.rawOrder = e.rawOrder[1:]
	}
	return fp, dec
}

// RawToken returns the raw JWT behind a fingerprint seen in an event, if
// it is among the most recent ones. Showing it is the caller's choice;
// exports should not.
func (e *Engine) RawToken(fingerprint string) (string, bool) {
	e.rawMu.Lock()
	defer e.rawMu.Unlock()
	r, ok := e.raw[fingerprint]
	return r, ok
}

func (e *Engine) tokenInfo(t *Token) *TokenInfo {
	if t == nil {
		return nil
	}
	fp, dec := e.remember(t)
	return &TokenInfo{
		Fingerprint: fp,
		Session:     e.label(t.SessionID),
		SessionID:   t.SessionID,
		IssuedAt:    t.IssuedAt,
		ExpiresAt:   t.ExpiresAt,
		Verified:    t.Verified,
		Problem:     t.Problem,
		Subject:     t.Subject,
		Issuer:      t.Issuer,
		Audience:    t.Audience,
		Header:      dec.header,
		Claims:      dec.claims,
	}
}

// stale says why t should not be used now, or "" if it is fine.
func (e *Engine) stale(t *Token) string {
	if t == nil {
		return ""
	}
	cur := e.view.id()
	switch {
	case e.gone[t.SessionID]:
		return fmt.Sprintf("bound to %s, which has ended", e.label(t.SessionID))
	case cur == "":
		return fmt.Sprintf("bound to %s, but the client has no session", e.label(t.SessionID))
	case t.SessionID != cur:
		return fmt.Sprintf("bound to %s, current session is %s", e.label(t.SessionID), e.label(cur))
	case t.ExpiredAt(e.serverNow(), 0):
		return "expired"
	}
	return ""
}

func (e *Engine) remount() {
	e.prov = &provider{gen: e.prov.gen + 1, lastSessionID: e.view.id()}
	e.emit(Event{Kind: KindCacheCleared, Reason: "provider remounted", Effect: "remount"})
}

// start runs fn in its own goroutine; fn reports back through finish. The
// engine counts it as in flight until then.
// The call's context carries a Handoff, marked taken once fn has queued its
// result on the loop (or given up), so that a transport releasing held
// responses one after another hands them to the loop in order.
func (e *Engine) start(ctx context.Context, fn func(ctx context.Context)) {
	e.inflight++
	ctx, h := WithHandoff(ctx)
	go func() {
		defer h.Taken()
		fn(ctx)
	}()
}

func (e *Engine) finish(f func()) {
	e.post(func() {
		e.inflight--
		f()
	})
}

// after runs f on the loop once d has passed on the engine clock. The engine
// counts it as pending work until then, so a scenario does not settle while
// a retry or a signal is still due.
func (e *Engine) after(d time.Duration, f func()) {
	e.timed++
	e.clock.AfterFunc(d, func() {
		e.post(func() {
			e.timed--
			f()
		})
	})
}

func (e *Engine) act(a Action, signal bool) {
	e.emit(Event{Kind: KindAction, Cause: a.String(), Detail: a.String() + " sent"})
	e.start(e.ctx, func(ctx context.Context) {
		var err error
		switch a {
		case ActionSignIn:
			err = e.backend.SignIn(ctx)
		case ActionSignOut:
			err = e.backend.SignOut(ctx)
		case ActionChangePassword:
			err = e.backend.ChangePassword(ctx, true)
		case ActionChangePasswordKeep:
			err = e.backend.ChangePassword(ctx, false)
		default:
			err = fmt.Errorf("unknown action %d", a)
		}
		e.finish(func() {
			if err != nil {
				e.emit(Event{Kind: KindActionFailed, Cause: a.String(), Reason: err.Error(), Detail: a.String() + " failed: " + err.Error()})
				e.noteErr(fmt.Errorf("%s: %w", a, err))
				return
			}
			e.emit(Event{Kind: KindAction, Cause: a.String(), Detail: a.String() + " done"})
			// The server changed data the subscribed query reads (sessions):
			// Convex re-runs it under the identity it holds.
			e.rerunQuery("server-side change after " + a.String())
			if signal {
				if e.cfg.SignalDelay > 0 {
					e.after(e.cfg.SignalDelay, func() { e.observe("session signal after " + a.String()) })
				} else {
					e.observe("session signal after " + a.String())
				}
			}
		})
	})
}

func (e *Engine) noteErr(err error) {
	if e.firstErr == nil {
		e.firstErr = err
	}
}

// Err is the first server action that failed, if any.
func (e *Engine) Err() error {
	var err error
	if e.read(func() { err = e.firstErr }) != nil {
		return nil
	}
	return err
}

// maxViolations bounds the violations a Snapshot carries.
const maxViolations = 64

// Settle waits until the engine has nothing left to do but wait: every
// network call it started has been handled or is held in the transport
// (held reports how many are), and no retry or session signal is due. With
// a FakeClock, virtual time is moved on to fire those. notify, if not nil,
// wakes the wait when the held count changes.
func (e *Engine) Settle(ctx context.Context, held func() int, notify <-chan struct{}, fc *FakeClock) error {
	if held == nil {
		held = func() int { return 0 }
	}
	for {
		changed := e.Changed()
		var busy, timed int
		if err := e.read(func() { busy, timed = e.inflight, e.timed }); err != nil {
			return errors.New("the engine stopped")
		}
		h := held()
		if busy == h {
			if timed == 0 {
				return nil
			}
			if fc != nil && fc.AdvanceToNext() {
				continue
			}
		}
		select {
		case <-changed:
		case <-notify:
		case <-ctx.Done():
			return fmt.Errorf("%d network call(s) still running, %d held, %d timer(s) due", busy-h, h, timed)
		}
	}
}
