package scenario_test

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
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

// A run reports every input to OnInput: the hold, release, fault and wait
// steps among them, in the order of the steps, and the transport events
// say what each did.
func TestRunReportsTheStepsAsInputs(t *testing.T) {
	sc, err := scenario.Parse("steps.yaml", []byte(`name: transport steps
steps:
  - hold: token
  - fetch: {as: first}
  - release: oldest
  - await: first
  - hold: none
  - fault: {endpoint: token, status: 503}
  - fetch: {as: second, force: true}
  - await: second
  - wait: 2m
expect:
  - result: first
    session: current
`))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var steps []authstate.Input
	var failed *authstate.TokenFetched
	var transport []string
	opts := scenario.Options{
		OnInput: func(at time.Time, in authstate.Input) {
			mu.Lock()
			defer mu.Unlock()
			switch v := in.(type) {
			case authstate.Hold, authstate.Release, authstate.InjectFault, authstate.Advance, authstate.FetchCall:
				steps = append(steps, in)
			case authstate.TokenFetched:
				if v.Err != "" {
					failed = &v
				}
			}
		},
		OnEvent: func(ev authstate.Event) {
			mu.Lock()
			defer mu.Unlock()
			if ev.Kind == authstate.KindTransport {
				transport = append(transport, ev.Detail)
			}
		},
	}
	res := scenario.Run(context.Background(), &target.Sim{}, sc, "pr329", opts)
	if !res.Passed {
		t.Fatalf("the run failed: %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []authstate.Input{
		authstate.Hold{What: "token"},
		authstate.FetchCall{Name: "first", Cause: "scenario", Seq: 1},
		authstate.Release{Which: "oldest"},
		authstate.Hold{What: "none"},
		authstate.InjectFault{Endpoint: "token", Status: 503},
		authstate.FetchCall{Name: "second", Force: true, Cause: "scenario", Seq: 2},
		authstate.Advance{By: 2 * time.Minute},
	}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("step inputs:\n got %#v\nwant %#v", steps, want)
	}
	if failed == nil || !strings.Contains(failed.Err, "503") || !failed.Transient {
		t.Errorf("the faulted token request completed as %+v, want a transient 503", failed)
	}
	wantTransport := []string{
		"holding token responses: requests reach the server, answers wait",
		"released 1 held (oldest): token response #1",
		"stopped holding",
		"next token request fails with 503",
	}
	if !reflect.DeepEqual(transport, wantTransport) {
		t.Errorf("transport events:\n got %q\nwant %q", transport, wantTransport)
	}
}

// remount empties the provider's cache under the policy being run: the
// second call sends a request of its own instead of reading the first
// call's token from the cache. (v0.12 reads the first render's cache, so
// it sends one either way.)
func TestRemountStepEmptiesTheCache(t *testing.T) {
	for _, tc := range []struct {
		step     string
		requests int
	}{{"remount", 2}, {"wait: 1s", 1}} {
		sc, err := scenario.Parse("remount.yaml", []byte(`name: remount
steps:
  - fetch: {as: one}
  - await: one
  - `+tc.step+`
  - fetch: {as: two}
  - await: two
expect:
  - token_requests: 1
`))
		if err != nil {
			t.Fatal(err)
		}
		for _, pol := range []string{"pr329", "hardened"} {
			res := scenario.Run(context.Background(), &target.Sim{}, sc, pol, scenario.Options{})
			if res.Err != "" {
				t.Fatalf("%s %s: %s", tc.step, pol, res.Err)
			}
			got := "1"
			if !res.Passed {
				got = res.Failures[0].Got
			}
			if want := map[int]string{1: "1", 2: "the client sent 2 token request(s)"}[tc.requests]; got != want {
				t.Fatalf("with %s under %s: %q, want %q", tc.step, pol, got, want)
			}
		}
	}
}
