package authstate

import "fmt"

// v012 models @convex-dev/better-auth 0.11.0–0.12.5 (src/react/index.tsx,
// byte-identical across those releases).
//
// The inner hook is memoised on [authClient] only, so every value it reads
// from the outer hook is the one of the first render: the fetcher sees the
// SSR initial token forever, or no cache at all. All fetchers share one
// pending-promise ref, and every request's finally empties it, whoever owns
// it. Logout clearing goes through an effect that tests the same
// first-render value.
type v012 struct{}

func (v012) Name() string { return "v0.12" }

func (v012) Describe() string {
	return "@convex-dev/better-auth 0.11–0.12.5: first-render cache closure, shared pending promise, finally always clears it"
}

func (v012) fetch(e *Engine, c *Call, f fetcher) {
	if t := e.prov.firstRender; t != nil && !c.Force {
		e.serve(c, t, "cache", 0)
		return
	}
	if !c.Force && e.prov.pending != nil {
		e.join(c, e.prov.pending)
		return
	}
	e.prov.pending = e.startFetch(c, f)
}

func (v012) settle(e *Engine, p *promise, out outcome) {
	tok, why := tokenOrNull(out)
	// then / catch: setCachedToken(token) — React state the fetcher never reads.
	e.setCache(tok, fmt.Sprintf("%s (request #%d)", why, p.id), p.id)
	// finally: pendingTokenRef.current = null, even if it is not ours.
	e.clearPending(p.id, fmt.Sprintf("request #%d finished", p.id))
	e.settle(p, tok)
}

func (v012) sessionChanged(e *Engine, ch Change) {
	// useEffect(() => { if (!session && !isSessionPending && cachedToken)
	// setCachedToken(null) }, [session, isSessionPending]) with cachedToken
	// from the first render.
	if e.view.s == nil && !e.view.pending && e.prov.firstRender != nil && e.prov.cache != nil {
		e.setCache(nil, "logout effect", 0)
	}
}

func (v012) readable(e *Engine) *Token { return e.prov.firstRender }

func (v012) providerState(e *Engine) (bool, bool) {
	cached := e.prov.firstRender
	return e.view.pending && cached == nil, e.view.s != nil || cached != nil
}
