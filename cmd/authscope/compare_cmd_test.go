package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/trace"
)

const ladderScenario = "../../scenarios/26-flicker-ladder.yaml"

// run --compare all on the ladder scenario: one line per variant with its
// verdict (every rung but the last reproduces the flicker), and the first
// event where the variants differ, in words for each.
func TestRunCompareLadder(t *testing.T) {
	code, out, errOut := runCLI(t, "", "run", ladderScenario, "--compare", "all")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1 (the buggy variants fail):\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"  v0.12                FAIL (reproduces)\n",
		"  pr329                FAIL (reproduces)\n",
		"  pr329+pr83           FAIL (reproduces)\n",
		"  pr329+pr83+preserve  PASS\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	m := regexp.MustCompile(`first divergence: event (\d+), 0s after the start\n((?:    .*\n){4})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no divergence with four variant lines:\n%s", out)
	}
	lines := strings.Split(strings.TrimSuffix(m[2], "\n"), "\n")
	for i, v := range []string{"v0.12", "pr329", "pr329+pr83", "pr329+pr83+preserve"} {
		if !strings.HasPrefix(strings.TrimSpace(lines[i]), v+" ") || !strings.Contains(lines[i], "#"+m[1]+" ") {
			t.Errorf("divergence line %d %q: want %s's event #%s", i, lines[i], v, m[1])
		}
	}
	// The query fails under S1's deleted session, except where the server
	// kept it.
	if !strings.Contains(lines[0], "Unauthenticated") || !strings.Contains(lines[3], ": ok") {
		t.Errorf("divergence does not show the failing query against the kept session:\n%s", m[2])
	}
	if !strings.Contains(out, "1 passed, 3 failed") {
		t.Errorf("summary:\n%s", out)
	}
}

// --compare --json: one result per variant, with its variant and switches,
// then one divergence object.
func TestRunCompareJSON(t *testing.T) {
	code, out, _ := runCLI(t, "", "run", ladderScenario, "--compare", "v0.12,pr329+pr83+preserve", "--json")
	if code != exitFailed {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 2 results and a divergence:\n%s", len(lines), out)
	}
	var r1, r2 struct {
		Type, Variant, Policy string
		Passed, PR83          bool
		PreserveSession       bool `json:"preserve_session"`
		ExpectedToFail        bool `json:"expected_to_fail"`
	}
	json.Unmarshal([]byte(lines[0]), &r1)
	json.Unmarshal([]byte(lines[1]), &r2)
	if r1.Type != "result" || r1.Variant != "v0.12" || r1.Passed || !r1.ExpectedToFail || r1.PR83 || r1.PreserveSession {
		t.Errorf("first result %+v", r1)
	}
	if r2.Variant != "pr329+pr83+preserve" || r2.Policy != "pr329" || !r2.Passed || r2.ExpectedToFail || !r2.PR83 || !r2.PreserveSession {
		t.Errorf("second result %+v", r2)
	}
	var d struct {
		Type     string
		Variants []string
		Diverged bool
		Seq      uint64
		OffsetMS *float64 `json:"offset_ms"`
		Events   []struct {
			Variant, Kind, Text string
			Seq                 uint64
			Ended               bool
		}
	}
	if err := json.Unmarshal([]byte(lines[2]), &d); err != nil {
		t.Fatal(err)
	}
	if d.Type != "divergence" || !d.Diverged || d.Seq == 0 || d.OffsetMS == nil || len(d.Events) != 2 || strings.Join(d.Variants, ",") != "v0.12,pr329+pr83+preserve" {
		t.Fatalf("divergence %s", lines[2])
	}
	for i, e := range d.Events {
		if e.Variant != d.Variants[i] || e.Seq != d.Seq || e.Kind == "" || e.Text == "" || e.Ended {
			t.Errorf("divergence event %d: %+v", i, e)
		}
	}
}

// --compare --record writes one trace per variant, its header naming the
// policy and the switches in effect.
func TestRunCompareRecord(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "", "run", ladderScenario, "--compare", "all", "--record", dir)
	if code != exitFailed {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	for _, v := range authstate.VariantLadder() {
		f, err := os.Open(filepath.Join(dir, "26-flicker-ladder."+v.String()+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := trace.Read(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		h := tr.Header
		if h.Policy != v.Policy || h.Options["pr83"] != map[bool]string{true: "true", false: "false"}[v.PR83] ||
			h.Options["preserve_session"] != map[bool]string{true: "true", false: "false"}[v.Preserve] {
			t.Errorf("%s: header policy %q options %v", v, h.Policy, h.Options)
		}
		if v.Preserve != (h.Upstream["better-auth-pr9345"] != "") {
			t.Errorf("%s: upstream %v", v, h.Upstream)
		}
		if len(tr.Entries) == 0 {
			t.Errorf("%s: empty trace", v)
		}
	}
}

func TestRunCompareUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--compare", "pr329+preserv"}, `unknown switch "preserv"`},
		{[]string{"--compare", "preserve"}, "preserve is a switch, not a policy"},
		{[]string{"--compare", "pr329,pr329"}, "given twice"},
		{[]string{"--compare", "all", "--policy", "v0.12"}, "--compare and --policy"},
	} {
		code, _, errOut := runCLI(t, "", append([]string{"run", ladderScenario}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// Against a target that is not the built-in simulator (here a running
// `authscope sim`, reached by URL like a real server), a +preserve variant
// is skipped with the reason; the others run.
func TestRunComparePreserveNeedsTheSimulator(t *testing.T) {
	base, _, _, _ := startSimCmd(t, simOptions{addr: "127.0.0.1:0", alg: "EdDSA", tokenTTL: 900 * time.Second, email: "e@x.test", password: "pw-123456789"})
	code, out, errOut := runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--compare", "pr329,pr329+preserve",
		"--target", base, "--email", "e@x.test", "--password", "pw-123456789")
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "  pr329+preserve  SKIP") || !strings.Contains(out, "1 skipped (+preserve and preserve_session need the simulator)") ||
		!strings.Contains(out, "fewer than two variants ran") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestFirstDivergence(t *testing.T) {
	start := time.Unix(1000, 0)
	ev := func(seq uint64, ms int, kind authstate.Kind, detail string) authstate.Event {
		return authstate.Event{Seq: seq, At: start.Add(time.Duration(ms) * time.Millisecond), Kind: kind, Detail: detail}
	}
	a := []authstate.Event{ev(1, 0, authstate.KindNote, "provider mounted (policy v0.12)"), ev(2, 10, authstate.KindAction, "sign_in done")}
	b := []authstate.Event{ev(1, 0, authstate.KindNote, "provider mounted (policy pr329)"), ev(2, 10, authstate.KindAction, "sign_in done")}
	vs := []authstate.Variant{{Policy: "v0.12"}, {Policy: "pr329"}}
	if d := firstDivergence(vs, [][]authstate.Event{a, b}, start); d.Diverged {
		t.Fatalf("streams that differ only in the policy's name diverge: %+v", d)
	}
	c := append(b[:1:1], ev(2, 20, authstate.KindAction, "sign_in done"))
	d := firstDivergence(vs, [][]authstate.Event{a, c}, start)
	if !d.Diverged || d.Seq != 2 || d.Offset != 10*time.Millisecond || d.Events[1].At != start.Add(20*time.Millisecond) {
		t.Fatalf("a later time is a divergence: %+v", d)
	}
	d = firstDivergence(vs, [][]authstate.Event{a, b[:1]}, start)
	if !d.Diverged || d.Index != 1 || d.Events[0] == nil || d.Events[1] != nil {
		t.Fatalf("a stream that ends early: %+v", d)
	}
}
