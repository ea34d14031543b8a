package authstate

import (
	"context"
	"fmt"
	"time"
)

// PollTimeout bounds one get-session on the engine clock. A poll that has
// no answer by then is reported as failed, so a hanging server shows.
const PollTimeout = 10 * time.Second

// inflightPoll is the get-session request the session view waits for.
type inflightPoll struct {
	seq     int
	cause   string
	started time.Time
	cancel  context.CancelFunc
	timeout Timer
	// pendingShown is set once a poll_pending event has said it is slow.
	pendingShown bool
}

func (e *Engine) armPoll() {
	if e.pollTimer != nil {
		e.pollTimer.Stop()
		e.pollTimer = nil
	}
	if e.pollInterval <= 0 {
		return
	}
	e.pollTimer = e.arm(e.pollInterval, false, func(id int) Input { return PollTick{Timer: id} })
}

// pollTick is the poller's timer firing.
func (e *Engine) pollTick() {
	if p := e.poll; p != nil {
		// Never cancel a poll because the next one is due: a server
		// that hangs would then never show. Skip this one instead.
		if !p.pendingShown {
			p.pendingShown = true
			e.emit(Event{Kind: KindPollPending, Cause: p.cause, Detail: fmt.Sprintf("get-session #%d (%s) has had no answer for %s; polls are skipped until it answers or times out (%s)", p.seq, p.cause, e.now().Sub(p.started).Round(time.Millisecond), PollTimeout)})
		}
	} else {
		e.observe("poll")
	}
	e.armPoll()
}

func (e *Engine) observe(cause string) {
	e.pollSeq++
	if old := e.poll; old != nil {
		// Better Auth's useSession aborts the previous refetch: latest
		// wins. Say so, so a request that never answered does not vanish.
		e.endPoll(old)
		e.emit(Event{Kind: KindPollFailed, Cause: old.cause, Poll: old.seq, Effect: "abandoned", Reason: "abandoned without an answer", Detail: fmt.Sprintf("get-session #%d (%s) abandoned after %s without an answer: a newer observation (%s) replaces it", old.seq, old.cause, e.now().Sub(old.started).Round(time.Millisecond), cause)})
	}
	ctx, cancel := context.WithCancel(e.ctx)
	p := &inflightPoll{seq: e.pollSeq, cause: cause, started: e.now(), cancel: cancel}
	e.poll = p
	seq := p.seq
	e.emit(Event{Kind: KindPollStarted, Cause: cause, Poll: p.seq})
	p.timeout = e.arm(PollTimeout, false, func(id int) Input { return PollTimedOut{Timer: id, Poll: seq} })
	e.start(ctx, &flight{poll: p}, func(ctx context.Context, id int) Input {
		s, err := e.backend.GetSession(ctx)
		return SessionPolled{Call: id, Poll: seq, Session: s, Err: errText(err)}
	})
}

// pollTimedOut ends get-session #seq if it is still the one in flight.
func (e *Engine) pollTimedOut(seq int) {
	p := e.poll
	if p == nil || p.seq != seq {
		return
	}
	e.endPoll(p)
	e.applyObservation(p.cause, nil, fmt.Errorf("get-session #%d had no answer after %s (timed out)", p.seq, PollTimeout))
}

// polled is the answer of the get-session p.
func (e *Engine) polled(p *inflightPoll, in SessionPolled) {
	if e.poll != p {
		return // abandoned or timed out, and already reported
	}
	e.endPoll(p)
	e.applyObservation(p.cause, in.Session, completionErr(in.Err, false))
}

// endPoll stops waiting for p.
func (e *Engine) endPoll(p *inflightPoll) {
	p.cancel()
	p.timeout.Stop()
	if e.poll == p {
		e.poll = nil
	}
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
		cp := *s
		ev.Observed = &cp
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
		e.emit(Event{Kind: KindCacheSet, Token: e.tokenInfo(t), Reason: "initial token (SSR)", Effect: "initial", Detail: "provider mounted with an initial token"})
	}
	e.emit(Event{Kind: KindNote, Effect: "mount", Detail: fmt.Sprintf("provider mounted (policy %s, session %s)", e.policy.Name(), e.label(e.view.id()))})
	e.renderDirty = true
	return true
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
