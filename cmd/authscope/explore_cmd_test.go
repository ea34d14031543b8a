package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A seed that lists no policy under buggy: the pending-slot clobber under
// v0.12 is unexpected, so explore exits 1; --json prints one line per
// search and per failure, and a summary last; each failure's scenario is
// written to --out and `authscope run` fails it on its own.
func TestExploreJSONAndExitStatus(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "two-forced.yaml")
	os.WriteFile(seed, []byte("name: two forced fetches\nsteps:\n  - fetch: {force: true}\n  - fetch: {force: true}\nexpect:\n  - no_violations: true\n"), 0o644)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI(t, "", "explore", seed, "--policy", "v0.12,hardened", "--depth", "1", "--walks", "5", "--out", out, "--json")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1; stderr %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var failures []map[string]any
	var last map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		if m["type"] == "failure" {
			failures = append(failures, m)
		}
		last = m
	}
	if last["type"] != "summary" || last["unexpected"].(float64) < 1 || last["exhaustive_searches"].(float64) != 2 {
		t.Errorf("summary %v", last)
	}
	var clobber map[string]any
	for _, f := range failures {
		if f["policy"] == "hardened" {
			t.Errorf("hardened fails: %v", f)
		}
		if f["property"] == "pending-clobber" {
			clobber = f
		}
	}
	if clobber == nil || clobber["policy"] != "v0.12" || clobber["steps"].(float64) != 3 || clobber["expected"] != false {
		t.Fatalf("no pending-clobber failure under v0.12 in 3 steps: %v", failures)
	}
	file, _ := clobber["scenario"].(string)
	if filepath.Dir(file) != out {
		t.Fatalf("scenario %q not in %s", file, out)
	}
	code, table, _ := runCLI(t, "", "run", file, "--policy", "v0.12,hardened")
	if code != exitFailed || !strings.Contains(table, "FAIL (reproduces)") || !strings.Contains(table, "PASS") {
		t.Errorf("run of the written scenario: exit %d\n%s", code, table)
	}
}

// The text output names each failure with its minimal schedule and says
// how much was covered; a seed listing the policy under buggy exits 0.
func TestExploreTextOutput(t *testing.T) {
	code, out, stderr := runCLI(t, "", "explore", "../../scenarios/explore/signout.yaml", "--policy", "pr329", "--depth", "1", "--walks", "0")
	if code != exitOK {
		t.Fatalf("exit %d; %s\n%s", code, stderr, out)
	}
	for _, w := range []string{"signout.yaml  pr329", "exhaustive (depth 1)", "[pr329] signed-out-token — expected", "schedule: fetch; sign_out, then settle", "[pr329] final-token — expected", "schedule: fetch; sign_out; fetch; sign_in, then settle", "1 of 1 searches exhaustive within depth 1", "0 unexpected"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestExploreRefusesASchedule(t *testing.T) {
	code, _, stderr := runCLI(t, "", "explore", "../../scenarios/01-late-fetch-overwrite.yaml")
	if code != exitUsage || !strings.Contains(stderr, "hold is not an operation a seed may name") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
