package report

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
	"github.com/authscope/authscope/trace"
)

// record runs a shipped scenario under a policy against the simulator and
// returns its events as a trace, the way run --record will.
func record(t testing.TB, name, policy string) *trace.Trace {
	t.Helper()
	sc, err := scenario.Load("../scenarios/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tr := &trace.Trace{Header: trace.Header{
		Type: trace.TypeHeader, Version: trace.Version, Authscope: "test", Command: "run",
		Policy: policy, Scenario: name + ".yaml", Target: trace.Target{Kind: "sim"},
		Upstream: map[string]string{"convex": "1.45.0", "@convex-dev/better-auth": "0.12"},
		Started:  start,
	}}
	line := 1
	res := scenario.Run(context.Background(), &target.Sim{}, sc, policy, scenario.Options{Start: start, OnEvent: func(ev authstate.Event) {
		line++
		tr.Entries = append(tr.Entries, trace.Entry{Line: line, Event: &trace.Event{Event: ev}})
	}})
	if res.Err != "" {
		t.Fatalf("%s under %s: %s", name, policy, res.Err)
	}
	return tr
}

// render writes the report of tr.
func render(t testing.TB, tr *trace.Trace) string {
	t.Helper()
	var b bytes.Buffer
	if err := HTML(&b, tr); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
