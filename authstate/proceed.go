package authstate

import (
	"fmt"
	"time"
)

// Two things wait until no network call is running, that is until every
// call the engine started has finished or is held in the transport:
//
//   - under Config.OrderedCompletions, the completions of the calls that
//     have finished (ready), applied oldest call first;
//   - an Advance: it moves the clock on one timer at a time, and fires the
//     next timer only once what the previous one started has finished, so
//     that each network answer is applied at the virtual time it came at,
//     before the next timer.
//
// The loop carries both on after each message (proceed). A call that is
// held says nothing to the loop when it reaches the hold, so Settle, which
// the transport wakes then, asks the loop to carry on as well.

// pendingWait is an Advance being carried out: the clock moves to end.
type pendingWait struct {
	end time.Time
}

// heldNow is how many calls the backend holds in its transport, if it
// says (0 otherwise).
func (e *Engine) heldNow() int {
	if h, ok := e.backend.(heldCounter); ok {
		return h.Held()
	}
	return 0
}

// keepReady sets a finished call's completion aside until proceed applies
// it, in call-number order.
func (e *Engine) keepReady(m message) {
	i := len(e.ready)
	for i > 0 && e.ready[i-1].call > m.call {
		i--
	}
	e.ready = append(e.ready, message{})
	copy(e.ready[i+1:], e.ready[i:])
	e.ready[i] = m
}

// idle reports whether no call is running: each one in flight has
// finished (its completion is ready) or is held.
func (e *Engine) idle(held func() int) bool {
	return len(e.flights)-len(e.ready) == held()
}

// proceed applies ready completions, oldest call first, and carries a
// pending Advance on, timer by timer, for as long as no call is running.
// It reports whether it did anything.
func (e *Engine) proceed(held func() int) bool {
	if len(e.ready) == 0 && e.wait == nil {
		return false // the common case: no need to ask the transport
	}
	did := false
	for e.idle(held) {
		switch {
		case len(e.ready) > 0:
			m := e.ready[0]
			e.ready[0] = message{}
			e.ready = e.ready[1:]
			e.step(m.in)
		case e.wait != nil:
			e.waitStep()
		default:
			return did
		}
		did = true
	}
	return did
}

// advance starts moving a FakeClock on by d; proceed carries it out. A
// second Advance before the first is done moves the end on by d.
func (e *Engine) advance(d time.Duration) {
	fc, ok := e.clock.(*FakeClock)
	if !ok {
		e.emit(Event{Kind: KindNote, Reason: "advance ignored", Detail: fmt.Sprintf("advance %s ignored: the engine runs on the wall clock", d)})
		return
	}
	from := fc.Now()
	if e.wait != nil {
		from = e.wait.end
	}
	e.wait = &pendingWait{end: from.Add(max(d, 0))}
}

// waitStep fires the next timer due by the pending Advance's end and
// applies its input at its due time, or, when none is left, moves the
// clock to the end and ends the Advance.
func (e *Engine) waitStep() {
	fc := e.clock.(*FakeClock)
	end := e.wait.end
	if !fc.fireNext(end) {
		fc.Advance(end.Sub(fc.Now()))
		e.wait = nil
	}
	e.applyFired()
}
