package authstate

import (
	"context"
	"errors"
	"fmt"
	"sort"
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
	mailbox chan func()
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
	labels     map[string]string
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
	pollCancel     context.CancelFunc
	mounted        bool
	firstErr       error
	// skew is the server's clock minus the client's, estimated from the
	// iat of the latest token, as convex-js does for cached tokens. A
	// scenario's wait moves only the client's clock; the estimate makes it
	// behave like a tab that slept.
	skew time.Duration
	// raw keeps the raw JWTs of recent tokens by fingerprint, for viewers
	// that want to show one; events carry only the fingerprint.
	rawMu      sync.Mutex
	raw        map[string]string
	rawOrder   []string
	lastServed *Token
	consumer   *consumer
	// renderDirty asks for a render of the Convex provider once the
	// current message is handled, as React renders after the event.
	renderDirty bool
	flicker     flickerMeter
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
		mailbox:      make(chan func(), 256),
		cfg:          cfg,
		sig:          make(chan struct{}),
		done:         make(chan struct{}),
		policy:       pol,
		view:         sessionView{pending: true},
		labels:       make(map[string]string),
		gone:         make(map[string]bool),
		promises:     make(map[int]*promise),
		calls:        make(map[string]*Call),
		checker:      chk,
		pollInterval: cfg.PollInterval,
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
// finishes handling a message.
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
		case f := <-e.mailbox:
			f()
			for e.renderDirty {
				e.renderDirty = false
				e.consumerRender()
			}
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
	case e.mailbox <- f:
	case <-e.ctx.Done():
	}
}

// do runs f on the loop and waits for it.
func (e *Engine) do(f func()) error {
	if e.ctx == nil {
		return errors.New("authstate: the engine has not been started")
	}
	ran := make(chan struct{})
	select {
	case e.mailbox <- func() { f(); close(ran) }:
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
		e.armPoll()
	})
}

// Snapshot copies the engine's state.
func (e *Engine) Snapshot() Snapshot {
	var s Snapshot
	if err := e.do(func() { s = e.snapshot() }); err != nil {
		s.Stopped = true
	}
	return s
}

// Await waits until every named call has returned, or ctx ends.
func (e *Engine) Await(ctx context.Context, names ...string) error {
	for {
		ch := e.Changed()
		s := e.Snapshot()
		if s.Stopped {
			return errors.New("engine stopped")
		}
		missing := ""
		for _, n := range names {
			c, ok := s.Call(n)
			if !ok || !c.Done {
				missing = n
				break
			}
		}
		if missing == "" {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fetch %q has not returned: %s", missing, e.whyWaiting(s, missing))
		}
	}
}

func (e *Engine) whyWaiting(s Snapshot, name string) string {
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
	if t != nil && !t.IssuedAt.IsZero() {
		e.skew = t.IssuedAt.Sub(e.now())
	}
}

func (e *Engine) emit(ev Event) {
	e.seq++
	ev.Seq = e.seq
	if ev.At.IsZero() {
		ev.At = e.now()
	}
	if ev.Policy == "" {
		ev.Policy = e.policy.Name()
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

// label names a session id S1, S2, … in the order the client first sees it.
func (e *Engine) label(id string) string {
	if id == "" {
		return "none"
	}
	if l, ok := e.labels[id]; ok {
		return l
	}
	l := fmt.Sprintf("S%d", len(e.labels)+1)
	e.labels[id] = l
	return l
}

// maxRaw bounds how many raw tokens RawToken can still find.
const maxRaw = 64

func (e *Engine) remember(t *Token) {
	fp := t.Fingerprint()
	e.rawMu.Lock()
	defer e.rawMu.Unlock()
	if e.raw == nil {
		e.raw = make(map[string]string)
	}
	if _, ok := e.raw[fp]; ok {
		return
	}
	e.raw[fp] = t.Raw
	e.rawOrder = append(e.rawOrder, fp)
	if len(e.rawOrder) > maxRaw {
		delete(e.raw, e.rawOrder[0])
		e.rawOrder = e.rawOrder[1:]
	}
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
	e.remember(t)
	return &TokenInfo{
		Fingerprint: t.Fingerprint(),
		Session:     e.label(t.SessionID),
		SessionID:   t.SessionID,
		IssuedAt:    t.IssuedAt,
		ExpiresAt:   t.ExpiresAt,
		Verified:    t.Verified,
		Problem:     t.Problem,
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
	e.emit(Event{Kind: KindCacheCleared, Reason: "provider remounted"})
}

func (e *Engine) armPoll() {
	if e.pollTimer != nil {
		e.pollTimer.Stop()
		e.pollTimer = nil
	}
	if e.pollInterval <= 0 {
		return
	}
	d := e.pollInterval
	e.pollTimer = e.clock.AfterFunc(d, func() {
		e.post(func() {
			e.observe("poll")
			e.armPoll()
		})
	})
}

// start runs fn in its own goroutine; fn reports back through finish. The
// engine counts it as in flight until then.
func (e *Engine) start(ctx context.Context, fn func(ctx context.Context)) {
	e.inflight++
	go fn(ctx)
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

func (e *Engine) observe(cause string) {
	e.pollSeq++
	seq := e.pollSeq
	if e.pollCancel != nil {
		// Better Auth's useSession aborts the previous refetch: latest wins.
		e.pollCancel()
	}
	ctx, cancel := context.WithCancel(e.ctx)
	e.pollCancel = cancel
	e.start(ctx, func(ctx context.Context) {
		s, err := e.backend.GetSession(ctx)
		e.finish(func() {
			if seq != e.pollSeq {
				return
			}
			e.pollCancel = nil
			cancel()
			e.applyObservation(cause, s, err)
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
	if e.do(func() { err = e.firstErr }) != nil {
		return nil
	}
	return err
}

func (e *Engine) applyObservation(cause string, s *Session, err error) {
	now := e.now()
	e.view.lastPoll = now
	if err != nil {
		// Better Auth keeps the session data on any error but a 401 (which
		// the backend reports as a null session).
		e.view.lastResult = "failed: " + err.Error()
		e.emit(Event{Kind: KindPollFailed, Cause: cause, Reason: err.Error(), Detail: "get-session failed; keeping the last session: " + err.Error()})
		e.mountIfNeeded()
		return
	}
	prev := e.view.s
	wasPending := e.view.pending
	e.view.pending = false
	e.view.s = s
	ch := change(prev, s, wasPending)
	e.view.lastResult = ch.String()
	ev := Event{Cause: cause}
	if s != nil {
		ev.Session, ev.SessionID = e.label(s.ID), s.ID
		delete(e.gone, s.ID)
	}
	if prev != nil {
		ev.From = e.label(prev.ID)
	}
	switch ch {
	case ChangeRotated:
		e.gone[prev.ID] = true
		ev.Kind = KindSessionRotated
		ev.Detail = fmt.Sprintf("session rotated %s → %s", ev.From, ev.Session)
	case ChangeEnded:
		e.gone[prev.ID] = true
		ev.Kind = KindSessionEnded
		ev.Detail = fmt.Sprintf("session %s ended", ev.From)
	case ChangeRefreshed:
		ev.Kind = KindSessionRefreshed
		ev.Detail = fmt.Sprintf("session %s refreshed until %s", ev.Session, s.ExpiresAt.UTC().Format(time.RFC3339))
	default:
		ev.Kind = KindSessionObserved
		ev.Reason = ch.String()
		ev.Detail = "session " + ch.String()
		if s != nil {
			ev.Detail += " (" + ev.Session + ")"
		}
	}
	e.emit(ev)
	if (prev == nil) != (s == nil) || (prev != nil && prev.ID != s.ID) {
		// fetchAccessToken is a useCallback keyed on sessionId: a new
		// session id means a new fetcher identity.
		e.fetcherGen++
	}
	if !e.mountIfNeeded() {
		e.policy.sessionChanged(e, ch)
	}
	e.renderDirty = true
}

// mountIfNeeded mounts the provider after the first observation: the hook's
// first render sees that session and the SSR initial token.
func (e *Engine) mountIfNeeded() bool {
	if e.mounted {
		return false
	}
	e.mounted = true
	e.prov.lastSessionID = e.view.id()
	if t := e.cfg.InitialToken; t != nil {
		e.learnSkew(t)
		e.prov.firstRender = t
		e.prov.cache = t
		e.emit(Event{Kind: KindCacheSet, Token: e.tokenInfo(t), Reason: "initial token (SSR)", Detail: "provider mounted with an initial token"})
	}
	e.emit(Event{Kind: KindNote, Detail: fmt.Sprintf("provider mounted (policy %s, session %s)", e.policy.Name(), e.label(e.view.id()))})
	e.renderDirty = true
	return true
}

// fetch is fetchAccessToken on the current fetcher.
func (e *Engine) fetch(name string, force bool, cause string) *Call {
	return e.call(name, fetcher{gen: e.fetcherGen, sessionID: e.view.id()}, force, cause, nil)
}

// fetchFor calls fetchAccessToken on fetcher f (one that Convex captured
// earlier, perhaps) and hands the result to done.
func (e *Engine) fetchFor(f fetcher, force bool, cause string, done func(*Token)) {
	e.call("", f, force, cause, done)
}

func (e *Engine) call(name string, f fetcher, force bool, cause string, done func(*Token)) *Call {
	e.nextCall++
	if name == "" {
		name = fmt.Sprintf("call%d", e.nextCall)
	}
	c := &Call{Name: name, Force: force, Cause: cause, Fetcher: f.gen, StartedAt: e.now(), done: done}
	if _, dup := e.calls[name]; !dup {
		e.callOrder = append(e.callOrder, name)
	}
	e.calls[name] = c
	e.trimCalls()
	e.policy.fetch(e, c, f)
	return c
}

// maxViolations bounds the violations a Snapshot carries.
const maxViolations = 64

// MaxCalls bounds how many finished calls the engine remembers.
const MaxCalls = 256

// trimCalls forgets the oldest finished calls beyond MaxCalls, so a
// long-running session keeps bounded memory.
func (e *Engine) trimCalls() {
	if len(e.callOrder) <= MaxCalls {
		return
	}
	kept := e.callOrder[:0]
	excess := len(e.callOrder) - MaxCalls
	for _, n := range e.callOrder {
		if excess > 0 && e.calls[n].Done {
			delete(e.calls, n)
			excess--
			continue
		}
		kept = append(kept, n)
	}
	e.callOrder = kept
}

// serve returns tok to the caller c.
func (e *Engine) serve(c *Call, tok *Token, source string, fetchID int) {
	c.Done = true
	c.Token = tok
	c.Source = source
	c.Fetch = fetchID
	c.DoneAt = e.now()
	if tok != nil {
		e.lastServed = tok
	}
	ev := Event{Kind: KindTokenServed, Call: c.Name, Force: c.Force, Fetch: fetchID, Source: source, Token: e.tokenInfo(tok)}
	if tok == nil {
		ev.Detail = fmt.Sprintf("%s got no token", c.Name)
		if c.Err != "" {
			ev.Reason = c.Err
			ev.Detail += ": " + c.Err
		}
	} else {
		ev.Session = ev.Token.Session
		if why := e.stale(tok); why != "" {
			ev.Stale = true
			ev.Reason = why
		}
		ev.Detail = fmt.Sprintf("%s got %s's token from %s", c.Name, ev.Token.Session, source)
		if ev.Stale {
			ev.Detail += " (stale: " + ev.Reason + ")"
		}
	}
	e.emit(ev)
	if c.done != nil {
		done := c.done
		c.done = nil
		done(tok)
	}
}

// join makes c wait for the in-flight request p.
func (e *Engine) join(c *Call, p *promise) {
	c.Fetch = p.id
	c.Source = "joined"
	p.waiters = append(p.waiters, c)
	e.emit(Event{Kind: KindFetchJoined, Call: c.Name, Force: c.Force, Fetch: p.id, Session: e.label(p.sessionID), Detail: fmt.Sprintf("%s joined in-flight request #%d (sent under %s)", c.Name, p.id, e.label(p.sessionID))})
}

// startFetch sends a new token request on behalf of c.
func (e *Engine) startFetch(c *Call, f fetcher) *promise {
	e.nextFetch++
	p := &promise{id: e.nextFetch, force: c.Force, cause: c.Cause, sessionID: f.sessionID, fetcher: f.gen, provider: e.prov.gen, started: e.now()}
	p.waiters = []*Call{c}
	c.Fetch = p.id
	c.Source = "fetch"
	e.promises[p.id] = p
	e.send(p)
	return p
}

func (e *Engine) send(p *promise) {
	p.attempts++
	p.state = "in flight"
	e.tokenReqs++
	label := e.label(p.sessionID)
	detail := fmt.Sprintf("request #%d sent under %s", p.id, label)
	if p.attempts > 1 {
		detail += fmt.Sprintf(" (attempt %d)", p.attempts)
	}
	e.emit(Event{Kind: KindFetchStarted, Fetch: p.id, Force: p.force, Cause: p.cause, Session: label, SessionID: p.sessionID, Call: p.callNames(), Detail: detail})
	e.start(e.ctx, func(ctx context.Context) {
		tok, err := e.backend.FetchToken(ctx)
		e.finish(func() { e.completed(p, tok, err) })
	})
}

func (e *Engine) completed(p *promise, tok *Token, err error) {
	out := outcome{token: tok, err: err}
	if err == nil && tok == nil {
		out.err = errors.New("the server answered without a token")
	}
	if out.err != nil {
		e.emit(Event{Kind: KindFetchFailed, Fetch: p.id, Session: e.label(p.sessionID), Reason: out.err.Error(), Detail: fmt.Sprintf("request #%d failed: %v", p.id, out.err), Cause: transientWord(out.err)})
	} else {
		e.learnSkew(tok)
		ti := e.tokenInfo(tok)
		ev := Event{Kind: KindFetchResolved, Fetch: p.id, Session: ti.Session, Token: ti, Detail: fmt.Sprintf("request #%d returned a token for %s", p.id, ti.Session)}
		if why := e.stale(tok); why != "" {
			ev.Stale, ev.Reason = true, why
		}
		e.emit(ev)
	}
	if p.provider != e.prov.gen {
		e.emit(Event{Kind: KindFetchDiscarded, Fetch: p.id, Reason: "provider remounted", Detail: fmt.Sprintf("request #%d belongs to a provider that has since remounted", p.id)})
		e.settle(p, out.token)
		return
	}
	e.policy.settle(e, p, out)
}

func transientWord(err error) string {
	if IsTransient(err) {
		return "transient"
	}
	return ""
}

// settle resolves p's callers with tok and forgets p.
func (e *Engine) settle(p *promise, tok *Token) {
	p.state = "settled"
	delete(e.promises, p.id)
	waiters := p.waiters
	p.waiters = nil
	for _, c := range waiters {
		e.serve(c, tok, c.Source, p.id)
	}
}

// setCache writes the provider's stored token (React state in v0.12, the
// ref in pr329 and hardened).
func (e *Engine) setCache(tok *Token, reason string, by int) {
	e.prov.cache = tok
	e.renderDirty = true
	if tok == nil {
		e.emit(Event{Kind: KindCacheCleared, Fetch: by, Reason: reason, Detail: "cache cleared: " + reason})
		return
	}
	ti := e.tokenInfo(tok)
	ev := Event{Kind: KindCacheSet, Fetch: by, Token: ti, Session: ti.Session, Reason: reason, Detail: fmt.Sprintf("cache set to %s's token: %s", ti.Session, reason)}
	if why := e.stale(tok); why != "" {
		ev.Stale = true
		ev.Detail += " (stale: " + why + ")"
	}
	e.emit(ev)
}

// clearPending empties the pending slot. by is the request whose code did
// it (0 for rotation checks and effects).
func (e *Engine) clearPending(by int, reason string) {
	owner := e.prov.pending
	if owner == nil {
		return
	}
	e.prov.pending = nil
	ev := Event{Kind: KindPendingCleared, Fetch: by, Owner: owner.id, Reason: reason}
	if by != 0 && by != owner.id {
		ev.Detail = fmt.Sprintf("request #%d's finally cleared the pending slot that belongs to request #%d", by, owner.id)
	} else {
		ev.Detail = fmt.Sprintf("pending slot (request #%d) cleared: %s", owner.id, reason)
	}
	e.emit(ev)
}

func (e *Engine) snapshot() Snapshot {
	s := Snapshot{
		Policy:         e.policy.Name(),
		Now:            e.now(),
		SessionPending: e.view.pending,
		LastPoll:       e.view.lastPoll,
		LastPollResult: e.view.lastResult,
		TokenRequests:  e.tokenReqs,
		Busy:           e.inflight,
		Timed:          e.timed,
		PollInterval:   e.pollInterval,
		Labels:         make(map[string]string, len(e.labels)),
		Violations:     append([]Event(nil), e.violations...),
		ViolationCount: e.violationCount,
		Mounted:        e.mounted,
	}
	for id, l := range e.labels {
		s.Labels[id] = l
	}
	if e.view.s != nil {
		cp := *e.view.s
		s.Session = &cp
		s.SessionLabel = e.label(cp.ID)
	}
	s.Cache = e.prov.cache
	s.LastServed = e.lastServed
	s.ServerNow = e.serverNow()
	s.CacheLabel = labelOf(e, e.prov.cache)
	s.Readable = e.policy.readable(e)
	if e.prov.pending != nil {
		s.Pending = e.prov.pending.id
	}
	ids := make([]int, 0, len(e.promises))
	for id := range e.promises {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		p := e.promises[id]
		s.InFlight = append(s.InFlight, FetchInfo{ID: p.id, Force: p.force, Cause: p.cause, Session: e.label(p.sessionID), Started: p.started, State: p.state, Attempts: p.attempts, Calls: p.callNames()})
	}
	for _, n := range e.callOrder {
		s.Calls = append(s.Calls, *e.calls[n])
	}
	s.ProviderLoading, s.ProviderAuthenticated = e.policy.providerState(e)
	if e.consumer != nil {
		s.Convex = e.consumer.snapshot()
	}
	s.Flicker = e.flicker.stats(e.now())
	return s
}

func labelOf(e *Engine, t *Token) string {
	if t == nil {
		return "none"
	}
	return e.label(t.SessionID)
}

// Snapshot is a copy of the engine's state at one moment.
type Snapshot struct {
	Policy         string
	Now            time.Time
	Session        *Session // nil when signed out
	SessionLabel   string
	SessionPending bool // no observation has completed yet
	LastPoll       time.Time
	LastPollResult string
	PollInterval   time.Duration
	// Cache is the provider's stored token; Readable is what a non-forced
	// fetch would return from the cache right now (in v0.12 that is the
	// first render's value, whatever Cache holds).
	Cache      *Token
	CacheLabel string
	Readable   *Token
	// LastServed is the last token a call returned.
	LastServed *Token
	// ServerNow is the client's estimate of the server's clock.
	ServerNow time.Time
	Pending   int // request in the pending slot, 0 if none
	InFlight  []FetchInfo
	Calls     []Call
	Labels    map[string]string // session id → label
	// TokenRequests counts requests sent to the token endpoint (retries
	// included; the initial token is not one).
	TokenRequests int
	// Violations holds the first violations (up to maxViolations);
	// ViolationCount counts them all.
	Violations     []Event
	ViolationCount int
	// Busy counts network calls whose completion the loop has not handled;
	// Timed counts retries and signals still due.
	Busy, Timed int
	// ProviderLoading and ProviderAuthenticated are what the provider's
	// useAuth hook returns to Convex.
	ProviderLoading, ProviderAuthenticated bool
	Mounted                                bool
	Stopped                                bool
	// Convex is the Convex client model's state (Enabled false when off).
	Convex ConvexState
	// Flicker measures the windows in which Better Auth says signed in
	// but the Convex side does not.
	Flicker FlickerStats
}

// Call finds a fetch call by name.
func (s Snapshot) Call(name string) (Call, bool) {
	for _, c := range s.Calls {
		if c.Name == name {
			return c, true
		}
	}
	return Call{}, false
}

// Label is the label of a session id, "none" for "".
func (s Snapshot) Label(id string) string {
	if id == "" {
		return "none"
	}
	if l, ok := s.Labels[id]; ok {
		return l
	}
	return "unseen"
}

// FetchInfo describes one request in flight.
type FetchInfo struct {
	ID       int
	Force    bool
	Cause    string
	Session  string // label of the session the client was in when it was sent
	Started  time.Time
	State    string // "in flight", "waiting to retry"
	Attempts int
	Calls    string
}

// Call is one fetchAccessToken call.
type Call struct {
	Name              string
	Force             bool
	Cause             string
	Fetcher           int // which fetcher identity was called
	Done              bool
	Token             *Token // nil: the call returned null
	Err               string // set when the policy reports a failure rather than null
	Source            string // cache, fetch, joined
	Fetch             int    // the request it waited on, 0 if served from cache
	StartedAt, DoneAt time.Time
	// done receives the result, for calls the Convex model made.
	done func(*Token)
}

type fetcher struct {
	gen       int
	sessionID string // the sessionId the fetcher closed over ("" = undefined)
}

type promise struct {
	id        int
	force     bool
	cause     string
	sessionID string
	fetcher   int
	provider  int
	started   time.Time
	attempts  int
	refetches int
	state     string
	waiters   []*Call
}

func (p *promise) callNames() string {
	s := ""
	for i, c := range p.waiters {
		if i > 0 {
			s += ","
		}
		s += c.Name
	}
	return s
}

type outcome struct {
	token *Token
	err   error
}

// provider is the state of ConvexBetterAuthProvider's hook.
type provider struct {
	gen int
	// cache is the stored token: React state (v0.12) or cachedTokenRef (pr329).
	cache *Token
	// firstRender is the cachedToken the first render captured: the SSR
	// initial token, or nil. v0.12's fetcher reads only this.
	firstRender *Token
	pending     *promise
	// lastSessionID is pr329's lastSessionIdRef; "" stands for undefined.
	lastSessionID string
}

type sessionView struct {
	pending    bool
	s          *Session
	lastPoll   time.Time
	lastResult string
}

func (v sessionView) id() string {
	if v.s == nil {
		return ""
	}
	return v.s.ID
}

// Change classifies what an observation did to the session view.
type Change int

const (
	ChangeNone      Change = iota // same session, nothing new
	ChangeInitial                 // first observation, signed in
	ChangeSignedOut               // first observation, signed out, or still signed out
	ChangeSignedIn                // none → a session
	ChangeEnded                   // a session → none
	ChangeRotated                 // one session → another
	ChangeRefreshed               // same session, later expiry
)

func (c Change) String() string {
	switch c {
	case ChangeInitial:
		return "initial"
	case ChangeSignedOut:
		return "signed out"
	case ChangeSignedIn:
		return "signed in"
	case ChangeEnded:
		return "ended"
	case ChangeRotated:
		return "rotated"
	case ChangeRefreshed:
		return "refreshed"
	}
	return "unchanged"
}

func change(prev, next *Session, wasPending bool) Change {
	switch {
	case prev == nil && next == nil:
		return ChangeSignedOut
	case prev == nil && wasPending:
		return ChangeInitial
	case prev == nil:
		return ChangeSignedIn
	case next == nil:
		return ChangeEnded
	case prev.ID != next.ID:
		return ChangeRotated
	case next.ExpiresAt.After(prev.ExpiresAt):
		return ChangeRefreshed
	}
	return ChangeNone
}

// settleWith resolves p's callers with tok, or with an error message when
// tok is nil and errMsg is set.
func (e *Engine) settleWith(p *promise, tok *Token, errMsg string) {
	for _, c := range p.waiters {
		c.Err = errMsg
	}
	e.settle(p, tok)
}

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
		if err := e.do(func() { busy, timed = e.inflight, e.timed }); err != nil {
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
