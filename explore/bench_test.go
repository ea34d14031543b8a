package explore_test

import (
	"context"
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
