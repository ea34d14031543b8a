package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/trace"
)

// violationCount reads the header's "N violation(s)" (0 when absent).
var violationCount = regexp.MustCompile(`(\d+) violations?`)

func (s *tmuxSession) violations() string {
	header, _, _ := strings.Cut(s.screen(), "\n")
	if m := violationCount.FindStringSubmatch(header); m != nil {
		return m[1]
	}
	return "0"
}

// TestE2EReadmeRecipeInTmux follows the README's "A stale token in one
// minute" recipe key by key at 140x45 and checks each thing the README
// says the user sees: under v0.12 the second t joins the held S1 request
// and S1's token is served stale; on the repeat under pr329 the session
// goes S2 → S3, the second t joins the request the Convex client already
// sent under S3, the first t's S2 answer is discarded by the guard, and no
// violation is added.
// playToTheJoinedFetch plays the recipe's v0.12 part up to the second t,
// checking each step's screen: m m (pr329 → hardened → v0.12); h, then t
// (a fetch sent under S1, its answer held); p (S1 → S2); t again, which
// joins the held S1 request.
func playToTheJoinedFetch(s *tmuxSession) {
	s.keys("m")
	s.waitScreen("first m", "policy hardened")
	s.keys("m")
	s.waitScreen("second m", "policy v0.12")
	s.keys("h")
	s.waitScreen("h", "HOLDING token responses")
	s.keys("t")
	s.waitScreen("t", "key t", "sent under S1", "in flight")
	s.keys("p")
	// The session panel shows the rotation. (The log's "session rotated"
	// row can scroll away within a moment behind the Convex client's
	// events.)
	s.waitScreen("p", "S2 · id ")
	s.keys("t")
	s.waitMatch("second t", `joined in-flight request #\d+ \(sent under S1\)`)
}

func TestE2EReadmeRecipeInTmux(t *testing.T) {
	bin, dir := buildForTmux(t)
	record := filepath.Join(dir, "recipe.jsonl")
	s := startTmuxSize(t, bin, dir, 140, 45, "--log-file", filepath.Join(dir, "authscope.log"), "--record", record)
	s.waitScreen("first screen", "S1", "policy pr329", "useConvexAuth authenticated")

	playToTheJoinedFetch(s)
	// 5. R, then h and R again.
	s.keys("R")
	s.waitScreen("R", "resolved: token for S1 (STALE: bound to S1", "STALE: bound to S1, current session is S2")
	s.keys("h")
	s.waitScreen("h off", "hold off")
	s.keys("R")
	s.waitScreen("after the v0.12 part", "matches the current session")
	before := s.violations()
	// The README: the first t, the Convex client's setAuth and the second
	// t were each served S1's token.
	if before != "3" {
		t.Fatalf("the header counts %s violations after the v0.12 part, the README says 3:\n%s", before, s.screen())
	}
	t.Logf("after the v0.12 part (%s violations):\n%s", before, s.screen())

	// c resets the counters, m goes to pr329, then steps 2–5 again: the
	// labels now run S2 → S3.
	s.keys("c")
	s.waitScreen("c", "counters_reset")
	if n := s.violations(); n != "0" {
		t.Fatalf("after c the header still counts %s violations:\n%s", n, s.screen())
	}
	s.keys("m")
	s.waitScreen("m", "policy pr329")
	s.keys("h")
	s.waitScreen("h", "HOLDING token responses")
	s.keys("t")
	s.waitScreen("t", "key t", "sent under S2", "in flight")
	s.keys("p")
	s.waitScreen("p", "S3 · id ", "convex: setConfig", "sent under S3")
	s.keys("t")
	s.waitMatch("second t", `joined in-flight request #\d+ \(sent under S3\)`)
	s.keys("R")
	s.waitScreen("R", "discarded by guard", "matches the current session")
	s.keys("h")
	s.waitScreen("h off", "hold off")
	s.keys("R")
	s.waitScreen("after the pr329 part", "useConvexAuth authenticated", "query auth:getAuthUser: ok")
	if after := s.violations(); after != "0" {
		t.Fatalf("the pr329 part added %s violations:\n%s", after, s.screen())
	}
	t.Logf("after the pr329 part:\n%s", s.screen())
	s.keys("q")
	s.waitExit(dir)
	checkRecipeTrace(t, record)

	// The trace, exported as a scenario, reproduces the v0.12 part: the
	// export stops at the switch to pr329 and says so.
	out := filepath.Join(dir, "recipe.yaml")
	code, _, stderr := runCLI(t, "", "export", record, "--scenario", out)
	if code != 0 || !strings.Contains(stderr, "switched the policy from v0.12 to pr329") {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	runExported(t, out, firstViolation(t, record))
}

// checkRecipeTrace: the --record trace of the recipe says what the screen
// said: under v0.12, S1's token served stale three times, each a
// gone-session violation; after the reset, under pr329, the S2 answer
// discarded by the guard and no violation.
func checkRecipeTrace(t *testing.T, path string) {
	t.Helper()
	tr, err := trace.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Problems) > 0 || tr.Header.Command != "tui" || tr.Header.Policy != "pr329" || tr.Header.Target.Kind != "sim" {
		t.Fatalf("header %+v, problems %v", tr.Header, tr.Problems)
	}
	var before, after []trace.Event
	reset := false
	var seq uint64
	for i, ev := range tr.Events() {
		if !ev.Kind.Quiet() { // a quiet event repeats the number before it
			seq++
		}
		if ev.Seq != seq {
			t.Fatalf("event %d has seq %d, want %d: the trace lost events", i, ev.Seq, seq)
		}
		if ev.Kind == authstate.KindCountersReset {
			reset = true
		}
		if reset {
			after = append(after, ev)
		} else {
			before = append(before, ev)
		}
	}
	count := func(evs []trace.Event, ok func(trace.Event) bool) int {
		n := 0
		for _, ev := range evs {
			if ok(ev) {
				n++
			}
		}
		return n
	}
	violations := count(before, func(ev trace.Event) bool {
		return ev.Kind == authstate.KindViolation && ev.Cause == "gone-session" && ev.Session == "S1"
	})
	stale := count(before, func(ev trace.Event) bool {
		return ev.Kind == authstate.KindTokenServed && ev.Stale && ev.Token != nil && ev.Token.Session == "S1" && ev.Policy == "v0.12"
	})
	if !reset || violations != 3 || stale < 3 {
		t.Fatalf("before the reset: %d gone-session violations for S1, %d stale S1 tokens served under v0.12 (reset seen: %v)", violations, stale, reset)
	}
	if n := count(after, func(ev trace.Event) bool { return ev.Kind == authstate.KindViolation }); n != 0 {
		t.Fatalf("%d violations after the reset", n)
	}
	if n := count(after, func(ev trace.Event) bool { return ev.Kind == authstate.KindFetchDiscarded && ev.Policy == "pr329" }); n == 0 {
		t.Fatal("no fetch_discarded under pr329 after the reset")
	}
}
