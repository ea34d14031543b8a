package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/internal/realserver"
	"github.com/authscope/authscope/trace"
)

// recordRecipe records the README's "A stale token in one minute" under
// v0.12 with the TUI's --record, driving the engine as the keys do (the
// TUI's key handlers call these same methods): m m, h, t, p, t, R, h, R.
// Each step waits for what the screen would show before the next key.
func recordRecipe(t *testing.T, path string) {
	t.Helper()
	o := simTUIOptions()
	o.record = path
	s, rec := openRecordedTUI(t, o)
	stop := s.start(context.Background())
	eng := s.devices[0].Engine
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	until := func(what string, ok func(authstate.Snapshot) bool) {
		t.Helper()
		for {
			ch := eng.Changed()
			if ok(eng.Snapshot()) {
				return
			}
			select {
			case <-ch:
			case <-ctx.Done():
				t.Fatalf("recipe: waited in vain for %s; snapshot %+v", what, eng.Snapshot())
			}
		}
	}
	until("the Convex client authenticated", func(sn authstate.Snapshot) bool { return sn.Convex.IsAuthenticated })
	settleAll(t, s)
	for _, p := range []string{"hardened", "v0.12"} { // m m
		if err := eng.SetPolicy(p); err != nil {
			t.Fatal(err)
		}
	}
	until("policy v0.12", func(sn authstate.Snapshot) bool { return sn.Policy == "v0.12" })
	if err := eng.Hold("token"); err != nil { // h
		t.Fatal(err)
	}
	first := eng.Fetch("", false, "key t") // t
	until("the first t in flight", func(sn authstate.Snapshot) bool { return sn.TokenRequests > 0 && s.devices[0].Transport.Held() > 0 })
	eng.Do(authstate.ActionChangePassword, true) // p
	until("the rotation to S2", func(sn authstate.Snapshot) bool { return sn.Session != nil && sn.Label(sn.Session.ID) == "S2" })
	settleAll(t, s)
	second := eng.Fetch("", false, "key t") // t
	until("the second t joined", func(sn authstate.Snapshot) bool { _, ok := sn.Call(second); return ok })
	settleAll(t, s)
	eng.Release("all") // R
	until("the first t returned", func(sn authstate.Snapshot) bool { c, ok := sn.Call(first); return ok && c.Done })
	settleAll(t, s)
	if err := eng.Hold("none"); err != nil { // h
		t.Fatal(err)
	}
	eng.Release("all") // R
	settleAll(t, s)
	until("the Convex client authenticated again", func(sn authstate.Snapshot) bool { return sn.Convex.IsAuthenticated })
	stop()
	if err := rec.close(); err != nil {
		t.Fatal(err)
	}
}

// firstViolation is the first violation event of device 1 in a trace.
func firstViolation(t *testing.T, path string) *trace.Event {
	t.Helper()
	tr, err := trace.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range tr.Events() {
		if ev.Kind == authstate.KindViolation && ev.DeviceNumber() == 1 {
			return &ev
		}
	}
	return nil
}

// runExported runs the exported scenario under v0.12 and pr329 with extra
// arguments (the target), recording both runs, and checks the Done-when of
// issue 9: v0.12 fails with the recording's first failure (the same
// violation kind, call and session labels, in the same words), pr329
// passes.
func runExported(t *testing.T, scenarioFile string, want *trace.Event, extra ...string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "runs")
	args := append([]string{"run", scenarioFile, "--policy", "v0.12,pr329", "--json", "--record", dir}, extra...)
	code, out, errOut := runCLI(t, "", args...)
	if code != exitFailed {
		t.Fatalf("run: exit %d, want %d (v0.12 fails)\n%s\n%s", code, exitFailed, errOut, out)
	}
	results := map[string]scenario.Result{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Type string `json:"type"`
			scenario.Result
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Type == "result" {
			results[line.Policy] = line.Result
		}
	}
	v, p := results["v0.12"], results["pr329"]
	if v.Passed || len(v.Failures) == 0 || v.Err != "" || v.TargetError != "" {
		t.Fatalf("v0.12: %+v", v)
	}
	if f := v.Failures[0]; f.Expect != "no_violations" || !strings.Contains(f.Got, "first: "+want.Detail) {
		t.Fatalf("v0.12's first failure %+v; the recording's first violation: %s", f, want.Detail)
	}
	if !p.Passed || p.Err != "" {
		t.Fatalf("pr329: %+v", p)
	}
	base := strings.TrimSuffix(filepath.Base(scenarioFile), ".yaml")
	got := firstViolation(t, filepath.Join(dir, base+".v0.12.jsonl"))
	if got == nil || got.Cause != want.Cause || got.Call != want.Call || got.Session != want.Session || got.Token == nil || want.Token == nil || got.Token.Session != want.Token.Session {
		t.Fatalf("the run's first violation %+v, the recording's %+v", got, want)
	}
	if firstViolation(t, filepath.Join(dir, base+".pr329.jsonl")) != nil {
		t.Fatal("the pr329 run has a violation")
	}
}

// exportRecipe records the recipe and exports it as a scenario; it
// returns the scenario's path and the recording's first violation.
func exportRecipe(t *testing.T) (string, *trace.Event) {
	t.Helper()
	dir := t.TempDir()
	rec := filepath.Join(dir, "recipe.jsonl")
	recordRecipe(t, rec)
	want := firstViolation(t, rec)
	if want == nil || want.Cause != authstate.InvariantGoneSession || want.Token == nil || want.Token.Session != "S1" || want.Policy != "v0.12" {
		t.Fatalf("the recipe's recording: first violation %+v", want)
	}
	out := filepath.Join(dir, "recipe.yaml")
	code, stdout, stderr := runCLI(t, "", "export", rec, "--scenario", out)
	if code != 0 || !strings.Contains(stdout, "wrote scenario "+out) {
		t.Fatalf("export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The TUI ran on the wall clock: the export says so.
	if !strings.Contains(stderr, "wall clock") {
		t.Fatalf("export's notes:\n%s", stderr)
	}
	raw, _ := os.ReadFile(out)
	sc, err := scenario.Load(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	var ops []string
	for _, st := range sc.Steps {
		ops = append(ops, string(st.Op))
	}
	// m m, h, t, p, t, R, then h and R after the first t returned.
	if want := "remount remount hold fetch rotate fetch release await hold release"; !strings.HasPrefix(strings.Join(ops, " "), want) {
		t.Fatalf("steps %v, want %s …\n%s", ops, want, raw)
	}
	if !sc.Start.Consumer || !sc.Start.SignedIn || len(sc.Buggy) != 1 || sc.Buggy[0] != "v0.12" || !strings.Contains(string(raw), "recipe.jsonl") {
		t.Fatalf("scenario %+v\n%s", sc, raw)
	}
	t.Logf("export's notes:\n%s\nthe scenario:\n%s", stderr, raw)
	return out, want
}

// The Done-when of issue 9: the README's recipe, recorded under v0.12 and
// exported, fails under v0.12 with the recording's first failure and
// passes under pr329, on the simulator.
func TestExportedRecipeReproducesOnTheSimulator(t *testing.T) {
	file, want := exportRecipe(t)
	runExported(t, file, want)
}

// The same scenario against the real Better Auth server of the
// integration tests.
func TestExportedRecipeReproducesOnRealServer(t *testing.T) {
	srv := realserver.Start(t, realserver.Options{Alg: "EdDSA"})
	email, password := srv.SignUp(t)
	file, want := exportRecipe(t)
	runExported(t, file, want, "--target", srv.BaseURL, "--email", email, "--password", password, "--convex-url", srv.URL, "--step-timeout", "15s")
}

// export --scenario of a trace that holds events only (no input becomes a
// step) exits 2, says why, and writes nothing; of a trace with a second
// device and a latency change it writes device 1's steps and names the
// lines it left out on stderr.
func TestExportScenarioSaysWhatItCannot(t *testing.T) {
	dir := t.TempDir()
	eventsOnly := writeTrace(t, dir, "03-rotation-in-flight", "v0.12")
	out := filepath.Join(dir, "out.yaml")
	html := filepath.Join(dir, "out.html")
	code, stdout, stderr := runCLI(t, "", "export", eventsOnly, "--html", html, "--scenario", out)
	if code != exitUsage || !strings.Contains(stderr, "no user or transport input") || stdout != "" {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, f := range []string{out, html} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Fatalf("%s was written: %v", f, err)
		}
	}

	var b bytes.Buffer
	w := trace.NewWriter(&b, trace.Header{Command: "tui", Policy: "v0.12", Devices: 2, Target: trace.Target{Kind: "sim"}, Options: map[string]string{"consumer": "false"}}, trace.Options{})
	in := func(seq uint64, device int, v authstate.Input) {
		kind, data, _ := authstate.EncodeInput(v)
		w.Input(seq, time.Now(), device, kind, data)
	}
	in(1, 1, authstate.Hold{What: "token"})                                            // line 2
	in(1, 2, authstate.FetchCall{Name: "other", Seq: 1})                               // line 3
	in(2, 1, authstate.SetLatency{Endpoint: "token", Latency: time.Second})            // line 4
	in(3, 1, authstate.FetchCall{Name: "mine", Seq: 1})                                // line 5
	in(4, 1, authstate.DoAction{Action: authstate.ActionChangePassword, Signal: true}) // line 6
	w.Close()
	two := filepath.Join(dir, "two.jsonl")
	os.WriteFile(two, b.Bytes(), 0o600)
	code, stdout, stderr = runCLI(t, "", "export", two, "--scenario", out)
	if code != 0 || !strings.Contains(stdout, "wrote scenario "+out) {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"line 3: an input of another device", "line 4: a latency change", "wall clock"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	sc, err := scenario.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Steps) != 3 || sc.Steps[1].As != "mine" || sc.Steps[2].Op != scenario.OpRotate {
		t.Fatalf("steps %+v", sc.Steps)
	}
}
