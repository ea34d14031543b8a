package scenario_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// BenchmarkAllScenariosOnePolicy runs every shipped scenario once under one
// policy per iteration, each against a fresh in-process simulator: what
// `authscope run scenarios/*.yaml --policy P` does after start-up. Each
// iteration is one run of all shipped scenarios, timed on its own (garbage
// collections included), and the benchmark reports how even they are:
// the median, the slowest, and how many took over twice the median.
//
//	go test -run '^$' -bench AllScenariosOnePolicy -benchtime 100x ./authstate/scenario/
func BenchmarkAllScenariosOnePolicy(b *testing.B) {
	scs := loadAll(b)
	for _, pol := range authstate.PolicyNames() {
		b.Run(pol, func(b *testing.B) {
			tg := &target.Sim{}
			b.ReportAllocs()
			times := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				began := time.Now()
				for _, sc := range scs {
					res := scenario.Run(context.Background(), tg, sc, pol, scenario.Options{})
					if res.Err != "" && !res.Skipped {
						b.Fatalf("%s under %s: %s", sc.Name, pol, res.Err)
					}
				}
				times = append(times, time.Since(began))
			}
			slices.Sort(times)
			med := times[len(times)/2]
			over := 0
			for _, d := range times {
				if d > 2*med {
					over++
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/all")
			b.ReportMetric(float64(med.Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "max-ms")
			b.ReportMetric(float64(over), "runs-over-2x-median")
		})
	}
}

// shortSchedule is a schedule of the size the explorer runs by the
// thousand: two token requests, one of them held past a rotation, released
// out of order.
const shortSchedule = `
name: short schedule
steps:
  - hold: token
  - fetch: {as: a}
  - rotate
  - fetch: {as: b, force: true}
  - release: latest
  - await: b
  - release: all
  - await: a
expect:
  - no_violations: true
`

// BenchmarkShortSchedules runs a short schedule on every core at once, each
// run against its own in-process simulator, and reports schedules per
// second of wall time.
//
//	go test -run '^$' -bench ShortSchedules -benchtime 2000x ./authstate/scenario/
func BenchmarkShortSchedules(b *testing.B) {
	sc, err := scenario.Parse("short.yaml", []byte(shortSchedule))
	if err != nil {
		b.Fatal(err)
	}
	tg := &target.Sim{}
	var failed atomic.Pointer[string]
	b.ReportAllocs()
	began := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res := scenario.Run(context.Background(), tg, sc, "hardened", scenario.Options{})
			if res.Err != "" {
				failed.Store(&res.Err)
			}
		}
	})
	if e := failed.Load(); e != nil {
		b.Fatal(*e)
	}
	b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "schedules/s")
}
