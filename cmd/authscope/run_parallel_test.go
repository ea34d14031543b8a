package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authscope/authscope/authstate"
)

// Against the simulator the runs go on every core at once; the output is
// still in file × policy order, each run's events before its result and
// after the result of the run before it, and the table is the same.
func TestRunInParallelPrintsInOrder(t *testing.T) {
	files, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("scenario files: %v %v", files, err)
	}
	code, out, errOut := runCLI(t, "", "run", "../../scenarios", "--policy", "all", "--json")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1 (some shipped scenarios reproduce bugs): %s", code, errOut)
	}
	type line struct {
		Type, Scenario, Policy string
		Seq                    uint64
	}
	var results []line
	var pending []line // events since the last result
	for _, raw := range strings.Split(strings.TrimSpace(out), "\n") {
		var l line
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("not JSON: %q", raw)
		}
		switch l.Type {
		case "event":
			pending = append(pending, l)
		case "result":
			if len(pending) == 0 {
				t.Fatalf("result for %s [%s] with no events before it", l.Scenario, l.Policy)
			}
			for _, ev := range pending {
				if ev.Scenario != l.Scenario || ev.Policy != l.Policy {
					t.Fatalf("an event of %s [%s] is printed among those of %s [%s]", ev.Scenario, ev.Policy, l.Scenario, l.Policy)
				}
			}
			pending = nil
			results = append(results, l)
		}
	}
	policies := authstate.PolicyNames()
	if len(results) != len(files)*len(policies) {
		t.Fatalf("%d results, want %d", len(results), len(files)*len(policies))
	}
	for i, r := range results {
		if want := policies[i%len(policies)]; r.Policy != want {
			t.Errorf("result %d is under %s, want %s (file × policy order)", i+1, r.Policy, want)
		}
		if i%len(policies) > 0 && r.Scenario != results[i-1].Scenario {
			t.Errorf("result %d is %s, want the scenario of the one before, %s", i+1, r.Scenario, results[i-1].Scenario)
		}
	}
	_, table, _ := runCLI(t, "", "run", "../../scenarios", "--policy", "all")
	if !strings.Contains(table, "passed,") || strings.Count(table, "\n") < len(files) {
		t.Errorf("the table:\n%s", table)
	}
}
