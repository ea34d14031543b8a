package authstate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
	// OnInput, if set, is called on the engine's loop with every input as
	// it is applied, in order, before any event the input causes. at is
	// the engine clock's time then. It must not call back into the engine
	// and should return quickly: the loop waits for it.
	OnInput func(at time.Time, in Input)
	// OnEvent, if set, is called on the engine's loop with every event, in
	// order, as it is emitted. Unlike a Subscription it never misses one;
	// like OnInput it must not call back into the engine.
	OnEvent func(Event)
	// OrderedCompletions makes the order in which network results are
	// applied independent of goroutine scheduling, for runs on a virtual
	// clock, where every call takes no time. A finished call's completion
	// is kept aside until no other call is running (each has finished or
	// is held in the transport), then applied with the others, one at a
	// time, oldest call first: the order the requests were sent, as
	// JavaScript runs one callback at a time. Scenario runs set it.
	OrderedCompletions bool
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
	cfg     Config

	// The mailbox: messages, and the inputs of timers that have fired
	// (kept apart so that an Advance can apply them as they fire), each
	// numbered as it arrives; the loop takes them in arrival order.
	// Posting never blocks.
	qmu   sync.Mutex
	qseq  uint64
	queue []message
	fired []message
	wake  chan struct{}

	// callSeq numbers fetchAccessToken calls (call1, call2, …). Fetch takes
	// a number before it posts, so it never waits for the loop.
	callSeq atomic.Int64

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
	// flights are the network calls in flight, by the number their
	// completion names; armed are the timers pending, by number, with
	// whether they count as work (timed counts those).
	flights  map[int]*flight
	netSeq   int
	armed    map[int]bool
	timerSeq int
	timed    int
	// ready holds the completions of finished calls that wait to be
	// applied, by call number (OrderedCompletions only; see proceed.go).
	// Their calls stay in flights until then.
	ready []message
	// wait is the Advance being carried out, if any.
	wait       *pendingWait
	tokenReqs  int
	checker    *Checker
	violations []Event
	// violationCount counts every violation; violations keeps the first
	// maxViolations of them.
	violationCount int
	// staleServed counts the stale tokens calls were given since the
	// counters were last reset.
	staleServed  int
	pollInterval time.Duration
	// tport is the client transport's state as the engine knows it.
	tport     TransportState
	initTport TransportState // tport when the engine was made
	pollTimer Timer
	pollSeq   int
	poll      *inflightPoll // the get-session in flight, if any
	mounted   bool
	started   bool // Start has been applied
	firstErr  error
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

// message is one thing for the loop to do: apply an input, or run fn. A
// read (fn with read set) only looks at the state, so it does not close the
// Changed channel: if it did, a waiter's own reads would wake it, and
// waiting would spin. fn without read changes the state outside the inputs:
// only tests do that.
type message struct {
	seq  uint64 // arrival order in the mailbox
	in   Input
	fn   func()
	read bool
	// done, if set, receives what applying in did (for callers that wait).
	done func(applied)
	// call, on a completion, is the number of the call it completes:
	// under OrderedCompletions the loop keeps it in ready rather than
	// applying it.
	call int
	// proceed, if set, asks the loop to carry on with what waits for
	// the running calls (see proceed); it says how many are held.
	proceed func() int
}

// applied is what applying one input did, for the callers that wait for a
// transport control.
type applied struct {
	err      error
	released int
	moved    bool // a proceed message applied something
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
		wake:         make(chan struct{}, 1),
		flights:      make(map[int]*flight),
		armed:        make(map[int]bool),
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
	e.tport = initialTransport(cfg.Backend)
	e.initTport = e.tport.clone()
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
	e.post(Start{})
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
		m, ok := e.next()
		if !ok {
			return
		}
		e.handle(m)
	}
}

// next waits for the next message, in arrival order. It reports false
// once the engine is stopping.
func (e *Engine) next() (message, bool) {
	for {
		if e.ctx.Err() != nil {
			return message{}, false
		}
		e.qmu.Lock()
		q := &e.queue
		if len(e.fired) > 0 && (len(e.queue) == 0 || e.fired[0].seq < e.queue[0].seq) {
			q = &e.fired
		}
		if len(*q) > 0 {
			m := (*q)[0]
			(*q)[0] = message{}
			*q = (*q)[1:]
			e.qmu.Unlock()
			return m, true
		}
		e.qmu.Unlock()
		select {
		case <-e.ctx.Done():
			return message{}, false
		case <-e.wake:
		}
	}
}

func (e *Engine) handle(m message) {
	switch {
	case m.read:
		m.fn()
		e.reads++
		return
	case m.proceed != nil:
		moved := e.proceed(m.proceed)
		if m.done != nil {
			m.done(applied{moved: moved})
		}
		if !moved {
			// Like a read, this must not wake a waiter.
			e.reads++
			return
		}
	case m.fn != nil:
		m.fn()
		e.render()
	case m.call != 0 && e.cfg.OrderedCompletions && e.flights[m.call] != nil:
		e.keepReady(m)
		e.proceed(e.heldNow)
	default:
		res := e.step(m.in)
		if m.done != nil {
			m.done(res)
		}
		e.proceed(e.heldNow)
	}
	e.endOfMessage()
	e.sigMu.Lock()
	close(e.sig)
	e.sig = make(chan struct{})
	e.sigMu.Unlock()
}

// step applies one input and lets the Convex provider render after it, as
// React renders after each task.
func (e *Engine) step(in Input) applied {
	res := e.apply(in)
	e.render()
	return res
}

func (e *Engine) render() {
	for e.renderDirty {
		e.renderDirty = false
		e.consumerRender()
	}
}

// enqueue adds m to the mailbox. It gives up if the engine has stopped or
// was never started. It never blocks.
func (e *Engine) enqueue(m message) bool {
	if e.ctx == nil || e.ctx.Err() != nil {
		return false
	}
	e.qmu.Lock()
	e.qseq++
	m.seq = e.qseq
	e.queue = append(e.queue, m)
	e.qmu.Unlock()
	e.poke()
	return true
}

func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// post queues in to be applied on the loop, without waiting.
func (e *Engine) post(in Input) { e.enqueue(message{in: in}) }

// fire queues the input of a timer that has fired. While the loop
// advances a FakeClock itself, it applies each as it fires.
func (e *Engine) fire(in Input) {
	if e.ctx == nil || e.ctx.Err() != nil {
		return
	}
	e.qmu.Lock()
	e.qseq++
	e.fired = append(e.fired, message{seq: e.qseq, in: in})
	e.qmu.Unlock()
	e.poke()
}

// takeFired removes and returns the fired timers' inputs.
func (e *Engine) takeFired() []message {
	e.qmu.Lock()
	defer e.qmu.Unlock()
	f := e.fired
	e.fired = nil
	return f
}

// applyWait applies in on the loop and waits until it has been applied.
func (e *Engine) applyWait(in Input) (applied, error) {
	var res applied
	err := e.run(message{in: in, done: func(r applied) { res = r }})
	return res, err
}

// read runs f, which must not change the engine's state, on the loop and
// waits for it. Unlike an input, it does not signal Changed.
func (e *Engine) read(f func()) error { return e.run(message{fn: f, read: true}) }

func (e *Engine) run(m message) error {
	if e.ctx == nil {
		return errors.New("authstate: the engine has not been started")
	}
	ran := make(chan struct{})
	if m.fn != nil {
		f := m.fn
		m.fn = func() { f(); close(ran) }
	} else {
		d := m.done
		m.done = func(r applied) {
			if d != nil {
				d(r)
			}
			close(ran)
		}
	}
	if !e.enqueue(m) {
		return context.Canceled
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
// expectations; an empty name gets one assigned. It returns the name at
// once: the call is made when the loop comes to it.
func (e *Engine) Fetch(name string, force bool, cause string) string {
	n := int(e.callSeq.Add(1))
	if name == "" {
		name = fmt.Sprintf("call%d", n)
	}
	e.post(FetchCall{Name: name, Force: force, Cause: cause, Seq: n})
	return name
}

// Send queues in to be applied on the loop, without waiting. Inputs that
// complete a call or fire a timer the engine is not waiting for are
// ignored.
func (e *Engine) Send(in Input) {
	if in != nil {
		e.post(in)
	}
}

// RerunQuery asks the Convex deployment to run the subscribed query again,
// as its reactivity does when data changes. A no-op without the consumer.
func (e *Engine) RerunQuery(reason string) { e.post(RerunQuery{Reason: reason}) }

// Observe polls the session now (what a session signal, focus or poll does).
func (e *Engine) Observe(cause string) { e.post(Observe{Cause: cause}) }

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
func (e *Engine) Do(a Action, signal bool) { e.post(DoAction{Action: a, Signal: signal}) }

// SetPolicy switches the token-cache policy live. The provider remounts:
// its cache and pending slot start empty, as after a reload.
func (e *Engine) SetPolicy(name string) error {
	if _, err := PolicyByName(name); err != nil {
		return err
	}
	e.post(SetPolicy{Policy: name})
	return nil
}

// SetPollInterval changes the session poll interval; zero stops polling.
func (e *Engine) SetPollInterval(d time.Duration) { e.post(SetPollInterval{Interval: d}) }

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
	if e.cfg.OnEvent != nil {
		e.cfg.OnEvent(ev)
	}
	if ev.Kind.Quiet() {
		e.broker.publish(ev)
		return
	}
	e.log.append(ev)
	e.broker.publish(ev)
	if ev.Kind == KindTokenServed && ev.Stale {
		e.staleServed++
	}
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

// flight is a network call in flight: what its completion finishes.
type flight struct {
	promise *promise      // a token request
	poll    *inflightPoll // a get-session
	action  Action        // a server action
	signal  bool
	query   bool      // a message to the Convex deployment: msg
	msg     convexMsg //
	tok     *Token    // the identity msg runs under
}

// start runs call in its own goroutine and queues the input it returns,
// which must complete call number id. The engine counts the call as in
// flight until that input is applied.
// The call's context carries a Handoff, marked taken once the completion is
// queued on the loop (or the call gave up), so that a transport releasing
// held responses one after another hands them to the loop in order.
func (e *Engine) start(ctx context.Context, fl *flight, call func(ctx context.Context, id int) Input) {
	e.netSeq++
	id := e.netSeq
	e.flights[id] = fl
	ctx, h := WithHandoff(ctx)
	goCall(func() {
		defer h.Taken()
		e.enqueue(message{in: call(ctx, id), call: id})
	})
}

// landed takes the call a completion names off the calls in flight, if it
// is a call of the completion's sort (is says). It reports false for a call
// the engine is not waiting for.
func (e *Engine) landed(id int, is func(*flight) bool) (*flight, bool) {
	fl, ok := e.flights[id]
	if !ok || !is(fl) {
		return nil, false
	}
	delete(e.flights, id)
	return fl, true
}

func (fl *flight) isToken() bool  { return fl.promise != nil }
func (fl *flight) isPoll() bool   { return fl.poll != nil }
func (fl *flight) isAction() bool { return fl.action != 0 }
func (fl *flight) isQuery() bool  { return fl.query }

// errText is err's message for a completion ("" for none).
func errText(err error) string {
	if err == nil {
		return ""
	}
	if s := err.Error(); s != "" {
		return s
	}
	return "error"
}

// inputError is an error carried by a completion as text.
type inputError struct {
	msg       string
	transient bool
}

func (e inputError) Error() string   { return e.msg }
func (e inputError) Transient() bool { return e.transient }

func completionErr(msg string, transient bool) error {
	if msg == "" {
		return nil
	}
	return inputError{msg: msg, transient: transient}
}

// engineTimer is a timer the engine armed.
type engineTimer struct {
	e  *Engine
	id int
	t  Timer
}

// Stop runs on the loop: a firing already queued is then ignored.
func (t *engineTimer) Stop() bool {
	if counted, ok := t.e.armed[t.id]; ok {
		delete(t.e.armed, t.id)
		if counted {
			t.e.timed--
		}
	}
	return t.t.Stop()
}

// arm fires the input mk makes once d has passed on the engine clock. A
// counted timer is pending work until it fires, so a scenario does not
// settle while a retry or a signal is still due.
func (e *Engine) arm(d time.Duration, counted bool, mk func(id int) Input) Timer {
	e.timerSeq++
	id := e.timerSeq
	in := mk(id)
	e.armed[id] = counted
	if counted {
		e.timed++
	}
	return &engineTimer{e: e, id: id, t: e.clock.AfterFunc(d, func() { e.fire(in) })}
}

// due takes timer id off the armed timers. It reports false for a timer
// that was stopped or is unknown.
func (e *Engine) due(id int) bool {
	counted, ok := e.armed[id]
	if !ok {
		return false
	}
	delete(e.armed, id)
	if counted {
		e.timed--
	}
	return true
}

func (e *Engine) act(a Action, signal bool) {
	e.emit(Event{Kind: KindAction, Cause: a.String(), Detail: a.String() + " sent"})
	e.start(e.ctx, &flight{action: a, signal: signal}, func(ctx context.Context, id int) Input {
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
		return ActionDone{Call: id, Action: a, Err: errText(err), cause: err}
	})
}

func (e *Engine) actionDone(fl *flight, in ActionDone) {
	a, signal := fl.action, fl.signal
	if in.Err != "" {
		err := in.cause
		if err == nil {
			err = errors.New(in.Err)
		}
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
			e.arm(e.cfg.SignalDelay, true, func(id int) Input { return SignalDue{Timer: id, Action: a} })
		} else {
			e.observe("session signal after " + a.String())
		}
	}
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
// (held reports how many are), no Advance is under way and no retry or
// session signal is due. With a FakeClock, virtual time is moved on to fire
// those. notify, if not nil, wakes the wait when the held count changes.
//
// Completions kept aside under OrderedCompletions and a pending Advance go
// on only once no call is running. The loop sees that itself, except when
// the last running call is held: the transport says so to held and notify,
// not to the loop, so Settle then asks the loop to go on.
func (e *Engine) Settle(ctx context.Context, held func() int, notify <-chan struct{}, fc *FakeClock) error {
	if held == nil {
		held = func() int { return 0 }
	}
	for {
		changed := e.Changed()
		var busy, ready, timed int
		var waiting bool
		if err := e.read(func() { busy, ready, timed, waiting = len(e.flights), len(e.ready), e.timed, e.wait != nil }); err != nil {
			return errors.New("the engine stopped")
		}
		h := held()
		select {
		case <-changed:
			// The loop moved on between the two reads (a completion
			// applied may have started a call the transport now holds):
			// the engine's count and the transport's are of different
			// moments. Read both again.
			continue
		default:
		}
		if busy-ready == h {
			if ready > 0 || waiting {
				var res applied
				if err := e.run(message{proceed: held, done: func(r applied) { res = r }}); err != nil {
					return errors.New("the engine stopped")
				}
				if res.moved {
					continue
				}
			} else {
				if timed == 0 {
					return nil
				}
				if fc != nil && fc.AdvanceToNext() {
					continue
				}
			}
		}
		select {
		case <-changed:
		case <-notify:
		case <-ctx.Done():
			return fmt.Errorf("%d network call(s) still running, %d held, %d timer(s) due", busy-ready-h, h, timed)
		}
	}
}
