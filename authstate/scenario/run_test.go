package scenario_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// An await that nothing can satisfy fails as soon as the engine is idle,
// with what the call waits on, instead of waiting out the step timeout.
// The step timeout here is an hour and the run's own deadline a minute:
// waiting out either would show in the error.
func TestAwaitOnHeldFetchFailsAtOnce(t *testing.T) {
	// Under v0.12 the second call joins the first, held request; under
	// pr329 it sends its own and returns.
	sc, err := scenario.Parse("held.yaml", []byte(`name: a late fetch held forever
steps:
  - hold: token
  - fetch: {as: first}
  - rotate
  - hold: none
  - fetch: {as: second}
  - await: second
expect:
  - result: second
    session: current
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		policy string
		passed bool
		want   []string
	}{
		{"v0.12", false, []string{
			`fetch "second" has not returned: it is waiting on request #1`,
			"held in the client transport: token response #1 (add a release step)",
		}},
		{"pr329", true, nil},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res := scenario.Run(ctx, &target.Sim{}, sc, tc.policy, scenario.Options{StepTimeout: time.Hour})
			if ctx.Err() != nil {
				t.Fatalf("the run waited out its deadline: %+v", res)
			}
			if res.Passed != tc.passed {
				t.Fatalf("passed = %v, want %v: %+v", res.Passed, tc.passed, res)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Err, w) {
					t.Errorf("error %q does not say %q", res.Err, w)
				}
			}
			if strings.Contains(res.Err, "gave up after") {
				t.Errorf("error %q comes from the step timeout", res.Err)
			}
		})
	}
}
