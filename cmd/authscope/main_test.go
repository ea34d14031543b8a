package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

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

// A server that accepts connections and never answers must not hang a run:
// the step timeout ends it with a connection error.
func TestRunAgainstHangingServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	code, out, errOut := runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--policy", "pr329",
		"--target", "http://"+ln.Addr().String(), "--email", "a@b.c", "--password", "pw-123456", "--step-timeout", "200ms")
	if code != exitUsage || !strings.Contains(errOut, "sign in before the start") {
		t.Fatalf("exit %d, stderr %q; want 2 and a sign-in error", code, errOut)
	}
	// A run that never reached the target is no verdict: the summary must
	// not count it as a failed expectation.
	if !strings.Contains(out, "0 passed, 0 failed, 1 not run to a verdict") {
		t.Fatalf("the summary counts a run that never started as a verdict:\n%s", out)
	}
}

func TestSimServes(t *testing.T) {
	ctx := context.Background()
	base, out, _, stop := startSimCmd(t, simOptions{addr: "127.0.0.1:0", alg: "RS256", tokenTTL: 900 * time.Second, email: "e@x.test", password: "pw-123456789"})
	if !strings.Contains(out, "e@x.test / pw-123456789") || !strings.Contains(out, "(RS256)") {
		t.Fatalf("sim output: %q", out)
	}
	c, err := fetcher.New(fetcher.Options{BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SignIn(ctx, "e@x.test", "pw-123456789"); err != nil {
		t.Fatalf("sign in to the served sim: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatalf("sim returned %v after cancel", err)
	}
}

// TestSimPreserveSession: `sim --preserve-session` keeps the caller's
// session on a change-password with revokeOtherSessions (token null, the
// same session id after), says so on stdout, and without the flag the same
// call rotates the session.
func TestSimPreserveSession(t *testing.T) {
	ctx := context.Background()
	for _, preserve := range []bool{true, false} {
		base, out, _, stop := startSimCmd(t, simOptions{addr: "127.0.0.1:0", alg: "EdDSA", tokenTTL: 900 * time.Second, email: "e@x.test", password: "pw-123456789", preserve: preserve})
		if said := strings.Contains(out, "keeps the caller's session"); said != preserve {
			t.Errorf("preserve=%v: stdout %q", preserve, out)
		}
		c, err := fetcher.New(fetcher.Options{BaseURL: base})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.SignIn(ctx, "e@x.test", "pw-123456789"); err != nil {
			t.Fatal(err)
		}
		before, err := c.GetSession(ctx)
		if err != nil || before == nil {
			t.Fatalf("get-session: %v %v", before, err)
		}
		r, err := c.ChangePassword(ctx, "pw-123456789", "pw-123456789", true)
		if err != nil {
			t.Fatalf("change-password: %v", err)
		}
		after, err := c.GetSession(ctx)
		if err != nil || after == nil {
			t.Fatalf("get-session after: %v %v", after, err)
		}
		kept := after.Session.ID == before.Session.ID
		if kept != preserve || (r.Token == "") != preserve {
			t.Errorf("preserve=%v: session kept %v, answer token empty %v", preserve, kept, r.Token == "")
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSimOnEveryInterface: `sim --addr :P` warns that it is reachable from
// other machines, and a client reaching it through 127.0.0.1 or localhost
// can sign in and make cookie-bearing POSTs (no 403 INVALID_ORIGIN).
func TestSimOnEveryInterface(t *testing.T) {
	ctx := context.Background()
	base, out, errOut, stop := startSimCmd(t, simOptions{addr: ":0", alg: "EdDSA", tokenTTL: 900 * time.Second, email: "e@x.test", password: "pw-123456789"})
	defer stop()
	if !strings.Contains(errOut, "warning") || !strings.Contains(errOut, "not loopback only") || !strings.Contains(errOut, "--addr 127.0.0.1:") {
		t.Errorf("stderr %q: want a warning about listening beyond loopback", errOut)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.Contains(out, "http://[::]:") {
		t.Errorf("base URL %q (output %q): want a usable loopback origin", base, out)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	for _, host := range []string{"127.0.0.1", "localhost"} {
		c, err := fetcher.New(fetcher.Options{BaseURL: "http://" + host + ":" + port + "/api/auth"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.SignIn(ctx, "e@x.test", "pw-123456789"); err != nil {
			t.Errorf("sign in through %s: %v", host, err)
			continue
		}
		if _, err := c.ChangePassword(ctx, "pw-123456789", "pw-123456789", true); err != nil {
			t.Errorf("change-password through %s: %v", host, err)
		}
		if err := c.SignOut(ctx); err != nil {
			t.Errorf("sign out through %s: %v", host, err)
		}
	}
}

// startSimCmd runs `authscope sim` with o until the test ends or stop is
// called, and returns the base URL it printed with its stdout and stderr.
func startSimCmd(t *testing.T, o simOptions) (base, stdout, stderr string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := syncBuffer{wrote: make(chan struct{}, 1)}
	errOut := syncBuffer{wrote: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() { done <- runSim(ctx, o, &out, &errOut) }()
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			stopErr = <-done
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	deadline := time.After(5 * time.Second)
	// runSim prints line by line; wait for the last line before reading.
	for base == "" {
		if m := regexp.MustCompile(`(?s)base URL: (\S+).*default user: .*\n`).FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			continue
		}
		select {
		case <-out.wrote:
		case err := <-done:
			done <- err // for stop
			t.Fatalf("sim ended: %v; output %q %q", err, out.String(), errOut.String())
		case <-deadline:
			t.Fatalf("sim printed no base URL: %q", out.String())
		}
	}
	return base, out.String(), errOut.String(), stop
}

// syncBuffer collects output written from another goroutine and signals
// each write, so a test can wait for a line without sleeping.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The default user's password can come from a config file: sim prints it
// escaped, like every string from a file (an email with controls is
// refused by the simulator).
func TestSimEscapesTheDefaultUser(t *testing.T) {
	_, out, _, stop := startSimCmd(t, simOptions{addr: "127.0.0.1:0", alg: "EdDSA", tokenTTL: 900 * time.Second,
		email: "e@x.test", password: "pw-\x1b]2;owned\x07\x1b[2J123456789"})
	defer stop()
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Fatalf("sim passes control bytes to the terminal: %q", out)
	}
	if !strings.Contains(out, `e@x.test / pw-\x1b]2;owned\x07\x1b[2J123456789`) {
		t.Fatalf("sim output %q does not show the user escaped", out)
	}
}

// usageFlagRx finds the flag names in a FlagUsages text.
var usageFlagRx = regexp.MustCompile(`(?m)^\s+(?:-\w, )?(--[a-z0-9-]+)`)

// TestReadmeSynopsisMatchesTheFlags: the README's CLI synopsis names every
// flag of each command, and no flag a command does not have.
func TestReadmeSynopsisMatchesTheFlags(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## CLI\n\n```\n")
	if !ok {
		t.Fatal("README has no CLI synopsis")
	}
	synopsis, _, _ := strings.Cut(rest, "```")
	byCmd := map[string]map[string]bool{}
	cmd := ""
	flagRx := regexp.MustCompile(`--[a-z0-9-]+`)
	for _, line := range strings.Split(synopsis, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "authscope" {
			cmd = ""
			if len(f) > 1 && !strings.HasPrefix(f[1], "[") {
				cmd = f[1]
			}
			byCmd[cmd] = map[string]bool{}
		}
		for _, fl := range flagRx.FindAllString(line, -1) {
			byCmd[cmd][fl] = true
		}
	}
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	for _, c := range append(root.Commands(), root) {
		name := c.Name()
		if c == root {
			name = ""
		}
		if c.Hidden || name == "help" || name == "completion" {
			continue
		}
		doc, ok := byCmd[name]
		if !ok {
			t.Errorf("the synopsis has no line for %q", c.CommandPath())
			continue
		}
		have := map[string]bool{}
		for _, m := range usageFlagRx.FindAllStringSubmatch(c.LocalFlags().FlagUsages(), -1) {
			fl := m[1]
			if fl == "--help" || (c != root && fl == "--config") {
				continue
			}
			have[fl] = true
			if !doc[fl] {
				t.Errorf("%s: the synopsis lacks %s", c.CommandPath(), fl)
			}
		}
		if len(have) == 0 && name != "version" {
			t.Errorf("%s: no flags read from its usage", c.CommandPath())
		}
		for fl := range doc {
			if !have[fl] {
				t.Errorf("%s: the synopsis names %s, which it does not have", c.CommandPath(), fl)
			}
		}
	}
}
