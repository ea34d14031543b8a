package authstate

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

// fetch reads the first render's cachedToken, never the current one.
func (v012) fetch(e *Engine, c *Call, f fetcher) { cacheJoinOrSend(e, c, f, e.prov.firstRender) }

// settle: then/catch call setCachedToken (React state the fetcher never
// reads); finally empties the pending slot even when it is not its own.
func (v012) settle(e *Engine, p *promise, out outcome) { storeAndFinish(e, p, out) }

func (v012) sessionChanged(e *Engine, ch Change) { logoutEffect(e) }

func (v012) readable(e *Engine) *Token { return e.prov.firstRender }

func (v012) providerState(e *Engine) (bool, bool) { return firstRenderState(e) }
