package explore_test

import (
	"context"
	"runtime/debug"
	"testing"

	"github.com/authscope/authscope/explore"
)

// BenchmarkExplore runs the systematic search of the rotation seed under
// hardened at depth 1 and reports schedules per second: every schedule is
// one scenario.Run against a fresh simulator, so this follows the runner's
// speed.
//
//	go test -run '^$' -bench Explore -benchtime 3x ./explore/
func BenchmarkExplore(b *testing.B) {
	s := seed(b, "rotation")
	o := explore.Options{Policies: []string{"hardened"}, Depth: 1, Walks: -1, Jobs: 1}
	schedules := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st := explore.Explore(context.Background(), []*explore.Seed{s}, o)[0].Stats[0]
		if !st.Exhaustive {
			b.Fatalf("not exhaustive: %+v", st)
		}
		schedules += st.Schedules
	}
	b.ReportMetric(float64(schedules)/b.Elapsed().Seconds(), "schedules/s")
}

// BenchmarkExploreShippedSeeds runs what `authscope explore scenarios/explore/`
// runs (every shipped seed, every policy, the default bounds, walks and
// shrinking) with the command's garbage collector setting, and reports
// runs per second over all of it: the figure the README gives.
//
//	go test -run '^$' -bench ExploreShippedSeeds -benchtime 3x ./explore/
func BenchmarkExploreShippedSeeds(b *testing.B) {
	seeds := shippedSeeds(b)
	defer debug.SetGCPercent(debug.SetGCPercent(400)) // as cmd/authscope does
	runs := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, r := range explore.Explore(context.Background(), seeds, explore.Options{}) {
			for _, st := range r.Stats {
				runs += st.Runs
			}
		}
	}
	b.ReportMetric(float64(runs)/b.Elapsed().Seconds(), "runs/s")
}
