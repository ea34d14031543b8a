package explore

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
)

// outcome is what one run of a schedule says.
type outcome struct {
	// props are the properties the complete schedule breaks, sorted; why
	// says how, for each.
	props []string
	why   map[string]string
	// invalid is a run error that says nothing about the policy (a step
	// that could not run, a target failure); the schedule is dropped.
	invalid string
	// state hashes the client's state when the schedule's own steps are
	// done (before the settling part); held is how many items the
	// transport holds then, and faultPending says a placed fault has not
	// hit a request yet.
	state        uint64
	held         int
	faultPending bool
	// noToken names the fetches of the schedule that broke no-token.
	noToken []string
}

// fails reports whether the outcome breaks property.
func (o outcome) fails(property string) bool { return slices.Contains(o.props, property) }

// runner runs schedules of one seed.
type runner struct {
	seed   *Seed
	target scenario.Target
	start  time.Time
	// count is called once per run.
	count func()
}

// controls counts the steps that make the engine emit a transport event.
func controls(steps []scenario.Step) int {
	n := 0
	for _, st := range steps {
		switch st.Op {
		case scenario.OpHold, scenario.OpRelease, scenario.OpFault:
			n++
		}
	}
	return n
}

// run runs steps followed by the settling part and the oracle's
// expectations under policy (a policy or a variant name).
func (r *runner) run(ctx context.Context, policy string, steps []scenario.Step) outcome {
	rd := r.seed.render(steps, header{name: r.seed.Scenario.Name})
	if onRender != nil {
		onRender(rd)
	}
	sc := rd.sc
	var mu sync.Mutex
	buf := eventBufs.Get().(*[]authstate.Event)
	events := (*buf)[:0]
	defer func() {
		// Nothing of the events outlives the run: the outcome holds
		// strings and a hash.
		clear(events)
		*buf = events[:0]
		eventBufs.Put(buf)
	}()
	opts := scenario.Options{Start: r.start, OnEvent: func(ev authstate.Event) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}}
	if r.count != nil {
		r.count()
	}
	res := runNamed(ctx, r.target, sc, policy, opts)
	mu.Lock()
	defer mu.Unlock()
	out := digest(events, controls(steps), r.seed.Fault != nil && slices.ContainsFunc(steps, func(s scenario.Step) bool { return s.Op == scenario.OpFault }))
	if res.TargetError != "" {
		out.invalid = "the target failed: " + res.TargetError
		return out
	}
	out.why = map[string]string{}
	add := func(p, why string) {
		if !slices.Contains(out.props, p) {
			out.props = append(out.props, p)
			out.why[p] = why
		}
	}
	if res.Err != "" {
		if len(res.Failures) == 1 && rd.settleLines[res.Failures[0].Line] {
			add(PropSettles, res.Failures[0].Got)
		} else {
			out.invalid = res.Err
			return out
		}
	}
	stale := map[int]bool{} // request → its last cache write was stale
	view := ""              // the session the client believes it has
	said401 := map[int]bool{}
	for _, ev := range events {
		switch ev.Kind {
		case authstate.KindFetchFailed:
			// The server (or a fault standing for it) said the session
			// is gone: no token is the right answer then.
			if strings.Contains(ev.Reason, "HTTP 401") {
				said401[ev.Fetch] = true
			}
		case authstate.KindSessionObserved, authstate.KindSessionRotated:
			view = ev.Session
		case authstate.KindSessionEnded:
			view = ""
		case authstate.KindTokenServed:
			if ev.Token == nil && view != "" && !said401[ev.Fetch] && scheduleCall.MatchString(ev.Call) {
				add(PropNoToken, fmt.Sprintf("served %s no token while the client knew it was signed in as %s", ev.Call, view))
				if !slices.Contains(out.noToken, ev.Call) {
					out.noToken = append(out.noToken, ev.Call)
				}
			}
		case authstate.KindCacheSet:
			stale[ev.Fetch] = ev.Stale
		case authstate.KindViolation:
			add(ev.Cause, ev.Detail)
			if ev.Cause == authstate.InvariantLateOverwrite && stale[ev.Fetch] {
				add(PropStaleOverwrite, ev.Detail+"; the token it wrote is stale")
			}
		}
	}
	for _, f := range res.Failures {
		p, ok := rd.props[f.Line]
		if !ok || p == "violation" {
			continue
		}
		add(p, "expected "+f.Expect+": "+f.Got)
	}
	if out.fails(PropSessionKept) {
		// A client that lost its session cookie has no current session
		// to be given a token for: that is the same failure.
		out.props = slices.DeleteFunc(out.props, func(p string) bool { return p == PropFinalToken || p == PropSignedOutToken || p == PropConvexAuth })
	}
	slices.Sort(out.props)
	return out
}

// eventBufs holds the event slices of finished runs for the next: a run
// takes a few hundred events, and growing a fresh slice for each was a
// tenth of what a search allocated.
var eventBufs = sync.Pool{New: func() any { return new([]authstate.Event) }}

// onRender, when set (by a test), sees every schedule before it runs.
var onRender func(rendered)

// runNamed runs sc under a policy or variant name.
func runNamed(ctx context.Context, tg scenario.Target, sc *scenario.Scenario, name string, opts scenario.Options) scenario.Result {
	v, err := authstate.ParseVariant(name)
	if err != nil {
		return scenario.Run(ctx, tg, sc, name, opts)
	}
	return scenario.RunVariant(ctx, tg, sc, v, opts)
}

// scheduleCall matches the names of a schedule's fetches (not the Convex
// client's own calls, which a scenario cannot name).
var scheduleCall = regexp.MustCompile(`^(f[0-9]+|final)$`)

// digest hashes the state after the schedule's own steps from the events
// of a run: every event before the transport event of the settling part's
// first step (hold: none), which is the transport event after the ctl-th.
// Two prefixes with the same digest leave the client, and the server it
// talks to, in the same state: the server changes only through the
// requests whose outcomes the events report.
func digest(events []authstate.Event, ctl int, faultPlaced bool) outcome {
	h := fnv.New64a()
	var out outcome
	seen := 0
	var tr *authstate.TransportState
	faultHit := false
	for _, ev := range events {
		if ev.Kind == authstate.KindTransport {
			if seen == ctl {
				break
			}
			seen++
		}
		if ev.Transport != nil {
			tr = ev.Transport
		}
		if ev.Kind != authstate.KindTransport && strings.Contains(strings.ToLower(ev.Reason+" "+ev.Detail), "injected") {
			// A request failed with the injected fault: a token fetch, a
			// poll, a server action or a query.
			faultHit = true
		}
		if ev.Kind.Quiet() || ev.Kind == authstate.KindTransport || ev.Kind == authstate.KindNote {
			continue
		}
		writeEvent(h, ev)
	}
	if tr != nil {
		io.WriteString(h, "\x01"+tr.Holding+"\x01"+strings.Join(tr.Held, "\x02"))
		out.held = len(tr.Held)
	}
	out.faultPending = faultPlaced && !faultHit
	out.state = h.Sum64()
	return out
}

func writeEvent(w io.Writer, ev authstate.Event) {
	parts := []string{
		ev.Kind.String(), ev.Session, ev.From, strconv.Itoa(ev.Fetch), strconv.Itoa(ev.Owner),
		ev.Call, strconv.FormatBool(ev.Force), ev.Cause, ev.Source, strconv.FormatBool(ev.Stale), ev.Effect,
	}
	if ev.Token != nil {
		parts = append(parts, ev.Token.Session, strconv.FormatBool(ev.Token.Verified))
	}
	io.WriteString(w, strings.Join(parts, "\x00")+"\n")
}
