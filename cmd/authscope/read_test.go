package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A config file that never ends (/dev/zero) is refused after 1 MiB, however
// it is named: --config, $AUTHSCOPE_CONFIG or ./authscope.yaml.
func TestConfigReadIsBounded(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	sc, _ := filepath.Abs("../../scenarios/03-rotation-in-flight.yaml")
	check := func(t *testing.T, args ...string) {
		t.Helper()
		code, _, errOut := runCLI(t, "", args...)
		if code != exitUsage || !strings.Contains(errOut, "config files are limited to 1 MiB") {
			t.Fatalf("exit %d, stderr %q; want 2 and the size limit", code, errOut)
		}
	}
	t.Run("flag", func(t *testing.T) { check(t, "run", sc, "--config", "/dev/zero") })
	t.Run("env", func(t *testing.T) {
		t.Setenv("AUTHSCOPE_CONFIG", "/dev/zero")
		check(t, "run", sc)
	})
	t.Run("current directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Symlink("/dev/zero", filepath.Join(dir, "authscope.yaml")); err != nil {
			t.Skip(err)
		}
		t.Chdir(dir)
		t.Setenv("AUTHSCOPE_CONFIG", "")
		check(t, "run", sc)
	})
}

func TestScenarioReadIsBounded(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	code, _, errOut := runCLI(t, "", "run", "/dev/zero")
	if code != exitUsage || !strings.Contains(errOut, "scenario files are limited to 1 MiB") {
		t.Fatalf("exit %d, stderr %q; want 2 and the size limit", code, errOut)
	}
}

// decode - waits on stdin; the end of the signal context (SIGINT or
// SIGTERM in main) ends the wait with exit status 130.
func TestDecodeStdinInterrupted(t *testing.T) {
	pr, pw := io.Pipe() // a stdin nobody writes to
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"decode", "-"}, pr, &out, &errb) }()
	cancel()
	select {
	case code := <-done:
		if code != exitInterrupted || !strings.Contains(errb.String(), "interrupted while waiting for a token on stdin") {
			t.Fatalf("exit %d, stderr %q; want 130 and what was interrupted", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("decode still waits on stdin after the signal context ended")
	}
}

// A scenario file is data too: its name reaches the table and the JSON
// lines escaped, so it cannot set the clipboard or the title, or clear
// the screen.
func TestRunEscapesScenarioStrings(t *testing.T) {
	p := filepath.Join(t.TempDir(), "evil.yaml")
	body := "name: \"evil \\e]52;c;cHduZWQ=\\a\\e]2;owned\\a\\e[2J\\e[5;31m\\u009b\\u202e\"\n" +
		"steps: [rotate]\nexpect:\n  - no_violations: true\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"run", p, "--policy", "pr329"}, {"run", p, "--policy", "pr329", "--json"}} {
		code, out, errOut := runCLI(t, "", args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		for _, bad := range []string{"\x1b", "\a", "\u009b", "\u202e"} {
			if strings.Contains(out, bad) || strings.Contains(errOut, bad) {
				t.Errorf("%v: output holds %q:\n%q", args[3:], bad, out)
			}
		}
		if !strings.Contains(out, `]52;c;cHduZWQ=`) {
			t.Errorf("%v: the name is not shown:\n%s", args[3:], out)
		}
	}
}

// A run cut short by a signal is no verdict: exit 130, not 1.
func TestRunInterruptedIsNoVerdict(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"run", "../../scenarios/03-rotation-in-flight.yaml", "--policy", "v0.12"}, strings.NewReader(""), &out, &errb)
	if code != exitInterrupted || !strings.Contains(errb.String(), "interrupted") {
		t.Fatalf("exit %d, stderr %q; want 130", code, errb.String())
	}
}
