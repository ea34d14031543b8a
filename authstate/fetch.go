package authstate

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// fetch is fetchAccessToken on the current fetcher.
func (e *Engine) fetch(name string, force bool, cause string) *Call {
	return e.call(name, fetcher{gen: e.fetcherGen, sessionID: e.view.id()}, force, cause, nil)
}

// fetchFor calls fetchAccessToken on fetcher f (one that Convex captured
// earlier, perhaps) and hands the result to done.
func (e *Engine) fetchFor(f fetcher, force bool, cause string, done func(*Token)) *Call {
	return e.call("", f, force, cause, done)
}

func (e *Engine) call(name string, f fetcher, force bool, cause string, done func(*Token)) *Call {
	if name == "" {
		name = fmt.Sprintf("call%d", e.callSeq.Add(1))
	}
	c := &Call{Name: name, Force: force, Cause: cause, Fetcher: f.gen, StartedAt: e.now(), done: done}
	if _, dup := e.calls[name]; !dup {
		e.callOrder = append(e.callOrder, name)
	}
	e.calls[name] = c
	e.trimCalls()
	e.emit(Event{Kind: KindCallStarted, Call: name, Force: force, Cause: cause, Fetcher: f.gen})
	e.policy.fetch(e, c, f)
	return c
}

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
	fetchID := p.id
	e.start(e.ctx, &flight{promise: p}, func(ctx context.Context, id int) Input {
		tok, err := e.backend.FetchToken(ctx)
		return TokenFetched{Call: id, Fetch: fetchID, Token: tok, Err: errText(err), Transient: IsTransient(err)}
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
		if !tok.Verified {
			ev.Detail += " that failed verification: " + orNotVerified(tok.Problem)
		}
		if why := e.stale(tok); why != "" {
			ev.Stale, ev.Reason = true, why
		}
		e.emit(ev)
	}
	for _, c := range p.waiters {
		c.failure = out.err
	}
	if p.provider != e.prov.gen {
		e.emit(Event{Kind: KindFetchDiscarded, Fetch: p.id, Reason: "provider remounted", Detail: fmt.Sprintf("request #%d belongs to a provider that has since remounted", p.id)})
		e.settle(p, out.token)
		return
	}
	e.policy.settle(e, p, out)
}

func orNotVerified(problem string) string {
	if problem == "" {
		return "not verified"
	}
	return problem
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
	// failure is the error of the last request the call waited on, if it
	// failed (a fetchToken that rejects reads it).
	failure error
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

// settleWith resolves p's callers with tok, or with an error message when
// tok is nil and errMsg is set.
func (e *Engine) settleWith(p *promise, tok *Token, errMsg string) {
	for _, c := range p.waiters {
		c.Err = errMsg
	}
	e.settle(p, tok)
}
