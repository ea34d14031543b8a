package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/authsim"
)

// TestRunUnaskedTargetFailure: when the target fails in a way the scenario
// did not ask for (a 5xx, garbage, an oversized body, a dropped connection,
// a redirect loop), `run` reports a connection error (exit 2) and names the
// cause in the table, instead of a regression (exit 1, "FAIL (unexpected)").
func TestRunUnaskedTargetFailure(t *testing.T) {
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
	}
	for _, tc := range []struct {
		name, file, path string
		misbehave        http.HandlerFunc
		convex           bool
		want             string
	}{
		{"token 503", "03-rotation-in-flight", "/api/auth/convex/token", status(http.StatusServiceUnavailable), false, "token: HTTP 503"},
		{"token garbage", "03-rotation-in-flight", "/api/auth/convex/token", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte("<<<this is not JSON"))
		}, false, "bad response"},
		{"token too large", "03-rotation-in-flight", "/api/auth/convex/token", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"token":"` + strings.Repeat("a", 4<<20) + `"}`))
		}, false, "too large"},
		{"change-password reset", "03-rotation-in-flight", "/api/auth/change-password", func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		}, false, "change-password: network error"},
		{"sign-out redirect loop", "05-logout-ssr-token", "/api/auth/sign-out", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path, http.StatusFound)
		}, false, "sign-out: HTTP 302"},
		{"query 502", "20-rotation-flicker", "/api/query", status(http.StatusBadGateway), true, "query: HTTP 502"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sim *authsim.Server
			var hits atomic.Int32
			ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tc.path && hits.Add(1) == 1 {
					tc.misbehave(w, r)
					return
				}
				sim.ServeHTTP(w, r)
			}))
			origin := "http://" + ts.Listener.Addr().String()
			var err error
			if sim, err = authsim.New(authsim.Options{Origin: origin}); err != nil {
				t.Fatal(err)
			}
			ts.Start()
			defer ts.Close()
			args := []string{"run", "../../scenarios/" + tc.file + ".yaml", "--policy", "pr329", "--target", origin + "/api/auth",
				"--email", authsim.DefaultEmail, "--password", authsim.DefaultPassword}
			if tc.convex {
				args = append(args, "--convex-url", origin)
			}
			code, out, errOut := runCLI(t, "", args...)
			if hits.Load() == 0 {
				t.Fatalf("the scenario never called %s", tc.path)
			}
			if code != exitUsage {
				t.Errorf("exit %d, want 2 (a connection error)", code)
			}
			for _, want := range []string{"ERROR (target failed)", "the target failed where the scenario asked for no fault", tc.want} {
				if !strings.Contains(out, want) {
					t.Errorf("table lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "FAIL (unexpected)") || !strings.Contains(errOut, "the target failed") {
				t.Errorf("stdout:\n%s\nstderr: %s", out, errOut)
			}
		})
	}
}

// TestRunAskedFaultIsAVerdict: a fault the scenario's own steps inject is
// the behaviour under test, not a connection error.
func TestRunAskedFaultIsAVerdict(t *testing.T) {
	code, out, _ := runCLI(t, "", "run", "../../scenarios/12-transient-token-failure.yaml", "--policy", "v0.12,hardened")
	if code != exitFailed || !strings.Contains(out, "FAIL (reproduces)") || strings.Contains(out, "ERROR") {
		t.Fatalf("exit %d, want 1 with v0.12 reproducing:\n%s", code, out)
	}
}

// `run DIR` runs every *.yaml in the directory, in name order, and skips
// anything else; a directory without one is a usage error that says so.
func TestRunDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"03-rotation-in-flight.yaml", "01-late-fetch-overwrite.yaml"} {
		b, err := os.ReadFile(filepath.Join("../../scenarios", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("not a scenario"), 0o600)
	os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o700)
	code, out, errOut := runCLI(t, "", "run", dir, "--policy", "hardened")
	if code != 0 {
		t.Fatalf("run DIR: exit %d\n%s%s", code, out, errOut)
	}
	first, second := strings.Index(out, "late stale fetch"), strings.Index(out, "rotation while")
	if first < 0 || second < 0 || first > second || !strings.Contains(out, "2 passed") {
		t.Fatalf("run DIR did not run both scenarios in name order:\n%s", out)
	}
	empty := t.TempDir()
	code, _, errOut = runCLI(t, "", "run", empty)
	if code != exitUsage || !strings.Contains(errOut, empty+": a directory with no *.yaml scenario files") {
		t.Fatalf("run EMPTYDIR: exit %d, %q", code, errOut)
	}
}

// --policy completes to policy names (and for run, lists of them and all),
// never to file names.
func TestPolicyCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		not  string
	}{
		{[]string{"__complete", "run", "x.yaml", "--policy", ""}, []string{"all", "v0.12", "pr329", "hardened"}, ".yaml"},
		{[]string{"__complete", "run", "x.yaml", "--policy", "v0.12,"}, []string{"v0.12,pr329", "v0.12,hardened"}, "v0.12,v0.12"},
		{[]string{"__complete", "--policy", ""}, []string{"v0.12", "pr329", "hardened"}, "all"},
	} {
		code, out, _ := runCLI(t, "", tc.args...)
		for _, w := range tc.want {
			if code != 0 || !strings.Contains(out, w+"\n") {
				t.Errorf("%v: exit %d, %q lacks %q", tc.args, code, out, w)
			}
		}
		if strings.Contains(out, tc.not) || !strings.Contains(out, ":4") && !strings.Contains(out, ":6") {
			t.Errorf("%v: %q offers %q or file names", tc.args, out, tc.not)
		}
	}
}

// run --target of a running `authscope sim` without --convex-url runs the
// consumer scenarios against the simulator's own /api/query instead of
// skipping them.
func TestRunConsumerScenarioOnSimTarget(t *testing.T) {
	base, _, _, _ := startSimCmd(t, simOptions{addr: "127.0.0.1:0", alg: "EdDSA", tokenTTL: 900 * time.Second, email: "e@x.test", password: "pw-123456789"})
	t.Setenv("AUTHSCOPE_CONVEX_URL", "")
	code, out, errOut := runCLI(t, "", "run", "../../scenarios/20-rotation-flicker.yaml", "--policy", "hardened",
		"--target", base, "--email", "e@x.test", "--password", "pw-123456789")
	if strings.Contains(out, "SKIP") || strings.Contains(out, "skipped") || code == exitUsage {
		t.Fatalf("exit %d: the consumer scenario did not run:\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "is an authscope simulator: the Convex client model queries its") {
		t.Fatalf("stderr does not say the simulator's query endpoint is used: %q", errOut)
	}
}

// TestRunTableEscapesTargetError: the cause of a target failure can quote
// what the server said; the table escapes it like every other cell.
func TestRunTableEscapesTargetError(t *testing.T) {
	hostile := "bad gateway \x1b]52;c;ZXZpbA==\x07\x1b[2J\r"
	sc := &scenario.Scenario{Name: "s\x1b[31m"}
	res := []scenario.Result{{Scenario: sc.Name, Policy: "v0.12", TargetError: hostile}}
	var b strings.Builder
	printTable(&b, []*scenario.Scenario{sc}, []string{"v0.12"}, res)
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07\r") {
		t.Fatalf("table passes control bytes through:\n%q", out)
	}
	if !strings.Contains(out, `bad gateway \x1b]52;c;ZXZpbA==\x07\x1b[2J\r`) {
		t.Fatalf("table does not show the escaped cause:\n%q", out)
	}
}
