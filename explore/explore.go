package explore

import (
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// Options bound a search.
type Options struct {
	// Target runs the schedules (default: the built-in simulator).
	Target scenario.Target
	// Policies to explore (default: all): policy names, or variant names
	// (authstate.ParseVariant: "pr329+pr83+preserve"), each searched on
	// its own.
	Policies []string
	// MaxSchedules bounds the systematic search's runs, per seed and
	// policy (default 2000).
	MaxSchedules int
	// Depth bounds the network choices (holds and releases) in one
	// schedule of the systematic search (default 3); random walks go to
	// twice as many.
	Depth int
	// Walks is how many random schedules follow the systematic search,
	// per seed and policy (default 100; negative: none).
	Walks int
	// Seed seeds the random walks: the same seed gives the same schedules.
	Seed uint64
	// Jobs is how many searches run at once (default 2).
	Jobs int
	// Start is the virtual clock's starting time of every run (default a
	// fixed time, so that runs are comparable).
	Start time.Time
}

func (o *Options) defaults() {
	if o.Target == nil {
		o.Target = &target.Sim{}
	}
	if len(o.Policies) == 0 {
		o.Policies = authstate.PolicyNames()
	}
	if o.MaxSchedules <= 0 {
		o.MaxSchedules = 2000
	}
	if o.Depth <= 0 {
		o.Depth = 3
	}
	if o.Walks == 0 {
		o.Walks = 100
	}
	if o.Jobs <= 0 {
		o.Jobs = 2
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	}
}

// Stats describe the search of one seed under one policy.
type Stats struct {
	Policy string `json:"policy"`
	// Runs counts scenario runs: every schedule run, in the search, the
	// walks and the shrinking.
	Runs int `json:"runs"`
	// Schedules counts the schedules the systematic search ran; States
	// the distinct states they reached; Pruned the branches cut because
	// their state had been explored already.
	Schedules int `json:"schedules"`
	States    int `json:"states"`
	Pruned    int `json:"pruned"`
	// Exhaustive is true when the systematic search covered every
	// schedule within the depth before reaching MaxSchedules.
	Exhaustive bool `json:"exhaustive"`
	Walks      int  `json:"walks"`
	// Invalid counts schedules dropped because a step could not run.
	Invalid int `json:"invalid,omitempty"`
}

// Failure is one property a policy breaks, with the first schedule found
// and its shrunk form.
type Failure struct {
	Seed     string `json:"seed"`
	Policy   string `json:"policy"`
	Property string `json:"property"`
	// Why says how the minimal schedule breaks the property.
	Why string `json:"why"`
	// Inherent: no client-side cache can prevent it (see Inherent).
	Inherent bool `json:"inherent"`
	// Expected: the seed lists the policy under buggy.
	Expected bool            `json:"expected"`
	Found    []scenario.Step `json:"-"`
	Minimal  []scenario.Step `json:"-"`
	seed     *Seed
}

// SeedReport is the search of one seed.
type SeedReport struct {
	File     string     `json:"file"`
	Name     string     `json:"name"`
	Stats    []Stats    `json:"stats"`
	Failures []*Failure `json:"-"`
}

// Explore searches every seed under every policy. Results come in the
// order of seeds and policies, whatever order the searches finish in.
func Explore(ctx context.Context, seeds []*Seed, opts Options) []SeedReport {
	opts.defaults()
	reps := make([]SeedReport, len(seeds))
	type job struct{ si, pi int }
	var jobs []job
	for si, s := range seeds {
		reps[si] = SeedReport{File: s.Scenario.File, Name: s.Scenario.Name, Stats: make([]Stats, len(opts.Policies))}
		for pi := range opts.Policies {
			jobs = append(jobs, job{si, pi})
		}
	}
	fails := make([][]*Failure, len(jobs))
	sem := make(chan struct{}, opts.Jobs)
	// slots bounds the runs going on at once over every search: one per
	// core; a search runs the children of a node side by side.
	slots := make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))
	var wg sync.WaitGroup
	for ji, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s := &search{seed: seeds[j.si], policy: opts.Policies[j.pi], opts: opts, slots: slots}
			s.r = runner{seed: s.seed, target: opts.Target, start: opts.Start, count: func() { s.runs.Add(1) }}
			s.stats.Policy = s.policy
			fails[ji] = s.explore(ctx)
			s.stats.Runs = int(s.runs.Load())
			reps[j.si].Stats[j.pi] = s.stats
		}()
	}
	wg.Wait()
	for ji, j := range jobs {
		reps[j.si].Failures = append(reps[j.si].Failures, fails[ji]...)
	}
	return reps
}

// search is the exploration of one seed under one policy.
type search struct {
	seed    *Seed
	policy  string
	opts    Options
	r       runner
	stats   Stats
	visited map[uint64]int // state → most network choices left when explored
	found   map[string]*Failure
	order   []string
	// slots bounds the runs going on at once (shared by the searches);
	// runs counts them.
	slots chan struct{}
	runs  atomic.Int64
}

// runAll runs the schedules of nodes side by side, as slots allow, and
// returns their outcomes in the order of nodes: what the search does with
// them does not depend on which finished first.
func (s *search) runAll(ctx context.Context, nodes []node) []outcome {
	outs := make([]outcome, len(nodes))
	if s.slots == nil {
		for i, n := range nodes {
			outs[i] = s.r.run(ctx, s.policy, n.steps)
		}
		return outs
	}
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.slots <- struct{}{}
			defer func() { <-s.slots }()
			outs[i] = s.r.run(ctx, s.policy, n.steps)
		}()
	}
	wg.Wait()
	return outs
}

// node is a schedule prefix and what of the seed it has placed.
type node struct {
	steps                []scenario.Step
	fixed, plain, forced int
	fault                bool
	hold                 string
	net                  int
}

func (s *search) complete(n node) bool {
	return n.fixed == len(s.seed.Fixed) && n.plain == s.seed.Plain && n.forced == s.seed.Forced
}

func (n node) with(st scenario.Step) node {
	c := n
	c.steps = append(slices.Clip(n.steps), st)
	return c
}

// opMoves are the seed's operations that can come next: the next fixed
// one, a fetch of each kind left, the fault.
func (s *search) opMoves(n node) []node {
	var out []node
	if n.fixed < len(s.seed.Fixed) {
		c := n.with(s.seed.Fixed[n.fixed])
		c.fixed++
		out = append(out, c)
	}
	if n.plain < s.seed.Plain {
		c := n.with(scenario.Step{Op: scenario.OpFetch})
		c.plain++
		out = append(out, c)
	}
	if n.forced < s.seed.Forced {
		c := n.with(scenario.Step{Op: scenario.OpFetch, Force: true})
		c.forced++
		out = append(out, c)
	}
	if s.seed.Fault != nil && !n.fault {
		c := n.with(scenario.Step{Op: scenario.OpFault, Fault: *s.seed.Fault})
		c.fault = true
		out = append(out, c)
	}
	return out
}

// netMoves are the network choices that can come next, within depth:
// start or stop holding (while an operation that can send a request is
// left), and let held items go.
func (s *search) netMoves(n node, held int, depth int) []node {
	if n.net >= depth {
		return nil
	}
	var out []node
	if !s.complete(n) {
		for _, h := range []string{"token", "token_request", "none"} {
			if h != n.hold {
				c := n.with(scenario.Step{Op: scenario.OpHold, What: h})
				c.hold, c.net = h, n.net+1
				out = append(out, c)
			}
		}
	}
	rel := []string{"oldest"}
	if held > 1 {
		rel = append(rel, "latest", "all")
	}
	if held > 0 {
		for _, w := range rel {
			c := n.with(scenario.Step{Op: scenario.OpRelease, What: w})
			c.net = n.net + 1
			out = append(out, c)
		}
	}
	return out
}

func (s *search) explore(ctx context.Context) []*Failure {
	s.visited = map[uint64]int{}
	s.found = map[string]*Failure{}
	root := node{hold: "none"}
	s.stats.Exhaustive = s.dfs(ctx, root, s.runAll(ctx, []node{root})[0])
	s.walk(ctx)
	var out []*Failure
	for _, p := range s.order {
		f := s.found[p]
		s.shrink(ctx, f)
		out = append(out, f)
	}
	return out
}

// dfs explores n, whose run gave out, and what follows it; false when the
// budget ran out. The children's schedules run side by side, then are
// taken in order.
func (s *search) dfs(ctx context.Context, n node, out outcome) bool {
	if ctx.Err() != nil || s.stats.Schedules >= s.opts.MaxSchedules {
		return false
	}
	s.stats.Schedules++
	if out.invalid != "" {
		s.stats.Invalid++
		return true
	}
	s.record(n.steps, out)
	key := out.state ^ genKey(n)
	left := s.opts.Depth - n.net
	if l, ok := s.visited[key]; ok && l >= left {
		s.stats.Pruned++
		return true
	}
	if _, ok := s.visited[key]; !ok {
		s.stats.States++
	}
	s.visited[key] = left
	kids := append(s.opMoves(n), s.netMoves(n, out.held, s.opts.Depth)...)
	if room := s.opts.MaxSchedules - s.stats.Schedules; len(kids) > room {
		// The budget ends among these: the ones past it are not run, and
		// the search is not exhaustive.
		s.walkKids(ctx, kids[:max(room, 0)])
		return false
	}
	return s.walkKids(ctx, kids)
}

// walkKids explores the children of a node in order, after running them.
func (s *search) walkKids(ctx context.Context, kids []node) bool {
	outs := s.runAll(ctx, kids)
	for i, c := range kids {
		if !s.dfs(ctx, c, outs[i]) {
			return false
		}
	}
	return true
}

// genKey folds what the node has placed into the state key.
func genKey(n node) uint64 {
	k := uint64(n.fixed)<<40 | uint64(n.plain)<<32 | uint64(n.forced)<<24
	if n.fault {
		k |= 1 << 16
	}
	return k * 0x9E3779B97F4A7C15
}

// walk runs the random walks: schedules up to twice the depth, each
// choice drawn from the seed's random source.
func (s *search) walk(ctx context.Context) {
	if s.opts.Walks < 0 {
		return
	}
	rng := rand.New(rand.NewPCG(s.opts.Seed, seedHash(s.seed.Scenario.Name+"\x00"+s.policy)))
	// The walks are drawn first (they depend on the random source only),
	// run side by side, then recorded in order.
	var walks []node
	for i := 0; i < s.opts.Walks && ctx.Err() == nil; i++ {
		n := node{hold: "none"}
		mayHold := 0
		for {
			moves := s.opMoves(n)
			net := s.netMoves(n, mayHold, 2*s.opts.Depth)
			if s.complete(n) && (len(net) == 0 || rng.IntN(3) == 0) {
				break
			}
			moves = append(moves, net...)
			if len(moves) == 0 {
				break
			}
			n = moves[rng.IntN(len(moves))]
			switch last := n.steps[len(n.steps)-1]; {
			case last.Op == scenario.OpFetch && n.hold != "none":
				mayHold += 2
			case last.Op == scenario.OpRelease && last.What == "all":
				mayHold = 0
			case last.Op == scenario.OpRelease && mayHold > 0:
				mayHold--
			}
		}
		walks = append(walks, n)
	}
	for i, out := range s.runAll(ctx, walks) {
		s.stats.Walks++
		if out.invalid != "" {
			s.stats.Invalid++
			continue
		}
		s.record(walks[i].steps, out)
	}
}

func seedHash(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// endState are the properties checked once everything has settled; a
// fault that has not hit a request by then would hit the settling part's
// requests instead, so they say nothing.
var endState = []string{PropSessionKept, PropFinalToken, PropSignedOutToken, PropConvexAuth, PropSocketStopped, PropSettles}

// record notes the failures of a schedule; the shortest schedule found
// for each property is kept.
func (s *search) record(steps []scenario.Step, out outcome) {
	for _, p := range out.props {
		if out.faultPending && slices.Contains(endState, p) {
			continue
		}
		f, ok := s.found[p]
		if !ok {
			f = &Failure{
				Seed: s.seed.Scenario.File, Policy: s.policy, Property: p,
				Inherent: Inherent(p), Expected: s.seed.buggy(s.policy),
				seed: s.seed,
			}
			s.found[p] = f
			s.order = append(s.order, p)
		} else if len(f.Found) <= len(steps) {
			continue
		}
		f.Found = slices.Clone(steps)
		f.Why = out.why[p]
	}
}
