package scenario_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// TestFlickerLadder runs the shipped ladder scenario under every rung of
// VariantLadder: a flicker window opens under v0.12, pr329 and pr329+pr83,
// none under pr329+pr83+preserve, and each verdict is the one the
// scenario's buggy list states.
func TestFlickerLadder(t *testing.T) {
	sc, err := scenario.Load("../../scenarios/26-flicker-ladder.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"v0.12": true, "pr329": true, "pr329+pr83": true, "pr329+pr83+preserve": false}
	for _, v := range authstate.VariantLadder() {
		opened := 0
		res := scenario.RunVariant(context.Background(), &target.Sim{}, sc, v, scenario.Options{OnEvent: func(ev authstate.Event) {
			if ev.Kind == authstate.KindFlicker && ev.Reason == "open" {
				opened++
			}
		}})
		flickers, ok := want[v.String()]
		if !ok {
			t.Fatalf("the ladder has %s, which this test does not know", v)
		}
		if res.Err != "" || res.Skipped {
			t.Fatalf("%s: run error %q (skipped %v)", v, res.Err, res.Skipped)
		}
		if (opened > 0) != flickers {
			t.Errorf("%s: %d flicker window(s) opened, want flicker=%v", v, opened, flickers)
		}
		if res.Passed == flickers || res.Buggy != flickers {
			t.Errorf("%s: passed=%v expected_to_fail=%v, want passed=%v expected_to_fail=%v (%+v)", v, res.Passed, res.Buggy, !flickers, flickers, res.Failures)
		}
		if res.PreserveSession != v.Preserve || res.PR83 != v.PR83 {
			t.Errorf("%s: result says pr83=%v preserve_session=%v", v, res.PR83, res.PreserveSession)
		}
		if flickers && (len(res.Failures) == 0 || !strings.Contains(res.Failures[0].Got, "flicker window")) {
			t.Errorf("%s: first failure %+v, want the flicker window in words", v, res.Failures)
		}
	}
}

// TestPreserveSessionScenario: start.server.preserve_session keeps the
// session through a rotate step against the simulator (the cache holds the
// token of S1, still current), and a target that cannot preserve the
// session skips the run with a reason.
func TestPreserveSessionScenario(t *testing.T) {
	sc, err := scenario.Parse("preserve.yaml", []byte(`
name: the session survives a password change
start:
  server: {preserve_session: true}
steps:
  - fetch: {as: before}
  - await: before
  - rotate
  - fetch: {as: after}
  - await: after
expect:
  - result: after
    session: S1
  - result: before
    session: current
  - token_requests: 1
`))
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Start.PreserveSession {
		t.Fatal("start.server.preserve_session was not read")
	}
	rotated := 0
	res := scenario.Run(context.Background(), &target.Sim{}, sc, "pr329", scenario.Options{OnEvent: func(ev authstate.Event) {
		if ev.Kind == authstate.KindSessionRotated || ev.Kind == authstate.KindSessionEnded {
			rotated++
		}
	}})
	if !res.Passed || !res.PreserveSession || rotated != 0 {
		t.Fatalf("against the simulator (%d rotation or end events): %+v", rotated, res)
	}
	// Without the switch the same steps rotate: S1 is no longer current.
	sc.Start.PreserveSession = false
	if res := scenario.Run(context.Background(), &target.Sim{}, sc, "pr329", scenario.Options{}); res.Passed {
		t.Fatalf("without preserve_session the scenario passed: %+v", res)
	}
	sc.Start.PreserveSession = true
	res = scenario.Run(context.Background(), plainTarget{&target.Sim{}}, sc, "pr329", scenario.Options{})
	if !res.Skipped || !strings.Contains(res.Err, "preserve_session") {
		t.Fatalf("a target without the switch: %+v, want skipped with a reason", res)
	}
	v, _ := authstate.ParseVariant("pr329+preserve")
	sc.Start.PreserveSession = false
	if res := scenario.RunVariant(context.Background(), plainTarget{&target.Sim{}}, sc, v, scenario.Options{}); !res.Skipped {
		t.Fatalf("a +preserve variant on a target without the switch: %+v, want skipped", res)
	}
}

// TestVariantPR83WithoutConsumer: +pr83 on a scenario without the Convex
// client model changes nothing and is no error.
func TestVariantPR83WithoutConsumer(t *testing.T) {
	sc, err := scenario.Load("../../scenarios/03-rotation-in-flight.yaml")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Truncate(time.Second)
	var kinds [2][]string
	for i, name := range []string{"v0.12", "v0.12+pr83"} {
		v, _ := authstate.ParseVariant(name)
		res := scenario.RunVariant(context.Background(), &target.Sim{}, sc, v, scenario.Options{Start: start, OnEvent: func(ev authstate.Event) {
			kinds[i] = append(kinds[i], ev.Kind.String()+" "+ev.Summary())
		}})
		if res.Err != "" && len(res.Failures) == 0 || res.PR83 {
			t.Fatalf("%s: %+v", name, res)
		}
		// The variant that ran is v0.12 both times: both reproduce.
		if res.Passed || !res.Buggy {
			t.Fatalf("%s: passed=%v expected_to_fail=%v", name, res.Passed, res.Buggy)
		}
	}
	if strings.Join(kinds[0], "\n") != strings.Join(kinds[1], "\n") {
		t.Fatal("+pr83 changed the events of a scenario without the Convex client model")
	}
}

// plainTarget hides the simulator's switches: a target like a real server.
type plainTarget struct{ sim *target.Sim }

func (p plainTarget) Name() string { return "plain" }
func (p plainTarget) Open(ctx context.Context) (scenario.Client, error) {
	return p.sim.Open(ctx)
}

// TestShippedScenariosUnderTheLadder runs every shipped scenario under
// every rung of VariantLadder against the simulator: each fails exactly
// where its buggy list names the variant that ran (Scenario.Effective),
// and is skipped only where +preserve meets a scenario about a rotation.
func TestShippedScenariosUnderTheLadder(t *testing.T) {
	for _, sc := range loadAll(t) {
		for _, v := range authstate.VariantLadder() {
			res := scenario.RunVariant(context.Background(), &target.Sim{}, sc, v, scenario.Options{})
			if res.Skipped {
				if !v.Preserve || !sc.Start.NeedsRotation {
					t.Errorf("%s under %s skipped: %s", sc.Name, v, res.Err)
				}
				continue
			}
			ran := sc.Effective(v).String()
			wantFail := slices.Contains(sc.Buggy, ran)
			switch {
			case res.Err != "":
				t.Errorf("%s under %s: run error: %s", sc.Name, v, res.Err)
			case res.Buggy != wantFail:
				t.Errorf("%s under %s (ran as %s): expected_to_fail=%v, want %v", sc.Name, v, ran, res.Buggy, wantFail)
			case wantFail == res.Passed:
				t.Errorf("%s under %s (ran as %s): passed=%v, buggy lists %v: %+v", sc.Name, v, ran, res.Passed, sc.Buggy, res.Failures)
			}
		}
	}
}
