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

// explore --compare searches variants: the server keeping the caller's
// session (+preserve) takes the rotation out of the rotation seed, so the
// gone-session failure pr329 has there goes, while pr329's other failures
// stay; the seed lists both under buggy, so the exit status is 0. A
// variant name goes into the failures and the written scenario's buggy
// list.
func TestExploreCompareVariants(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "", "explore", "../../scenarios/explore/rotation.yaml", "--compare", "pr329,pr329+preserve", "--depth", "2", "--walks", "0", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr %s\n%s", code, stderr, stdout)
	}
	props := map[string]map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		if m["type"] == "failure" {
			p := m["policy"].(string)
			if props[p] == nil {
				props[p] = map[string]string{}
			}
			props[p][m["property"].(string)], _ = m["scenario"].(string)
		}
	}
	if _, ok := props["pr329"]["gone-session"]; !ok {
		t.Errorf("pr329 does not break gone-session on the rotation seed: %v", props)
	}
	if _, ok := props["pr329+preserve"]["gone-session"]; ok {
		t.Errorf("pr329+preserve breaks gone-session, but the server kept the session: %v", props)
	}
	if len(props["pr329+preserve"]) == 0 {
		t.Fatalf("no failure under pr329+preserve: %v", props)
	}
	for _, file := range props["pr329+preserve"] {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "pr329+preserve") {
			t.Errorf("%s does not list pr329+preserve under buggy:\n%s", file, b)
		}
	}
	if code, _, stderr := runCLI(t, "", "explore", "../../scenarios/explore/rotation.yaml", "--compare", "all", "--policy", "v0.12"); code != exitUsage || !strings.Contains(stderr, "one at a time") {
		t.Errorf("--compare with --policy: exit %d, %s", code, stderr)
	}
}
