package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A config file sets where credentials go; run says on stderr which file
// it read and the target it names (without a password in the URL).
func TestRunSaysWhichConfigFileItRead(t *testing.T) {
	cfg := writeConfig(t, "policy: v0.12\nlog_file: /tmp/x.log\n")
	code, out, errOut := runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--config", cfg)
	if code != exitFailed { // v0.12 reproduces the bug
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "authscope: config file " + cfg + " sets policy, log_file=/tmp/x.log\n"
	if !strings.Contains(errOut, want) {
		t.Fatalf("stderr %q, want %q", errOut, want)
	}
	if strings.Contains(out, "config file") {
		t.Fatal("the notice went to stdout, into run's table")
	}

	// From the current directory, found without being named.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "authscope.yaml"), "target: http://user:hunter2-secret@elsewhere.invalid/api/auth\n")
	sc, _ := filepath.Abs("../../scenarios/03-rotation-in-flight.yaml")
	t.Chdir(dir)
	t.Setenv("AUTHSCOPE_CONFIG", "")
	t.Setenv("AUTHSCOPE_EMAIL", "a@b.c")
	t.Setenv("AUTHSCOPE_PASSWORD", "pw")
	_, _, errOut = runCLI(t, "", "run", sc, "--step-timeout", "1s")
	want = "authscope: config file " + filepath.Join(dir, "authscope.yaml") + " sets target=http://user:xxxxx@elsewhere.invalid/api/auth"
	if !strings.Contains(errOut, want) || strings.Contains(errOut, "hunter2-secret") {
		t.Fatalf("stderr %q, want %q and no password", errOut, want)
	}
}

// A password given as a flag is visible in ps: say so, without echoing it.
func TestPasswordFlagWarns(t *testing.T) {
	_, _, errOut := runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--policy", "pr329", "--password", "hunter2-secret")
	if !strings.Contains(errOut, "authscope: warning: --password is visible to other users in the process list (ps)") || !strings.Contains(errOut, "$AUTHSCOPE_PASSWORD") {
		t.Fatalf("no warning: %q", errOut)
	}
	if strings.Contains(errOut, "hunter2-secret") {
		t.Fatal("the warning echoed the password")
	}
	t.Setenv("AUTHSCOPE_PASSWORD", "hunter2-secret")
	_, _, errOut = runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--policy", "pr329")
	if strings.Contains(errOut, "warning") {
		t.Fatalf("a warning without the flag: %q", errOut)
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A target with a password that does not parse as a URL must not be
// echoed either: not in the notice, not in the error, not from a flag.
func TestUnparsableTargetHidesPassword(t *testing.T) {
	cfg := writeConfig(t, "target: \"https://user:hunter2-secret@elsewhere.invalid/%zz\"\nconvex:\n  url: \"https://user:hunter3-secret@x.invalid/%zz\"\n")
	_, out, errOut := runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--config", cfg)
	if strings.Contains(errOut+out, "hunter2-secret") || strings.Contains(errOut+out, "hunter3-secret") {
		t.Fatalf("the password shows: stdout %q stderr %q", out, errOut)
	}
	if !strings.Contains(errOut, "user:xxxxx@elsewhere.invalid") {
		t.Fatalf("stderr %q does not name the target", errOut)
	}
	for _, flag := range []string{"--target", "--convex-url"} {
		args := []string{"run", "../../scenarios/03-rotation-in-flight.yaml", flag, "https://user:hunter2-secret@elsewhere.invalid/%zz"}
		if flag == "--convex-url" {
			args = append(args, "--target", "http://127.0.0.1:1/api/auth")
		}
		_, out, errOut := runCLI(t, "", args...)
		if strings.Contains(errOut+out, "hunter2-secret") {
			t.Fatalf("%s: the password shows: stdout %q stderr %q", flag, out, errOut)
		}
	}
	_, out, errOut = runCLI(t, "", "--target", "https://user:hunter2-secret@elsewhere.invalid/%zz", "--convex-url", "https://user:hunter2-secret@x.invalid/%zz")
	if strings.Contains(errOut+out, "hunter2-secret") {
		t.Fatalf("tui: the password shows: stdout %q stderr %q", out, errOut)
	}
}

// The notice names the credential keys a file sets, never their values;
// nor does an error about a bad value.
func TestConfigNoticeHidesCredentials(t *testing.T) {
	cfg := writeConfig(t, "email: a@b.c\npassword: hunter2-secret\nsession_cookie: cookie-secret.sig\n")
	_, out, errOut := runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--policy", "pr329", "--config", cfg)
	if !strings.Contains(errOut, "sets email, password, session_cookie") {
		t.Fatalf("stderr %q does not name the keys", errOut)
	}
	for _, secret := range []string{"hunter2-secret", "cookie-secret"} {
		if strings.Contains(out+errOut, secret) {
			t.Fatalf("%s shows: stdout %q stderr %q", secret, out, errOut)
		}
	}
	if got := quoteVal("password", "hunter2-secret") + quoteVal("session_cookie", "cookie-secret"); strings.Contains(got, "secret") {
		t.Fatalf("quoteVal shows a credential: %q", got)
	}
}
