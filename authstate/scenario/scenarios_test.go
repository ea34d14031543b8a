package scenario_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
	"github.com/authscope/authscope/internal/realserver"
)

func loadAll(t testing.TB) []*scenario.Scenario {
	t.Helper()
	files, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files found: %v", err)
	}
	var out []*scenario.Scenario
	for _, f := range files {
		sc, err := scenario.Load(f)
		if err != nil {
			t.Fatalf("load %s: %v", f, err)
		}
		out = append(out, sc)
	}
	return out
}

// checkVerdicts runs every shipped scenario under every policy and checks
// that it fails exactly under the policies the reference calls wrong, with
// a message, and passes under the rest.
func checkVerdicts(t *testing.T, tg scenario.Target, opts scenario.Options) map[string]bool {
	verdicts := map[string]bool{}
	for _, sc := range loadAll(t) {
		for _, pol := range authstate.PolicyNames() {
			res := scenario.Run(context.Background(), tg, sc, pol, opts)
			if res.Skipped {
				t.Logf("%s under %s skipped: %s", sc.Name, pol, res.Err)
				continue
			}
			verdicts[sc.Name+"/"+pol] = res.Passed
			wantFail := slices.Contains(sc.Buggy, pol)
			switch {
			case res.Err != "":
				t.Errorf("%s under %s: run error: %s", sc.Name, pol, res.Err)
			case wantFail && res.Passed:
				t.Errorf("%s under %s passed; the reference calls %s wrong here, so it should reproduce the bug", sc.Name, pol, pol)
			case !wantFail && !res.Passed:
				t.Errorf("%s under %s failed: %+v", sc.Name, pol, res.Failures)
			case wantFail && (len(res.Failures) == 0 || res.Failures[0].Got == ""):
				t.Errorf("%s under %s failed without saying why", sc.Name, pol)
			}
		}
	}
	return verdicts
}

func TestScenariosAgainstSimulator(t *testing.T) {
	for _, alg := range []string{"EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			checkVerdicts(t, &target.Sim{Alg: alg}, scenario.Options{})
		})
	}
}

// The same scenarios against a real Better Auth server give the same
// verdicts as against the simulator.
func TestScenariosAgainstRealServer(t *testing.T) {
	for _, alg := range []string{"EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			srv := realserver.Start(t, realserver.Options{Alg: alg})
			email, password := srv.SignUp(t)
			// A real server hashes passwords with scrypt; on a busy
			// two-core machine a step can take longer than the default.
			real := checkVerdicts(t, &target.URL{BaseURL: srv.BaseURL, Email: email, Password: password, ConvexURL: srv.URL}, scenario.Options{StepTimeout: 15 * time.Second})
			sim := checkVerdicts(t, &target.Sim{Alg: alg}, scenario.Options{})
			for k, v := range sim {
				if _, ran := real[k]; !ran {
					continue // the real target has no Convex deployment
				}
				if real[k] != v {
					t.Errorf("%s: simulator says passed=%v, real server says passed=%v", k, v, real[k])
				}
			}
		})
	}
}

// BenchmarkScenarioRun measures one scenario run against a fresh simulator.
func BenchmarkScenarioRun(b *testing.B) {
	sc, err := scenario.Load("../../scenarios/03-rotation-in-flight.yaml")
	if err != nil {
		b.Fatal(err)
	}
	tg := &target.Sim{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		res := scenario.Run(context.Background(), tg, sc, "pr329", scenario.Options{})
		if !res.Passed {
			b.Fatalf("run failed: %+v", res)
		}
	}
}
