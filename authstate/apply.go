package authstate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// apply is the one place where inputs change the engine. It runs on the
// loop: it reports in to Config.OnInput, then acts on it.
func (e *Engine) apply(in Input) applied {
	if e.cfg.OnInput != nil {
		e.cfg.OnInput(e.now(), in)
	}
	switch in := in.(type) {
	// What a user or a scenario asks for.
	case Start:
		if e.started {
			break
		}
		e.started = true
		e.observe("mount")
		e.armPoll()
		e.armQueryTimer()
	case DoAction:
		e.act(in.Action, in.Signal)
	case FetchCall:
		e.takeCallNumber(in.Seq)
		e.fetch(in.Name, in.Force, in.Cause)
	case Observe:
		e.observe(in.Cause)
	case RerunQuery:
		e.rerunQuery(in.Reason)
	case SetPolicy:
		e.setPolicy(in.Policy)
	case SetPollInterval:
		e.pollInterval = max(in.Interval, 0)
		e.emit(Event{Kind: KindPollInterval, Interval: e.pollInterval})
		e.armPoll()
	case ResetCounters:
		e.resetCounters()

	// Transport controls.
	case Hold:
		return e.hold(in.What)
	case Release:
		return e.release(in.Which)
	case InjectFault:
		return e.injectFault(in)
	case SetLatency:
		return e.setLatency(in.Endpoint, in.Latency)
	case HeldChanged:
		e.heldChanged(in.Items)

	// The clock.
	case Advance:
		e.advance(in.By)

	// Completions.
	case TokenFetched:
		if fl, ok := e.landed(in.Call, (*flight).isToken); ok {
			e.completed(fl.promise, in.Token, completionErr(in.Err, in.Transient))
		}
	case SessionPolled:
		if fl, ok := e.landed(in.Call, (*flight).isPoll); ok {
			e.polled(fl.poll, in)
		}
	case ActionDone:
		if fl, ok := e.landed(in.Call, (*flight).isAction); ok {
			e.actionDone(fl, in)
		}
	case QueryDone:
		if fl, ok := e.landed(in.Call, (*flight).isQuery); ok {
			e.queryDone(fl, in)
		}

	// Timers.
	case PollTick:
		if e.due(in.Timer) {
			e.pollTick()
		}
	case PollTimedOut:
		if e.due(in.Timer) {
			e.pollTimedOut(in.Poll)
		}
	case SignalDue:
		if e.due(in.Timer) {
			e.observe("session signal after " + in.Action.String())
		}
	case RetryDue:
		if e.due(in.Timer) {
			hardened{}.retry(e, in.Fetch)
		}
	case RefetchDue:
		if e.due(in.Timer) {
			e.refetchDue(in.Seq)
		}
	case QueryTick:
		if e.due(in.Timer) {
			e.rerunQuery(reasonInterval)
			e.armQueryTimer()
		}
	case SocketClosed:
		if e.due(in.Timer) {
			e.socketClosed()
		}
	case ReconnectDue:
		if e.due(in.Timer) {
			e.reconnectDue(in.Seq)
		}
	default:
		e.emit(Event{Kind: KindNote, Reason: "unknown input", Detail: fmt.Sprintf("input %T is not one the engine knows: ignored", in)})
	}
	return applied{}
}

// takeCallNumber makes sure the call counter is at least n, so that a
// FetchCall applied without Engine.Fetch (a replay) does not make later
// calls reuse its number.
func (e *Engine) takeCallNumber(n int) {
	for {
		cur := e.callSeq.Load()
		if int64(n) <= cur || e.callSeq.CompareAndSwap(cur, int64(n)) {
			return
		}
	}
}

func (e *Engine) setPolicy(name string) {
	pol, err := PolicyByName(name)
	if err != nil {
		e.emit(Event{Kind: KindNote, Reason: "unknown policy", Detail: "policy not changed: " + err.Error()})
		return
	}
	old := e.policy.Name()
	e.policy = pol
	e.remount()
	e.emit(Event{Kind: KindPolicyChanged, From: old, Detail: fmt.Sprintf("policy %s → %s; provider remounted with an empty cache", old, pol.Name())})
}

// ---- the clock ----

// applyFired applies the inputs of the timers that have fired, in order.
func (e *Engine) applyFired() {
	for {
		f := e.takeFired()
		if len(f) == 0 {
			return
		}
		for _, m := range f {
			e.step(m.in)
		}
	}
}

// Advance moves the engine's FakeClock on by d, without waiting: timers
// that fall due fire in order, each at its due time, and each once what
// the one before started has finished or is held (see proceed.go). An
// engine on the wall clock notes that it cannot.
func (e *Engine) Advance(d time.Duration) { e.post(Advance{By: d}) }

// ---- transport controls ----

// ErrNoControls says the engine's backend has no transport controls.
var ErrNoControls = errors.New("no transport controls for this target")

// Hold starts holding "token" responses or "token_request" requests in the
// backend's transport, or stops holding ("none"). It waits until the loop
// has applied it, and returns what the transport said.
func (e *Engine) Hold(what string) error {
	res, err := e.applyWait(Hold{What: what})
	if err != nil {
		return err
	}
	return res.err
}

// Release lets held items go ("all", "oldest" or "latest") once the loop
// comes to it, and says how many went.
func (e *Engine) Release(which string) int {
	res, err := e.applyWait(Release{Which: which})
	if err != nil {
		return 0
	}
	return res.released
}

// InjectFault makes the next request to endpoint fail, with an HTTP status
// or (network) as a dropped connection.
func (e *Engine) InjectFault(endpoint string, status int, network bool) error {
	res, err := e.applyWait(InjectFault{Endpoint: endpoint, Status: status, Network: network})
	if err != nil {
		return err
	}
	return res.err
}

// SetLatency adds d before each request to endpoint (0 removes it).
func (e *Engine) SetLatency(endpoint string, d time.Duration) error {
	res, err := e.applyWait(SetLatency{Endpoint: endpoint, Latency: d})
	if err != nil {
		return err
	}
	return res.err
}

// The parts of Controls, each looked for on its own: a backend may offer
// holds and latency but no faults.
type (
	holder   interface{ Hold(what string) error }
	releaser interface{ Release(which string) int }
	faulter  interface {
		InjectFault(endpoint string, status int, network bool) error
	}
	latencySetter interface {
		SetLatency(endpoint string, d time.Duration)
	}
)

// transport emits what a transport control did.
func (e *Engine) transport(cause, detail string, err error) applied {
	ts := e.tport.clone()
	ev := Event{Kind: KindTransport, Cause: cause, Detail: detail, Transport: &ts}
	if err != nil {
		ev.Reason = err.Error()
	}
	e.emit(ev)
	return applied{err: err}
}

// heldCounter and heldLister are what a backend may say about what it
// holds.
type heldCounter interface{ Held() int }
type heldLister interface{ HeldList() []string }

func (e *Engine) hold(what string) applied {
	c, ok := e.backend.(holder)
	if !ok {
		return e.transport("hold", fmt.Sprintf("hold %s not applied: %v", what, ErrNoControls), ErrNoControls)
	}
	if err := c.Hold(what); err != nil {
		return e.transport("hold", "hold failed: "+err.Error(), err)
	}
	e.tport.Holding = what
	var detail string
	switch what {
	case "token":
		detail = "holding token responses: requests reach the server, answers wait"
	case "token_request":
		detail = "holding token requests: they wait before reaching the server"
	default:
		detail = "stopped holding"
		if h, ok := e.backend.(heldCounter); ok {
			if n := h.Held(); n > 0 {
				detail += fmt.Sprintf("; %d still held", n)
			}
		}
	}
	return e.transport("hold", detail, nil)
}

func (e *Engine) release(which string) applied {
	c, ok := e.backend.(releaser)
	if !ok {
		return e.transport("release", fmt.Sprintf("release %s not applied: %v", which, ErrNoControls), ErrNoControls)
	}
	var before []string
	if l, ok := e.backend.(heldLister); ok {
		before = l.HeldList()
	}
	n := c.Release(which)
	if n == 0 {
		res := e.transport("release", fmt.Sprintf("release %s: nothing held", which), nil)
		return res
	}
	detail := fmt.Sprintf("released %d held (%s)", n, which)
	if names := releasedOf(before, which, n); len(names) > 0 {
		detail += ": " + strings.Join(names, ", ")
	}
	res := e.transport("release", detail, nil)
	res.released = n
	return res
}

// releasedOf picks the n items a release of which took from held (in
// arrival order).
func releasedOf(held []string, which string, n int) []string {
	if n > len(held) {
		return nil
	}
	if which == "latest" {
		return held[len(held)-n:]
	}
	return held[:n]
}

func (e *Engine) injectFault(f InjectFault) applied {
	c, ok := e.backend.(faulter)
	if !ok {
		return e.transport("fault", fmt.Sprintf("fault on %s not injected: %v", f.Endpoint, ErrNoControls), ErrNoControls)
	}
	if err := c.InjectFault(f.Endpoint, f.Status, f.Network); err != nil {
		return e.transport("fault", "fault not injected: "+err.Error(), err)
	}
	how := fmt.Sprintf("with %d", f.Status)
	if f.Network {
		how = "with a dropped connection"
	}
	return e.transport("fault", fmt.Sprintf("next %s request fails %s", f.Endpoint, how), nil)
}

func (e *Engine) setLatency(endpoint string, d time.Duration) applied {
	c, ok := e.backend.(latencySetter)
	if !ok {
		return e.transport("latency", fmt.Sprintf("%s latency not set: %v", endpoint, ErrNoControls), ErrNoControls)
	}
	c.SetLatency(endpoint, d)
	if endpoint == "token" {
		e.tport.Latency = max(d, 0)
	}
	if d <= 0 {
		return e.transport("latency", endpoint+" latency off", nil)
	}
	return e.transport("latency", fmt.Sprintf("%s latency %s", endpoint, d), nil)
}

// heldChanged takes what the transport says it holds now.
func (e *Engine) heldChanged(items []string) {
	if slices.Equal(items, e.tport.Held) {
		return
	}
	e.tport.Held = slices.Clone(items)
	if len(items) == 0 {
		e.tport.Held = nil
	}
	ts := e.tport.clone()
	e.emit(Event{Kind: KindHeldChanged, Transport: &ts})
}

// initialTransport is what the backend's transport holds and its token
// latency before the engine starts (set up with flags, for instance), as
// far as the backend says.
func initialTransport(b Backend) TransportState {
	ts := TransportState{Holding: "none"}
	if h, ok := b.(interface{ Holding() string }); ok {
		if w := h.Holding(); w != "" {
			ts.Holding = w
		}
	}
	if l, ok := b.(interface{ Latency(string) time.Duration }); ok {
		ts.Latency = max(l.Latency("token"), 0)
	}
	if l, ok := b.(heldLister); ok {
		ts.Held = l.HeldList()
	}
	return ts.clone()
}
