// Package scenario reads scenario files, runs them against a target under
// one or more token-cache policies, and checks their expectations.
//
// A scenario describes correct behaviour: running it under a buggy policy
// is how the bug is reproduced (it fails there).
package scenario

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/authscope/authscope/authstate"
)

// MaxFileSize bounds a scenario file; anything larger is refused.
const MaxFileSize = 1 << 20

// MaxSteps bounds the steps, and MaxExpectations the expectations, of one
// scenario: generous for a file written by hand or exported, and a bound
// on how long a run can take.
const (
	MaxSteps        = 1000
	MaxExpectations = 1000
)

// Scenario is one parsed scenario file.
type Scenario struct {
	Name        string
	Description string
	File        string
	// Reference names the reference case(s) it reproduces, for humans.
	Reference string
	// Buggy lists the policies, or variants (authstate.Variant, e.g.
	// pr329+pr83), the reference calls wrong for this case: they are
	// expected to fail it. Names are canonical (Variant.String).
	Buggy  []string
	Start  Start
	Steps  []Step
	Expect []Expectation
}

// Start is the state before the client starts.
type Start struct {
	SignedIn     bool
	InitialToken bool
	// Consumer runs the Convex client model (ConvexProviderWithAuth and
	// the AuthenticationManager) on top of the provider.
	Consumer bool
	// PR83 gives the consumer convex-js PR #83's behaviour.
	PR83 bool
	// PreserveSession asks for a server that keeps the caller's session on
	// a change-password with revokeOtherSessions (better-auth PR #9345,
	// not merged): start: {server: {preserve_session: true}}. Only the
	// simulator has it; other targets skip the scenario.
	PreserveSession bool
	// NeedsRotation says the scenario is about a rotation of the caller's
	// session (start: {server: {needs_rotation: true}}): variants with
	// +preserve, where no rotation happens, are skipped.
	NeedsRotation bool
}

// Op is a step's operation.
type Op string

const (
	OpSignIn         Op = "sign_in"
	OpSignOut        Op = "sign_out"
	OpChangePassword Op = "change_password"
	OpObserve        Op = "observe"
	OpRotate         Op = "rotate"
	OpFetch          Op = "fetch"
	OpAwait          Op = "await"
	OpHold           Op = "hold"
	OpRelease        Op = "release"
	OpWait           Op = "wait"
	OpFault          Op = "fault"
	OpQuery          Op = "query"
	// OpRemount remounts the provider with an empty cache, as switching
	// the policy in the TUI does; the policy under test stays.
	OpRemount Op = "remount"
)

// Step is one step.
type Step struct {
	Line  int
	Op    Op
	As    string        // fetch
	Force bool          // fetch
	Names []string      // await
	What  string        // hold: token | token_request | none; release: all | oldest | latest
	Wait  time.Duration // wait
	Fault Fault         // fault
}

// Fault is an injected failure for the next request to an endpoint, made
// in the client transport so it works against any target.
type Fault struct {
	Endpoint string
	Status   int
	Network  bool
}

func (s Step) String() string {
	switch s.Op {
	case OpFetch:
		f := "fetch"
		if s.As != "" {
			f += " " + s.As
		}
		if s.Force {
			f += " (forced)"
		}
		return f
	case OpAwait:
		return "await " + strings.Join(s.Names, ", ")
	case OpHold:
		return "hold " + s.What
	case OpRelease:
		return "release " + s.What
	case OpWait:
		return "wait " + s.Wait.String()
	case OpFault:
		if s.Fault.Network {
			return "fault " + s.Fault.Endpoint + " network"
		}
		return fmt.Sprintf("fault %s %d", s.Fault.Endpoint, s.Fault.Status)
	}
	return string(s.Op)
}

// Expectation is one check made after the steps.
type Expectation struct {
	Line int
	// Result names a fetch; Session / NotSession is a session selector:
	// current, none, or S<n>.
	Result     string
	Session    string
	NotSession string
	// TokenRequests checks how many token requests were sent.
	TokenRequests *Count
	// Cache checks the provider's stored token.
	CacheSession    string
	CacheNotSession string
	HasCache        bool
	NoViolations    bool
	// Flicker bounds the flicker windows the consumer showed.
	Flicker *FlickerBound
	// Authenticated checks useConvexAuth().isAuthenticated at the end.
	Authenticated *bool
	// AnonymousQueries bounds how often the subscribed query ran with no
	// identity after the consumer was first authenticated (the clearAuth
	// leg of convex-js #82).
	AnonymousQueries *int
	// SocketStopped checks whether the Convex client's socket ends stopped
	// (consumer: {socket_stopped: false} says it must not).
	SocketStopped *bool
	// SignedIn checks whether the server knows a session for the client's
	// cookie jar at the end (signed_in: true|false).
	SignedIn *bool
}

// FlickerBound is flicker: {max_windows: N, max_ms: M}.
type FlickerBound struct {
	MaxWindows *int
	MaxMS      *int
}

// Count is an exact number or bounds.
type Count struct {
	Exact, Min, Max *int
}

func (c Count) String() string {
	var parts []string
	if c.Exact != nil {
		return strconv.Itoa(*c.Exact)
	}
	if c.Min != nil {
		parts = append(parts, fmt.Sprintf("at least %d", *c.Min))
	}
	if c.Max != nil {
		parts = append(parts, fmt.Sprintf("at most %d", *c.Max))
	}
	return strings.Join(parts, " and ")
}

func (c Count) holds(n int) bool {
	return (c.Exact == nil || n == *c.Exact) && (c.Min == nil || n >= *c.Min) && (c.Max == nil || n <= *c.Max)
}

func (x Expectation) String() string {
	switch {
	case x.Result != "" && x.NotSession != "":
		return fmt.Sprintf("result %s: not session %s", x.Result, x.NotSession)
	case x.Result != "":
		return fmt.Sprintf("result %s: session %s", x.Result, x.Session)
	case x.TokenRequests != nil:
		return "token_requests: " + x.TokenRequests.String()
	case x.HasCache && x.CacheNotSession != "":
		return "cache: not session " + x.CacheNotSession
	case x.HasCache:
		return "cache: session " + x.CacheSession
	case x.NoViolations:
		return "no_violations"
	case x.Flicker != nil:
		var parts []string
		if x.Flicker.MaxWindows != nil {
			parts = append(parts, fmt.Sprintf("at most %d window(s)", *x.Flicker.MaxWindows))
		}
		if x.Flicker.MaxMS != nil {
			parts = append(parts, fmt.Sprintf("at most %d ms in all", *x.Flicker.MaxMS))
		}
		return "flicker: " + strings.Join(parts, " and ")
	case x.Authenticated != nil:
		return fmt.Sprintf("consumer: authenticated %v", *x.Authenticated)
	case x.AnonymousQueries != nil:
		return fmt.Sprintf("consumer: at most %d query run(s) with no identity", *x.AnonymousQueries)
	case x.SocketStopped != nil:
		return fmt.Sprintf("consumer: socket stopped %v", *x.SocketStopped)
	case x.SignedIn != nil:
		return fmt.Sprintf("signed_in: %v", *x.SignedIn)
	}
	return "?"
}

// ParseError points at the line of a scenario file that is wrong.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Load reads and parses a scenario file. It reads at most MaxFileSize
// bytes, so a device or a pipe that never ends (/dev/zero) is refused too.
func Load(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, &ParseError{File: path, Msg: fmt.Sprintf("more than %d bytes; scenario files are limited to 1 MiB", MaxFileSize)}
	}
	return Parse(path, data)
}

// Parse parses scenario YAML. Errors name the line.
func Parse(file string, data []byte) (*Scenario, error) {
	if len(data) > MaxFileSize {
		return nil, &ParseError{File: file, Msg: "file too large"}
	}
	p := parser{file: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		return nil, p.yamlErr(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &ParseError{File: file, Msg: "empty scenario file"}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, p.errf(&next, "a second YAML document starts here: a scenario file holds one scenario")
	case err != io.EOF:
		return nil, p.yamlErr(err)
	}
	sc, err := p.scenario(doc.Content[0])
	if err != nil {
		return nil, err
	}
	sc.File = file
	return sc, nil
}

type parser struct{ file string }

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

func (p parser) yamlErr(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &ParseError{File: p.file, Line: n, Msg: "invalid YAML: " + m[2]}
	}
	return &ParseError{File: p.file, Msg: "invalid YAML: " + msg}
}

func (p parser) errf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &ParseError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// pairs returns a mapping's key/value nodes, refusing duplicate keys.
func (p parser) pairs(n *yaml.Node, what string) ([][2]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "%s must be a mapping, got %s", what, kindName(n))
	}
	seen := map[string]bool{}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			return nil, p.errf(k, "%s: key %q appears twice", what, k.Value)
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func (p parser) str(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", p.errf(n, "%s must be a string, got %s", what, kindName(n))
	}
	return n.Value, nil
}

func (p parser) boolean(n *yaml.Node, what string) (bool, error) {
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "true", "yes", "on":
			return true, nil
		case "false", "no", "off":
			return false, nil
		}
	}
	return false, p.errf(n, "%s must be true or false, got %s", what, kindName(n))
}

func (p parser) integer(n *yaml.Node, what string) (int, error) {
	if n.Kind == yaml.ScalarNode {
		if v, err := strconv.Atoi(n.Value); err == nil && v >= 0 {
			return v, nil
		}
	}
	return 0, p.errf(n, "%s must be a whole number ≥ 0, got %s", what, kindName(n))
}

func (p parser) scenario(root *yaml.Node) (*Scenario, error) {
	kv, err := p.pairs(root, "a scenario")
	if err != nil {
		return nil, err
	}
	sc := &Scenario{Start: Start{SignedIn: true}}
	var stepsNode *yaml.Node
	for _, e := range kv {
		k, v := e[0], e[1]
		switch k.Value {
		case "name":
			sc.Name, err = p.str(v, "name")
		case "description":
			sc.Description, err = p.str(v, "description")
		case "reference":
			sc.Reference, err = p.str(v, "reference")
		case "buggy":
			sc.Buggy, err = p.names(v, "buggy")
		case "start":
			sc.Start, err = p.start(v)
		case "steps":
			stepsNode = v
			sc.Steps, err = p.steps(v)
		case "expect":
			sc.Expect, err = p.expectations(v)
		default:
			err = p.errf(k, "unknown key %q (want name, description, reference, buggy, start, steps, expect)", k.Value)
		}
		if err != nil {
			return nil, err
		}
	}
	if sc.Name == "" {
		return nil, p.errf(root, "the scenario has no name")
	}
	if stepsNode == nil {
		return nil, p.errf(root, "the scenario has no steps")
	}
	if len(sc.Expect) == 0 {
		return nil, p.errf(root, "the scenario has no expectations (expect:)")
	}
	if err := p.checkNames(sc); err != nil {
		return nil, err
	}
	for _, x := range sc.Expect {
		if (x.Flicker != nil || x.Authenticated != nil || x.AnonymousQueries != nil || x.SocketStopped != nil) && !sc.Start.Consumer {
			return nil, &ParseError{File: p.file, Line: x.Line, Msg: "flicker and consumer expectations need start.consumer: true"}
		}
	}
	for _, st := range sc.Steps {
		if st.Op == OpQuery && !sc.Start.Consumer {
			return nil, &ParseError{File: p.file, Line: st.Line, Msg: "query needs start.consumer: true"}
		}
	}
	return sc, nil
}

func (p parser) names(v *yaml.Node, what string) ([]string, error) {
	if v.Kind == yaml.ScalarNode {
		if v.Value == "" {
			return nil, p.errf(v, "%s is empty", what)
		}
		return []string{v.Value}, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, p.errf(v, "%s must be a name or a list of names, got %s", what, kindName(v))
	}
	var out []string
	for _, it := range v.Content {
		s, err := p.str(it, what)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, p.errf(v, "%s is an empty list", what)
	}
	return out, nil
}

func (p parser) start(v *yaml.Node) (Start, error) {
	st := Start{SignedIn: true}
	kv, err := p.pairs(v, "start")
	if err != nil {
		return st, err
	}
	for _, e := range kv {
		k, v := e[0], e[1]
		switch k.Value {
		case "signed_in":
			st.SignedIn, err = p.boolean(v, "start.signed_in")
		case "initial_token":
			st.InitialToken, err = p.boolean(v, "start.initial_token")
		case "consumer":
			st.Consumer, err = p.boolean(v, "start.consumer")
		case "pr83":
			st.PR83, err = p.boolean(v, "start.pr83")
		case "server":
			st.PreserveSession, st.NeedsRotation, err = p.server(v)
		default:
			err = p.errf(k, "unknown key %q in start (want signed_in, initial_token, consumer, pr83, server)", k.Value)
		}
		if err != nil {
			return st, err
		}
	}
	if st.PR83 && !st.Consumer {
		return st, p.errf(v, "start.pr83 needs start.consumer: it changes the Convex client model")
	}
	if st.InitialToken && !st.SignedIn {
		return st, p.errf(v, "start.initial_token needs start.signed_in: an initial token is minted for the signed-in session")
	}
	return st, nil
}

// server reads start.server: the switches of the server under test.
func (p parser) server(v *yaml.Node) (preserve, rotation bool, err error) {
	kv, err := p.pairs(v, "start.server")
	if err != nil {
		return false, false, err
	}
	for _, e := range kv {
		switch e[0].Value {
		case "preserve_session":
			preserve, err = p.boolean(e[1], "start.server.preserve_session")
		case "needs_rotation":
			rotation, err = p.boolean(e[1], "start.server.needs_rotation")
		default:
			err = p.errf(e[0], "unknown key %q in start.server (want preserve_session, needs_rotation)", e[0].Value)
		}
		if err != nil {
			return false, false, err
		}
	}
	if preserve && rotation {
		return false, false, p.errf(v, "start.server: preserve_session and needs_rotation contradict each other: a server that keeps the session does not rotate it")
	}
	return preserve, rotation, nil
}

func (p parser) steps(v *yaml.Node) ([]Step, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, p.errf(v, "steps must be a list, got %s", kindName(v))
	}
	if len(v.Content) > MaxSteps {
		return nil, p.errf(v.Content[MaxSteps], "more than %d steps; a scenario is limited to %d", MaxSteps, MaxSteps)
	}
	var out []Step
	for _, n := range v.Content {
		s, err := p.step(n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

const stepList = "sign_in, sign_out, change_password, observe, rotate, fetch, await, hold, release, wait, fault, query, remount"

func (p parser) step(n *yaml.Node) (Step, error) {
	s := Step{Line: n.Line}
	var key, val *yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		key = n
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			return s, p.errf(n, "a step is one operation; this one has %d keys", len(n.Content)/2)
		}
		key, val = n.Content[0], n.Content[1]
	default:
		return s, p.errf(n, "a step must be an operation name or a one-key mapping, got %s", kindName(n))
	}
	s.Op = Op(key.Value)
	var err error
	switch s.Op {
	case OpSignIn, OpSignOut, OpChangePassword, OpObserve, OpRotate, OpQuery, OpRemount:
		if val != nil && !(val.Kind == yaml.ScalarNode && (val.Value == "" || val.Tag == "!!null")) {
			return s, p.errf(val, "%s takes no arguments", s.Op)
		}
	case OpFetch:
		if val != nil && !(val.Kind == yaml.ScalarNode && val.Tag == "!!null") {
			kv, err := p.pairs(val, "fetch")
			if err != nil {
				return s, err
			}
			for _, e := range kv {
				switch e[0].Value {
				case "as":
					s.As, err = p.str(e[1], "fetch.as")
				case "force":
					s.Force, err = p.boolean(e[1], "fetch.force")
				default:
					err = p.errf(e[0], "unknown key %q in fetch (want as, force)", e[0].Value)
				}
				if err != nil {
					return s, err
				}
			}
		}
	case OpAwait:
		if val == nil {
			return s, p.errf(key, "await needs the name of a fetch, or a list of names")
		}
		s.Names, err = p.names(val, "await")
	case OpHold:
		if val == nil {
			return s, p.errf(key, "hold needs what to hold: token, token_request or none")
		}
		s.What, err = p.str(val, "hold")
		if err == nil && s.What != "token" && s.What != "token_request" && s.What != "none" {
			err = p.errf(val, "hold: unknown %q (want token, token_request or none)", s.What)
		}
	case OpRelease:
		if val == nil {
			return s, p.errf(key, "release needs all, oldest or latest")
		}
		s.What, err = p.str(val, "release")
		if err == nil && s.What != "all" && s.What != "oldest" && s.What != "latest" {
			err = p.errf(val, "release: unknown %q (want all, oldest or latest)", s.What)
		}
	case OpWait:
		if val == nil {
			return s, p.errf(key, "wait needs a duration such as 500ms or 16m")
		}
		var str string
		if str, err = p.str(val, "wait"); err == nil {
			s.Wait, err = time.ParseDuration(str)
			if err != nil || s.Wait < 0 {
				err = p.errf(val, "wait: %q is not a duration such as 500ms or 16m", str)
			}
		}
	case OpFault:
		if val == nil {
			return s, p.errf(key, "fault needs {endpoint: token, status: 503} or {endpoint: token, network: true}")
		}
		s.Fault, err = p.fault(val)
	default:
		return s, p.errf(key, "unknown step %q (want one of %s)", key.Value, stepList)
	}
	return s, err
}

var endpoints = map[string]bool{"token": true, "get-session": true, "change-password": true, "sign-in": true, "sign-out": true, "query": true}

func (p parser) fault(v *yaml.Node) (Fault, error) {
	var f Fault
	kv, err := p.pairs(v, "fault")
	if err != nil {
		return f, err
	}
	for _, e := range kv {
		switch e[0].Value {
		case "endpoint":
			f.Endpoint, err = p.str(e[1], "fault.endpoint")
			if err == nil && !endpoints[f.Endpoint] {
				err = p.errf(e[1], "fault.endpoint: unknown %q (want token, get-session, change-password, sign-in, sign-out or query)", f.Endpoint)
			}
		case "status":
			f.Status, err = p.integer(e[1], "fault.status")
			if err == nil && (f.Status < 400 || f.Status > 599) {
				err = p.errf(e[1], "fault.status must be an HTTP error status (400–599), got %d", f.Status)
			}
		case "network":
			f.Network, err = p.boolean(e[1], "fault.network")
		default:
			err = p.errf(e[0], "unknown key %q in fault (want endpoint, status, network)", e[0].Value)
		}
		if err != nil {
			return f, err
		}
	}
	if f.Endpoint == "" {
		return f, p.errf(v, "fault needs an endpoint")
	}
	if (f.Status == 0) == !f.Network {
		return f, p.errf(v, "fault needs exactly one of status or network: true")
	}
	return f, nil
}

var sessionSel = regexp.MustCompile(`^(current|none|S[1-9][0-9]*)$`)

func (p parser) selector(n *yaml.Node, what string) (string, error) {
	s, err := p.str(n, what)
	if err != nil {
		return "", err
	}
	if !sessionSel.MatchString(s) {
		return "", p.errf(n, "%s: %q is not a session (want current, none or S1, S2, …)", what, s)
	}
	return s, nil
}

func (p parser) expectations(v *yaml.Node) ([]Expectation, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, p.errf(v, "expect must be a list, got %s", kindName(v))
	}
	if len(v.Content) > MaxExpectations {
		return nil, p.errf(v.Content[MaxExpectations], "more than %d expectations; a scenario is limited to %d", MaxExpectations, MaxExpectations)
	}
	var out []Expectation
	for _, n := range v.Content {
		x, err := p.expectation(n)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

func (p parser) expectation(n *yaml.Node) (Expectation, error) {
	x := Expectation{Line: n.Line}
	kv, err := p.pairs(n, "an expectation")
	if err != nil {
		return x, err
	}
	for _, e := range kv {
		k, v := e[0], e[1]
		switch k.Value {
		case "result":
			x.Result, err = p.str(v, "result")
		case "session":
			x.Session, err = p.selector(v, "session")
		case "not_session":
			x.NotSession, err = p.selector(v, "not_session")
		case "token_requests":
			x.TokenRequests, err = p.count(v)
		case "cache":
			x.HasCache = true
			var ckv [][2]*yaml.Node
			if ckv, err = p.pairs(v, "cache"); err == nil {
				for _, ce := range ckv {
					switch ce[0].Value {
					case "session":
						x.CacheSession, err = p.selector(ce[1], "cache.session")
					case "not_session":
						x.CacheNotSession, err = p.selector(ce[1], "cache.not_session")
					default:
						err = p.errf(ce[0], "unknown key %q in cache (want session or not_session)", ce[0].Value)
					}
					if err != nil {
						break
					}
				}
				if err == nil && (x.CacheSession == "") == (x.CacheNotSession == "") {
					err = p.errf(v, "cache needs exactly one of session or not_session")
				}
			}
		case "no_violations":
			x.NoViolations, err = p.boolean(v, "no_violations")
			if err == nil && !x.NoViolations {
				err = p.errf(v, "no_violations: false checks nothing; leave it out")
			}
		case "flicker":
			x.Flicker, err = p.flicker(v)
		case "signed_in":
			var b bool
			if b, err = p.boolean(v, "signed_in"); err == nil {
				x.SignedIn = &b
			}
		case "consumer":
			var ckv [][2]*yaml.Node
			if ckv, err = p.pairs(v, "consumer"); err == nil {
				for _, ce := range ckv {
					switch ce[0].Value {
					case "authenticated":
						var b bool
						if b, err = p.boolean(ce[1], "consumer.authenticated"); err == nil {
							x.Authenticated = &b
						}
					case "anonymous_queries":
						var n int
						if n, err = p.integer(ce[1], "consumer.anonymous_queries"); err == nil {
							x.AnonymousQueries = &n
						}
					case "socket_stopped":
						var b bool
						if b, err = p.boolean(ce[1], "consumer.socket_stopped"); err == nil {
							x.SocketStopped = &b
						}
					default:
						err = p.errf(ce[0], "unknown key %q in consumer (want authenticated, anonymous_queries or socket_stopped)", ce[0].Value)
					}
					if err != nil {
						break
					}
				}
				set := 0
				for _, b := range []bool{x.Authenticated != nil, x.AnonymousQueries != nil, x.SocketStopped != nil} {
					if b {
						set++
					}
				}
				if err == nil && set != 1 {
					err = p.errf(v, "consumer needs exactly one of authenticated, anonymous_queries or socket_stopped")
				}
			}
		default:
			err = p.errf(k, "unknown key %q in an expectation (want result with session or not_session, token_requests, cache, no_violations, flicker, consumer, signed_in)", k.Value)
		}
		if err != nil {
			return x, err
		}
	}
	kinds := 0
	for _, b := range []bool{x.Result != "", x.TokenRequests != nil, x.HasCache, x.NoViolations, x.Flicker != nil, x.Authenticated != nil || x.AnonymousQueries != nil || x.SocketStopped != nil, x.SignedIn != nil} {
		if b {
			kinds++
		}
	}
	switch {
	case kinds != 1:
		return x, p.errf(n, "an expectation checks one thing: result, token_requests, cache, no_violations, flicker, consumer or signed_in")
	case x.Result != "" && (x.Session == "") == (x.NotSession == ""):
		return x, p.errf(n, "result %s needs exactly one of session or not_session", x.Result)
	case x.Result == "" && (x.Session != "" || x.NotSession != ""):
		return x, p.errf(n, "session and not_session go with result")
	}
	return x, nil
}

func (p parser) flicker(v *yaml.Node) (*FlickerBound, error) {
	kv, err := p.pairs(v, "flicker")
	if err != nil {
		return nil, err
	}
	fb := &FlickerBound{}
	for _, e := range kv {
		n, err := p.integer(e[1], "flicker."+e[0].Value)
		if err != nil {
			return nil, err
		}
		switch e[0].Value {
		case "max_windows":
			fb.MaxWindows = &n
		case "max_ms":
			fb.MaxMS = &n
		default:
			return nil, p.errf(e[0], "unknown key %q in flicker (want max_windows, max_ms)", e[0].Value)
		}
	}
	if fb.MaxWindows == nil && fb.MaxMS == nil {
		return nil, p.errf(v, "flicker needs max_windows and/or max_ms")
	}
	return fb, nil
}

func (p parser) count(v *yaml.Node) (*Count, error) {
	if v.Kind == yaml.ScalarNode {
		n, err := p.integer(v, "token_requests")
		if err != nil {
			return nil, err
		}
		return &Count{Exact: &n}, nil
	}
	kv, err := p.pairs(v, "token_requests")
	if err != nil {
		return nil, err
	}
	c := &Count{}
	for _, e := range kv {
		n, err := p.integer(e[1], "token_requests."+e[0].Value)
		if err != nil {
			return nil, err
		}
		switch e[0].Value {
		case "min":
			c.Min = &n
		case "max":
			c.Max = &n
		default:
			return nil, p.errf(e[0], "unknown key %q in token_requests (want min, max)", e[0].Value)
		}
	}
	if c.Min == nil && c.Max == nil {
		return nil, p.errf(v, "token_requests needs a number, or min and/or max")
	}
	return c, nil
}

// checkNames makes sure every awaited or expected fetch is started first.
func (p parser) checkNames(sc *Scenario) error {
	started := map[string]int{}
	for _, s := range sc.Steps {
		switch s.Op {
		case OpFetch:
			if s.As == "" {
				continue
			}
			if l, dup := started[s.As]; dup {
				return &ParseError{File: p.file, Line: s.Line, Msg: fmt.Sprintf("fetch name %q is already used on line %d", s.As, l)}
			}
			started[s.As] = s.Line
		case OpAwait:
			for _, n := range s.Names {
				if _, ok := started[n]; !ok {
					return &ParseError{File: p.file, Line: s.Line, Msg: fmt.Sprintf("await %q: no earlier fetch is named %q", n, n)}
				}
			}
		}
	}
	for _, x := range sc.Expect {
		if x.Result == "" {
			continue
		}
		if _, ok := started[x.Result]; !ok {
			return &ParseError{File: p.file, Line: x.Line, Msg: fmt.Sprintf("result %q: no fetch is named %q", x.Result, x.Result)}
		}
	}
	seen := map[string]bool{}
	for i, b := range sc.Buggy {
		v, err := authstate.ParseVariant(b)
		if err != nil {
			return &ParseError{File: p.file, Msg: fmt.Sprintf("buggy: %v", err)}
		}
		// A variant may be spelt with its switches in any order; it is
		// matched by its canonical name.
		sc.Buggy[i] = v.String()
		if seen[v.String()] {
			return &ParseError{File: p.file, Msg: fmt.Sprintf("buggy: %s is listed twice", v)}
		}
		seen[v.String()] = true
	}
	return nil
}
