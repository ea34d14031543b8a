// Package toscenario turns a recorded trace into a scenario file: the
// recorded user and transport inputs become steps, and what the recording
// broke (the violations it shows, a flicker window) becomes expectations.
// `authscope export TRACE --scenario OUT.yaml` uses it.
//
// What the engine makes by itself is not a step: network completions and
// timer firings happen again when the scenario runs. What a scenario cannot
// express (a second device, a latency, the session poller's timing, a
// policy switch half-way) is left out, and each Note says which trace lines
// and why.
package toscenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/trace"
)

// Options shape the exported file's header comment.
type Options struct {
	// File is the trace's file name (only its base name is written).
	File string
	// Now is the export's time (default: now).
	Now time.Time
	// Program is the exporting program's version, e.g. "authscope 0.9".
	Program string
}

// Note is something the export could not turn into the scenario: the trace
// lines it concerns (none for a note about the whole recording) and why.
type Note struct {
	Lines []int
	Why   string
}

func (n Note) String() string {
	if len(n.Lines) == 0 {
		return n.Why
	}
	const show = 12
	parts := make([]string, 0, show)
	for i, l := range n.Lines {
		if i == show {
			parts = append(parts, fmt.Sprintf("and %d more", len(n.Lines)-show))
			break
		}
		parts = append(parts, strconv.Itoa(l))
	}
	word := "line"
	if len(n.Lines) > 1 {
		word = "lines"
	}
	return word + " " + strings.Join(parts, ", ") + ": " + n.Why
}

// Result is an exported scenario.
type Result struct {
	// YAML is the scenario file; Scenario is it parsed back.
	YAML     []byte
	Scenario *scenario.Scenario
	// Policy is the policy the recording ran under (the one in effect at
	// its first step).
	Policy string
	// Violations is how many violations the exported part of the
	// recording shows; FirstViolation is the first one.
	Violations     int
	FirstViolation *authstate.Event
	Notes          []Note
}

// ErrNothing says the trace holds no input that becomes a step.
var ErrNothing = errors.New("the trace holds no user or transport input that a scenario step can express")

// step is one step to write, with the trace line it came from.
type step struct {
	line  int
	op    scenario.Op
	as    string
	force bool
	names []string
	what  string
	wait  time.Duration
	fault scenario.Fault
}

// violation is a recorded violation.
type violation struct {
	line int
	ev   authstate.Event
}

type exporter struct {
	t        *trace.Trace
	start    scenario.Start
	policy   string
	steps    []step
	notes    map[string][]int // why → lines
	order    []string         // the notes' order
	calls    map[string]bool  // fetch names used by steps
	resolved []string         // calls that returned since the last step
	awaited  map[string]bool
	viol     []violation
	flickers []int // lines of flicker windows opened
	cutAt    int
	// ticked says the session poller's timer fired since the last step:
	// a session change then may be the poller's doing.
	ticked bool
}

// Export turns t into a scenario. It fails with ErrNothing when no input
// becomes a step.
func Export(t *trace.Trace, o Options) (*Result, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	x := &exporter{t: t, policy: t.Header.Policy, notes: map[string][]int{}, calls: map[string]bool{}, awaited: map[string]bool{}}
	x.startBlock()
	x.walk()
	if len(x.steps) == 0 {
		return nil, ErrNothing
	}
	if len(x.resolved) > 0 {
		x.add(step{op: scenario.OpAwait, names: x.resolved})
		x.resolved = nil
	}
	if _, err := authstate.PolicyByName(x.policy); err != nil {
		x.note(0, fmt.Sprintf("the recorded policy %q is not one this authscope knows: buggy: is left out", x.policy))
		x.policy = ""
	}
	out := x.yaml(o)
	sc, err := scenario.Parse(filepath.Base(o.File)+".yaml", out)
	if err != nil {
		return nil, fmt.Errorf("the exported scenario does not load (a bug in the export): %w", err)
	}
	res := &Result{YAML: out, Scenario: sc, Policy: x.policy, Violations: len(x.viol)}
	if len(x.viol) > 0 {
		ev := x.viol[0].ev
		res.FirstViolation = &ev
	}
	for _, why := range x.order {
		res.Notes = append(res.Notes, Note{Lines: x.notes[why], Why: why})
	}
	return res, nil
}

func (x *exporter) note(line int, why string) {
	if _, ok := x.notes[why]; !ok {
		x.order = append(x.order, why)
		x.notes[why] = nil
	}
	if line > 0 {
		x.notes[why] = append(x.notes[why], line)
	}
}

// startBlock reads the start: block from the header, and notes the
// settings a scenario cannot have.
func (x *exporter) startBlock() {
	h := x.t.Header
	opt := func(k string) bool { return h.Options[k] == "true" }
	x.start = scenario.Start{SignedIn: true, Consumer: opt("consumer"), PR83: opt("pr83"), PreserveSession: opt("preserve_session")}
	if h.Command == "run" {
		x.start.SignedIn = h.Options["signed_in"] != "false"
		x.start.InitialToken = opt("initial_token") && x.start.SignedIn
	}
	if x.start.PR83 && !x.start.Consumer {
		x.start.PR83 = false
	}
	if h.Command == "tui" {
		x.note(0, "the recording ran on the wall clock: the time between inputs is not kept (a scenario's clock moves only with wait), so anything that depended on how long a real request or the session poller took may not happen again")
		if p := h.Options["poll"]; p != "" && p != "0s" {
			x.note(0, fmt.Sprintf("the recording's session poller (every %s) is not a step: a scenario has no poller; a session change it noticed becomes an observe step", safe(p)))
		}
		for _, k := range []string{"token_latency", "session_latency"} {
			if v := h.Options[k]; v != "" && v != "0s" {
				x.note(0, fmt.Sprintf("the recording's %s of %s is not kept: a scenario has no latency", strings.ReplaceAll(k, "_", " "), safe(v)))
			}
		}
		if q := h.Options["query"]; q != "" && q != "auth:getAuthUser" && x.start.Consumer {
			x.note(0, fmt.Sprintf("the recording's Convex query %s is not kept: a scenario runs auth:getAuthUser", safe(q)))
		}
	}
	if h.Target.Kind == "url" {
		x.note(0, "the recording was made against a real server: its timing is not kept, and the scenario runs against whatever target run is given")
	}
}

// walk reads device 1's inputs and events in order.
func (x *exporter) walk() {
	var others []int
	for _, e := range x.t.Entries {
		if x.cutAt > 0 {
			if e.Input != nil && e.Input.DeviceNumber() == 1 && userInput(e.Input.Kind) {
				x.note(e.Line, "after the policy switch: not exported")
			}
			continue
		}
		switch {
		case e.Input != nil && e.Input.DeviceNumber() != 1:
			if userInput(e.Input.Kind) {
				others = append(others, e.Line)
			}
		case e.Input != nil:
			x.input(e.Line, e.Input)
		case e.Event != nil && e.Event.DeviceNumber() == 1:
			x.event(e.Line, &e.Event.Event)
		}
	}
	for _, l := range others {
		x.note(l, "an input of another device: a scenario drives one client, so only device 1 is exported")
	}
}

// userInput says whether an input kind is something a user, a scenario or
// the transport keys did (not a completion or a timer).
func userInput(kind string) bool {
	switch kind {
	case "action", "fetch", "observe", "rerun_query", "set_policy", "set_poll_interval", "reset_counters",
		"hold", "release", "inject_fault", "set_latency", "advance":
		return true
	}
	return false
}

// add appends a step, after an await for the calls that returned since
// the previous one.
func (x *exporter) add(s step) {
	x.ticked = false
	if len(x.resolved) > 0 && s.op != scenario.OpAwait {
		x.steps = append(x.steps, step{line: s.line, op: scenario.OpAwait, names: x.resolved})
		x.resolved = nil
	}
	x.steps = append(x.steps, s)
}

func (x *exporter) last() scenario.Op {
	if len(x.steps) == 0 {
		return ""
	}
	return x.steps[len(x.steps)-1].op
}

// onlyRemounts says whether every step so far is a remount.
func (x *exporter) onlyRemounts() bool {
	for _, s := range x.steps {
		if s.op != scenario.OpRemount {
			return false
		}
	}
	return true
}

func (x *exporter) input(line int, in *trace.Input) {
	if in.Kind == "poll_tick" {
		x.ticked = true
	}
	if !userInput(in.Kind) {
		if in.Kind != "start" && !isEngineInput(in.Kind) {
			x.note(line, fmt.Sprintf("an input of a kind this authscope does not know (%s): left out", safe(in.Kind)))
		}
		return
	}
	v, err := authstate.DecodeInput(in.Kind, in.Data)
	if err != nil {
		x.note(line, "an input that does not read back: left out")
		return
	}
	switch v := v.(type) {
	case authstate.DoAction:
		switch v.Action {
		case authstate.ActionSignIn, authstate.ActionSignOut:
			op := scenario.OpSignIn
			if v.Action == authstate.ActionSignOut {
				op = scenario.OpSignOut
			}
			if !v.Signal {
				x.note(line, "a sign-in or sign-out without the session signal: the scenario's step has the signal")
			}
			x.add(step{line: line, op: op})
		case authstate.ActionChangePassword:
			if v.Signal {
				// change-password, then the session signal's observation:
				// what rotate does.
				x.add(step{line: line, op: scenario.OpRotate})
			} else {
				x.add(step{line: line, op: scenario.OpChangePassword})
			}
		default:
			x.note(line, "a password change that keeps the other sessions: a scenario has no step for it")
		}
	case authstate.FetchCall:
		x.add(step{line: line, op: scenario.OpFetch, as: x.callName(line, v), force: v.Force})
	case authstate.Observe:
		if v.Cause == "after rotation" && x.last() == scenario.OpChangePassword {
			// A scenario's rotate: change_password, settle, observe.
			x.steps[len(x.steps)-1].op = scenario.OpRotate
			return
		}
		x.add(step{line: line, op: scenario.OpObserve})
	case authstate.RerunQuery:
		if !x.start.Consumer {
			x.note(line, "a query re-run without the Convex client model: left out")
			return
		}
		x.add(step{line: line, op: scenario.OpQuery})
	case authstate.SetPolicy:
		switch {
		case x.onlyRemounts():
			// A switch before anything happened: the scenario runs
			// under the policy chosen; the switch emptied the cache.
			x.policy = v.Policy
			x.add(step{line: line, op: scenario.OpRemount})
		case v.Policy == x.policy:
			x.add(step{line: line, op: scenario.OpRemount})
		default:
			x.note(line, fmt.Sprintf("the recording switched the policy from %s to %s here; a scenario runs under one policy (run --policy compares them), so the export stops at this line", safe(x.policy), safe(v.Policy)))
			x.cutAt = line
		}
	case authstate.SetPollInterval:
		x.note(line, "a change of the session poll interval: a scenario has no poller")
	case authstate.ResetCounters:
		x.note(line, "a counter reset: not a step; the violations before it are expected too")
	case authstate.Hold:
		if v.What != "token" && v.What != "token_request" && v.What != "none" {
			x.note(line, "a hold of something a scenario cannot hold: left out")
			return
		}
		x.add(step{line: line, op: scenario.OpHold, what: v.What})
	case authstate.Release:
		if v.Which != "all" && v.Which != "oldest" && v.Which != "latest" {
			x.note(line, "a release a scenario cannot express: left out")
			return
		}
		x.add(step{line: line, op: scenario.OpRelease, what: v.Which})
	case authstate.InjectFault:
		if !faultEndpoints[v.Endpoint] || (v.Status == 0) == !v.Network || (v.Status != 0 && (v.Status < 400 || v.Status > 599)) {
			x.note(line, "a fault a scenario cannot inject (its endpoint or status): left out")
			return
		}
		if v.Network {
			v.Status = 0
		}
		x.add(step{line: line, op: scenario.OpFault, fault: scenario.Fault{Endpoint: v.Endpoint, Status: v.Status, Network: v.Network}})
	case authstate.SetLatency:
		x.note(line, "a latency change: a scenario has no latency (it orders a race with hold and release)")
	case authstate.Advance:
		if v.By > 0 {
			x.add(step{line: line, op: scenario.OpWait, wait: v.By})
		}
	}
}

var faultEndpoints = map[string]bool{"token": true, "get-session": true, "change-password": true, "sign-in": true, "sign-out": true, "query": true}

func isEngineInput(kind string) bool {
	_, err := authstate.DecodeInput(kind, []byte("{}"))
	return err == nil || !strings.HasPrefix(err.Error(), "unknown input kind")
}

var (
	plainName = regexp.MustCompile(`^[A-Za-z0-9_.#-]{1,64}$`)
	plainText = regexp.MustCompile(`^[A-Za-z0-9_.:/# -]{0,64}$`)
)

// callName is the step's name for a recorded fetch call: its own name
// when it is plain and unused, else call<seq>.
func (x *exporter) callName(line int, v authstate.FetchCall) string {
	name := v.Name
	if !plainName.MatchString(name) || x.calls[name] {
		n := v.Seq
		if n <= 0 {
			n = len(x.calls) + 1
		}
		for name = fmt.Sprintf("call%d", n); x.calls[name]; n++ {
			name = fmt.Sprintf("call%d-%d", v.Seq, n)
		}
		x.note(line, "a fetch whose name is not plain or already used: renamed")
	}
	x.calls[name] = true
	return name
}

func (x *exporter) event(line int, ev *authstate.Event) {
	switch ev.Kind {
	case authstate.KindTokenServed:
		if x.calls[ev.Call] && !x.awaited[ev.Call] {
			x.awaited[ev.Call] = true
			x.resolved = append(x.resolved, ev.Call)
		}
	case authstate.KindViolation:
		x.viol = append(x.viol, violation{line: line, ev: *ev})
	case authstate.KindFlicker:
		if ev.Reason == "open" {
			x.flickers = append(x.flickers, line)
		}
	case authstate.KindSessionRotated, authstate.KindSessionEnded:
		switch x.last() {
		case scenario.OpRotate, scenario.OpSignIn, scenario.OpSignOut, scenario.OpObserve, "":
		default:
			if !x.ticked {
				return // the engine observed on its own (hardened does)
			}
			// Nothing the user did explains the change, and the session
			// poller ran: it noticed it.
			x.note(line, "the session poller noticed a session change here: exported as an observe step")
			x.add(step{line: line, op: scenario.OpObserve})
		}
	}
}

// yaml writes the scenario. Every string that came from the trace is
// double-quoted with only ASCII inside.
func (x *exporter) yaml(o Options) []byte {
	h := x.t.Header
	file := filepath.Base(o.File)
	if o.File == "" {
		file = x.t.Name
	}
	var b bytes.Buffer
	program := o.Program
	if program == "" {
		program = "authscope"
	}
	fmt.Fprintf(&b, "# Exported by %s from the trace %s on %s.\n", comment(program), comment(file), o.Now.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "# Recorded by `authscope %s` under the policy %s", comment(h.Command), comment(h.Policy))
	if x.policy != "" && x.policy != h.Policy {
		fmt.Fprintf(&b, " (switched to %s before the first step)", comment(x.policy))
	}
	fmt.Fprintf(&b, ", target %s", comment(h.Target.Kind))
	if h.Target.Host != "" {
		fmt.Fprintf(&b, " %s", comment(h.Target.Host))
	}
	if !h.Started.IsZero() {
		fmt.Fprintf(&b, ", started %s", h.Started.UTC().Format(time.RFC3339))
	}
	b.WriteString(".\n")
	if h.Scenario != "" {
		fmt.Fprintf(&b, "# The recording ran the scenario %s.\n", comment(h.Scenario))
	}
	b.WriteString("# Steps come from the recorded inputs (the trace line is in each step's comment);\n")
	b.WriteString("# network answers and timers are not steps: the engine makes them again.\n")
	for _, why := range x.order {
		fmt.Fprintf(&b, "# Not exported: %s\n", comment(Note{Lines: x.notes[why], Why: why}.String()))
	}

	name := "recording " + file
	if h.Scenario != "" {
		name = h.Scenario + " as recorded"
	}
	fmt.Fprintf(&b, "name: %s\n", quote(name))
	fmt.Fprintf(&b, "description: %s\n", quote(x.describe(file)))
	b.WriteString("reference: \"docs/cases.md\"\n")
	if x.policy != "" && (len(x.viol) > 0 || x.flickerExpected()) {
		fmt.Fprintf(&b, "buggy: [%s]\n", quote(x.policy))
	}
	fmt.Fprintf(&b, "start:\n  signed_in: %v\n  initial_token: %v\n  consumer: %v\n  pr83: %v\n", x.start.SignedIn, x.start.InitialToken, x.start.Consumer, x.start.PR83)
	if x.start.PreserveSession {
		// The recording ran against a server that keeps the caller's
		// session on a password change (better-auth PR #9345).
		b.WriteString("  server: {preserve_session: true}\n")
	}
	b.WriteString("steps:\n")
	for _, s := range x.steps {
		fmt.Fprintf(&b, "  - %s", stepYAML(s))
		if s.line > 0 {
			fmt.Fprintf(&b, "  # trace line %d", s.line)
		}
		b.WriteByte('\n')
	}
	b.WriteString("expect:\n")
	x.expectations(&b)
	return b.Bytes()
}

func (x *exporter) flickerExpected() bool {
	return len(x.viol) == 0 && len(x.flickers) > 0 && x.start.Consumer
}

func (x *exporter) describe(file string) string {
	h := x.t.Header
	pol := x.policy
	if pol == "" {
		pol = h.Policy
	}
	d := fmt.Sprintf("Exported from the trace %s, recorded by authscope %s under %s.", file, h.Command, pol)
	switch {
	case len(x.viol) > 0:
		d += fmt.Sprintf(" The recording shows %d violation(s); the first: %s (%s).", len(x.viol), x.viol[0].ev.Detail, x.viol[0].ev.Cause)
	case x.flickerExpected():
		d += fmt.Sprintf(" The recording shows %d flicker window(s) of the Convex client.", len(x.flickers))
	default:
		d += " The recording broke no expectation: the scenario checks that none is broken."
	}
	return d
}

// expectations writes what the recording broke: no violations first (its
// failure names the first violation, as the recording did), then, for
// each call that was served a token of a session the client knew was
// gone, that it must not return that session's token.
func (x *exporter) expectations(b *bytes.Buffer) {
	b.WriteString("  - no_violations: true\n")
	for i, v := range x.viol {
		if i == 10 {
			fmt.Fprintf(b, "    # … and %d more\n", len(x.viol)-10)
			break
		}
		fmt.Fprintf(b, "    # trace line %d: %s: %s\n", v.line, comment(v.ev.Cause), comment(v.ev.Detail))
	}
	done := map[string]bool{}
	for _, v := range x.viol {
		tok := v.ev.Token
		if v.ev.Cause != authstate.InvariantGoneSession || !x.calls[v.ev.Call] || done[v.ev.Call] || tok == nil || !sessionLabel.MatchString(tok.Session) {
			continue
		}
		done[v.ev.Call] = true
		fmt.Fprintf(b, "  - result: %s  # trace line %d: served a token of %s, a session already gone\n    not_session: %s\n", quote(v.ev.Call), v.line, comment(tok.Session), tok.Session)
	}
	if len(x.flickers) > 0 && x.start.Consumer {
		if x.flickerExpected() {
			fmt.Fprintf(b, "  - flicker: {max_windows: 0}  # the recording shows %d flicker window(s), first at trace line %d\n", len(x.flickers), x.flickers[0])
		} else {
			fmt.Fprintf(b, "  # The recording also shows %d flicker window(s) of the Convex client (first at trace line %d).\n", len(x.flickers), x.flickers[0])
			b.WriteString("  # Every modelled policy flickers after a password change (docs/cases.md, the Convex\n")
			b.WriteString("  # flicker), so checking it would hide which policies fix the violations; to check it:\n")
			b.WriteString("  # - flicker: {max_windows: 0}\n")
		}
	}
}

var sessionLabel = regexp.MustCompile(`^S[1-9][0-9]*$`)

func stepYAML(s step) string {
	switch s.op {
	case scenario.OpFetch:
		if s.force {
			return fmt.Sprintf("fetch: {as: %s, force: true}", quote(s.as))
		}
		return fmt.Sprintf("fetch: {as: %s}", quote(s.as))
	case scenario.OpAwait:
		q := make([]string, len(s.names))
		for i, n := range s.names {
			q[i] = quote(n)
		}
		return "await: [" + strings.Join(q, ", ") + "]"
	case scenario.OpHold, scenario.OpRelease:
		return string(s.op) + ": " + s.what
	case scenario.OpWait:
		return "wait: " + s.wait.String()
	case scenario.OpFault:
		if s.fault.Network {
			return fmt.Sprintf("fault: {endpoint: %s, network: true}", s.fault.Endpoint)
		}
		return fmt.Sprintf("fault: {endpoint: %s, status: %d}", s.fault.Endpoint, s.fault.Status)
	}
	return string(s.op)
}

// quote writes s as a YAML double-quoted string with only printable ASCII
// inside: everything else is an escape, so nothing from the trace can end
// the string, start a comment or a document, or hide a character.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// comment makes s safe inside a YAML comment: one line of printable ASCII,
// at most 300 bytes.
func comment(s string) string {
	q := strconv.QuoteToASCII(s)
	q = q[1 : len(q)-1]
	if len(q) > 300 {
		q = q[:300] + "…"
	}
	return q
}

// safe is s for a note printed to a terminal or a file: JSON-quoted when
// it holds anything but plain characters.
func safe(s string) string {
	if plainText.MatchString(s) {
		return s
	}
	q, _ := json.Marshal(s)
	return string(q)
}
