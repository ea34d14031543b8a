package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/fetcher/authsim"
	"github.com/authscope/authscope/fetcher/target"
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

// waitFor polls the pane until ok holds for it (tmux offers no way to
// wait for output, so polling with a deadline it is).
func (s *tmuxSession) waitFor(what string, ok func(string) bool) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		sc := s.screen()
		if ok(sc) {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: the screen never showed it:\n%s", what, sc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitScreen waits until the pane shows every want.
func (s *tmuxSession) waitScreen(what string, wants ...string) {
	s.t.Helper()
	s.waitFor(fmt.Sprintf("%s (want %q)", what, wants), func(sc string) bool {
		for _, w := range wants {
			if !strings.Contains(sc, w) {
				return false
			}
		}
		return true
	})
}

// waitMatch waits until re matches the pane.
func (s *tmuxSession) waitMatch(what, re string) {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	s.waitFor(fmt.Sprintf("%s (want a match of %q)", what, re), rx.MatchString)
}

// resize gives the pane another size, as a user resizing the terminal.
func (s *tmuxSession) resize(w, h int) {
	s.t.Helper()
	if out, err := s.tmux("resize-window", "-t", s.name, "-x", strconv.Itoa(w), "-y", strconv.Itoa(h)); err != nil {
		s.t.Fatalf("resize-window: %v: %s", err, out)
	}
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	if out, err := s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...); err != nil {
		s.t.Fatalf("send-keys %v: %v: %s", keys, err, out)
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// buildForTmux skips without tmux (or in -short), builds the binary and
// returns it with a directory for the test's files.
func buildForTmux(t *testing.T) (bin, dir string) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("AUTHSCOPE_REQUIRE_TMUX") == "1" {
			t.Fatal("tmux is required (AUTHSCOPE_REQUIRE_TMUX=1) but not installed")
		}
		t.Skip("tmux is not installed (set AUTHSCOPE_REQUIRE_TMUX=1 to fail instead)")
	}
	bin = buildBinary(t)
	return bin, filepath.Dir(bin)
}

// buildBinary builds authscope into a directory of the test.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "authscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startTmux runs the binary with args in an 80x24 tmux pane; the exit
// status goes to dir/status.
func startTmux(t *testing.T, bin, dir string, args ...string) *tmuxSession {
	t.Helper()
	return startTmuxSize(t, bin, dir, 80, 24, args...)
}

// startTmuxSize is startTmux in a pane of w×h cells.
func startTmuxSize(t *testing.T, bin, dir string, w, h int, args ...string) *tmuxSession {
	t.Helper()
	socket := filepath.Join(dir, "tmux.sock")
	if len(socket) > 100 { // sun_path is short
		socket = filepath.Join(os.TempDir(), fmt.Sprintf("authscope-e2e-%d-%s.sock", os.Getpid(), filepath.Base(dir)))
	}
	s := &tmuxSession{t: t, socket: socket, name: "authscope",
		env: append(os.Environ(), "HOME="+dir, "XDG_CACHE_HOME="+filepath.Join(dir, "cache"), "TERM=xterm-256color", "AUTHSCOPE_CONFIG=")}
	t.Cleanup(func() {
		s.tmux("kill-server")
		os.Remove(socket)
	})
	cmd := shellQuote(bin)
	for _, a := range args {
		cmd += " " + shellQuote(a)
	}
	script := fmt.Sprintf("%s; echo $? > %s", cmd, shellQuote(filepath.Join(dir, "status")))
	// remain-on-exit keeps the pane after the program ends, to check the
	// terminal it leaves behind.
	if out, err := s.tmux("new-session", "-d", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), "-s", s.name, "sh", "-c", script,
		";", "set-option", "-t", s.name, "remain-on-exit", "on"); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	return s
}

// waitExit waits for the program to end and checks its status is 0.
func (s *tmuxSession) waitExit(dir string) {
	s.t.Helper()
	status := filepath.Join(dir, "status")
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(status)
		if err == nil && strings.HasSuffix(string(b), "\n") {
			if got := strings.TrimSpace(string(b)); got != "0" {
				s.t.Fatalf("authscope exited with status %s after q", got)
			}
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("authscope did not exit after q:\n%s", s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestE2ETUIInTmux builds the binary, runs `authscope` in an 80x24 tmux
// pane against the built-in simulator, and drives it with keys: the first
// screen shows S1 and the Convex client authenticated, p brings S2 and a
// Convex flicker window, q exits with status 0 and the terminal back.
func TestE2ETUIInTmux(t *testing.T) {
	bin, dir := buildForTmux(t)
	logFile := filepath.Join(dir, "authscope.log")
	s := startTmux(t, bin, dir, "--log-file", logFile)

	s.waitScreen("first screen", "S1", "policy pr329", "Convex authenticated", "flicker none", "█ authenticated")
	s.keys("p")
	s.waitScreen("after p", "S2", "Convex flicker: 1 window")
	s.waitScreen("after p, recovered", "── Convex authenticated · query ok")
	t.Logf("the screen after p:\n%s", s.screen())
	s.keys("f")
	s.waitScreen("after f", "forced key f")
	s.keys("q")
	s.waitExit(dir)

	// The alternate screen is gone: the pane shows the shell's screen again.
	if sc := s.screen(); strings.Contains(sc, "── Events") || strings.Contains(sc, "── Convex") {
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

// TestE2ETwoDevicesInTmux: with --devices 2, each session has one label on
// every device (device 2's own session is S2, not a second S1); p on
// device 1 ends device 2's session at its next poll, which the header says
// without switching; d then shows device 2 signed out.
func TestE2ETwoDevicesInTmux(t *testing.T) {
	bin, dir := buildForTmux(t)
	s := startTmux(t, bin, dir, "--log-file", filepath.Join(dir, "authscope.log"), "--devices", "2")
	s.waitScreen("first screen", "device 1/2", "S1", "device 2: S2, Convex authenticated")
	s.keys("p")
	// Device 2 polls every 2 s (and re-runs its query every second).
	s.waitScreen("after p", "S3", "device 2: signed out")
	s.keys("d")
	s.waitScreen("device 2", "device 2/2", "device 1: S3, Convex authenticated", "signed out · (no session; i signs in)", "_ signed out")
	t.Logf("device 2 after p on device 1:\n%s", s.screen())
	s.keys("q")
	s.waitExit(dir)
}

// TestTUIUsageErrors covers the root command's flag checks, which come
// before it needs a terminal.
func TestTUIUsageErrors(t *testing.T) {
	for _, env := range []string{"AUTHSCOPE_EMAIL", "AUTHSCOPE_PASSWORD", "AUTHSCOPE_SESSION_COOKIE", "AUTHSCOPE_CONVEX_URL", "AUTHSCOPE_CONFIG"} {
		t.Setenv(env, "")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--policy", "v9"}, `unknown policy "v9"`},
		{[]string{"--target", "ftp://x"}, "want an http(s) URL"},
		{[]string{"--target", "http://127.0.0.1:1"}, "needs --email and --password (or AUTHSCOPE_EMAIL and AUTHSCOPE_PASSWORD), or --session-cookie"},
		{[]string{"--alg", "HS256"}, "want EdDSA or RS256"},
		{[]string{"--poll", "-1s"}, "must not be negative"},
		{[]string{"--devices", "3"}, "--devices: want 1 or 2"},
		{[]string{"--query-interval", "-1s"}, "--query-interval: must not be negative"},
		{[]string{"--session-cookie", "abc"}, "--session-cookie needs --target"},
		{[]string{"--target", "http://127.0.0.1:1", "--convex-url", "ftp://x"}, "want the deployment's http(s) URL"},
		{[]string{"--target", "http://127.0.0.1:1", "--session-cookie", "abc", "--devices", "2"}, "--devices 2 needs --email and --password"},
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

// TestE2EConvexPanelOnATargetInTmux: with --target of a running `authscope
// sim` and no --convex-url, the Convex panel is there, the client
// authenticated against the simulator's own /api/query, at 80x24 and at
// 140x45; a real target without --convex-url keeps a one-line panel that
// says what to pass.
func TestE2EConvexPanelOnATargetInTmux(t *testing.T) {
	bin, dir := buildForTmux(t)
	base, _, _, _ := startSimCmd(t, simOptions{addr: "127.0.0.1:0", alg: "EdDSA", tokenTTL: 900 * time.Second, email: "e@x.test", password: "pw-123456789"})
	simDir := filepath.Join(dir, "sim")
	os.Mkdir(simDir, 0o700)
	s := startTmux(t, bin, simDir, "--log-file", filepath.Join(dir, "sim.log"), "--target", base, "--email", "e@x.test", "--password", "pw-123456789")
	s.waitScreen("sim target at 80x24", "target sim 127.0.0.1:", "S1", "Convex authenticated", "█ authenticated")
	if out, err := s.tmux("resize-window", "-t", s.name, "-x", "140", "-y", "45"); err != nil {
		t.Fatalf("resize: %v: %s", err, out)
	}
	s.waitScreen("sim target at 140x45", "── Convex client model (convex-js 1.45)", "useConvexAuth authenticated")
	t.Logf("a running authscope sim as --target, no --convex-url:\n%s", s.screen())
	s.keys("q")
	s.waitExit(simDir)

	srv, origin, stop, err := target.StartSim(authsim.Options{}) // no /_authsim: a stand-in for a real server
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	email, password := srv.DefaultUser()
	realDir := filepath.Join(dir, "real")
	os.Mkdir(realDir, 0o700)
	s = startTmux(t, bin, realDir, "--log-file", filepath.Join(dir, "real.log"), "--target", origin, "--email", email, "--password", password)
	s.waitScreen("real target at 80x24", "S1", "── Convex off: --convex-url https://<name>.convex.cloud (or config convex.url)")
	s.keys("q")
	s.waitExit(realDir)
}
