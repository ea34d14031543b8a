package authstate

import (
	"context"
	"fmt"
	"time"
)

// ConvexBackend is what the Convex client model needs from a deployment:
// run the subscribed query under an identity (nil: none).
type ConvexBackend interface {
	Query(ctx context.Context, path string, token *Token) (QueryResult, error)
}

// QueryResult is one answer of a Convex deployment.
type QueryResult struct {
	// AuthError is set when the deployment refused the identity itself
	// (bad signature, expired, wrong issuer): Convex's AuthError.
	AuthError string
	// Error is the function's error message when it ran and failed, for
	// example "Unauthenticated" from getAuthUser.
	Error string
	// Value is a short rendering of the result when it succeeded.
	Value string
}

// OK reports whether the function ran and succeeded.
func (r QueryResult) OK() bool { return r.AuthError == "" && r.Error == "" }

func (r QueryResult) String() string {
	switch {
	case r.AuthError != "":
		return "auth error: " + r.AuthError
	case r.Error != "":
		return "error: " + r.Error
	}
	return "ok"
}

// ConsumerConfig turns on the Convex client model.
type ConsumerConfig struct {
	Backend ConvexBackend
	// Query is the subscribed query (default auth:getAuthUser).
	Query string
	// QueryInterval re-runs the query on the engine clock; zero means only
	// on identity changes and server-side changes the client caused.
	QueryInterval time.Duration
	// PR83 models convex-js PR #83: the last effect's cleanup does not call
	// clearAuth on a mere fetcher swap.
	PR83 bool
	// Leeway is authRefreshTokenLeewaySeconds (default 10 s).
	Leeway time.Duration
	// InitialAuthTokenReuse is the client option of that name: once the
	// deployment confirms the cached token, keep it and schedule the
	// refetch from its remaining validity on the server's clock, instead
	// of fetching a fresh token at once.
	InitialAuthTokenReuse bool
	// FetchTokenThrows makes a token request that failed reject the
	// fetchToken promise instead of resolving it with null. No modelled
	// policy does this (0.12.5 and PR #329 catch and return null; hardened
	// retries); it stands for an app's own fetchAccessToken without a
	// catch. The AuthenticationManager does not catch the rejection.
	FetchTokenThrows bool
}

// The AuthenticationManager's states (convex-js 1.45
// src/browser/sync/authentication_manager.ts).
type amState int

const (
	amNoAuth amState = iota
	amWaitingCached
	amInitialRefetch
	amWaitingFresh
	amScheduled
	amNotRefetching
)

func (s amState) String() string {
	return [...]string{"noAuth", "waitingForServerConfirmationOfCachedToken", "initialRefetch", "waitingForServerConfirmationOfFreshToken", "waitingForScheduledRefetch", "notRefetching"}[s]
}

// Socket states of the WebSocket manager, as far as auth is concerned.
// Paused is a sub-state of ready (consumer.wsPaused).
type socketState int

const (
	socketReady socketState = iota
	socketStopped
	// socketDisconnected: the deployment closed the connection; a
	// reconnect is scheduled.
	socketDisconnected
)

func (s socketState) String() string {
	return [...]string{"ready", "stopped", "disconnected"}[s]
}

// maximumRefreshDelay is MAXIMUM_REFRESH_DELAY (20 days): convex-js caps
// the refetch delay below setTimeout's 2^31-1 ms limit.
const maximumRefreshDelay = 20 * 24 * time.Hour

// socketCloseDelay is how long closing the WebSocket takes: the close
// handshake is one round trip to the deployment.
const socketCloseDelay = 50 * time.Millisecond

// Reconnect backoff after the deployment closed the socket (convex-js
// defaultInitialBackoff and maxBackoff). convex-js adds ±50 % jitter; the
// model uses the midpoint so runs stay deterministic.
const (
	reconnectBackoff    = time.Second
	reconnectBackoffMax = 16 * time.Second
)

// amConfig is what setConfig captured: the fetcher and whose effect set it.
type amConfig struct {
	f      fetcher
	effect int
}

// consumer models convex-js 1.45: ConvexProviderWithAuth (its two effects
// and isConvexAuthenticated state), the AuthenticationManager, the local
// sync state's identity version, the socket's pause/resume/stop, and one
// connection to the deployment that processes messages in order.
type consumer struct {
	cfg ConsumerConfig

	// ConvexProviderWithAuth.
	convexAuth *bool // nil: loading (isConvexAuthenticated === null)
	refreshing bool
	rendered   bool
	deps       consumerDeps
	effect     int // id of the live FirstEffect (isThisEffectRelevant)

	// AuthenticationManager.
	state         amState
	config        *amConfig
	hadAuth       bool   // waitingForServerConfirmationOfFreshToken.hadAuth
	freshToken    *Token // waitingForServerConfirmationOfFreshToken.token
	configVersion int
	attempts      int
	refetchTimer  Timer
	refetchSeq    int // which scheduled refetch is the live one (clearTimeout)
	lastRefresh   bool

	// LocalSyncState and the socket. syncPaused is LocalSyncState.paused
	// (only pauseSocket sets it; a stop does not); wsPaused is the
	// WebSocket manager's paused sub-state of a ready socket.
	auth            *Token
	identityVersion int
	syncPaused      bool
	socket          socketState
	wsPaused        bool
	epoch           int
	reconnectSeq    int
	retries         int

	// microtasks are promise continuations: they run once the current
	// message has been handled, before React renders, in order.
	microtasks []func()

	// reported is what the last consumer_state event said (valid once
	// reportedOK): a handler that runs inside another one changes the
	// state first, and the outer one must not report it again.
	reported   [3]bool
	reportedOK bool

	// The connection: messages go one at a time, in order.
	queue       []convexMsg
	busy        bool
	serverToken *Token
	lastResult  *QueryResult
	queryTimer  Timer
	msgSeq      int
	anonymous   int
}

type consumerDeps struct {
	authed, loading bool
	fetcher         int
}

type convexMsg struct {
	auth   bool   // an Authenticate message (else a query re-run)
	token  *Token // for auth: nil is tokenType None
	tag    int    // identity version the message establishes (auth) or was sent under (query)
	epoch  int
	reason string
	seq    int
}

func newConsumer(cfg ConsumerConfig) *consumer {
	if cfg.Query == "" {
		cfg.Query = "auth:getAuthUser"
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 10 * time.Second
	}
	return &consumer{cfg: cfg}
}

// ConvexState is the consumer's state in a Snapshot.
type ConvexState struct {
	Enabled         bool
	IsLoading       bool // useConvexAuth().isLoading
	IsAuthenticated bool // useConvexAuth().isAuthenticated
	IsRefreshing    bool
	AuthState       string // the AuthenticationManager's state
	ConfigVersion   int
	IdentityVersion int
	Socket          string
	// Auth is the token the client holds for the deployment (nil: none).
	Auth       *Token
	LastResult *QueryResult
	Query      string
	PR83       bool
	// AnonymousQueries counts query results under no identity since the
	// consumer was first authenticated.
	AnonymousQueries int
}

func (c *consumer) snapshot() ConvexState {
	st := ConvexState{
		Enabled:         true,
		AuthState:       c.state.String(),
		ConfigVersion:   c.configVersion,
		IdentityVersion: c.identityVersion,
		Socket:          c.socketWord(),
		Auth:            c.auth,
		Query:           c.cfg.Query,
		PR83:            c.cfg.PR83,

		AnonymousQueries: c.anonymous,
	}
	st.IsLoading, st.IsAuthenticated = c.useConvexAuth()
	// The hook reports isRefreshing && isAuthenticated.
	st.IsRefreshing = c.refreshing && st.IsAuthenticated
	if c.lastResult != nil {
		r := *c.lastResult
		st.LastResult = &r
	}
	return st
}

// useConvexAuth is what the hook returns.
func (c *consumer) useConvexAuth() (loading, authenticated bool) {
	loading = c.convexAuth == nil
	authenticated = c.deps.authed && c.convexAuth != nil && *c.convexAuth
	return loading, authenticated
}

// socketWord is the socket as the UI shows it: ready, paused, stopped or
// disconnected.
func (c *consumer) socketWord() string {
	if c.socket == socketReady && c.wsPaused {
		return "paused"
	}
	return c.socket.String()
}

func boolp(b bool) *bool { return &b }

// queueMicrotask runs f once the current message has been handled, before
// React's render, as a resolved promise's continuation runs in JavaScript.
func (e *Engine) queueMicrotask(f func()) {
	e.consumer.microtasks = append(e.consumer.microtasks, f)
	// The loop renders while renderDirty is set; consumerRender drains
	// the microtasks first.
	e.renderDirty = true
}

func (e *Engine) drainMicrotasks() {
	c := e.consumer
	for len(c.microtasks) > 0 {
		f := c.microtasks[0]
		c.microtasks = c.microtasks[1:]
		f()
	}
}

func (e *Engine) consumerEvent(detail string) {
	e.emit(Event{Kind: KindConvex, Detail: detail, Reason: e.consumer.state.String()})
}

// consumerRender re-renders ConvexProviderWithAuth after any change of the
// provider's hook: the render-phase state updates, then, if the effects'
// dependencies changed, their cleanups and setups in React's order.
func (e *Engine) consumerRender() {
	c := e.consumer
	if c == nil {
		return
	}
	e.drainMicrotasks()
	if !e.mounted {
		return
	}
	before := c.observable()
	loading, authed := e.policy.providerState(e)
	if loading && c.convexAuth != nil {
		c.convexAuth = nil
		c.refreshing = false
	}
	if !loading && !authed && (c.convexAuth == nil || *c.convexAuth) {
		c.convexAuth = boolp(false)
		c.refreshing = false
	}
	now := consumerDeps{authed: authed, loading: loading, fetcher: e.fetcherGen}
	if c.rendered && now == c.deps {
		e.consumerChanged(before)
		return
	}
	prev := c.deps
	first := !c.rendered
	c.rendered = true
	c.deps = now
	if !first && prev.authed {
		// ConvexAuthStateFirstEffect cleanup.
		c.effect++
		if c.convexAuth != nil && *c.convexAuth {
			c.convexAuth = boolp(false)
		} else {
			c.convexAuth = nil
		}
		c.refreshing = false
		// ConvexAuthStateLastEffect cleanup.
		clear := true
		if c.cfg.PR83 {
			clear = !now.authed || (!prev.loading && now.loading)
		}
		if clear {
			e.consumerEvent("fetcher identity or auth changed: LastEffect cleanup calls clearAuth()")
			e.clientClearAuth()
		} else {
			e.consumerEvent("fetcher swap: PR #83 skips clearAuth()")
		}
		c.convexAuth = nil
		c.refreshing = false
	}
	if now.authed {
		c.effect++
		e.consumerEvent(fmt.Sprintf("FirstEffect calls setAuth with fetcher #%d (session %s)", now.fetcher, e.label(e.view.id())))
		e.setConfig(&amConfig{f: fetcher{gen: e.fetcherGen, sessionID: e.view.id()}, effect: c.effect})
	}
	// The cleanups set state, so React renders again: its render-time
	// checks (loading → null, signed out → false) run once more.
	e.renderDirty = true
	e.consumerChanged(before)
}

// observable is what the flicker meter and the UI watch.
func (c *consumer) observable() [3]bool {
	l, a := c.useConvexAuth()
	failing := c.lastResult != nil && !c.lastResult.OK()
	return [3]bool{l, a, failing}
}

func (e *Engine) consumerChanged(before [3]bool) {
	c := e.consumer
	after := c.observable()
	if !c.reportedOK {
		c.reported, c.reportedOK = before, true
	}
	if after != c.reported {
		c.reported = after
		l, a := c.useConvexAuth()
		e.emit(Event{Kind: KindConsumerState, Convex: &ConvexFlags{Loading: l, Authenticated: a, Failing: after[2]},
			Detail: fmt.Sprintf("useConvexAuth: isLoading=%v isAuthenticated=%v; query %s", l, a, e.consumer.resultWord())})
	}
	e.flickerUpdate()
}

func (c *consumer) resultWord() string {
	if c.lastResult == nil {
		return "not run"
	}
	return c.lastResult.String()
}

// onAuthChange is the callback setAuth passed: it only lands if the effect
// that registered it is still the live one.
func (e *Engine) onAuthChange(cfg *amConfig, authenticated bool) {
	c := e.consumer
	before := c.observable()
	if cfg != nil && cfg.effect == c.effect {
		// setIsConvexAuthenticated only: isRefreshing keeps its value,
		// and the hook masks it while not authenticated.
		c.convexAuth = boolp(authenticated)
	}
	e.consumerChanged(before)
}

func (e *Engine) notifyRefreshChange(refreshing bool) {
	c := e.consumer
	if c.state == amNoAuth || c.state == amInitialRefetch || c.config == nil || c.lastRefresh == refreshing {
		return
	}
	c.lastRefresh = refreshing
	if c.config.effect == c.effect {
		c.refreshing = refreshing
	}
}

func (e *Engine) setAMState(s amState) {
	c := e.consumer
	switch s {
	case amScheduled, amNotRefetching, amNoAuth:
		c.attempts = 0
	}
	if c.state == amScheduled && c.refetchTimer != nil {
		c.refetchTimer.Stop()
		c.refetchTimer = nil
	}
	if c.state != s {
		e.emit(Event{Kind: KindConvex, Reason: s.String(), Detail: fmt.Sprintf("auth manager: %s → %s", c.state, s)})
	}
	c.state = s
}

func (e *Engine) resetAuthState() {
	e.notifyRefreshChange(false)
	e.setAMState(amNoAuth)
	e.consumer.config = nil
}

func (e *Engine) authFailed(cfg *amConfig) {
	e.onAuthChange(cfg, false)
	e.resetAuthState()
}

// fetchGuarded is fetchTokenAndGuardAgainstRace: it bumps configVersion and
// reports the result as outdated if anything bumped it meanwhile. Like an
// awaited promise, k runs in a later microtask, even for a cached token.
// With FetchTokenThrows a failed request rejects: k never runs.
func (e *Engine) fetchGuarded(cfg *amConfig, force bool, why string, k func(outdated bool, tok *Token)) {
	c := e.consumer
	c.configVersion++
	v := c.configVersion
	var call *Call
	call = e.fetchFor(cfg.f, force, "convex: "+why, func(tok *Token) {
		// call is set by then: the continuation is a microtask.
		e.queueMicrotask(func() {
			if c.cfg.FetchTokenThrows && tok == nil && call.failure != nil {
				e.emit(Event{Kind: KindConvex, Reason: "unhandled rejection", Detail: fmt.Sprintf("fetchToken threw (%v): nothing catches it, so %s stops here; auth manager frozen in %s, socket %s", call.failure, why, c.state, c.socketWord())})
				return
			}
			if c.configVersion != v {
				e.emit(Event{Kind: KindConvex, Reason: "outdated", Detail: fmt.Sprintf("token from config version %d is outdated (now %d): dropped", v, c.configVersion)})
				k(true, nil)
				return
			}
			k(false, tok)
		})
	})
}

// setConfig is AuthenticationManager.setConfig.
func (e *Engine) setConfig(cfg *amConfig) {
	c := e.consumer
	e.resetAuthState()
	e.pauseSocket()
	e.fetchGuarded(cfg, false, "setConfig", func(outdated bool, tok *Token) {
		if outdated {
			return // the socket stays paused until the newer setConfig resumes it
		}
		c.config = cfg
		if tok != nil {
			e.setAMState(amWaitingCached)
			e.authenticate(tok)
			e.resumeSocket()
			return
		}
		e.setAMState(amInitialRefetch)
		e.refetchToken(func() { e.resumeSocket() })
	})
}

// refetchToken forces a fetch and sends the token if it is new; k runs
// when it is done (outdated or not).
func (e *Engine) refetchToken(k func()) {
	c := e.consumer
	if c.state == amNoAuth || c.config == nil {
		if k != nil {
			k()
		}
		return
	}
	e.fetchGuarded(c.config, true, "refetch", func(outdated bool, tok *Token) {
		if !outdated {
			// The config is read again after the await, as
			// this.authState.config is.
			cfg := c.config
			switch {
			case tok != nil && e.isNewAuth(tok):
				c.hadAuth = c.auth != nil
				c.freshToken = tok
				e.setAMState(amWaitingFresh)
				e.authenticate(tok)
			case tok != nil:
				e.setAMState(amNotRefetching)
			default:
				e.consumerEvent("refetch returned no token: treated as signed out (clearAuth, onAuthChange(false))")
				if c.auth != nil {
					e.clientClearAuth()
				}
				e.authFailed(cfg)
			}
			e.tryRestartSocket()
		}
		if k != nil {
			k()
		}
	})
}

// scheduleTokenRefetch schedules the refetch before tok expires: from its
// full lifetime, or, given the client's clock skew (client minus server,
// as convex-js subtracts it from Date.now()), from what is left of it on
// the server's clock. The delay is capped at 20 days.
func (e *Engine) scheduleTokenRefetch(tok *Token, clientSkew *time.Duration) {
	c := e.consumer
	if c.state == amNoAuth || tok == nil || tok.IssuedAt.IsZero() || tok.ExpiresAt.IsZero() {
		return
	}
	life := tok.ExpiresAt.Sub(tok.IssuedAt)
	if life <= 2*time.Second {
		e.consumerEvent("token does not live long enough: no refetch scheduled")
		return
	}
	validity := life
	if clientSkew != nil {
		validity = tok.ExpiresAt.Sub(e.now().Add(-*clientSkew))
		if validity < 0 {
			validity = 0
		}
	}
	delay := min(maximumRefreshDelay, validity-c.cfg.Leeway)
	if delay <= 0 {
		e.consumerEvent(fmt.Sprintf("leeway %s is larger than the token's validity %s: refetching at once", c.cfg.Leeway, validity.Round(time.Second)))
		delay = 0
	}
	e.setAMState(amScheduled)
	c.refetchSeq++
	seq := c.refetchSeq
	// Only leaving waitingForScheduledRefetch clears the timer: a socket
	// stop or a reauthentication in flight does not (convex-js #22).
	c.refetchTimer = e.arm(delay, false, func(id int) Input { return RefetchDue{Timer: id, Seq: seq} })
	e.consumerEvent(fmt.Sprintf("token refetch scheduled in %s", delay))
}

// refetchDue is the scheduled refetch number seq coming due.
func (e *Engine) refetchDue(seq int) {
	c := e.consumer
	if c == nil || c.state != amScheduled || c.refetchSeq != seq {
		return
	}
	c.refetchTimer = nil
	e.consumerEvent("scheduled token refetch")
	e.refetchToken(nil)
}

func (e *Engine) onTransition(tag int) {
	c := e.consumer
	if tag < c.identityVersion {
		return
	}
	switch c.state {
	case amWaitingCached:
		cfg := c.config
		if c.cfg.InitialAuthTokenReuse && c.auth != nil {
			e.consumerEvent("server confirmed the cached token; initialAuthTokenReuse keeps it")
			// The deployment's clock-skew estimate; the model's is the
			// one it makes from each token's iat.
			skew := -e.skew
			e.scheduleTokenRefetch(c.auth, &skew)
		} else {
			e.consumerEvent("server confirmed the cached token; fetching a fresh one")
			e.refetchToken(nil)
		}
		e.onAuthChange(cfg, true)
	case amWaitingFresh:
		e.consumerEvent("server confirmed the fresh token")
		e.notifyRefreshChange(false)
		cfg := c.config
		e.scheduleTokenRefetch(c.freshToken, nil)
		c.attempts = 0
		// convex-js reads hadAuth after the schedule replaced the state,
		// where it is undefined: onAuthChange(true) fires whenever a
		// refetch was scheduled.
		if c.state != amWaitingFresh || !c.hadAuth {
			e.onAuthChange(cfg, true)
		}
	}
}

func (e *Engine) onAuthError(attempted bool, base int, msg string) {
	c := e.consumer
	if !attempted && (c.state == amWaitingFresh || c.state == amWaitingCached) {
		e.consumerEvent("ignoring an expired-auth error while a token is being confirmed")
		return
	}
	if base+1 < c.identityVersion {
		e.consumerEvent("ignoring an auth error for an older identity")
		return
	}
	e.tryToReauthenticate(msg)
}

func (e *Engine) tryToReauthenticate(msg string) {
	c := e.consumer
	if c.state == amNoAuth || (c.state == amWaitingFresh && c.attempts >= maxConfirmationAttempts) {
		// convex-js clears the local sync state's auth only: nothing is
		// sent; the connection the deployment closes comes back without it.
		e.consumerEvent(fmt.Sprintf("failed to authenticate: %q; giving up (local auth cleared, nothing sent)", msg))
		if c.auth != nil {
			e.syncClearAuth()
		}
		if c.state != amNoAuth {
			e.authFailed(c.config)
		}
		return
	}
	if c.state == amWaitingFresh {
		c.attempts++
	}
	e.notifyRefreshChange(true)
	e.stopSocket()
}

// reauthenticate is the rest of tryToReauthenticate, once the old socket
// has closed.
func (e *Engine) reauthenticate() {
	c := e.consumer
	if c.state == amNoAuth {
		e.consumerEvent("reauthentication: no auth config once the socket closed; the socket is left stopped (convex-js #181)")
		return
	}
	e.fetchGuarded(c.config, true, "reauthenticate", func(outdated bool, tok *Token) {
		if outdated {
			if c.socket == socketStopped {
				e.consumerEvent("reauthentication outdated: the socket is left stopped (convex-js #181)")
			}
			return
		}
		cfg := c.config
		if tok != nil && e.isNewAuth(tok) {
			e.authenticate(tok)
			c.hadAuth = c.state == amNotRefetching || c.state == amScheduled
			c.freshToken = tok
			e.setAMState(amWaitingFresh)
		} else {
			e.consumerEvent("reauthentication failed: no new token (local auth cleared)")
			if c.auth != nil {
				e.syncClearAuth()
			}
			e.authFailed(cfg)
		}
		e.tryRestartSocket()
	})
}

// maxConfirmationAttempts is MAX_TOKEN_CONFIRMATION_ATTEMPTS.
const maxConfirmationAttempts = 2

func (e *Engine) isNewAuth(t *Token) bool {
	a := e.consumer.auth
	return a == nil || t == nil || a.Raw != t.Raw
}

// authenticate is LocalSyncState.setAuth plus the send.
func (e *Engine) authenticate(t *Token) { e.syncAuth(t, "Authenticate", true) }

// clientClearAuth is ConvexReactClient.clearAuth: Authenticate None.
func (e *Engine) clientClearAuth() { e.syncAuth(nil, "Authenticate None (clearAuth)", true) }

// syncClearAuth is LocalSyncState.clearAuth alone: nothing is sent.
func (e *Engine) syncClearAuth() { e.syncAuth(nil, "", false) }

// syncAuth sets the auth the client holds. Unless the local sync state is
// paused it advances the identity version, a stopped socket included; the
// message goes out only on a ready, unpaused socket.
func (e *Engine) syncAuth(t *Token, reason string, send bool) {
	c := e.consumer
	c.auth = t
	if !c.syncPaused {
		c.identityVersion++
	}
	if !send || c.socket != socketReady || c.wsPaused {
		return
	}
	e.sendConvex(convexMsg{auth: true, token: t, tag: c.identityVersion, reason: reason})
}

// pauseSocket pauses the local sync state always, and the socket if it is
// ready.
func (e *Engine) pauseSocket() {
	c := e.consumer
	c.syncPaused = true
	if c.socket == socketReady && !c.wsPaused {
		c.wsPaused = true
		e.consumerEvent("socket paused")
	}
}

// resumeSocket acts on a ready, paused socket only: a stopped or
// disconnected one (and the local sync state) stay as they are.
func (e *Engine) resumeSocket() {
	c := e.consumer
	if c.socket != socketReady || !c.wsPaused {
		return
	}
	c.wsPaused = false
	c.syncPaused = false
	e.consumerEvent("socket resumed")
	if c.auth != nil {
		c.identityVersion++
		e.sendConvex(convexMsg{auth: true, token: c.auth, tag: c.identityVersion, reason: "Authenticate (on resume)"})
	}
}

// stopSocket is WebSocketManager.stop, for a reauthentication: it goes on
// once the old socket has closed: after the close handshake for a ready
// socket (SocketClosed), in a microtask otherwise.
func (e *Engine) stopSocket() {
	c := e.consumer
	was := c.socket
	if was != socketStopped {
		c.socket = socketStopped
		c.wsPaused = false
		c.epoch++
		c.queue = nil
		c.serverToken = nil
		e.consumerEvent("socket stopped")
	}
	if was != socketReady {
		e.queueMicrotask(e.reauthenticate)
		return
	}
	e.arm(socketCloseDelay, true, func(id int) Input { return SocketClosed{Timer: id} })
}

// socketClosed is the end of the close handshake stopSocket began.
func (e *Engine) socketClosed() {
	if e.consumer == nil {
		return
	}
	e.consumerEvent("old socket closed")
	e.reauthenticate()
}

func (e *Engine) tryRestartSocket() {
	if e.consumer.socket != socketStopped {
		return
	}
	e.openSocket("socket restarted")
}

// openSocket connects: onOpen re-sends the query set and the auth the
// client holds (LocalSyncState.restart), which unpauses the sync state.
func (e *Engine) openSocket(why string) {
	c := e.consumer
	c.socket = socketReady
	c.wsPaused = false
	c.syncPaused = false
	e.consumerEvent(why)
	if c.auth == nil {
		c.identityVersion = 0
		e.sendConvex(convexMsg{tag: 0, reason: "query after connect"})
		return
	}
	c.identityVersion = 1
	e.sendConvex(convexMsg{auth: true, token: c.auth, tag: 1, reason: "Authenticate (on connect)"})
}

// serverClosed is the connection ending without the client asking: the
// deployment closing it after an AuthError, or a message that got no
// answer. A socket the client stopped itself stays stopped; otherwise the
// client reconnects after a backoff (1 s, doubling up to 16 s; convex-js
// adds a jitter of ±50 %, which the model leaves out).
func (e *Engine) serverClosed(why string) {
	c := e.consumer
	if c.socket == socketStopped {
		return
	}
	backoff := min(reconnectBackoff<<min(c.retries, 4), reconnectBackoffMax)
	c.retries++
	c.socket = socketDisconnected
	c.wsPaused = false
	c.epoch++
	c.queue = nil
	c.serverToken = nil
	c.reconnectSeq++
	seq := c.reconnectSeq
	e.consumerEvent(fmt.Sprintf("%s: reconnecting in %s", why, backoff))
	e.arm(backoff, true, func(id int) Input { return ReconnectDue{Timer: id, Seq: seq} })
}

// reconnectDue is the reconnect number seq coming due.
func (e *Engine) reconnectDue(seq int) {
	c := e.consumer
	// A stop does not cancel the scheduled reconnect, and connect accepts
	// a stopped socket.
	if c == nil || c.reconnectSeq != seq || (c.socket != socketDisconnected && c.socket != socketStopped) {
		return
	}
	e.openSocket("socket reconnected")
}

// rerunQuery asks the deployment to run the subscribed query again under
// the identity it holds (reactivity, or the interval).
func (e *Engine) rerunQuery(reason string) {
	c := e.consumer
	if c == nil || c.socket != socketReady || c.wsPaused || !e.mounted {
		return
	}
	e.sendConvex(convexMsg{tag: c.identityVersion, reason: reason})
}

// reasonInterval marks the routine re-runs of the subscribed query.
const reasonInterval = "interval"

func (e *Engine) armQueryTimer() {
	c := e.consumer
	if c == nil || c.cfg.QueryInterval <= 0 {
		return
	}
	c.queryTimer = e.arm(c.cfg.QueryInterval, false, func(id int) Input { return QueryTick{Timer: id} })
}

func (e *Engine) sendConvex(m convexMsg) {
	c := e.consumer
	c.msgSeq++
	m.seq = c.msgSeq
	m.epoch = c.epoch
	c.queue = append(c.queue, m)
	if m.reason == reasonInterval {
		// Routine: only its answer, if it changes anything, is an event.
		e.pump()
		return
	}
	what := m.reason
	if m.auth && m.token != nil {
		what += " with " + e.label(m.token.SessionID) + "'s token"
	}
	e.emit(Event{Kind: KindConvex, Reason: "sent", Detail: fmt.Sprintf("→ %s (identity v%d)", what, m.tag)})
	e.pump()
}

// pump sends the next queued message once the previous one was answered:
// one connection, in order.
func (e *Engine) pump() {
	c := e.consumer
	if c.busy || len(c.queue) == 0 {
		return
	}
	m := c.queue[0]
	c.queue = c.queue[1:]
	c.busy = true
	tok := m.token
	if !m.auth {
		tok = c.serverToken
	}
	path := c.cfg.Query
	be := c.cfg.Backend
	e.start(e.ctx, &flight{query: true, msg: m, tok: tok}, func(ctx context.Context, id int) Input {
		res, err := be.Query(ctx, path, tok)
		return QueryDone{Call: id, Result: res, Err: errText(err)}
	})
}

// queryDone is the deployment's answer to the message fl carried.
func (e *Engine) queryDone(fl *flight, in QueryDone) {
	c := e.consumer
	if c == nil {
		return
	}
	c.busy = false
	e.answered(fl.msg, fl.tok, in.Result, completionErr(in.Err, false))
	e.pump()
}

func (e *Engine) answered(m convexMsg, tok *Token, res QueryResult, err error) {
	c := e.consumer
	if m.epoch != c.epoch {
		return // the socket was stopped since: the answer is for a dead connection
	}
	before := c.observable()
	if err != nil {
		e.emit(Event{Kind: KindQueryResult, Reason: "transport", Detail: "query failed to reach the deployment: " + err.Error()})
		// The query stands for a message on the client's WebSocket: one
		// that got no answer (a network error, a 5xx) is the connection
		// dropping. The client reconnects after its backoff and sends its
		// auth and query set again (WebSocketManager's onclose and
		// scheduleReconnect, then onOpen), as after an AuthError.
		e.serverClosed("the connection to the deployment failed")
		e.consumerChanged(before)
		return
	}
	if res.AuthError != "" {
		e.emit(Event{Kind: KindQueryResult, Reason: "auth error", Detail: "← AuthError: " + res.AuthError})
		if m.auth {
			e.onAuthError(true, m.tag-1, res.AuthError)
		} else {
			e.onAuthError(false, m.tag, res.AuthError)
		}
		if m.epoch == c.epoch {
			e.serverClosed("the deployment closed the socket after the auth error")
		}
		e.consumerChanged(before)
		return
	}
	c.retries = 0
	if m.auth {
		c.serverToken = tok
	}
	if !m.auth && m.reason == reasonInterval && c.lastResult != nil && *c.lastResult == res {
		return // the interval re-run changed nothing
	}
	r := res
	c.lastResult = &r
	if tok == nil && e.flicker.armed {
		c.anonymous++
	}
	who := "no identity"
	if tok != nil {
		who = e.label(tok.SessionID) + "'s token"
	}
	e.emit(Event{Kind: KindQueryResult, Reason: res.String(), Session: labelOf(e, tok), Detail: fmt.Sprintf("← %s under %s: %s", c.cfg.Query, who, res.String())})
	if m.auth {
		e.onTransition(m.tag)
	}
	e.consumerChanged(before)
}
