package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
	"github.com/authscope/authscope/internal/termtext"
)

type runOptions struct {
	policy      string
	target      string
	email       string
	password    string
	json        bool
	stepTimeout time.Duration
	alg         string
	convexURL   string
	record      string
	compare     string
}

func newRunCmd(stdout io.Writer) *cobra.Command {
	o := runOptions{}
	cmd := &cobra.Command{
		Use:   "run FILE|DIR...",
		Short: "Run scenario files and check their expectations",
		Long: `Run scenario files (for a directory: every *.yaml in it, by name) under one
or more token-cache policies, against the built-in simulator (the default) or
a real Better Auth base URL. A scenario describes correct behaviour, so a
policy that fails it reproduces the bug.

Exit status: 0 every expectation held; 1 an expectation failed; 2 usage,
scenario-file or connection error, including a failure of the target that the
scenario did not ask for (a 5xx, a redirect, a garbage or oversized answer, a
dropped connection).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.email == "" {
				o.email = os.Getenv("AUTHSCOPE_EMAIL")
			}
			if o.password == "" {
				o.password = os.Getenv("AUTHSCOPE_PASSWORD")
			}
			return runScenarios(cmd, o, args, stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.policy, "policy", "all", "policies to run: a comma-separated list of v0.12, pr329, hardened, or all")
	f.StringVar(&o.target, "target", "sim", `"sim" or a Better Auth base URL such as http://localhost:3000/api/auth`)
	f.StringVar(&o.email, "email", "", "email of an existing user on a real target (or AUTHSCOPE_EMAIL)")
	f.StringVar(&o.password, "password", "", "password of that user (or AUTHSCOPE_PASSWORD); never printed")
	f.BoolVar(&o.json, "json", false, "print one JSON object per line: every event, then one result per scenario and policy")
	f.DurationVar(&o.stepTimeout, "step-timeout", scenario.DefaultStepTimeout, "safety net: how long one step may wait for a server that does not answer")
	f.StringVar(&o.alg, "alg", "EdDSA", "signing algorithm of the simulator: EdDSA or RS256")
	f.StringVar(&o.convexURL, "convex-url", "", "Convex deployment URL for scenarios that run the Convex client model (real targets only; the simulator, built-in or authscope sim, has one)")
	f.StringVar(&o.record, "record", "", "write a trace of every scenario × policy into this directory (created if missing), e.g. 03-rotation-in-flight.v0.12.jsonl")
	f.StringVar(&o.compare, "compare", "", "run each scenario under these variants and show where they diverge: a comma-separated list of a policy with +pr83 and/or +preserve (e.g. v0.12,pr329+pr83), or all for "+ladderList())
	_ = cmd.RegisterFlagCompletionFunc("policy", completePolicies(true))
	_ = cmd.RegisterFlagCompletionFunc("compare", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		out := []cobra.Completion{"all"}
		for _, v := range authstate.VariantLadder() {
			out = append(out, v.String())
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func runScenarios(cmd *cobra.Command, o runOptions, files []string, stdout io.Writer) error {
	var policies []string
	var variants []authstate.Variant
	var err error
	if o.compare != "" {
		if cmd.Flags().Changed("policy") {
			return fail(exitUsage, "--compare and --policy go one at a time: each variant names its policy (e.g. --compare v0.12,pr329+pr83)")
		}
		if variants, err = authstate.ParseVariants(o.compare); err != nil {
			return fail(exitUsage, "--compare: %w", err)
		}
	} else if policies, err = authstate.ParsePolicies(o.policy); err != nil {
		return fail(exitUsage, "--policy: %w", err)
	}
	files, err = expandDirs(files)
	if err != nil {
		return fail(exitUsage, "%w", err)
	}
	var scs []*scenario.Scenario
	for _, f := range files {
		sc, err := orInterrupt(cmd.Context(), "reading "+f, func() (*scenario.Scenario, error) { return scenario.Load(f) })
		if err != nil {
			return fail(exitUsage, "%w", err)
		}
		scs = append(scs, sc)
	}
	var tg scenario.Target
	if o.target == "" || o.target == "sim" {
		if o.alg != "EdDSA" && o.alg != "RS256" {
			return fail(exitUsage, "--alg: want EdDSA or RS256, got %q", o.alg)
		}
		tg = &target.Sim{Alg: o.alg}
	} else {
		base, err := target.NormalizeBaseURL(o.target)
		if err != nil {
			return fail(exitUsage, "--target: %w", err)
		}
		if o.email == "" || o.password == "" {
			return fail(exitUsage, "--target %s needs --email and --password (or AUTHSCOPE_EMAIL and AUTHSCOPE_PASSWORD)", base)
		}
		convexURL := o.convexURL
		if convexURL == "" && needsConvex(scs) {
			if origin, ok := target.DetectSim(cmd.Context(), base); ok {
				// `authscope sim` serves its own Convex query endpoint, so
				// the consumer scenarios run against it too.
				convexURL = origin
				fmt.Fprintf(cmd.ErrOrStderr(), "authscope: %s is an authscope simulator: the Convex client model queries its %s/api/query\n", base, origin)
			}
		}
		tg = &target.URL{BaseURL: base, Email: o.email, Password: o.password, ConvexURL: convexURL}
	}

	var rec *runRecorder
	if o.record != "" {
		if rec, err = newRunRecorder(o.record, o); err != nil {
			return fail(exitUsage, "%w", err)
		}
	}
	if variants != nil {
		return compareScenarios(cmd, o, scs, tg, rec, variants, stdout)
	}
	out := &jsonLines{w: stdout}
	var jobs []runJob
	for _, sc := range scs {
		for _, pol := range policies {
			jobs = append(jobs, runJob{sc: sc, pol: pol})
		}
	}
	// Against the built-in simulator, runs share nothing (each has its own
	// in-process server and virtual clock), so they go on every core at
	// once; their output is printed in order all the same. A recording, or
	// a real target, runs one at a time.
	workers := 1
	if sim, ok := tg.(*target.Sim); ok && !sim.TCP && rec == nil {
		workers = min(runtime.GOMAXPROCS(0), len(jobs))
	}
	done := make([]chan struct{}, len(jobs))
	for i := range jobs {
		done[i] = make(chan struct{})
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	if workers > 1 {
		next := make(chan int)
		for w := 0; w < workers; w++ {
			go func() {
				for i := range next {
					jobs[i].run(ctx, tg, o, nil, nil)
					close(done[i])
				}
			}()
		}
		go func() {
			// Every job is handed out, even after a cancellation, so that
			// each one's done is closed: a run whose context has ended
			// returns at once.
			defer close(next)
			for i := range jobs {
				next <- i
			}
		}()
	}
	var results []scenario.Result
	for i := range jobs {
		j := &jobs[i]
		if workers > 1 {
			<-done[i]
		} else {
			var tr *runTrace
			if rec != nil {
				if tr, err = rec.open(j.sc, authstate.Variant{Policy: j.pol}); err != nil {
					return fail(exitUsage, "%w", err)
				}
			}
			j.run(ctx, tg, o, tr, out)
			if tr != nil {
				if err := tr.close(j.res.Events); err != nil {
					return fail(exitUsage, "%w", err)
				}
			}
		}
		res := j.res
		for _, line := range j.lines {
			out.write(line)
		}
		if n := j.printed; o.json && n < int64(res.Events) {
			// The runner's event stream is a subscription: a consumer
			// that falls 65536 events behind misses some.
			fmt.Fprintf(cmd.ErrOrStderr(), "authscope: --json: %s [%s]: %d of the run's %d events were printed (the output fell behind)\n", termtext.Line(j.sc.Name), j.pol, n, res.Events)
		}
		results = append(results, res)
		if o.json {
			out.write(resultLine(res))
		}
		if res.Err != "" && isSetup(res) {
			if !o.json {
				printTable(stdout, scs, policies, results)
			}
			return fail(exitUsage, "%s: %s", j.sc.Name, res.Err)
		}
	}
	if out.err != nil {
		return fail(exitUsage, "write output: %w", out.err)
	}
	if !o.json {
		printTable(stdout, scs, policies, results)
	}
	return verdictExit(results, o.json)
}

// verdictExit is run's exit status once every result is in: 2 when the
// target failed where no fault was asked for, 1 when an expectation
// failed, 0 otherwise.
func verdictExit(results []scenario.Result, jsonOut bool) error {
	targetFailed := 0
	for _, r := range results {
		if r.TargetError != "" {
			targetFailed++
		}
	}
	if targetFailed > 0 {
		where := "see ERROR above"
		if jsonOut {
			where = "see target_error in the results"
		}
		return fail(exitUsage, "the target failed in %d run(s) where the scenario asked for no fault; those runs are not verdicts (%s)", targetFailed, where)
	}
	for _, r := range results {
		if !r.Passed {
			return quiet(exitFailed)
		}
	}
	return nil
}

// runJob is one scenario under one policy, and what its run gave: the
// result, and with --json how many event lines it printed or, when it
// ran beside others, the lines to print.
type runJob struct {
	sc      *scenario.Scenario
	pol     string
	res     scenario.Result
	printed int64
	lines   []any
}

// run runs the job, recording it into tr when not nil. With --json, each
// event's line goes to out as it comes, or when out is nil into j.lines.
func (j *runJob) run(ctx context.Context, tg scenario.Target, o runOptions, tr *runTrace, out *jsonLines) {
	opts := scenario.Options{StepTimeout: o.stepTimeout}
	if tr != nil {
		opts.OnInput = tr.input
	}
	var mu sync.Mutex
	if o.json || tr != nil {
		opts.OnEvent = func(ev authstate.Event) {
			if tr != nil {
				tr.event(ev)
			}
			if !o.json {
				return
			}
			line := runEvent(j.sc.Name, j.pol, ev)
			mu.Lock()
			defer mu.Unlock()
			j.printed++
			if out != nil {
				out.write(line)
			} else {
				j.lines = append(j.lines, line)
			}
		}
	}
	j.res = scenario.Run(ctx, tg, j.sc, j.pol, opts)
	mu.Lock() // the engine has stopped; this orders its last event before the caller's reads
	mu.Unlock()
}

// needsConvex says whether a scenario runs the Convex client model.
func needsConvex(scs []*scenario.Scenario) bool {
	for _, sc := range scs {
		if sc.Start.Consumer {
			return true
		}
	}
	return false
}

// expandDirs replaces each directory among args by the *.yaml files in it,
// sorted by name, so that `run scenarios/` runs them all in order.
func expandDirs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil || !fi.IsDir() {
			out = append(out, a) // the scenario loader says what is wrong
			continue
		}
		found, err := filepath.Glob(filepath.Join(a, "*.yaml"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		var files []string
		for _, f := range found {
			if fi, err := os.Stat(f); err == nil && !fi.IsDir() {
				files = append(files, f)
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: a directory with no *.yaml scenario files", a)
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}

// completePolicies offers the policy names for --policy; with list, a
// comma-separated list of them or all (run's --policy).
func completePolicies(list bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		names := authstate.PolicyNames()
		if !list {
			return names, cobra.ShellCompDirectiveNoFileComp
		}
		done, typed := "", toComplete
		if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
			done, typed = toComplete[:i+1], toComplete[i+1:]
		}
		given := map[string]bool{}
		for _, p := range strings.Split(done, ",") {
			given[strings.TrimSpace(p)] = true
		}
		var out []cobra.Completion
		if done == "" {
			out = append(out, "all")
		}
		for _, n := range names {
			if !given[n] && strings.HasPrefix(n, typed) {
				out = append(out, done+n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// isSetup tells a failure to reach the target from a failed expectation.
func isSetup(r scenario.Result) bool {
	return len(r.Failures) == 1 && r.Failures[0].Expect == "the run to start"
}

// eventJSON is an event line of run --json: the event, with the
// scenario and the policy it ran under.
type eventJSON struct {
	Type     string `json:"type"`
	Scenario string `json:"scenario"`
	plainEvent
}

// plainEvent is authstate.Event without its MarshalJSON, so that its
// fields sit beside the scenario's.
type plainEvent authstate.Event

func runEvent(scenarioName, policy string, ev authstate.Event) eventJSON {
	if ev.Policy == "" {
		ev.Policy = policy
	}
	return eventJSON{Type: "event", Scenario: scenarioName, plainEvent: plainEvent(ev)}
}

type resultJSON struct {
	Type string `json:"type"`
	scenario.Result
}

func resultLine(r scenario.Result) resultJSON {
	if r.Failures == nil {
		r.Failures = []scenario.Failure{}
	}
	return resultJSON{Type: "result", Result: r}
}

// jsonLines writes one JSON value per line; events may arrive from the
// engine's forwarding goroutine.
type jsonLines struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (j *jsonLines) write(v any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err == nil {
		b = append(termtext.JSON(b), '\n')
		_, err = j.w.Write(b)
	}
	j.err = err
}

func printTable(w io.Writer, scs []*scenario.Scenario, policies []string, results []scenario.Result) {
	byKey := map[string]scenario.Result{}
	for _, r := range results {
		byKey[r.Scenario+"\x00"+r.Policy] = r
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "SCENARIO")
	for _, p := range policies {
		fmt.Fprint(tw, "\t"+p)
	}
	fmt.Fprintln(tw)
	for _, sc := range scs {
		fmt.Fprint(tw, termtext.Line(sc.Name))
		for _, p := range policies {
			r, ok := byKey[sc.Name+"\x00"+p]
			cell := "-"
			if ok {
				cell = verdictCell(r)
			}
			fmt.Fprint(tw, "\t"+termtext.Line(cell))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	printWhy(w, results)
}

// printWhy explains the first failure of each result, then counts the
// verdicts.
func printWhy(w io.Writer, results []scenario.Result) {
	var lines []string
	for _, r := range results {
		if r.TargetError != "" {
			lines = append(lines, termtext.Line(fmt.Sprintf("  %s [%s]: the target failed where the scenario asked for no fault — %s", r.Scenario, runLabel(r), r.TargetError)))
			continue
		}
		if r.Passed || len(r.Failures) == 0 {
			continue
		}
		f := r.Failures[0]
		lines = append(lines, termtext.Line(fmt.Sprintf("  %s [%s]: expected %s — %s", r.Scenario, runLabel(r), f.Expect, f.Got)))
	}
	if len(lines) > 0 {
		fmt.Fprintln(w, "\nWhy (first failure of each):")
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	}
	passed, skipped := 0, 0
	for _, r := range results {
		switch {
		case r.Skipped:
			skipped++
		case r.Passed:
			passed++
		}
	}
	errored := 0
	for _, r := range results {
		if r.TargetError != "" || isSetup(r) {
			errored++
		}
	}
	fmt.Fprintf(w, "\n%d passed, %d failed", passed, len(results)-passed-skipped-errored)
	if errored > 0 {
		fmt.Fprintf(w, ", %d not run to a verdict (the target failed or could not be reached)", errored)
	}
	if skipped > 0 {
		fmt.Fprintf(w, ", %d skipped (%s)", skipped, skipReasons(results))
	}
	fmt.Fprintln(w)
}

// skipReasons says in words why runs were skipped.
func skipReasons(results []scenario.Result) string {
	var out []string
	seen := map[string]bool{}
	for _, r := range results {
		if !r.Skipped || seen[r.Err] {
			continue
		}
		seen[r.Err] = true
		switch r.Err {
		case scenario.ErrNeedsConvex.Error():
			out = append(out, "consumer scenarios need --convex-url on a real target")
		case scenario.ErrNeedsPreserve.Error():
			out = append(out, "+preserve and preserve_session need the simulator")
		case scenario.ErrNeedsRotation.Error():
			out = append(out, "+preserve does not apply to a scenario about a rotation")
		default:
			out = append(out, r.Err)
		}
	}
	return termtext.Line(strings.Join(out, "; "))
}

// verdictCell is PASS, or FAIL with whether that reproduces the bug the
// scenario is about or is unexpected.
func verdictCell(r scenario.Result) string {
	switch {
	case r.Skipped:
		return "SKIP"
	case r.TargetError != "":
		return "ERROR (target failed)"
	case r.Verdict() == "ERROR":
		return "ERROR: " + r.Err
	case r.Passed && r.Buggy:
		return "PASS (bug not reproduced)"
	case r.Passed:
		return "PASS"
	case r.Buggy:
		return "FAIL (reproduces)"
	}
	return "FAIL (unexpected)"
}
