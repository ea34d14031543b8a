package authstate

import (
	"context"
	"fmt"
	"time"
)

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
