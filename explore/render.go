package explore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/authscope/authscope/authstate"
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
	// text is the scenario file; sc is what scenario.Parse reads from it
	// (File aside), built directly so that a run need not parse YAML.
	text []byte
	sc   *scenario.Scenario
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
// — and the oracle's expectations. Each line is written with the value it
// parses to (same line numbers), so sc is the parsed scenario and the text
// is there for a file; TestRenderParsesToItsValue holds them together.
func (s *Seed) render(steps []scenario.Step, h header) rendered {
	r := rendered{props: map[int]string{}, settleLines: map[int]bool{}, steps: len(steps)}
	st := s.Scenario.Start
	sc := &scenario.Scenario{Name: h.name, Description: h.description, Reference: h.reference,
		Start: scenario.Start{SignedIn: st.SignedIn, InitialToken: st.InitialToken, Consumer: st.Consumer, PR83: st.PR83}}
	var b bytes.Buffer
	line := 1
	w := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
		line++
	}
	step := func(x scenario.Step) { x.Line = line; sc.Steps = append(sc.Steps, x) }
	expect := func(x scenario.Expectation) { x.Line = line; sc.Expect = append(sc.Expect, x) }
	w("name: %s", quote(h.name))
	if h.description != "" {
		w("description: %s", quote(h.description))
	}
	if h.reference != "" {
		w("reference: %s", quote(h.reference))
	}
	if len(h.buggy) > 0 {
		for _, v := range h.buggy {
			if pv, err := authstate.ParseVariant(v); err == nil {
				v = pv.String()
			}
			sc.Buggy = append(sc.Buggy, v)
		}
		w("buggy: [%s]", strings.Join(h.buggy, ", "))
	}
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
			step(scenario.Step{Op: x.Op, As: n, Force: x.Force})
			if x.Force {
				w("  - fetch: {as: %s, force: true}", n)
			} else {
				w("  - fetch: {as: %s}", n)
			}
		case scenario.OpHold, scenario.OpRelease:
			step(scenario.Step{Op: x.Op, What: x.What})
			w("  - %s: %s", x.Op, x.What)
		case scenario.OpWait:
			step(scenario.Step{Op: x.Op, Wait: x.Wait})
			w("  - wait: %s", x.Wait)
		case scenario.OpFault:
			step(scenario.Step{Op: x.Op, Fault: x.Fault})
			if x.Fault.Network {
				w("  - fault: {endpoint: %s, network: true}", x.Fault.Endpoint)
			} else {
				w("  - fault: {endpoint: %s, status: %d}", x.Fault.Endpoint, x.Fault.Status)
			}
		default:
			step(scenario.Step{Op: x.Op})
			w("  - %s", x.Op)
		}
	}
	w("  # Let everything settle, then ask once more.")
	if holding != "none" {
		step(scenario.Step{Op: scenario.OpHold, What: "none"})
		w("  - hold: none")
	}
	step(scenario.Step{Op: scenario.OpRelease, What: "all"})
	w("  - release: all")
	if len(names) > 0 {
		r.settleLines[line] = true
		step(scenario.Step{Op: scenario.OpAwait, Names: names})
		w("  - await: [%s]", strings.Join(names, ", "))
	}
	step(scenario.Step{Op: scenario.OpObserve})
	w("  - observe")
	step(scenario.Step{Op: scenario.OpFetch, As: "final"})
	w("  - fetch: {as: final}")
	r.settleLines[line] = true
	step(scenario.Step{Op: scenario.OpAwait, Names: []string{"final"}})
	w("  - await: final")
	in := s.signedInAfter(steps)
	w("expect:")
	r.props[line] = "violation"
	expect(scenario.Expectation{NoViolations: true})
	w("  - no_violations: true")
	r.props[line] = PropSessionKept
	expect(scenario.Expectation{SignedIn: &in})
	w("  - signed_in: %v", in)
	r.props[line] = PropFinalToken
	if !in {
		r.props[line] = PropSignedOutToken
	}
	final := scenario.Expectation{Result: "final", Session: "current"}
	if !in {
		final.Session = "none"
	}
	expect(final)
	w("  - result: final")
	w("    session: %s", final.Session)
	for _, c := range h.gotToken {
		r.props[line] = PropNoToken
		expect(scenario.Expectation{Result: c, NotSession: "none"})
		w("  - result: %s", c)
		w("    not_session: none")
	}
	if st.Consumer {
		r.props[line] = PropConvexAuth
		expect(scenario.Expectation{Authenticated: &in})
		w("  - consumer: {authenticated: %v}", in)
		r.props[line] = PropSocketStopped
		stopped := false
		expect(scenario.Expectation{SocketStopped: &stopped})
		w("  - consumer: {socket_stopped: false}")
	}
	r.text = b.Bytes()
	r.sc = sc
	return r
}
