package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/explore"
	"github.com/authscope/authscope/fetcher/target"
	"github.com/authscope/authscope/internal/termtext"
)

type exploreOptions struct {
	policy       string
	compare      string
	maxSchedules int
	depth        int
	walks        int
	seed         uint64
	out          string
	json         bool
	jobs         int
}

func newExploreCmd(stdout io.Writer) *cobra.Command {
	o := exploreOptions{}
	cmd := &cobra.Command{
		Use:   "explore FILE|DIR...",
		Short: "Search the interleavings of a seed scenario for schedules that break a policy",
		Long: `Explore seed scenarios (for a directory: every *.yaml in it) against the
built-in simulator. A seed names operations — fetches, forced fetches, a
rotation, a silent password change, observations, sign-out and sign-in, at most
one fault — and the explorer chooses the rest: when each fetch starts, which
token requests or responses are held, the order they are let go in, which
request the fault hits. It searches every such schedule within --depth network
choices (pruning schedules that reach a state already explored), then runs
--walks random schedules drawn from --seed. The same seed gives the same
schedules.

Each schedule ends by letting everything settle, and is checked against the
invariant checker and the end state: the server still knows the client's
session (or none after a sign-out), and a last plain fetch returns a token
bound to the current session (none when signed out). Every failure (property ×
policy) is shrunk to a schedule from which no step can be dropped and, with
--out, written there as an ordinary scenario file that fails under
'authscope run' on its own.

Exit status: 0 no failure beyond the policies a seed lists under buggy and the
inherent ones (a late 401 wiping the fresh session cookie); 1 another failure;
2 usage or seed-file error.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplore(cmd, o, args, stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.policy, "policy", "all", "policies to explore: a comma-separated list of v0.12, pr329, hardened, or all")
	f.StringVar(&o.compare, "compare", "", "variants to explore instead of policies, e.g. pr329,pr329+pr83+preserve, or all for "+variantNames(authstate.VariantLadder()))
	f.IntVar(&o.maxSchedules, "max-schedules", 2000, "bound on the schedules the systematic search runs, per seed and policy")
	f.IntVar(&o.depth, "depth", 3, "bound on the network choices (holds, releases) in one schedule of the systematic search; random walks go to twice as many")
	f.IntVar(&o.walks, "walks", 100, "random schedules run after the systematic search, per seed and policy (0: none)")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the random walks")
	f.StringVar(&o.out, "out", "", "write each failure's minimal scenario into this directory (created if missing)")
	f.BoolVar(&o.json, "json", false, "print one JSON object per line: each search, each failure, then a summary")
	f.IntVar(&o.jobs, "jobs", 2, "searches run at once")
	_ = cmd.RegisterFlagCompletionFunc("policy", completePolicies(true))
	return cmd
}

type exploreSearchJSON struct {
	Type string `json:"type"`
	Seed string `json:"seed"`
	explore.Stats
}

type exploreFailureJSON struct {
	Type     string `json:"type"`
	Seed     string `json:"seed"`
	Policy   string `json:"policy"`
	Property string `json:"property"`
	Scenario string `json:"scenario,omitempty"`
	Steps    int    `json:"steps"`
	Inherent bool   `json:"inherent"`
	Expected bool   `json:"expected"`
	Why      string `json:"why"`
}

type exploreSummaryJSON struct {
	Type       string                    `json:"type"`
	Runs       int                       `json:"runs"`
	Schedules  int                       `json:"schedules"`
	States     int                       `json:"states"`
	Walks      int                       `json:"walks"`
	Searches   int                       `json:"searches"`
	Exhaustive int                       `json:"exhaustive_searches"`
	Depth      int                       `json:"depth"`
	Failures   map[string]map[string]int `json:"failures"`
	Unexpected int                       `json:"unexpected"`
	Seconds    float64                   `json:"seconds"`
	RunsPerSec float64                   `json:"runs_per_second"`
}

func runExplore(cmd *cobra.Command, o exploreOptions, args []string, stdout io.Writer) error {
	policies, err := authstate.ParsePolicies(o.policy)
	if err != nil {
		return fail(exitUsage, "--policy: %w", err)
	}
	if o.compare != "" {
		if cmd.Flags().Changed("policy") {
			return fail(exitUsage, "--compare and --policy go one at a time: a variant names its policy")
		}
		vs, err := authstate.ParseVariants(o.compare)
		if err != nil {
			return fail(exitUsage, "--compare: %w", err)
		}
		policies = strings.Split(variantNames(vs), ",")
	}
	if o.maxSchedules <= 0 || o.depth <= 0 || o.walks < 0 || o.jobs <= 0 {
		return fail(exitUsage, "--max-schedules, --depth and --jobs must be at least 1, --walks at least 0")
	}
	files, err := expandDirs(args)
	if err != nil {
		return fail(exitUsage, "%w", err)
	}
	var seeds []*explore.Seed
	for _, f := range files {
		s, err := explore.LoadSeed(f)
		if err != nil {
			return fail(exitUsage, "%w", err)
		}
		seeds = append(seeds, s)
	}
	walks := o.walks
	if walks == 0 {
		walks = -1
	}
	opts := explore.Options{Target: &target.Sim{}, Policies: policies, MaxSchedules: o.maxSchedules, Depth: o.depth, Walks: walks, Seed: o.seed, Jobs: o.jobs}
	began := time.Now()
	reps := explore.Explore(cmd.Context(), seeds, opts)
	if err := cmd.Context().Err(); err != nil {
		return fail(exitInterrupted, "interrupted")
	}
	paths := map[*explore.Failure]string{}
	if o.out != "" {
		for _, r := range reps {
			for _, f := range r.Failures {
				verdicts := authstate.PolicyNames()
				if o.compare != "" {
					verdicts = policies
				}
				p, err := f.Write(cmd.Context(), o.out, explore.Runner{Opts: opts}, verdicts)
				if err != nil {
					return fail(exitUsage, "--out: %w", err)
				}
				paths[f] = p
			}
		}
	}
	elapsed := time.Since(began)
	sum := exploreSummaryJSON{Type: "summary", Depth: o.depth, Failures: map[string]map[string]int{}}
	for _, p := range policies {
		sum.Failures[p] = map[string]int{}
	}
	for _, r := range reps {
		for _, s := range r.Stats {
			sum.Runs += s.Runs
			sum.Schedules += s.Schedules
			sum.States += s.States
			sum.Walks += s.Walks
			sum.Searches++
			if s.Exhaustive {
				sum.Exhaustive++
			}
		}
		for _, f := range r.Failures {
			sum.Failures[f.Policy][f.Property]++
			if !f.Expected && !f.Inherent {
				sum.Unexpected++
			}
		}
	}
	sum.Seconds = elapsed.Seconds()
	if sum.Seconds > 0 {
		sum.RunsPerSec = float64(sum.Runs) / sum.Seconds
	}
	if o.json {
		out := &jsonLines{w: stdout}
		for _, r := range reps {
			for _, s := range r.Stats {
				out.write(exploreSearchJSON{Type: "search", Seed: r.File, Stats: s})
			}
			for _, f := range r.Failures {
				out.write(exploreFailureJSON{Type: "failure", Seed: r.File, Policy: f.Policy, Property: f.Property, Scenario: paths[f], Steps: f.Steps(), Inherent: f.Inherent, Expected: f.Expected, Why: f.Why})
			}
		}
		out.write(sum)
		if out.err != nil {
			return fail(exitUsage, "write output: %w", out.err)
		}
	} else {
		printExplore(stdout, reps, paths, sum, elapsed)
	}
	if sum.Unexpected > 0 {
		return quiet(exitFailed)
	}
	return nil
}

func printExplore(w io.Writer, reps []explore.SeedReport, paths map[*explore.Failure]string, sum exploreSummaryJSON, elapsed time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEED\tPOLICY\tSCHEDULES\tSTATES\tPRUNED\tWALKS\tCOVERED\tFAILURES")
	for _, r := range reps {
		for _, s := range r.Stats {
			covered := fmt.Sprintf("exhaustive (depth %d)", sum.Depth)
			if !s.Exhaustive {
				covered = "partial (--max-schedules reached)"
			}
			var props []string
			for _, f := range r.Failures {
				if f.Policy == s.Policy {
					props = append(props, f.Property)
				}
			}
			fs := "-"
			if len(props) > 0 {
				fs = strings.Join(props, ", ")
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", termtext.Line(filepath.Base(r.File)), s.Policy, s.Schedules, s.States, s.Pruned, s.Walks, covered, fs)
		}
	}
	tw.Flush()
	var lines []string
	for _, r := range reps {
		for _, f := range r.Failures {
			verdict := "UNEXPECTED"
			switch {
			case f.Inherent:
				verdict = "inherent (no client-side cache can prevent it; docs/cases.md)"
			case f.Expected:
				verdict = "expected (the seed lists " + f.Policy + " under buggy)"
			}
			steps := make([]string, len(f.Minimal))
			for i, st := range f.Minimal {
				steps[i] = st.String()
			}
			l := fmt.Sprintf("  %s [%s] %s — %s\n      schedule: %s, then settle\n      %s", filepath.Base(r.File), f.Policy, f.Property, verdict, strings.Join(steps, "; "), f.Why)
			if p := paths[f]; p != "" {
				l += "\n      written to " + p
			}
			lines = append(lines, termtext.Text(l))
		}
	}
	if len(lines) > 0 {
		fmt.Fprintln(w, "\nFailures (each shrunk to a minimal schedule):")
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	}
	var per []string
	for p, m := range sum.Failures {
		n := 0
		for _, c := range m {
			n += c
		}
		per = append(per, fmt.Sprintf("%s %d", p, n))
	}
	sort.Strings(per)
	fmt.Fprintf(w, "\n%d runs (%d systematic schedules, %d random walks, the rest shrinking) in %s, %.0f runs/s; %d distinct states; %d of %d searches exhaustive within depth %d; failures: %s; %d unexpected\n",
		sum.Runs, sum.Schedules, sum.Walks, elapsed.Round(time.Millisecond), sum.RunsPerSec, sum.States, sum.Exhaustive, sum.Searches, sum.Depth, strings.Join(per, ", "), sum.Unexpected)
}
