package authstate

import (
	"fmt"
	"strings"
)

// Policy is one token-cache behaviour of the provider: what
// fetchAccessToken does, how a finished request updates the cache, and what
// the provider's effects do when the session changes. Each is a faithful
// model of one version, gaps included.
type Policy interface {
	Name() string
	// Describe says in one line what the policy models.
	Describe() string

	// fetch is fetchAccessToken({forceRefreshToken: c.Force}) called on
	// fetcher f. It serves c from the cache, joins it to a request in
	// flight, or starts a request.
	fetch(e *Engine, c *Call, f fetcher)
	// settle is the request's then/catch/finally chain. It must end with
	// e.settle (or keep p alive for a retry).
	settle(e *Engine, p *promise, out outcome)
	// sessionChanged runs the provider's effects after an observation.
	sessionChanged(e *Engine, ch Change)
	// readable is what a non-forced call would get from the cache now.
	readable(e *Engine) *Token
	// providerState is the {isLoading, isAuthenticated} the hook returns.
	providerState(e *Engine) (loading, authenticated bool)
}

// PolicyNames lists the policies in the order they are usually compared.
func PolicyNames() []string { return []string{"v0.12", "pr329", "hardened"} }

// PolicyByName returns a policy by its name.
func PolicyByName(name string) (Policy, error) {
	switch strings.TrimSpace(name) {
	case "v0.12":
		return v012{}, nil
	case "pr329":
		return pr329{}, nil
	case "hardened":
		return hardened{}, nil
	}
	return nil, fmt.Errorf("unknown policy %q (want one of %s)", name, strings.Join(PolicyNames(), ", "))
}

// ParsePolicies reads a comma-separated list, or "all".
func ParsePolicies(s string) ([]string, error) {
	if strings.TrimSpace(s) == "all" {
		return PolicyNames(), nil
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := PolicyByName(p); err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no policy given (want one of %s, or all)", strings.Join(PolicyNames(), ", "))
	}
	return out, nil
}

// cacheJoinOrSend is the body fetchAccessToken shares in v0.12 and pr329:
// a non-forced call returns the cached token, or joins the pending
// request; anything else sends a new request into the pending slot.
func cacheJoinOrSend(e *Engine, c *Call, f fetcher, cached *Token) {
	if cached != nil && !c.Force {
		e.serve(c, cached, "cache", 0)
		return
	}
	if !c.Force && e.prov.pending != nil {
		e.join(c, e.prov.pending)
		return
	}
	e.prov.pending = e.startFetch(c, f)
}

// storeAndFinish is the then/catch/finally chain once any guard has passed:
// cache `data?.token || null` (null on failure), empty the pending slot,
// and resolve the callers.
func storeAndFinish(e *Engine, p *promise, out outcome) {
	tok, why := out.token, "request resolved"
	if out.err != nil {
		tok, why = nil, "request failed: "+out.err.Error()
	}
	e.setCache(tok, fmt.Sprintf("%s (request #%d)", why, p.id), p.id)
	e.clearPending(p.id, fmt.Sprintf("request #%d finished", p.id))
	e.settle(p, tok)
}

// logoutEffect is useEffect(() => { if (!session && !isSessionPending &&
// cachedToken) setCachedToken(null) }, [session, isSessionPending]), where
// cachedToken is the first render's value.
func logoutEffect(e *Engine) {
	if e.view.s == nil && !e.view.pending && e.prov.firstRender != nil && e.prov.cache != nil {
		e.setCache(nil, "logout effect", 0)
	}
}

// firstRenderState is the hook's {isLoading, isAuthenticated}, computed
// from the first render's cachedToken.
func firstRenderState(e *Engine) (loading, authenticated bool) {
	cached := e.prov.firstRender
	return e.view.pending && cached == nil, e.view.s != nil || cached != nil
}
