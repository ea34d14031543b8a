package toscenario_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
	"github.com/authscope/authscope/trace"
	"github.com/authscope/authscope/trace/toscenario"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// traceOf writes a trace with h and the records that write adds, and
// reads it back.
func traceOf(t *testing.T, h trace.Header, write func(w *trace.Writer)) *trace.Trace {
	t.Helper()
	var buf bytes.Buffer
	w := trace.NewWriter(&buf, h, trace.Options{})
	write(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Read(&buf)
	if err != nil || len(tr.Problems) > 0 {
		t.Fatalf("read: %v %v", err, tr.Problems)
	}
	return tr
}

func input(t *testing.T, w *trace.Writer, seq uint64, device int, in authstate.Input) {
	t.Helper()
	kind, data, err := authstate.EncodeInput(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Input(seq, t0, device, kind, data); err != nil {
		t.Fatal(err)
	}
}

func ops(sc *scenario.Scenario) string {
	var out []string
	for _, s := range sc.Steps {
		out = append(out, s.String())
	}
	return strings.Join(out, "; ")
}

// Each user and transport input becomes its step; completions and timers
// do not; a fetch is awaited before the first input after it returned;
// a change-password followed by the runner's "after rotation" observe is
// rotate, and one with the session signal is rotate too.
func TestInputsBecomeSteps(t *testing.T) {
	h := trace.Header{Command: "run", Policy: "pr329", Options: map[string]string{"signed_in": "true", "consumer": "true"}}
	tr := traceOf(t, h, func(w *trace.Writer) {
		n := uint64(0)
		in := func(v authstate.Input) { n++; input(t, w, n, 1, v) }
		in(authstate.Start{})
		in(authstate.PollTick{Timer: 1})
		in(authstate.Hold{What: "token"})
		in(authstate.FetchCall{Name: "a", Seq: 1})
		in(authstate.DoAction{Action: authstate.ActionChangePassword})
		in(authstate.ActionDone{Call: 2, Action: authstate.ActionChangePassword})
		in(authstate.Observe{Cause: "after rotation"})
		in(authstate.Release{Which: "oldest"})
		w.Event(1, authstate.Event{Seq: 1, At: t0, Kind: authstate.KindTokenServed, Call: "a"})
		in(authstate.InjectFault{Endpoint: "token", Status: 503})
		in(authstate.InjectFault{Endpoint: "get-session", Network: true})
		in(authstate.FetchCall{Name: "b", Force: true, Seq: 2})
		in(authstate.Advance{By: 16 * time.Minute})
		in(authstate.DoAction{Action: authstate.ActionChangePassword, Signal: true})
		in(authstate.DoAction{Action: authstate.ActionSignOut, Signal: true})
		in(authstate.DoAction{Action: authstate.ActionSignIn, Signal: true})
		in(authstate.Observe{Cause: "focus"})
		in(authstate.RerunQuery{Reason: "key"})
		w.Event(1, authstate.Event{Seq: 2, At: t0, Kind: authstate.KindTokenServed, Call: "b"})
	})
	res, err := toscenario.Export(tr, toscenario.Options{File: "/some/dir/t.jsonl", Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	want := "hold token; fetch a; rotate; release oldest; await a; fault token 503; fault get-session network; fetch b (forced); wait 16m0s; rotate; sign_out; sign_in; observe; query; await b"
	if got := ops(res.Scenario); got != want {
		t.Fatalf("steps:\n%s\nwant\n%s\n%s", got, want, res.YAML)
	}
	if !res.Scenario.Start.Consumer || res.Scenario.Start.InitialToken || len(res.Scenario.Buggy) != 0 || len(res.Notes) != 0 {
		t.Fatalf("start %+v buggy %v notes %v", res.Scenario.Start, res.Scenario.Buggy, res.Notes)
	}
	y := string(res.YAML)
	if !strings.HasPrefix(y, "# Exported by authscope from the trace t.jsonl on 2026-12-01T10:00:00Z.\n") || strings.Contains(y, "/some/dir") ||
		!strings.Contains(y, "reference: \"docs/cases.md\"") || !strings.Contains(y, "name: ") || !strings.Contains(y, "description: ") {
		t.Fatalf("header:\n%s", y)
	}
	// Nothing broke: the scenario checks that nothing does.
	if len(res.Scenario.Expect) != 1 || !res.Scenario.Expect[0].NoViolations {
		t.Fatalf("expect %+v", res.Scenario.Expect)
	}
}

// What a scenario cannot express is left out, and the notes name the
// trace lines: another device, a latency, a poll interval, a policy switch
// after the first step (the export stops there); a switch before the
// first step is the scenario's policy and a remount.
func TestWhatCannotBeExportedIsNamed(t *testing.T) {
	h := trace.Header{Command: "tui", Policy: "pr329", Devices: 2, Target: trace.Target{Kind: "url", Host: "auth.example.com"},
		Options: map[string]string{"consumer": "false", "poll": "2s", "token_latency": "300ms"}}
	tr := traceOf(t, h, func(w *trace.Writer) {
		input(t, w, 1, 1, authstate.SetPolicy{Policy: "v0.12"}) // line 2
		input(t, w, 2, 1, authstate.Hold{What: "token"})        // line 3
		input(t, w, 3, 1, authstate.SetLatency{Endpoint: "token", Latency: time.Second})
		input(t, w, 1, 2, authstate.FetchCall{Name: "x", Seq: 1}) // line 5: device 2
		input(t, w, 4, 1, authstate.SetPollInterval{Interval: time.Second})
		input(t, w, 5, 1, authstate.FetchCall{Name: "a", Seq: 1})                                                  // line 7
		input(t, w, 6, 1, authstate.RerunQuery{})                                                                  // line 8: no consumer
		input(t, w, 7, 1, authstate.DoAction{Action: authstate.ActionChangePassword})                              // line 9
		input(t, w, 8, 1, authstate.PollTick{Timer: 3})                                                            // line 10
		w.Event(1, authstate.Event{Seq: 1, At: t0, Kind: authstate.KindSessionRotated, From: "S1", Session: "S2"}) // line 11: the poller saw it
		input(t, w, 9, 1, authstate.SetPolicy{Policy: "hardened"})                                                 // line 12: the cut
		input(t, w, 10, 1, authstate.Release{Which: "all"})                                                        // line 13: after the cut
	})
	res, err := toscenario.Export(tr, toscenario.Options{File: "t.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ops(res.Scenario), "remount; hold token; fetch a; change_password; observe"; got != want {
		t.Fatalf("steps %q, want %q\n%s", got, want, res.YAML)
	}
	if res.Policy != "v0.12" {
		t.Fatalf("policy %q", res.Policy)
	}
	var notes []string
	for _, n := range res.Notes {
		notes = append(notes, n.String())
	}
	all := strings.Join(notes, "\n")
	for _, want := range []string{
		"wall clock", "real server", "poller (every 2s)", "token latency of 300ms",
		"line 4: a latency change", "line 5: an input of another device", "line 6: a change of the session poll interval",
		"line 8: a query re-run without the Convex client model", "line 11: the session poller noticed a session change",
		"line 12: the recording switched the policy from v0.12 to hardened", "line 13: after the policy switch",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no note %q in:\n%s", want, all)
		}
	}
}

// A trace with nothing a step can express is refused with ErrNothing.
func TestNothingToExport(t *testing.T) {
	tr := traceOf(t, trace.Header{Command: "tui", Policy: "pr329"}, func(w *trace.Writer) {
		input(t, w, 1, 1, authstate.Start{})
		input(t, w, 2, 1, authstate.PollTick{Timer: 1})
		input(t, w, 3, 1, authstate.SetLatency{Endpoint: "token", Latency: time.Second})
		input(t, w, 1, 2, authstate.FetchCall{Name: "x", Seq: 1})
	})
	if _, err := toscenario.Export(tr, toscenario.Options{}); !errors.Is(err, toscenario.ErrNothing) {
		t.Fatalf("err %v", err)
	}
}

// Strings from the trace cannot break out of their YAML strings or
// comments: a hostile call name, policy and detail load as one scenario
// with exactly the steps and expectations the export meant.
func TestHostileStringsStayInside(t *testing.T) {
	evil := "a\"\n- sign_out\n# x: \u2028\u0085\ufeff'\\ \x1b[2J"
	tr := traceOf(t, trace.Header{Command: "run", Policy: "v0.12", Scenario: evil, Target: trace.Target{Kind: evil, Host: evil}}, func(w *trace.Writer) {
		input(t, w, 1, 1, authstate.FetchCall{Name: evil, Seq: 1})
		input(t, w, 2, 1, authstate.FetchCall{Name: "call1", Seq: 2}) // the name the first one gets
		tok := &authstate.TokenInfo{Session: "S1"}
		w.Event(1, authstate.Event{Seq: 1, At: t0, Kind: authstate.KindViolation, Cause: evil, Call: "call1", Token: tok, Detail: evil})
		w.Event(1, authstate.Event{Seq: 2, At: t0, Kind: authstate.KindViolation, Cause: authstate.InvariantGoneSession, Call: "call1", Token: tok, Detail: evil})
	})
	res, err := toscenario.Export(tr, toscenario.Options{File: evil, Program: evil})
	if err != nil {
		t.Fatal(err)
	}
	sc := res.Scenario
	if got := ops(sc); got != "fetch call1; fetch call2" {
		t.Fatalf("steps %q\n%s", got, res.YAML)
	}
	if len(sc.Expect) != 2 || !sc.Expect[0].NoViolations || sc.Expect[1].Result != "call1" || sc.Expect[1].NotSession != "S1" {
		t.Fatalf("expect %+v\n%s", sc.Expect, res.YAML)
	}
	if sc.Name != evil+" as recorded" || len(sc.Buggy) != 1 || sc.Buggy[0] != "v0.12" {
		t.Fatalf("name %q buggy %v", sc.Name, sc.Buggy)
	}
	for i, c := range res.YAML {
		if c >= 0x7f || c < 0x20 && c != '\n' {
			t.Fatalf("byte %d of the file is %#x: not plain ASCII\n%s", i, c, res.YAML)
		}
	}
}

// recordRun runs sc under variant v on a fresh simulator and returns its
// trace, inputs and events, as run --record writes it.
func recordRun(t *testing.T, sc *scenario.Scenario, file string, v authstate.Variant) *trace.Trace {
	t.Helper()
	var buf bytes.Buffer
	ran := sc.Effective(v)
	h := trace.Header{Command: "run", Policy: v.Policy, Scenario: file, Options: map[string]string{
		"signed_in": fmt.Sprint(sc.Start.SignedIn), "initial_token": fmt.Sprint(sc.Start.InitialToken),
		"consumer": fmt.Sprint(sc.Start.Consumer), "pr83": fmt.Sprint(ran.PR83), "preserve_session": fmt.Sprint(ran.Preserve)}}
	w := trace.NewWriter(&buf, h, trace.Options{})
	var seq uint64
	res := scenario.RunVariant(context.Background(), &target.Sim{}, sc, v, scenario.Options{
		OnInput: func(at time.Time, in authstate.Input) {
			seq++
			kind, data, _ := authstate.EncodeInput(in)
			w.Input(seq, at, 1, kind, data)
		},
		OnEvent: func(ev authstate.Event) { w.Event(1, ev) },
	})
	if res.Err != "" {
		t.Fatalf("%s under %s: %s", file, v, res.Err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Every shipped scenario, recorded under every policy, exported and run
// again under the recorded policy, does what the recording did: it fails
// with the recording's first violation, or on the recording's flicker
// windows, or passes when the recording broke nothing.
func TestEveryShippedScenarioRoundTrips(t *testing.T) {
	files, _ := filepath.Glob("../../scenarios/*.yaml")
	if len(files) < 10 {
		t.Fatalf("%d scenario files", len(files))
	}
	for _, f := range files {
		sc, err := scenario.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, pol := range authstate.PolicyNames() {
			name := filepath.Base(f) + " " + pol
			tr := recordRun(t, sc, filepath.Base(f), authstate.Variant{Policy: pol})
			res, err := toscenario.Export(tr, toscenario.Options{File: name})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(res.Notes) > 0 {
				t.Errorf("%s: notes for a run's trace: %v", name, res.Notes)
			}
			r := scenario.Run(context.Background(), &target.Sim{}, res.Scenario, pol, scenario.Options{})
			flicker := strings.Contains(string(res.YAML), "- flicker: {max_windows: 0}  #")
			switch {
			case r.Err != "":
				t.Errorf("%s: the exported scenario: %s\n%s", name, r.Err, res.YAML)
			case res.FirstViolation != nil && (r.Passed || !strings.Contains(r.Failures[0].Got, "first: "+res.FirstViolation.Detail)):
				t.Errorf("%s: recorded first violation %q; the exported scenario: %+v", name, res.FirstViolation.Detail, r.Failures)
			case res.FirstViolation == nil && flicker && (r.Passed || !strings.HasPrefix(r.Failures[len(r.Failures)-1].Expect, "flicker")):
				t.Errorf("%s: the recording flickered; the exported scenario: %+v", name, r.Failures)
			case res.FirstViolation == nil && !flicker && !r.Passed:
				t.Errorf("%s: the recording broke nothing; the exported scenario: %+v\n%s", name, r.Failures, res.YAML)
			}
		}
	}
}

// A run's trace exported and run again under the policy it recorded
// fails with the same first violation, and a policy that fixes the case
// passes: 03-rotation-in-flight, recorded with its inputs.
func TestRunTraceRoundTrip(t *testing.T) {
	sc, err := scenario.Load("../../scenarios/03-rotation-in-flight.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tr := recordRun(t, sc, "03-rotation-in-flight.yaml", authstate.Variant{Policy: "v0.12"})
	res, err := toscenario.Export(tr, toscenario.Options{File: "03.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ops(res.Scenario), "hold token; fetch first; rotate; fetch second; release all; await first, second"; got != want {
		t.Fatalf("steps %q, want %q", got, want)
	}
	if res.FirstViolation == nil {
		t.Fatal("no violation recorded")
	}
	for _, pol := range []string{"v0.12", "pr329"} {
		r := scenario.Run(context.Background(), &target.Sim{}, res.Scenario, pol, scenario.Options{})
		switch {
		case r.Err != "":
			t.Fatalf("%s: %s", pol, r.Err)
		case pol == "v0.12" && (r.Passed || !strings.Contains(r.Failures[0].Got, "first: "+res.FirstViolation.Detail)):
			t.Fatalf("v0.12: %+v, recorded first violation %q", r, res.FirstViolation.Detail)
		case pol == "pr329" && !r.Passed:
			t.Fatalf("pr329: %+v\n%s", r, res.YAML)
		}
	}
}

// Whatever a trace holds, the export does not panic, and what it writes
// loads as a scenario: it either exports or says there is nothing to.
func FuzzExport(f *testing.F) {
	var buf bytes.Buffer
	w := trace.NewWriter(&buf, trace.Header{Command: "tui", Policy: "v0.12", Options: map[string]string{"consumer": "true"}}, trace.Options{})
	for i, in := range []authstate.Input{
		authstate.Hold{What: "token"}, authstate.FetchCall{Name: "a", Seq: 1}, authstate.DoAction{Action: authstate.ActionChangePassword, Signal: true},
		authstate.Release{Which: "all"}, authstate.PollTick{Timer: 2}, authstate.Advance{By: time.Second}, authstate.SetPolicy{Policy: "pr329"},
	} {
		kind, data, _ := authstate.EncodeInput(in)
		w.Input(uint64(i+1), t0, 1, kind, data)
	}
	w.Event(1, authstate.Event{Seq: 1, At: t0, Kind: authstate.KindViolation, Cause: "gone-session", Call: "a", Token: &authstate.TokenInfo{Session: "S1"}, Detail: "x"})
	w.Close()
	f.Add(buf.Bytes())
	f.Add([]byte(`{"type":"header","version":1,"command":"run","policy":"v0.12"}` + "\n" + `{"type":"input","seq":1,"kind":"fetch","input":{"name":"\u2028\"x","force":true}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := trace.Read(bytes.NewReader(data))
		if tr == nil || err != nil {
			return
		}
		res, err := toscenario.Export(tr, toscenario.Options{File: "f.jsonl", Now: t0})
		if err != nil {
			if !errors.Is(err, toscenario.ErrNothing) {
				t.Fatalf("%v", err)
			}
			return
		}
		if _, err := scenario.Parse("f.yaml", res.YAML); err != nil {
			t.Fatalf("%v\n%s", err, res.YAML)
		}
	})
}

// A trace recorded under a +preserve variant exports a scenario whose
// start asks for the same server (start.server.preserve_session), so that
// it runs again as recorded: the ladder's last rung, without flicker.
func TestPreserveSessionTraceExports(t *testing.T) {
	sc, err := scenario.Load("../../scenarios/26-flicker-ladder.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tr := recordRun(t, sc, "26-flicker-ladder.yaml", authstate.Variant{Policy: "pr329", PR83: true, Preserve: true})
	res, err := toscenario.Export(tr, toscenario.Options{File: "26.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Scenario.Start.PreserveSession || !res.Scenario.Start.PR83 || !strings.Contains(string(res.YAML), "server: {preserve_session: true}") {
		t.Fatalf("start %+v\n%s", res.Scenario.Start, res.YAML)
	}
	if r := scenario.Run(context.Background(), &target.Sim{}, res.Scenario, "pr329", scenario.Options{}); !r.Passed || !r.PreserveSession {
		t.Fatalf("the exported scenario: %+v\n%s", r, res.YAML)
	}
}
