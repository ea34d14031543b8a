package authstate

import (
	"fmt"
	"time"
)

// hardened is authscope's own answer: pr329 plus
//   - a token whose sessionId claim is not the current session is never
//     served (checked when serving from the cache and when a request
//     returns);
//   - a token that failed verification (signature, key, claims, expiry,
//     checked against the server's JWKS and clock) is never cached nor
//     served: it counts as a failure, retried like a transient one, never
//     as a sign-out;
//   - the cache is expiry-aware (HardenedLeeway early);
//   - any session change (rotation, sign-in, sign-out) drops a cache and a
//     pending request bound to another session right away, not at the next
//     call; a token bound to a session the client has not seen yet makes it
//     observe the session at once;
//   - forced calls join a request already in flight for the same session
//     (single flight);
//   - transient failures (network, timeouts, 5xx) are retried with backoff
//     and never reported as a sign-out: callers keep a still-valid token or
//     get an error, not null;
//   - callers of a discarded request are moved to the request that
//     replaced it instead of getting null.
type hardened struct{}

// HardenedLeeway is how long before exp the hardened cache stops serving a
// token. It matches Convex's default authRefreshTokenLeewaySeconds.
const HardenedLeeway = 10 * time.Second

// hardenedBackoff is the retry schedule for transient failures.
var hardenedBackoff = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}

func (hardened) Name() string { return "hardened" }

func (hardened) Describe() string {
	return "authscope's best behaviour: pr329 + session-bound and expiry-aware cache, single flight, retries on transient failures"
}

// usable says why the cached token cannot be served, or "" if it can.
func (hardened) usable(e *Engine, t *Token) string {
	if t == nil {
		return "empty"
	}
	if !t.Verified {
		return "cached token failed verification"
	}
	if t.SessionID != e.view.id() {
		return fmt.Sprintf("cached token is bound to %s, current session is %s", e.label(t.SessionID), e.label(e.view.id()))
	}
	if t.ExpiredAt(e.serverNow(), HardenedLeeway) {
		return "cached token expires within the leeway"
	}
	return ""
}

func (h hardened) fetch(e *Engine, c *Call, f fetcher) {
	e.prov.lastSessionID = f.sessionID
	if t := e.prov.cache; t != nil {
		if why := h.usable(e, t); why != "" {
			e.setCache(nil, why, 0)
		} else if !c.Force {
			e.serve(c, t, "cache", 0)
			return
		}
	}
	if p := e.prov.pending; p != nil {
		if p.sessionID == e.view.id() {
			e.join(c, p)
			return
		}
		e.clearPending(0, fmt.Sprintf("request #%d was sent under %s, current session is %s", p.id, e.label(p.sessionID), e.label(e.view.id())))
	}
	e.prov.pending = e.startFetch(c, f)
}

func (h hardened) settle(e *Engine, p *promise, out outcome) {
	if out.err == nil && !out.token.Verified {
		why := unverified(orNotVerified(out.token.Problem))
		e.emit(Event{Kind: KindFetchDiscarded, Fetch: p.id, Token: e.tokenInfo(out.token), Reason: "token failed verification: " + string(why), Detail: fmt.Sprintf("request #%d returned a token that failed verification (%s); it is not served", p.id, why)})
		out = outcome{err: why}
	}
	if out.err != nil && IsTransient(out.err) && p.attempts <= len(hardenedBackoff) && e.prov.pending == p {
		d := hardenedBackoff[p.attempts-1]
		p.state = "waiting to retry"
		e.emit(Event{Kind: KindFetchRetry, Fetch: p.id, Reason: out.err.Error(), Detail: fmt.Sprintf("request #%d failed transiently; retrying in %s", p.id, d)})
		fetch := p.id
		e.arm(d, true, func(id int) Input { return RetryDue{Timer: id, Fetch: fetch} })
		return
	}
	if e.prov.pending != p {
		h.reroute(e, p, "no longer the pending request")
		return
	}
	switch {
	case out.err == nil && e.gone[out.token.SessionID] && p.refetches == 0:
		// The server minted it before the session went away; it is useless.
		e.emit(Event{Kind: KindFetchDiscarded, Fetch: p.id, Token: e.tokenInfo(out.token), Reason: "token bound to an ended session", Detail: fmt.Sprintf("request #%d returned a token for %s, which has ended; asking again", p.id, e.label(out.token.SessionID))})
		p.refetches++
		p.sessionID = e.view.id()
		e.send(p)
	case out.err == nil:
		e.setCache(out.token, fmt.Sprintf("request resolved (request #%d)", p.id), p.id)
		e.clearPending(p.id, fmt.Sprintf("request #%d finished", p.id))
		e.settle(p, out.token)
		if out.token.SessionID != e.view.id() {
			// The server is ahead of the client's view (a rotation it has
			// not observed yet): look now rather than at the next poll.
			e.observe("token is bound to a session the client has not seen")
		}
	case IsTransient(out.err):
		e.clearPending(p.id, fmt.Sprintf("request #%d gave up", p.id))
		if t := e.prov.cache; t != nil && h.usable(e, t) == "" {
			e.settleWith(p, t, "")
			return
		}
		if _, ok := out.err.(unverified); ok {
			e.settleWith(p, nil, "no verified token, not a sign-out: "+out.err.Error())
			return
		}
		e.settleWith(p, nil, "transient failure, not a sign-out: "+out.err.Error())
	default:
		e.setCache(nil, fmt.Sprintf("request failed: %v (request #%d)", out.err, p.id), p.id)
		e.clearPending(p.id, fmt.Sprintf("request #%d finished", p.id))
		e.settle(p, nil)
	}
}

// retry sends request #fetch again once its backoff has passed.
func (h hardened) retry(e *Engine, fetch int) {
	p := e.promises[fetch]
	if p == nil {
		return
	}
	if e.prov.pending != p {
		h.reroute(e, p, "replaced while waiting to retry")
		return
	}
	e.send(p)
}

// reroute hands the callers of a superseded request to the request that
// replaced it, or to a fresh one.
func (h hardened) reroute(e *Engine, p *promise, why string) {
	e.emit(Event{Kind: KindFetchDiscarded, Fetch: p.id, Reason: why, Effect: "reroute", Detail: fmt.Sprintf("request #%d %s; its callers wait for the current request", p.id, why)})
	p.state = "settled"
	delete(e.promises, p.id)
	waiters := p.waiters
	p.waiters = nil
	for _, c := range waiters {
		if t := e.prov.cache; t != nil && h.usable(e, t) == "" {
			e.serve(c, t, "cache", 0)
			continue
		}
		if e.prov.pending != nil {
			e.join(c, e.prov.pending)
			continue
		}
		e.prov.pending = e.startFetch(c, fetcher{gen: e.fetcherGen, sessionID: e.view.id()})
	}
}

func (hardened) sessionChanged(e *Engine, ch Change) {
	switch ch {
	case ChangeRotated, ChangeEnded, ChangeSignedIn:
		reason := "session " + ch.String()
		if t := e.prov.cache; t != nil && t.SessionID != e.view.id() {
			e.setCache(nil, reason, 0)
		}
		if p := e.prov.pending; p != nil && p.sessionID != e.view.id() {
			e.clearPending(0, reason)
		}
	}
}

func (h hardened) readable(e *Engine) *Token {
	if t := e.prov.cache; h.usable(e, t) == "" {
		return t
	}
	return nil
}

func (h hardened) providerState(e *Engine) (bool, bool) {
	return e.view.pending && h.readable(e) == nil, e.view.s != nil
}

// unverified is the failure hardened makes of a token that did not verify.
// It is retried like a transient failure: the JWKS may have been
// unreachable, or the keys rotated.
type unverified string

func (u unverified) Error() string { return "the token failed verification: " + string(u) }
func (unverified) Transient() bool { return true }
