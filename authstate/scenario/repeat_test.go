package scenario_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// stableEvent is what a run's event must repeat exactly from run to run:
// everything but the fingerprints and ids, which a real server makes at
// random (the simulator on virtual time repeats them too), and
// the time, which counts from the run's first event (virtual time).
type stableEvent struct {
	Seq            uint64
	At             time.Duration
	Kind           authstate.Kind
	Session, From  string
	Fetch, Owner   int
	Call           string
	Force          bool
	Cause, Source  string
	Stale          bool
	Reason, Detail string
}

func (e stableEvent) String() string {
	return fmt.Sprintf("#%d +%v %s session=%q from=%q fetch=%d owner=%d call=%q force=%v cause=%q source=%q stale=%v reason=%q detail=%q",
		e.Seq, e.At, e.Kind, e.Session, e.From, e.Fetch, e.Owner, e.Call, e.Force, e.Cause, e.Source, e.Stale, e.Reason, e.Detail)
}

// recordRun runs sc under policy and returns its events. It fails the test
// if the subscription dropped any: a gap in the sequence numbers or fewer
// events than the engine logged would otherwise show as a difference.
func recordRun(t *testing.T, tg scenario.Target, sc *scenario.Scenario, policy string) ([]stableEvent, scenario.Result) {
	t.Helper()
	var evs []authstate.Event
	res := scenario.Run(context.Background(), tg, sc, policy, scenario.Options{OnEvent: func(ev authstate.Event) { evs = append(evs, ev) }})
	if res.Err != "" && !res.Skipped {
		t.Fatalf("%s under %s: %s", sc.Name, policy, res.Err)
	}
	logged := 0
	out := make([]stableEvent, len(evs))
	for i, ev := range evs {
		// A logged event takes the next number; a quiet one (it feeds the
		// fold only) repeats the number of the event before it.
		if !ev.Kind.Quiet() {
			logged++
		}
		if ev.Seq != uint64(logged) {
			t.Fatalf("%s under %s: event %d has seq %d, want %d: events were dropped or reordered", sc.Name, policy, i+1, ev.Seq, logged)
		}
		out[i] = stableEvent{
			Seq: ev.Seq, At: ev.At.Sub(evs[0].At), Kind: ev.Kind, Session: ev.Session, From: ev.From,
			Fetch: ev.Fetch, Owner: ev.Owner, Call: ev.Call, Force: ev.Force, Cause: ev.Cause,
			Source: ev.Source, Stale: ev.Stale, Reason: ev.Reason, Detail: ev.Detail,
		}
	}
	if logged != res.Events {
		t.Fatalf("%s under %s: OnEvent saw %d logged events, the engine logged %d: some were dropped", sc.Name, policy, logged, res.Events)
	}
	return out, res
}

// firstDifference describes where b departs from a, with a few events of
// context, or returns "" when they are the same.
func firstDifference(a, b []stableEvent) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) && i == len(b) {
		return ""
	}
	var s strings.Builder
	fmt.Fprintf(&s, "%d events against %d; they part at event %d:\n", len(a), len(b), i+1)
	from := max(i-3, 0)
	for j := from; j < i; j++ {
		fmt.Fprintf(&s, "    both:   %s\n", a[j])
	}
	for j := i; j < min(i+3, len(a)); j++ {
		fmt.Fprintf(&s, "    first:  %s\n", a[j])
	}
	for j := i; j < min(i+3, len(b)); j++ {
		fmt.Fprintf(&s, "    this:   %s\n", b[j])
	}
	return s.String()
}

// TestScenarioRunsAreRepeatable runs every shipped scenario under every
// policy several times against the simulator: on the virtual clock each run
// must give the same events, however busy the machine is.
func TestScenarioRunsAreRepeatable(t *testing.T) {
	runs := 5
	if testing.Short() {
		runs = 3
	}
	tg := &target.Sim{}
	for _, sc := range loadAll(t) {
		for _, pol := range authstate.PolicyNames() {
			first, res := recordRun(t, tg, sc, pol)
			if res.Skipped {
				continue
			}
			for i := 1; i < runs; i++ {
				got, _ := recordRun(t, tg, sc, pol)
				if d := firstDifference(first, got); d != "" {
					t.Errorf("%s under %s: run %d differs from the first: %s", sc.Name, pol, i+1, d)
					break
				}
			}
		}
	}
}

// A wait that crosses timers the engine set (here the Convex client's
// scheduled token refetch) fires them one at a time, each at its own
// virtual time, with the engine settled in between: what a timer starts
// happens at the timer's time, and the run repeats.
func TestWaitPastTimersIsRepeatable(t *testing.T) {
	sc, err := scenario.Parse("wait.yaml", []byte(`
name: a wait past the Convex client's token refetch
start:
  consumer: true
  pr83: true
steps:
  - fault: {endpoint: token, network: true}
  - rotate
  - wait: 20m
  - wait: 15m
expect:
  - consumer: {authenticated: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	tg := &target.Sim{}
	for _, pol := range authstate.PolicyNames() {
		first, _ := recordRun(t, tg, sc, pol)
		// The token lives 15 minutes; each refetch comes 10 s before the
		// token it replaces expires.
		var at []time.Duration
		for _, ev := range first {
			if ev.Detail == "scheduled token refetch" {
				at = append(at, ev.At)
			}
		}
		want := []time.Duration{14*time.Minute + 50*time.Second, 29*time.Minute + 40*time.Second}
		if pol == "hardened" {
			// It retries the failed request, so the refetch after the
			// cached token's confirmation gets the same token: nothing is
			// scheduled.
			want = nil
		}
		if !slices.Equal(at, want) {
			t.Errorf("under %s: the scheduled refetches ran at %v, want %v", pol, at, want)
		}
		for i := 1; i < 4; i++ {
			got, _ := recordRun(t, tg, sc, pol)
			if d := firstDifference(first, got); d != "" {
				t.Errorf("under %s: run %d differs from the first: %s", pol, i+1, d)
				break
			}
		}
	}
}
