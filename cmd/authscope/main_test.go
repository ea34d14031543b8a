package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authscope/authscope/fetcher"
	"github.com/authscope/authscope/fetcher/authsim"
	"github.com/authscope/authscope/fetcher/target"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunTableAndExitStatus(t *testing.T) {
	code, out, _ := runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--policy", "all")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1 (v0.12 reproduces the bug)", code)
	}
	for _, want := range []string{"rotation while a fetch is in flight", "FAIL (reproduces)", "PASS", "second returned S1's token", "2 passed, 1 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--policy", "pr329,hardened")
	if code != exitOK {
		t.Fatalf("exit %d, want 0 when every expectation holds:\n%s", code, out)
	}
}

func TestRunJSONLines(t *testing.T) {
	code, out, _ := runCLI(t, "", "run", "../../scenarios/01-late-fetch-overwrite.yaml", "--policy", "v0.12,pr329", "--json")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1", code)
	}
	var events, results int
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		switch line["type"] {
		case "event":
			events++
			if results > 0 && line["policy"] == "v0.12" {
				t.Fatal("an event of the first run came after its result")
			}
		case "result":
			results++
			for _, k := range []string{"scenario", "policy", "passed", "failures", "duration_ms"} {
				if _, ok := line[k]; !ok {
					t.Errorf("result lacks %q: %s", k, sc.Text())
				}
			}
			if line["policy"] == "v0.12" && line["passed"] != false {
				t.Error("v0.12 passed scenario 01")
			}
		default:
			t.Fatalf("unknown line type: %s", sc.Text())
		}
	}
	if events < 20 || results != 2 {
		t.Fatalf("%d events and %d results", events, results)
	}
	if strings.Contains(out, authsim.DefaultPassword) || strings.Contains(out, "eyJ") {
		t.Fatal("the JSON output carries a password or a raw JWT")
	}
}

func TestRunUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: x\nsteps:\n  - rotat\nexpect:\n  - no_violations: true\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", bad}, "bad.yaml:3: unknown step"},
		{[]string{"run", "../../scenarios/03-rotation-in-flight.yaml", "--policy", "v9"}, `unknown policy "v9"`},
		{[]string{"run", "../../scenarios/03-rotation-in-flight.yaml", "--target", "ftp://x"}, "want an http(s) URL"},
		{[]string{"run", "../../scenarios/03-rotation-in-flight.yaml", "--target", "http://127.0.0.1:1/api/auth"}, "needs --email and --password"},
		{[]string{"run", "nope.yaml"}, "no such file"},
		{[]string{"bogus"}, "unknown command"},
	} {
		code, _, errOut := runCLI(t, "", tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestRunUnreachableTarget(t *testing.T) {
	code, _, errOut := runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--policy", "pr329",
		"--target", "http://127.0.0.1:1/api/auth", "--email", "a@b.c", "--password", "hunter2-secret")
	if code != exitUsage {
		t.Fatalf("exit %d, want 2 for a connection error (%s)", code, errOut)
	}
	if strings.Contains(errOut, "hunter2-secret") {
		t.Fatal("the password was echoed")
	}
}

func TestDecode(t *testing.T) {
	srv, origin, stop, err := target.StartSim(authsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	email, pw := srv.DefaultUser()
	c, err := fetcher.New(fetcher.Options{BaseURL: origin + "/api/auth"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.SignIn(ctx, email, pw); err != nil {
		t.Fatal(err)
	}
	tok, err := c.ConvexToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")

	code, out, _ := runCLI(t, "", "decode", tok, "--target", origin)
	if code != exitOK || !strings.Contains(out, "signature     verified") || !strings.Contains(out, "sessionId") || !regexp.MustCompile(`exp .*\(in 1[45]m`).MatchString(out) {
		t.Fatalf("valid token: exit %d\n%s", code, out)
	}
	if strings.Contains(out, parts[2]) {
		t.Fatal("decode printed the signature")
	}
	code, out, _ = runCLI(t, tok+"\n", "decode", "-", "--jwks", origin+"/api/auth/convex/jwks")
	if code != exitOK {
		t.Fatalf("token from stdin: exit %d\n%s", code, out)
	}

	// A tampered payload: same header and signature, sessionId changed.
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), `"sessionId":"`, `"sessionId":"x`, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
	code, out, _ = runCLI(t, "", "decode", tampered, "--target", origin)
	if code != exitFailed || !strings.Contains(out, "INVALID") {
		t.Fatalf("tampered token: exit %d\n%s", code, out)
	}

	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k"}`)) + "." + parts[1] + "."
	code, out, _ = runCLI(t, "", "decode", none, "--target", origin)
	if code != exitFailed || !strings.Contains(out, "INVALID") {
		t.Fatalf("alg none: exit %d\n%s", code, out)
	}

	code, _, errOut := runCLI(t, "", "decode", "not.a.jwt")
	if code != exitFailed || !strings.Contains(errOut, "malformed") {
		t.Fatalf("garbage: exit %d, %s", code, errOut)
	}
}
