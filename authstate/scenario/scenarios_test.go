package scenario_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
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
			// A real server hashes passwords with scrypt on its event loop;
			// on a busy two-core machine one call can take longer than the
			// defaults (10 s a call, 10 s a step).
			real := checkVerdicts(t, &target.URL{BaseURL: srv.BaseURL, Email: email, Password: password, ConvexURL: srv.URL, Timeout: time.Minute}, scenario.Options{StepTimeout: time.Minute})
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

// BenchmarkAllScenarios runs every shipped scenario under every policy once
// per iteration, each against a fresh simulator, and reports how even the
// run times are: for each scenario × policy the slowest run over the median
// one, worst case first. A run that waited on the wall clock (a step
// timeout, a server's shutdown timeout) shows as a ratio far above 2.
//
// Each run starts after a garbage collection, outside the timing: a run
// allocates about 0.35 MB, well under what starts a collection, so a run is
// timed with its own work only, not with a collection the garbage of the
// runs before it set off (in the middle of thousands of runs in one process,
// one collection every eight runs or so; its mark phase slows the run it
// lands in by a few milliseconds on two cores). Set
// AUTHSCOPE_BENCH_KEEP_GARBAGE=1 to time the runs back to back instead.
//
//	go test -run '^$' -bench AllScenarios -benchtime 100x ./authstate/scenario/
func BenchmarkAllScenarios(b *testing.B) {
	for _, alg := range []string{"EdDSA", "RS256"} {
		b.Run(alg, func(b *testing.B) { benchmarkAll(b, &target.Sim{Alg: alg}) })
	}
}

func benchmarkAll(b *testing.B, tg scenario.Target) {
	scs := loadAll(b)
	times := map[string][]time.Duration{}
	var keys []string
	// One untimed pass first: the first run of each scenario warms caches
	// up (code, connections, the allocator) that every later run finds.
	for _, sc := range scs {
		for _, pol := range authstate.PolicyNames() {
			scenario.Run(context.Background(), tg, sc, pol, scenario.Options{})
		}
	}
	collect := os.Getenv("AUTHSCOPE_BENCH_KEEP_GARBAGE") == ""
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, sc := range scs {
			for _, pol := range authstate.PolicyNames() {
				k := sc.Name + " / " + pol
				if collect {
					// Start each run with the garbage of the runs before it
					// collected, so that a collection their garbage is owed
					// does not land in this run (see the doc comment).
					b.StopTimer()
					runtime.GC()
					b.StartTimer()
				}
				began := time.Now()
				res := scenario.Run(context.Background(), tg, sc, pol, scenario.Options{})
				d := time.Since(began)
				if res.Err != "" && !res.Skipped {
					b.Fatalf("%s: %s", k, res.Err)
				}
				if _, ok := times[k]; !ok {
					keys = append(keys, k)
				}
				times[k] = append(times[k], d)
			}
		}
	}
	var worst float64
	var worstKey string
	var all []time.Duration
	over := 0
	for _, k := range keys {
		ds := times[k]
		all = append(all, ds...)
		slices.Sort(ds)
		med, maxD := ds[len(ds)/2], ds[len(ds)-1]
		if r := float64(maxD) / float64(med); r > worst {
			worst, worstKey = r, k
		}
		for _, d := range ds {
			if d > 2*med {
				over++
			}
		}
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "median-ms/run")
	b.ReportMetric(float64(all[len(all)-1].Microseconds())/1000, "max-ms/run")
	b.ReportMetric(worst, "worst-max/median")
	b.ReportMetric(float64(over), "runs-over-2x-median")
	if ds := times[worstKey]; len(ds) > 0 {
		b.Logf("%d runs per scenario × policy; most uneven: %s (median %v, max %v)", b.N, worstKey, ds[len(ds)/2], ds[len(ds)-1])
	}
}

// TestReleaseAllReachesTheEngineInArrivalOrder releases three held token
// responses at once, many times over: the engine must take them in the
// order the requests were sent, however the goroutines that carry them are
// scheduled, or a run's verdict would depend on how busy the machine is.
func TestReleaseAllReachesTheEngineInArrivalOrder(t *testing.T) {
	sc, err := scenario.Parse("order.yaml", []byte(`
name: release all in order
steps:
  - hold: token
  - fetch: {as: a, force: true}
  - fetch: {as: b, force: true}
  - fetch: {as: c, force: true}
  - release: all
  - await: [a, b, c]
expect:
  - token_requests: 3
`))
	if err != nil {
		t.Fatal(err)
	}
	tg := &target.Sim{}
	for i := 0; i < 25; i++ {
		var order []int
		res := scenario.Run(context.Background(), tg, sc, "pr329", scenario.Options{OnEvent: func(ev authstate.Event) {
			if ev.Kind == authstate.KindFetchResolved || ev.Kind == authstate.KindFetchFailed {
				order = append(order, ev.Fetch)
			}
		}})
		if res.Err != "" {
			t.Fatalf("run %d: %s", i, res.Err)
		}
		if !slices.Equal(order, []int{1, 2, 3}) {
			t.Fatalf("run %d: the engine took the responses in the order %v, want [1 2 3]", i, order)
		}
	}
}
