package explore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/internal/termtext"
)

// maxShrinkRuns bounds the runs spent shrinking one failure.
const maxShrinkRuns = 400

// shrink removes steps from f's schedule, one at a time, for as long as
// the schedule still breaks the same property under the same policy: the
// result is a schedule from which no single step can be dropped.
func (s *search) shrink(ctx context.Context, f *Failure) {
	cur := slices.Clone(f.Found)
	still := func(steps []scenario.Step) (outcome, bool) {
		out := s.r.run(ctx, s.policy, steps)
		if out.invalid != "" || (out.faultPending && slices.Contains(endState, f.Property)) {
			return out, false
		}
		return out, out.fails(f.Property)
	}
	best, ok := still(cur)
	if !ok {
		// Not reproducible on its own: keep what was found.
		f.Minimal = cur
		return
	}
	runs := 1
	for changed := true; changed && runs < maxShrinkRuns && ctx.Err() == nil; {
		changed = false
		for i := 0; i < len(cur) && runs < maxShrinkRuns; i++ {
			cand := slices.Delete(slices.Clone(cur), i, i+1)
			runs++
			if out, ok := still(cand); ok {
				cur, best, changed = cand, out, true
				i--
			}
		}
	}
	f.Minimal = cur
	if w := best.why[f.Property]; w != "" {
		f.Why = w
	}
}

// Write writes f's minimal schedule into dir as a scenario file and
// returns its path. The scenario lists under buggy every policy of
// policies it fails under (run against t), so that `authscope run` says
// "reproduces" for them.
func (f *Failure) Write(ctx context.Context, dir string, r Runner, policies []string) (string, error) {
	run := r.runner(f.seed)
	base := strings.TrimSuffix(filepath.Base(f.Seed), filepath.Ext(f.Seed))
	name := fmt.Sprintf("%s: %s under %s", f.seed.Scenario.Name, f.Property, f.Policy)
	desc := fmt.Sprintf("Found by authscope explore from %s and shrunk to a schedule from which no step can be dropped. %s Under %s: %s",
		filepath.Base(f.Seed), describe(f.Property), f.Policy, termtext.Line(f.Why))
	h := header{name: name, description: desc, reference: f.seed.Scenario.Reference}
	if f.Property == PropNoToken {
		h.gotToken = run.run(ctx, f.Policy, f.Minimal).noToken
	}
	// The file's verdicts, policy by policy, go into its buggy list.
	rd := f.seed.render(f.Minimal, h)
	sc, err := scenario.Parse("generated.yaml", rd.text)
	if err != nil {
		return "", fmt.Errorf("the minimal scenario does not parse: %w", err)
	}
	for _, p := range policies {
		res := runNamed(ctx, run.target, sc, p, scenario.Options{Start: run.start})
		if !res.Passed && res.TargetError == "" && !isStartErr(res) {
			h.buggy = append(h.buggy, p)
		}
	}
	rd = f.seed.render(f.Minimal, h)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.yaml", base, f.Property, f.Policy))
	if err := os.WriteFile(path, rd.text, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

func isStartErr(res scenario.Result) bool {
	return len(res.Failures) == 1 && res.Failures[0].Expect == "the run to start"
}

// Steps is how many steps the minimal schedule has before its settling part.
func (f *Failure) Steps() int { return len(f.Minimal) }

// Runner runs schedules against a target, as the search did.
type Runner struct {
	Target scenario.Target
	Opts   Options
}

func (r Runner) runner(seed *Seed) *runner {
	o := r.Opts
	if r.Target != nil {
		o.Target = r.Target
	}
	o.defaults()
	return &runner{seed: seed, target: o.Target, start: o.Start}
}

// describe says what a property means, for a generated scenario.
func describe(p string) string {
	switch p {
	case PropSessionKept:
		return "Once everything has settled, the server should still know the client's session (or none after a sign-out)."
	case PropFinalToken:
		return "Once everything has settled and the client has observed the session, a plain fetch should return a token bound to the server's current session."
	case PropSignedOutToken:
		return "Once everything has settled after a sign-out, a plain fetch should return no token."
	case PropConvexAuth:
		return "The Convex client should end authenticated exactly when Better Auth says signed in."
	case PropStaleOverwrite:
		return "A late request should never overwrite a newer cache value, least of all with a stale token."
	case PropNoToken:
		return "No call should be served no token while the client knows it is signed in, unless the server answered 401."
	case PropSettles:
		return "Once nothing is held, every call should return."
	case authstate.InvariantGoneSession:
		return "No call should be served a token bound to a session the client knows is gone."
	case authstate.InvariantLateOverwrite:
		return "A late request should never overwrite a newer cache value."
	case authstate.InvariantPendingClobber:
		return "A request's finally should never empty another request's pending slot."
	case authstate.InvariantExpired:
		return "No call should be served an expired token."
	case authstate.InvariantUnverified:
		return "No call should be served a token that fails verification."
	}
	return ""
}
