package scenario_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// A flicker window lasts what it lasts on the run's clock: held open over
// a wait of 3 virtual seconds, it is 3000 ms long, on any machine, and
// max_ms judges that length (it once read the wall clock, on which the
// window lasted the microseconds the run took).
func TestFlickerLengthIsOnTheRunsClock(t *testing.T) {
	const file = `
name: a window held open
start: {signed_in: true, consumer: true}
steps:
  - hold: token
  - rotate
  - wait: 3s
  - hold: none
  - release: all
expect:
  - flicker: {max_windows: 1, max_ms: LIMIT}
`
	for _, tc := range []struct {
		limit string
		pass  bool
	}{{"3000", true}, {"2999", false}} {
		sc, err := scenario.Parse("w.yaml", []byte(strings.Replace(file, "LIMIT", tc.limit, 1)))
		if err != nil {
			t.Fatal(err)
		}
		res := scenario.Run(context.Background(), &target.Sim{}, sc, "pr329", scenario.Options{})
		if res.Passed != tc.pass {
			t.Errorf("max_ms %s: passed %v, want %v: %s %+v", tc.limit, res.Passed, tc.pass, res.Err, res.Failures)
		}
		if !tc.pass && (len(res.Failures) != 1 || !strings.Contains(res.Failures[0].Got, "3000 ms in all")) {
			t.Errorf("max_ms %s: failures %+v, want one saying 3000 ms", tc.limit, res.Failures)
		}
	}
}
