package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/authscope/authscope/authstate"
)

// This file says why a violation or a flicker window happened and what
// would remove it. Everything here is computed from events: the status
// line gets one sentence when the event arrives, the detail view of the
// event the long form, and the ? glossary the meaning of each kind.

// explanation is the cause of something on screen and what removes it.
type explanation struct {
	sentence string   // one sentence: what caused it; what would remove it
	more     []string // paragraphs for the detail view
}

// violationKind is one invariant of authstate.Checker in words.
type violationKind struct {
	// meaning is what the violation says, for the glossary.
	meaning string
	// cause is why it happened under a policy ("" for any other), with
	// %s standing for the session of the token served (or "another
	// session"); source, when set, replaces it for tokens served that way.
	cause  map[string]string
	source map[string]string
	// remedy is what removes it, by the policy it happened under ("" for
	// any other).
	remedy map[string]string
	// more is the long form for the detail view.
	more string
	// fixedBy names the policies that remove it, for the glossary.
	fixedBy string
}

// modelBug is the remedy of a violation the policy should never show.
const modelBug = "this policy should never do this: a bug in authscope's model worth reporting"

// violationKinds explains every invariant the checker reports.
var violationKinds = map[string]violationKind{
	authstate.InvariantGoneSession: {
		meaning: "a call was served a token bound to a session the client already knew had rotated away or ended",
		cause: map[string]string{
			"v0.12": "the provider still held %s's token: v0.12's fetcher reads the first render's cache (an SSR initial token forever) and shares one pending request between fetchers",
			"pr329": "the provider still held %s's token: pr329 drops the cache only when a call sees the session id change, and a sign-out in between hides the change",
			"":      "a token of %s reached the call",
		},
		source: map[string]string{
			"joined": "the call joined a request sent under %s: every fetcher shares one pending request",
			"fetch":  "a request sent under %s answered after the client had moved on",
		},
		remedy: map[string]string{
			"v0.12":    "pr329 (m) drops the cache and the pending request when a call sees a new session, and hardened never serves another session's token",
			"pr329":    "the hardened policy (m) removes it: it never serves a token bound to a session other than the current one",
			"hardened": modelBug,
			"":         "the hardened policy (m) never serves a token bound to a session other than the current one",
		},
		more:    "A Convex query run under that token fails at the app's session check (getAuthUser finds no session), although the JWT's signature and exp are valid: the user sees \"Unauthenticated\" until a forced fetch brings the current session's token.",
		fixedBy: "pr329 in most cases, hardened in all",
	},
	authstate.InvariantUnverified: {
		meaning: "a call was served a token whose signature or claims did not verify against the server's JWKS",
		cause: map[string]string{
			"": "the token endpoint answered a token that failed verification and the provider passed it on as is",
		},
		remedy: map[string]string{
			"hardened": modelBug,
			"":         "the hardened policy (m) never caches or serves such a token (it retries instead); on the server, check the JWKS and the signing keys",
		},
		more:    "Convex rejects such a token with an AuthError and the client reauthenticates with a forced fetch, which returns the same kind of token: the app loops between loading and signed out.",
		fixedBy: "hardened",
	},
	authstate.InvariantExpired: {
		meaning: "a call was served a token past its exp",
		cause: map[string]string{
			"v0.12": "v0.12 serves the first render's token whatever its exp",
			"pr329": "pr329's cache serves a token whatever its exp: it has no expiry check",
			"":      "a cached token outlived its exp",
		},
		remedy: map[string]string{
			"hardened": modelBug,
			"":         "the hardened policy (m) stops serving a cached token 10 s before its exp",
		},
		more:    "Convex answers an expired token with an AuthError and reauthenticates with a forced fetch: one extra round trip, during which queries fail.",
		fixedBy: "hardened",
	},
	authstate.InvariantLateOverwrite: {
		meaning: "a request wrote or cleared the cache after a newer request (or a clear made after it started) already had",
		cause: map[string]string{
			"v0.12": "an older request answered last and v0.12 stores its result whoever owns the pending slot",
			"":      "an older request answered last and its result replaced a newer one",
		},
		remedy: map[string]string{
			"v0.12": "pr329 (m) removes it: a request that is no longer the pending promise drops its result (the promise-identity guard); hardened too",
			"":      modelBug,
		},
		more:    "The next non-forced fetch then returns the older token, for example one bound to a session that no longer exists.",
		fixedBy: "pr329 and hardened",
	},
	authstate.InvariantPendingClobber: {
		meaning: "a request's finally emptied the pending slot of another request still in flight",
		cause: map[string]string{
			"v0.12": "v0.12's finally empties the pending slot whoever owns it (issue #353 item 3)",
			"":      "a request's finally emptied a pending slot it did not own",
		},
		remedy: map[string]string{
			"v0.12": "pr329 (m) removes it: finally only clears its own promise; hardened too",
			"":      modelBug,
		},
		more:    "The next non-forced call finds the slot empty and sends a duplicate token request instead of joining the one in flight.",
		fixedBy: "pr329 and hardened",
	},
}

// pick returns m[k], or m[""] when k has no entry.
func pick(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return m[""]
}

// explainViolation says why a violation event happened and what removes
// it, from the event alone.
func explainViolation(ev authstate.Event) explanation {
	vk, ok := violationKinds[ev.Cause]
	if !ok {
		return explanation{sentence: fmt.Sprintf("violation %s: %s", ev.Cause, ev.Summary())}
	}
	who := "another session"
	if ev.Token != nil && ev.Token.Session != "" {
		who = ev.Token.Session
	}
	cause := pick(vk.cause, ev.Policy)
	if s, ok := vk.source[ev.Source]; ok {
		cause = s
	}
	if strings.Contains(cause, "%s") {
		cause = fmt.Sprintf(cause, who)
	}
	remedy := pick(vk.remedy, ev.Policy)
	return explanation{
		sentence: fmt.Sprintf("violation %s under %s: %s; %s", ev.Cause, ev.Policy, cause, remedy),
		more: []string{
			"What it means: " + vk.meaning + ". " + vk.more,
			"Why: " + cause + ".",
			"What removes it: " + remedy + ".",
		},
	}
}

// flickerTrail is what the events said around one flicker window: enough
// to tell what caused it. It starts afresh whenever the Convex side is
// calm (authenticated, the query answering) outside a window.
type flickerTrail struct {
	open       bool
	why        string // what the open event said
	action     string // the last server action, if any
	openedAt   time.Time
	newSession string // the session the client rotated to, if it saw one
	byPoll     bool   // it saw the rotation at a poll, not by the session signal
	failedAs   string // a query failed under this session's token
	anonymous  bool   // a query ran with no identity (clearAuth's Authenticate None)
	tokenFails int    // token requests that failed
}

// explainer turns one device's events into explanations of its flicker
// windows and violations, and keeps them for the detail view.
type explainer struct {
	trail flickerTrail
	// bySeq holds the explanation of recent flicker events, for the
	// detail view: their cause depends on the events before them.
	bySeq map[uint64]explanation
	order []uint64
}

// maxExplained bounds the flicker explanations kept for the detail view.
const maxExplained = 256

// observe feeds one event; it returns the explanation of a violation or a
// flicker window that opened or closed.
func (x *explainer) observe(ev authstate.Event) (explanation, bool) {
	t := &x.trail
	switch ev.Kind {
	case authstate.KindViolation:
		return explainViolation(ev), true
	case authstate.KindConsumerState:
		if c := ev.Convex; c != nil && !t.open && !c.Loading && c.Authenticated && !c.Failing {
			*t = flickerTrail{}
		}
	case authstate.KindAction:
		t.action = ev.Cause
	case authstate.KindSessionRotated:
		t.newSession = ev.Session
		t.byPoll = ev.Cause == "poll"
	case authstate.KindQueryResult:
		switch {
		case ev.Reason == "ok":
		case ev.Session == "none":
			t.anonymous = true
		case ev.Session != "" && t.failedAs == "":
			t.failedAs = ev.Session
		}
	case authstate.KindFetchFailed:
		t.tokenFails++
	case authstate.KindFlicker:
		var xp explanation
		switch ev.Reason {
		case "open":
			t.open, t.openedAt = true, ev.At
			t.why = strings.TrimPrefix(ev.Detail, "flicker: Better Auth says signed in, but ")
			xp = t.explainOpen(ev.Policy)
		case "closed":
			xp = t.explainClosed(ev.Policy, "of "+humanDur(ev.At.Sub(t.openedAt)))
			*t = flickerTrail{}
		default:
			return explanation{}, false
		}
		x.keep(ev.Seq, xp)
		return xp, true
	}
	return explanation{}, false
}

func (x *explainer) keep(seq uint64, xp explanation) {
	if x.bySeq == nil {
		x.bySeq = map[uint64]explanation{}
	}
	x.bySeq[seq] = xp
	x.order = append(x.order, seq)
	if len(x.order) > maxExplained {
		delete(x.bySeq, x.order[0])
		x.order = x.order[1:]
	}
}

// explained is the explanation of an event for the detail view, if it
// has one.
func (x *explainer) explained(ev authstate.Event) (explanation, bool) {
	switch ev.Kind {
	case authstate.KindViolation:
		return explainViolation(ev), true
	case authstate.KindFlicker:
		xp, ok := x.bySeq[ev.Seq]
		return xp, ok
	}
	return explanation{}, false
}

// passwordChange reports whether the trail's action rotated the session
// on the server.
func (t *flickerTrail) passwordChange() bool {
	return t.action == authstate.ActionChangePassword.String()
}

// Paragraphs of the long form, shared by the kinds of flicker.
const (
	flickerWhatYouSee = "What you see: Better Auth says the user is signed in, but the Convex side does not agree (%s). An app shows \"Unauthenticated\" or a spinner for as long as the window lasts."
	rotationSteps     = "Why: the password change (revokeOtherSessions) deletes every session of the user and creates a new one. The deployment re-runs the subscribed query, and getAuthUser looks up the session named by the JWT's sessionId claim: it is gone, so the query fails although the token's signature and exp are fine. When the client observes the new session, fetchAccessToken gets a new identity; ConvexProviderWithAuth's effect cleanup calls clearAuth (convex-js #82: Authenticate None, the query re-runs with no identity) and useConvexAuth goes back to loading; setAuth then fetches the new session's token, and the window closes when the deployment confirms it."
	rotationStepsPR83 = "Why: the password change (revokeOtherSessions) deletes every session of the user and creates a new one. The deployment re-runs the subscribed query, and getAuthUser looks up the session named by the JWT's sessionId claim: it is gone, so the query fails although the token's signature and exp are fine. When the client observes the new session, fetchAccessToken gets a new identity; with PR #83 the effect cleanup keeps the old identity (no clearAuth), useConvexAuth goes back to loading, and setAuth fetches the new session's token; the window closes when the deployment confirms it."
	rotationRemedy    = "What removes it: no token-cache policy (m) does: the window lives in the Convex client and the server, so it shows under v0.12, pr329 and hardened alike. convex-js PR #83 (a draft) skips clearAuth on a mere fetcher swap and removes the no-identity leg; better-auth PR #9345 keeps the caller's session on a password change, so its id never changes and there is no window at all."
	pollRemedy        = "The client learned of the new session only at a poll, not by Better Auth's session signal (better-auth ≥ 1.6.5 sends it after change-password): until then queries fail under the deleted session's token. A shorter poll interval (] and [) shortens that part."
	tokenFailRemedy   = "Why: a token request failed and the provider returned null; the Convex AuthenticationManager takes null as a sign-out (clearAuth, onAuthChange(false)) and does not retry (issue #408). What removes it: the hardened policy (m) retries transient failures with backoff and never reports one as a sign-out."
)

// explainOpen is the sentence when a window opens: the events before it.
func (t *flickerTrail) explainOpen(policy string) explanation {
	see := fmt.Sprintf(flickerWhatYouSee, t.why)
	switch {
	case t.passwordChange():
		return explanation{
			sentence: "Convex flicker: the password change deleted the session on the server, so queries under its token fail until the new session's token is confirmed; no token-cache policy removes this (better-auth PR #9345 would)",
			more:     []string{see, rotationSteps, rotationRemedy},
		}
	case t.tokenFails > 0 && policy != "hardened":
		return explanation{
			sentence: fmt.Sprintf("Convex flicker: a token request failed and %s returned null, which Convex takes as a sign-out (#408); the hardened policy (m) retries instead", policy),
			more:     []string{see, tokenFailRemedy},
		}
	}
	return explanation{
		sentence: "Convex flicker: Better Auth says signed in, but " + t.why + "; the events just before it in the log show what started it",
		more:     []string{see, "Why: no server action or failed token request came just before it; read the events above it in the log (convex, query_result, session_*)."},
	}
}

// explainClosed is the sentence when a window closes: everything that
// happened during it.
// over is how long it lasted on the engine's clock, e.g. "of 310ms".
func (t *flickerTrail) explainClosed(policy, over string) explanation {
	see := fmt.Sprintf(flickerWhatYouSee, t.why)
	switch {
	case t.passwordChange():
		gone, next := "the deleted session", "the new session's"
		if t.failedAs != "" {
			gone = t.failedAs + "'s deleted session"
		}
		if t.newSession != "" {
			next = t.newSession + "'s"
		}
		legs := fmt.Sprintf("queries failing under %s until %s token was confirmed", gone, next)
		s := "Convex flicker " + over + " after the password change: "
		if t.anonymous {
			s += "clearAuth on the fetcher swap (convex-js #82) + " + legs + "; no token-cache policy removes it; PR #83 removes clearAuth"
		} else {
			s += legs + "; no token-cache policy removes it; better-auth PR #9345 would"
		}
		more := []string{see, rotationSteps, rotationRemedy}
		if !t.anonymous {
			more = []string{see, rotationStepsPR83, rotationRemedy, "No query ran with no identity in this window: clearAuth was skipped (PR #83 on) or sent while the socket was paused."}
		}
		if t.byPoll {
			more = append(more, pollRemedy)
		}
		return explanation{sentence: s, more: more}
	case t.tokenFails > 0 && policy != "hardened":
		return explanation{
			sentence: fmt.Sprintf("Convex flicker %s: a token request failed and %s returned null, which Convex takes as a sign-out (#408); the hardened policy (m) retries instead", over, policy),
			more:     []string{see, tokenFailRemedy},
		}
	}
	return explanation{
		sentence: "Convex flicker " + over + ": Better Auth said signed in, but " + t.why + "; the events in the window show what started it",
		more:     []string{see, "Why: no server action or failed token request came just before it; read the events of the window in the log (convex, query_result, session_*)."},
	}
}
