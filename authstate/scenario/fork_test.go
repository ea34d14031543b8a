package scenario_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// signsInItself is the simulator target without OpenSignedIn: every run
// signs in over HTTP.
type signsInItself struct{ scenario.SwitchableTarget }

// TestForkedSignInIsTheSameRun runs every shipped scenario under every
// policy twice on the simulator, once signing in over HTTP and once from
// a forked signed-in simulator, and checks the two runs emit the same
// events, byte for byte: ids, tokens, times and all.
func TestForkedSignInIsTheSameRun(t *testing.T) {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	sim := &target.Sim{}
	events := func(tg scenario.Target, sc *scenario.Scenario, variant string) ([]string, scenario.Result) {
		var out []string
		v, err := authstate.ParseVariant(variant)
		if err != nil {
			t.Fatal(err)
		}
		res := scenario.RunVariant(context.Background(), tg, sc, v, scenario.Options{Start: start, OnEvent: func(ev authstate.Event) {
			b, err := json.Marshal(ev)
			if err != nil {
				t.Error(err)
			}
			out = append(out, string(b))
		}})
		return out, res
	}
	compared := 0
	for _, sc := range loadAll(t) {
		if !sc.Start.SignedIn {
			continue
		}
		for _, policy := range []string{"v0.12", "pr329", "hardened", "pr329+pr83+preserve"} {
			own, ownRes := events(signsInItself{sim}, sc, policy)
			forked, forkRes := events(sim, sc, policy)
			if ownRes.Passed != forkRes.Passed || ownRes.Err != forkRes.Err {
				t.Errorf("%s under %s: verdicts differ: signing in %v %q, forked %v %q", sc.Name, policy, ownRes.Passed, ownRes.Err, forkRes.Passed, forkRes.Err)
			}
			if d := firstLineDifference(own, forked); d != "" {
				t.Errorf("%s under %s: the runs differ:\n%s", sc.Name, policy, d)
			}
			compared++
		}
	}
	if compared < 20 {
		t.Fatalf("only %d runs compared", compared)
	}
}

func firstLineDifference(a, b []string) string {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf("event %d:\n signing in: %s\n forked:     %s", i+1, x, y)
		}
	}
	return ""
}
