package explore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/authscope/authscope/authstate/scenario"
)

// Properties the oracle checks besides the invariant checker's (whose
// names, authstate.Invariants, are used as they are).
const (
	// PropSessionKept: once everything has settled, the server still
	// knows a session for the client's cookies when the client should be
	// signed in (and none when it should be signed out).
	PropSessionKept = "session-kept"
	// PropFinalToken: once everything has settled and the client has
	// observed the session, a plain fetch returns a token bound to the
	// server's current session (the client should be signed in).
	PropFinalToken = "final-token"
	// PropSignedOutToken: the same fetch returns no token when the client
	// should be signed out.
	PropSignedOutToken = "signed-out-token"
	// PropConvexAuth: with the Convex client model on, it ends
	// authenticated exactly when Better Auth says signed in.
	PropConvexAuth = "convex-auth"
	// PropStaleOverwrite refines the checker's late-overwrite: the late
	// request wrote a stale token (bound to a session the client knows is
	// gone) over a newer one, as in case 1.
	PropStaleOverwrite = "stale-overwrite"
	// PropNoToken: no call is served no token while the client knows it
	// is signed in (a failure is not a sign-out, case 12).
	PropNoToken = "no-token"
	// PropSettles: once nothing is held, every call returns.
	PropSettles = "settles"
	// PropSocketStopped: with the Convex client model on, it is not left
	// with a stopped socket once everything has settled.
	PropSocketStopped = "stopped-socket"
)

// Inherent reports whether a property's failures are ones no client-side
// token cache can prevent (docs/cases.md): a late 401 whose Set-Cookie
// headers wipe the fresh session cookie breaks session-kept under every
// policy.
func Inherent(property string) bool { return property == PropSessionKept }

// header is what a rendered scenario says about itself.
type header struct {
	name, description, reference string
	buggy                        []string
	// gotToken names fetches expected to return a token (not_session:
	// none): those a no-token failure served none.
	gotToken []string
}

// rendered is a schedule written as a scenario file.
type rendered struct {
	text []byte
	// props maps an expectation's line to the property it checks.
	props map[int]string
	// settleLines are the lines of the awaits that end the schedule.
	settleLines map[int]bool
	// steps is how many steps come before the settling part.
	steps int
}

// quote writes s as a YAML (JSON) string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// render writes the schedule steps as a scenario: the steps (fetches named
// f1, f2, … in order), then the settling part — stop holding, release
// everything, await every fetch, observe the session, one last plain fetch
// — and the oracle's expectations.
func (s *Seed) render(steps []scenario.Step, h header) rendered {
	r := rendered{props: map[int]string{}, settleLines: map[int]bool{}, steps: len(steps)}
	var b bytes.Buffer
	line := 1
	w := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
		line++
	}
	w("name: %s", quote(h.name))
	if h.description != "" {
		w("description: %s", quote(h.description))
	}
	if h.reference != "" {
		w("reference: %s", quote(h.reference))
	}
	if len(h.buggy) > 0 {
		w("buggy: [%s]", strings.Join(h.buggy, ", "))
	}
	st := s.Scenario.Start
	w("start: {signed_in: %v, initial_token: %v, consumer: %v, pr83: %v}", st.SignedIn, st.InitialToken, st.Consumer, st.PR83)
	w("steps:")
	var names []string
	holding := "none"
	for _, x := range steps {
		if x.Op == scenario.OpHold {
			holding = x.What
		}
		switch x.Op {
		case scenario.OpFetch:
			n := fmt.Sprintf("f%d", len(names)+1)
			names = append(names, n)
			if x.Force {
				w("  - fetch: {as: %s, force: true}", n)
			} else {
				w("  - fetch: {as: %s}", n)
			}
		case scenario.OpHold, scenario.OpRelease:
			w("  - %s: %s", x.Op, x.What)
		case scenario.OpWait:
			w("  - wait: %s", x.Wait)
		case scenario.OpFault:
			if x.Fault.Network {
				w("  - fault: {endpoint: %s, network: true}", x.Fault.Endpoint)
			} else {
				w("  - fault: {endpoint: %s, status: %d}", x.Fault.Endpoint, x.Fault.Status)
			}
		default:
			w("  - %s", x.Op)
		}
	}
	w("  # Let everything settle, then ask once more.")
	if holding != "none" {
		w("  - hold: none")
	}
	w("  - release: all")
	if len(names) > 0 {
		r.settleLines[line] = true
		w("  - await: [%s]", strings.Join(names, ", "))
	}
	w("  - observe")
	w("  - fetch: {as: final}")
	r.settleLines[line] = true
	w("  - await: final")
	in := s.signedInAfter(steps)
	w("expect:")
	r.props[line] = "violation"
	w("  - no_violations: true")
	r.props[line] = PropSessionKept
	w("  - signed_in: %v", in)
	r.props[line] = PropFinalToken
	if !in {
		r.props[line] = PropSignedOutToken
	}
	w("  - result: final")
	if in {
		w("    session: current")
	} else {
		w("    session: none")
	}
	for _, c := range h.gotToken {
		r.props[line] = PropNoToken
		w("  - result: %s", c)
		w("    not_session: none")
	}
	if st.Consumer {
		r.props[line] = PropConvexAuth
		w("  - consumer: {authenticated: %v}", in)
		r.props[line] = PropSocketStopped
		w("  - consumer: {socket_stopped: false}")
	}
	r.text = b.Bytes()
	return r
}
