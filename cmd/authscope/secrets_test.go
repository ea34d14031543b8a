package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/fetcher/authsim"
	"github.com/authscope/authscope/internal/secretscan"
)

// The Done-when of issue 9: every trace, scenario and report the program
// writes is searched for the password, every session token the server
// issued (a Better Auth cookie value is "token.signature", so the token
// covers it) and any complete JWT, and holds none. The writers run against
// an in-process simulator used as a real target: run --record for every
// shipped scenario under every policy, export --scenario and --html of
// each trace, and the TUI's --record. A --record-secrets trace may keep
// JWTs, and nothing else.
func TestNoWrittenFileHoldsASecret(t *testing.T) {
	const email, password = "secret-audit@example.com", "pw-Audit-7c1e9f0b"
	ts := httptest.NewUnstartedServer(nil)
	origin := "http://" + ts.Listener.Addr().String()
	sim, err := authsim.New(authsim.Options{Origin: origin, Email: email, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = sim
	ts.Start()
	defer ts.Close()
	base := origin + "/api/auth"
	dir := t.TempDir()

	// run --record: every shipped scenario under every policy.
	runs := filepath.Join(dir, "runs")
	code, out, errOut := runCLI(t, "", "run", "../../scenarios", "--policy", "all", "--target", base,
		"--email", email, "--password", password, "--convex-url", origin, "--record", runs)
	if code != exitFailed || strings.Contains(out, "ERROR") || strings.Contains(out, "SKIP") {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	traces, _ := filepath.Glob(filepath.Join(runs, "*.jsonl"))
	shipped, _ := filepath.Glob("../../scenarios/*.yaml")
	if want := len(shipped) * len(authstate.PolicyNames()); len(traces) != want || want == 0 {
		t.Fatalf("%d traces, want %d", len(traces), want)
	}

	// export: a scenario and a report of every trace.
	exports := filepath.Join(dir, "exports")
	os.MkdirAll(exports, 0o755)
	for _, tr := range traces {
		name := strings.TrimSuffix(filepath.Base(tr), ".jsonl")
		code, _, errOut := runCLI(t, "", "export", tr, "--scenario", filepath.Join(exports, name+".yaml"), "--html", filepath.Join(exports, name+".html"))
		if code != 0 {
			t.Fatalf("export %s: exit %d: %s", tr, code, errOut)
		}
	}

	// The TUI's --record, against the same server: t, p, t.
	tuiRecord := func(file string, secrets bool) {
		t.Helper()
		o := simTUIOptions()
		o.target, o.email, o.password, o.ConvexURL = base, email, password, origin
		o.record, o.recordSecrets = file, secrets
		s, rec := openRecordedTUI(t, o)
		stop := s.start(context.Background())
		settleAll(t, s)
		eng := s.devices[0].Engine
		eng.Fetch("", true, "key f")
		settleAll(t, s)
		eng.Do(authstate.ActionChangePassword, true)
		settleAll(t, s)
		eng.Fetch("", true, "key f")
		settleAll(t, s)
		stop()
		if err := rec.close(); err != nil {
			t.Fatal(err)
		}
	}
	tuiRecord(filepath.Join(dir, "tui", "session.jsonl"), false)
	raw := filepath.Join(t.TempDir(), "raw.jsonl") // scanned on its own below
	tuiRecord(raw, true)

	issued := sim.IssuedTokens()
	if len(issued) < len(traces) {
		t.Fatalf("the simulator issued %d session tokens for %d runs", len(issued), len(traces))
	}
	secrets := []secretscan.Secret{{Name: "the password", Value: password}}
	for _, tok := range issued {
		secrets = append(secrets, secretscan.Secret{Name: "a session token", Value: tok})
	}
	findings, n, err := secretscan.Dir(dir, secrets)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3*len(traces) + 1; n != want {
		t.Fatalf("scanned %d files, want %d", n, want)
	}
	for _, f := range findings {
		t.Errorf("%s", f)
	}

	// The --record-secrets trace holds raw JWTs (so the scan can see
	// one), and never the password or a session token.
	data, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !secretscan.CompleteJWT(data) {
		t.Fatal("the --record-secrets trace holds no raw JWT")
	}
	for _, f := range secretscan.Data(raw, data, secrets) {
		if f.What != "a complete JWT" {
			t.Errorf("--record-secrets: %s", f)
		}
	}
}
