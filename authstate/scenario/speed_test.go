package scenario_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// BenchmarkAllScenariosOnePolicy runs every shipped scenario once under one
// policy per iteration, each against a fresh in-process simulator: what
// `authscope run scenarios/*.yaml --policy P` does after start-up.
//
//	go test -run '^$' -bench AllScenariosOnePolicy -benchtime 50x ./authstate/scenario/
func BenchmarkAllScenariosOnePolicy(b *testing.B) {
	scs := loadAll(b)
	for _, pol := range authstate.PolicyNames() {
		b.Run(pol, func(b *testing.B) {
			tg := &target.Sim{}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for _, sc := range scs {
					res := scenario.Run(context.Background(), tg, sc, pol, scenario.Options{})
					if res.Err != "" && !res.Skipped {
						b.Fatalf("%s under %s: %s", sc.Name, pol, res.Err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/all")
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
