package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/fetcher/authsim"
)

// tmuxSession is a detached tmux session on a private socket.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
	env    []string
}

func (s *tmuxSession) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-S", s.socket, "-f", os.DevNull}, args...)...)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *tmuxSession) screen() string {
	out, err := s.tmux("capture-pane", "-p", "-t", s.name)
	if err != nil {
		return ""
	}
	return out
}

// waitScreen polls the pane until it shows every want (tmux offers no
// way to wait for output, so polling with a deadline it is).
func (s *tmuxSession) waitScreen(what string, wants ...string) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		sc := s.screen()
		ok := true
		for _, w := range wants {
			if !strings.Contains(sc, w) {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: the screen never showed %q:\n%s", what, wants, sc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	if out, err := s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...); err != nil {
		s.t.Fatalf("send-keys %v: %v: %s", keys, err, out)
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestE2ETUIInTmux builds the binary, runs `authscope` in an 80x24 tmux
// pane against the built-in simulator, and drives it with keys: the first
// screen shows S1, p brings S2, q exits with status 0 and the terminal back.
func TestE2ETUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("AUTHSCOPE_REQUIRE_TMUX") == "1" {
			t.Fatal("tmux is required (AUTHSCOPE_REQUIRE_TMUX=1) but not installed")
		}
		t.Skip("tmux is not installed (set AUTHSCOPE_REQUIRE_TMUX=1 to fail instead)")
	}
	if testing.Short() {
		t.Skip("builds the binary and runs it in tmux")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "authscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	socket := filepath.Join(dir, "tmux.sock")
	if len(socket) > 100 { // sun_path is short
		socket = filepath.Join(os.TempDir(), fmt.Sprintf("authscope-e2e-%d.sock", os.Getpid()))
	}
	s := &tmuxSession{t: t, socket: socket, name: "authscope",
		env: append(os.Environ(), "HOME="+dir, "XDG_CACHE_HOME="+filepath.Join(dir, "cache"), "TERM=xterm-256color")}
	t.Cleanup(func() {
		s.tmux("kill-server")
		os.Remove(socket)
	})
	status := filepath.Join(dir, "status")
	logFile := filepath.Join(dir, "authscope.log")
	script := fmt.Sprintf("%s --log-file %s; echo $? > %s", shellQuote(bin), shellQuote(logFile), shellQuote(status))
	// remain-on-exit keeps the pane after the program ends, to check the
	// terminal it leaves behind.
	if out, err := s.tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", s.name, "sh", "-c", script,
		";", "set-option", "-t", s.name, "remain-on-exit", "on"); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}

	s.waitScreen("first screen", "S1", "policy pr329", "provider mounted")
	s.keys("p")
	s.waitScreen("after p", "S2", "session rotated S1 → S2")
	s.keys("f")
	s.waitScreen("after f", "forced key f")
	s.keys("q")

	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(status)
		if err == nil && strings.HasSuffix(string(b), "\n") {
			if got := strings.TrimSpace(string(b)); got != "0" {
				t.Fatalf("authscope exited with status %s after q", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("authscope did not exit after q:\n%s", s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The alternate screen is gone: the pane shows the shell's screen again.
	if sc := s.screen(); strings.Contains(sc, "── Events") || strings.Contains(sc, "provider mounted") {
		t.Fatalf("the TUI is still on screen after it exited:\n%s", sc)
	}

	logged, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("no log file: %v", err)
	}
	if !strings.Contains(string(logged), "msg=quit") {
		t.Fatalf("the log lacks the quit:\n%s", logged)
	}
	for _, secret := range []string{authsim.DefaultPassword, "eyJ", "session_token"} {
		if strings.Contains(string(logged), secret) {
			t.Fatalf("the log holds %q", secret)
		}
	}
}

// TestTUIUsageErrors covers the root command's flag checks, which come
// before it needs a terminal.
func TestTUIUsageErrors(t *testing.T) {
	t.Setenv("AUTHSCOPE_EMAIL", "")
	t.Setenv("AUTHSCOPE_PASSWORD", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--policy", "v9"}, `unknown policy "v9"`},
		{[]string{"--target", "ftp://x"}, "want an http(s) URL"},
		{[]string{"--target", "http://127.0.0.1:1"}, "needs --email and --password"},
		{[]string{"--alg", "HS256"}, "want EdDSA or RS256"},
		{[]string{"--poll", "-1s"}, "must not be negative"},
		{nil, "needs a terminal"},
	} {
		code, _, errOut := runCLI(t, "", tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	code, _, errOut := runCLI(t, "", "--target", "http://127.0.0.1:1", "--email", "a@b.c", "--password", "hunter2-secret")
	if code != exitUsage || strings.Contains(errOut, "hunter2-secret") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
