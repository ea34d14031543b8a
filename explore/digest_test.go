package explore

import (
	"context"
	"sync"
	"testing"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

func testSeed(t *testing.T, name string) *Seed {
	t.Helper()
	s, err := LoadSeed("../scenarios/explore/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The state a schedule's run reports is the state after its own steps:
// the same digest as a run of those steps alone, with no settling part.
// The cut relies on each hold, release and fault step emitting one
// transport event; this fails if that changes.
func TestDigestIsTheStateAfterTheSchedule(t *testing.T) {
	s := testSeed(t, "fault")
	o := Options{}
	o.defaults()
	r := &runner{seed: s, target: &target.Sim{}, start: o.Start}
	f := scenario.Step{Op: scenario.OpFault, Fault: *s.Fault}
	fetch := scenario.Step{Op: scenario.OpFetch, As: "f1"}
	forced := scenario.Step{Op: scenario.OpFetch, As: "f2", Force: true}
	hold := func(w string) scenario.Step { return scenario.Step{Op: scenario.OpHold, What: w} }
	rel := func(w string) scenario.Step { return scenario.Step{Op: scenario.OpRelease, What: w} }
	for _, steps := range [][]scenario.Step{
		{fetch},
		{hold("token"), fetch, forced},
		{hold("token"), fetch, forced, rel("latest")},
		{hold("token_request"), fetch, {Op: scenario.OpRotate}, hold("none"), forced},
		{f, fetch},
		{f},
	} {
		// Alone: the steps, nothing after them.
		var mu sync.Mutex
		var evs []authstate.Event
		sc := &scenario.Scenario{Name: "alone", Start: s.Scenario.Start, Steps: steps}
		res := scenario.Run(context.Background(), &target.Sim{}, sc, "v0.12", scenario.Options{Start: o.Start, OnEvent: func(ev authstate.Event) {
			mu.Lock()
			evs = append(evs, ev)
			mu.Unlock()
		}})
		if res.Err != "" {
			t.Fatalf("%v: %s", steps, res.Err)
		}
		mu.Lock()
		alone := digest(evs, 1<<30, hasFault(steps))
		mu.Unlock()
		got := r.run(context.Background(), "v0.12", steps)
		if got.invalid != "" {
			t.Fatalf("%v: %s", steps, got.invalid)
		}
		if got.state != alone.state || got.held != alone.held || got.faultPending != alone.faultPending {
			t.Errorf("%v: digest with settling %x held %d fault pending %v; alone %x held %d fault pending %v", steps, got.state, got.held, got.faultPending, alone.state, alone.held, alone.faultPending)
		}
	}
	// A fault no request has taken is pending; one a request took is not.
	if out := r.run(context.Background(), "v0.12", []scenario.Step{f}); !out.faultPending {
		t.Error("a fault with no request after it is not pending")
	}
	if out := r.run(context.Background(), "v0.12", []scenario.Step{f, forced}); out.faultPending {
		t.Error("a fault a forced fetch took is still pending")
	}
}

func hasFault(steps []scenario.Step) bool {
	for _, s := range steps {
		if s.Op == scenario.OpFault {
			return true
		}
	}
	return false
}

// A fault on get-session counts as hit once a poll failed with it: the
// end-state properties are then checked; placed but not yet hit, they are
// not (the settling part's own requests would take it).
func TestFaultIsSeenToHit(t *testing.T) {
	s := testSeed(t, "poll-fault")
	if s.Fault == nil || s.Fault.Endpoint != "get-session" {
		t.Fatalf("the poll-fault seed's fault: %+v", s.Fault)
	}
	o := Options{}
	o.defaults()
	r := &runner{seed: s, target: &target.Sim{}, start: o.Start}
	f := scenario.Step{Op: scenario.OpFault, Fault: *s.Fault}
	rotate := scenario.Step{Op: scenario.OpRotate}
	for _, c := range []struct {
		steps   []scenario.Step
		pending bool
	}{{[]scenario.Step{f}, true}, {[]scenario.Step{f, rotate}, false}, {[]scenario.Step{rotate, f}, true}} {
		out := r.run(context.Background(), "hardened", c.steps)
		if out.invalid != "" {
			t.Fatalf("%v: %s", c.steps, out.invalid)
		}
		if out.faultPending != c.pending {
			t.Errorf("%v: fault pending %v, want %v", c.steps, out.faultPending, c.pending)
		}
	}
	// A failed query (the Convex client's message that got no answer) is
	// seen to hit too, and the client reconnects: under hardened the
	// Convex client ends authenticated. (The model once waited for ever
	// for the server to confirm the token that message carried.)
	q := testSeed(t, "query-fault")
	qr := &runner{seed: q, target: &target.Sim{}, start: o.Start}
	out := qr.run(context.Background(), "hardened", []scenario.Step{
		{Op: scenario.OpHold, What: "token"}, rotate, {Op: scenario.OpFault, Fault: *q.Fault},
		{Op: scenario.OpHold, What: "none"}, {Op: scenario.OpSignIn},
	})
	if out.invalid != "" || out.faultPending || len(out.props) != 0 {
		t.Errorf("a query fault after a rotation: invalid %q, pending %v, failures %v %v", out.invalid, out.faultPending, out.props, out.why)
	}
	// A seed may not fault a sign-in or a sign-out.
	for _, ep := range []string{"sign-out", "sign-in"} {
		sc, err := scenario.Parse("seed.yaml", []byte("name: s\nstart: {consumer: true}\nsteps:\n  - rotate\n  - fault: {endpoint: "+ep+", status: 503}\nexpect:\n  - no_violations: true\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewSeed(sc); err == nil {
			t.Errorf("a seed with a fault on %s was taken", ep)
		}
	}
}
