package authstate

import "fmt"

// pr329 models get-convex/better-auth PR #329 at 37bdd4b: the cache is read
// through a ref; at the start of every fetcher call, if the fetcher's
// sessionId and lastSessionIdRef are both defined and differ, the cache and
// the pending slot are dropped; then/catch/finally only act if the pending
// slot still holds their own promise.
//
// Gaps kept on purpose: the rotation check ignores undefined→A and
// A→undefined; lastSessionIdRef starts at the session of the first render
// and only moves when the fetcher is called; the logout effect still tests
// the first render's cachedToken, so without an SSR token it never clears;
// a cached token is served whatever its exp; a discarded request returns
// null to its callers.
type pr329 struct{}

func (pr329) Name() string { return "pr329" }

func (pr329) Describe() string {
	return "PR #329 (37bdd4b): cache via ref, inline A→B rotation check, promise-identity guard"
}

func (pr329) fetch(e *Engine, c *Call, f fetcher) {
	last := e.prov.lastSessionID
	if f.sessionID != "" && last != "" && f.sessionID != last {
		reason := fmt.Sprintf("rotation detected at fetch start (%s → %s)", e.label(last), e.label(f.sessionID))
		if e.prov.cache != nil {
			e.setCache(nil, reason, 0)
		}
		e.clearPending(0, reason)
	}
	e.prov.lastSessionID = f.sessionID
	cacheJoinOrSend(e, c, f, e.prov.cache)
}

func (pr329) settle(e *Engine, p *promise, out outcome) {
	if e.prov.pending != p {
		// if (pendingTokenRef.current !== tokenPromise) return null;
		e.emit(Event{Kind: KindFetchDiscarded, Fetch: p.id, Reason: "no longer the pending promise", Detail: fmt.Sprintf("request #%d is no longer the pending promise: result dropped, callers get null", p.id)})
		e.settle(p, nil)
		return
	}
	storeAndFinish(e, p, out)
}

// sessionChanged: the logout effect is unchanged from v0.12. It tests the
// first render's cachedToken, but now clears through the ref-writing setter.
func (pr329) sessionChanged(e *Engine, ch Change) { logoutEffect(e) }

func (pr329) readable(e *Engine) *Token { return e.prov.cache }

// providerState: isLoading / isAuthenticated still read the first render's state.
func (pr329) providerState(e *Engine) (bool, bool) { return firstRenderState(e) }
