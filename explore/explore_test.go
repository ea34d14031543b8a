package explore_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/explore"
	"github.com/authscope/authscope/fetcher/target"
	"github.com/authscope/authscope/internal/realserver"
)

func seed(t testing.TB, name string) *explore.Seed {
	t.Helper()
	s, err := explore.LoadSeed("../scenarios/explore/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// shippedSeeds loads every seed in scenarios/explore/.
func shippedSeeds(t testing.TB) []*explore.Seed {
	t.Helper()
	files, _ := filepath.Glob("../scenarios/explore/*.yaml")
	if len(files) < 3 {
		t.Fatalf("want at least 3 seeds, found %v", files)
	}
	var seeds []*explore.Seed
	for _, f := range files {
		s, err := explore.LoadSeed(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, s)
	}
	return seeds
}

// testOpts keep the searches short: depth 2 holds every race the done-when
// names, and the search within it is exhaustive.
func testOpts(policies ...string) explore.Options {
	return explore.Options{Policies: policies, Depth: 2, MaxSchedules: 1000, Walks: 10, Seed: 1}
}

func failures(rep explore.SeedReport, policy string) map[string]*explore.Failure {
	out := map[string]*explore.Failure{}
	for _, f := range rep.Failures {
		if f.Policy == policy {
			out[f.Property] = f
		}
	}
	return out
}

func steps(f *explore.Failure) string {
	var s []string
	for _, st := range f.Minimal {
		s = append(s, st.String())
	}
	return strings.Join(s, "; ")
}

// From seeds that name only operations, the explorer finds under v0.12 the
// late overwrite (01), the pending-slot clobber (11) and the late 401 that
// wipes the fresh cookie (19), and under pr329 the sign-out gap (18: a
// call while signed out, then S2 is served S1's JWT; and at its core, S1's
// JWT served after the sign-out), each shrunk to the few steps that make it.
func TestFindsTheKnownRaces(t *testing.T) {
	if testing.Short() {
		t.Skip("about a minute under -race")
	}
	reps := explore.Explore(context.Background(), []*explore.Seed{seed(t, "rotation"), seed(t, "signout")}, testOpts("v0.12", "pr329"))
	rot, rot329, out := failures(reps[0], "v0.12"), failures(reps[0], "pr329"), failures(reps[1], "pr329")
	for _, tc := range []struct {
		fs       map[string]*explore.Failure
		property string
		want     string // the minimal schedule
	}{
		{rot, authstate.InvariantLateOverwrite, "hold token; fetch; hold none; fetch (forced)"},
		{rot, explore.PropStaleOverwrite, "hold token; fetch; rotate; hold none; fetch (forced)"},
		{rot, authstate.InvariantPendingClobber, "hold token; fetch; fetch (forced)"},
		{rot, explore.PropSessionKept, "hold token_request; fetch; rotate"},
		{rot329, explore.PropNoToken, "hold token; fetch; fetch (forced)"},
		{out, explore.PropFinalToken, "fetch; sign_out; fetch; sign_in"},
		{out, explore.PropSignedOutToken, "fetch; sign_out"},
		{out, authstate.InvariantGoneSession, "fetch; sign_out"},
	} {
		f, ok := tc.fs[tc.property]
		if !ok {
			t.Errorf("%s not found; found %v", tc.property, keys(tc.fs))
			continue
		}
		if got := steps(f); got != tc.want {
			t.Errorf("%s: minimal schedule %q, want %q", tc.property, got, tc.want)
		}
		if f.Why == "" {
			t.Errorf("%s: no reason given", tc.property)
		}
	}
	if !rot[explore.PropSessionKept].Inherent || rot[authstate.InvariantLateOverwrite].Inherent {
		t.Errorf("only session-kept is inherent")
	}
	for _, r := range reps {
		for _, s := range r.Stats {
			if !s.Exhaustive || s.States == 0 || s.Pruned == 0 || s.Walks != 10 {
				t.Errorf("%s under %s: %+v; want an exhaustive search that pruned repeated states, and 10 walks", r.File, s.Policy, s)
			}
		}
	}
}

func keys(m map[string]*explore.Failure) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Over every shipped seed, hardened breaks nothing but the inherent
// property (the late 401 that wipes the fresh cookie), and the search
// covers the space within the depth exhaustively.
func TestHardenedOnlyInherentFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("about a minute under -race")
	}
	for _, r := range explore.Explore(context.Background(), shippedSeeds(t), testOpts("hardened")) {
		if !r.Stats[0].Exhaustive {
			t.Errorf("%s: not exhaustive: %+v", r.File, r.Stats[0])
		}
		for _, f := range r.Failures {
			if !f.Inherent {
				t.Errorf("%s: hardened breaks %s: %s (%s)", r.File, f.Property, f.Why, steps(f))
			}
		}
	}
}

// The same seed gives the same schedules: two searches agree on every
// count and every failure.
func TestSameSeedSameSchedules(t *testing.T) {
	t.Run("fault", func(t *testing.T) { sameSchedules(t, "fault", 1) })
	// The Convex client's queries run beside the provider's calls: a
	// search of them once depended on which answered first (Settle took
	// counts of two moments for one).
	t.Run("convex", func(t *testing.T) { sameSchedules(t, "convex", 2) })
}

func sameSchedules(t *testing.T, name string, depth int) {
	run := func() explore.SeedReport {
		o := testOpts("v0.12")
		o.Depth, o.Walks, o.Seed = depth, 30, 42
		return explore.Explore(context.Background(), []*explore.Seed{seed(t, name)}, o)[0]
	}
	a, b := run(), run()
	if !slices.Equal(a.Stats, b.Stats) {
		t.Errorf("stats differ: %+v vs %+v", a.Stats, b.Stats)
	}
	if len(a.Failures) != len(b.Failures) || len(a.Failures) == 0 {
		t.Fatalf("failures differ or none: %d vs %d", len(a.Failures), len(b.Failures))
	}
	for i := range a.Failures {
		if a.Failures[i].Property != b.Failures[i].Property || steps(a.Failures[i]) != steps(b.Failures[i]) {
			t.Errorf("failure %d differs: %s %q vs %s %q", i, a.Failures[i].Property, steps(a.Failures[i]), b.Failures[i].Property, steps(b.Failures[i]))
		}
	}
}

// A budget smaller than the space says the search was not exhaustive.
func TestBudgetReachedIsNotExhaustive(t *testing.T) {
	o := testOpts("hardened")
	o.MaxSchedules, o.Walks = 20, -1
	st := explore.Explore(context.Background(), []*explore.Seed{seed(t, "rotation")}, o)[0].Stats[0]
	if st.Exhaustive || st.Schedules != 20 || st.Walks != 0 {
		t.Errorf("stats %+v; want 20 schedules, not exhaustive, no walks", st)
	}
}

// writeMinimal explores a seed under policy and writes the minimal
// scenario of property into dir.
func writeMinimal(t *testing.T, dir, seedName, policy, property string) string {
	t.Helper()
	o := testOpts(policy)
	o.Walks = -1
	rep := explore.Explore(context.Background(), []*explore.Seed{seed(t, seedName)}, o)[0]
	f, ok := failures(rep, policy)[property]
	if !ok {
		t.Fatalf("%s under %s: %s not found", seedName, policy, property)
	}
	path, err := f.Write(context.Background(), dir, explore.Runner{Opts: o}, authstate.PolicyNames())
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// The minimal scenario is an ordinary scenario file: `authscope run` fails
// it under the policy on its own, and lists the policies it fails under as
// buggy.
func TestWrittenScenarioFailsOnItsOwn(t *testing.T) {
	dir := t.TempDir()
	path := writeMinimal(t, dir, "rotation", "v0.12", authstate.InvariantLateOverwrite)
	if filepath.Base(path) != "rotation-late-overwrite-v0.12.yaml" {
		t.Errorf("file name %s", path)
	}
	sc, err := scenario.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sc.Buggy, []string{"v0.12"}) {
		t.Errorf("buggy %v, want [v0.12]", sc.Buggy)
	}
	for _, pol := range authstate.PolicyNames() {
		res := scenario.Run(context.Background(), &target.Sim{}, sc, pol, scenario.Options{})
		if want := pol == "v0.12"; res.Passed == want || res.Err != "" {
			t.Errorf("%s: passed=%v err=%q failures=%+v", pol, res.Passed, res.Err, res.Failures)
		}
	}
	data, _ := os.ReadFile(path)
	for _, w := range []string{"hold: token", "release: all", "no_violations: true", "signed_in: true", "Found by authscope explore from rotation.yaml"} {
		if !strings.Contains(string(data), w) {
			t.Errorf("the scenario lacks %q:\n%s", w, data)
		}
	}
}

// The minimal scenarios of the four races (01, 11, 19, 18) fail against a
// real Better Auth server too, under exactly the policies they fail under
// against the simulator.
func TestMinimalScenariosAgainstRealServer(t *testing.T) {
	srv := realserver.Start(t, realserver.Options{Alg: "EdDSA"})
	email, password := srv.SignUp(t)
	dir := t.TempDir()
	paths := []string{
		writeMinimal(t, dir, "rotation", "v0.12", explore.PropStaleOverwrite),
		writeMinimal(t, dir, "rotation", "v0.12", authstate.InvariantPendingClobber),
		writeMinimal(t, dir, "rotation", "v0.12", explore.PropSessionKept),
		writeMinimal(t, dir, "signout", "pr329", explore.PropFinalToken),
	}
	real := &target.URL{BaseURL: srv.BaseURL, Email: email, Password: password, Timeout: time.Minute}
	for _, p := range paths {
		sc, err := scenario.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, pol := range authstate.PolicyNames() {
			res := scenario.Run(context.Background(), real, sc, pol, scenario.Options{StepTimeout: time.Minute})
			want := slices.Contains(sc.Buggy, pol)
			if res.Err != "" || res.TargetError != "" || res.Passed == want {
				t.Errorf("%s under %s against the real server: passed=%v (want %v) err=%q target=%q failures=%+v", filepath.Base(p), pol, res.Passed, !want, res.Err, res.TargetError, res.Failures)
			}
		}
	}
}

// A seed names operations only: holds, releases, awaits and waits are the
// explorer's to choose, and it refuses a seed that spells them out.
func TestSeedRefusesSchedulingSteps(t *testing.T) {
	for _, tc := range []struct{ steps, want string }{
		{"  - hold: token\n  - fetch\n", "seed.yaml:5: hold is not an operation a seed may name"},
		{"  - fetch: {as: a}\n  - await: a\n", "seed.yaml:6: await is not an operation"},
		{"  - fault: {endpoint: sign-out, status: 503}\n  - fetch\n", "a failed sign-in or sign-out changes whether the client should end signed in"},
		{"  - fault: {endpoint: token, status: 503}\n  - fault: {endpoint: token, network: true}\n  - fetch\n", "at most one fault"},
	} {
		sc, err := scenario.Parse("seed.yaml", []byte("name: s\nexpect:\n  - no_violations: true\nsteps:\n"+tc.steps))
		if err != nil {
			t.Fatalf("%q: %v", tc.steps, err)
		}
		_, err = explore.NewSeed(sc)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.steps, err, tc.want)
		}
	}
}

// Time passing is an operation too: from a seed with a long sleep the
// explorer finds pr329's expired cached token (case 15), and hardened
// serves nothing expired.
func TestFindsTheExpiredCache(t *testing.T) {
	o := testOpts("pr329", "hardened")
	o.Depth, o.Walks = 1, -1
	rep := explore.Explore(context.Background(), []*explore.Seed{seed(t, "sleep")}, o)[0]
	f, ok := failures(rep, "pr329")[authstate.InvariantExpired]
	if !ok {
		t.Fatalf("pr329: no expired failure; found %v", keys(failures(rep, "pr329")))
	}
	if got := steps(f); got != "fetch; wait 16m0s" {
		t.Errorf("minimal schedule %q, want %q", got, "fetch; wait 16m0s")
	}
	if h := failures(rep, "hardened"); len(h) != 0 {
		t.Errorf("hardened fails %v", keys(h))
	}
}

// The seeds do not spell out the answer: run as ordinary scenarios, in the
// order written with nothing held, they pass under every policy. What the
// explorer reports comes from the orderings it chose.
func TestSeedsPassInTheirWrittenOrder(t *testing.T) {
	files, _ := filepath.Glob("../scenarios/explore/*.yaml")
	for _, f := range files {
		sc, err := scenario.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, pol := range authstate.PolicyNames() {
			if res := scenario.Run(context.Background(), &target.Sim{}, sc, pol, scenario.Options{}); !res.Passed {
				t.Errorf("%s under %s fails as written: %+v %s", filepath.Base(f), pol, res.Failures, res.Err)
			}
		}
	}
}
