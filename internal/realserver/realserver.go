// Package realserver starts a real Better Auth server (better-auth with the
// in-memory adapter and the @convex-dev/better-auth Convex plugin) on
// loopback, for Go integration tests.
//
// The npm packages are pinned in js/package.json and js/package-lock.json and
// installed once per machine into a cache directory (see Install). Start runs
// js/server.mjs under Node and stops it when the test ends. If node or npm is
// missing, Start skips the test, unless AUTHSCOPE_REQUIRE_REAL_SERVER=1.
//
// OBSERVED.md records what this server answers, request by request.
//
// To run the server by hand (after one Install): in the install directory,
// `node server.mjs --alg RS256 --keep-stdin` prints {"url":…,"alg":…} and serves
// until Ctrl-C.
package realserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

//go:embed js/package.json js/package-lock.json js/server.mjs
var jsFiles embed.FS

// embeddedNames are the files copied into the install directory, in hashing order.
var embeddedNames = []string{"package.json", "package-lock.json", "server.mjs"}

// Secret is the fixed BETTER_AUTH_SECRET the test server runs with. Session
// cookies are "<token>.<base64 HMAC-SHA256(Secret, token)>", URL-encoded.
const Secret = "authscope-realserver-fixed-test-secret-do-not-use-in-prod"

// Environment variables understood by this package.
const (
	// EnvRequire, when "1", turns a missing node/npm into a test failure
	// instead of a skip.
	EnvRequire = "AUTHSCOPE_REQUIRE_REAL_SERVER"
	// EnvCache overrides the install directory.
	EnvCache = "AUTHSCOPE_NPM_CACHE"
)

const (
	readyTimeout   = 60 * time.Second
	stopTimeout    = 10 * time.Second
	installTimeout = 10 * time.Minute
	stampName      = ".authscope-install-stamp"
	lockName       = ".authscope-install.lock"
)

// ErrToolMissing is returned (wrapped) by Install when npm is not on PATH.
var ErrToolMissing = errors.New("realserver: required tool not found")

// Options configures Start.
type Options struct {
	// Alg is the JWT signing algorithm: "EdDSA" (the default when empty) or "RS256".
	Alg string
}

// Server is a running real Better Auth server.
type Server struct {
	// URL is the server origin, e.g. http://127.0.0.1:43123. It is also the
	// JWT issuer (CONVEX_SITE_URL) and the only trusted Origin.
	URL string
	// BaseURL is URL + "/api/auth".
	BaseURL string
	// Alg is the JWT signing algorithm the server was started with.
	Alg string
}

var (
	installMu  sync.Mutex
	installDir string // set after a successful Install in this process
)

// Install ensures the pinned npm packages are installed and returns the
// directory holding node_modules and server.mjs.
//
// The directory is $AUTHSCOPE_NPM_CACHE if set, else
// os.UserCacheDir()/authscope/realserver-<hash of the embedded files>. It runs
// `npm ci` there only when the install stamp is missing or does not match the
// embedded files. A lock file in the directory serialises installs across
// processes (go test runs packages in parallel processes), and the stamp is
// written only after npm ci succeeded, so a half-finished install is never
// used. (With $AUTHSCOPE_NPM_CACHE, checkouts with different pins share one
// directory and reinstall it in turn; the default path is per content hash.)
func Install(ctx context.Context) (string, error) {
	installMu.Lock()
	defer installMu.Unlock()

	hash := contentHash()
	if installDir != "" && upToDate(installDir, hash) {
		return installDir, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("%w: npm: %v", ErrToolMissing, err)
	}
	dir, err := cacheDir(hash)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("realserver: create cache dir: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, lockName))
	if err != nil {
		return "", fmt.Errorf("realserver: lock %s: %w", dir, err)
	}
	defer unlock()

	if upToDate(dir, hash) {
		installDir = dir
		return dir, nil
	}

	// (Re)install. Invalidate first so that a crash part-way leaves no stamp.
	if err := os.Remove(filepath.Join(dir, stampName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("realserver: remove stamp: %w", err)
	}
	for _, name := range embeddedNames {
		data, _ := jsFiles.ReadFile("js/" + name)
		if err := writeFileAtomic(filepath.Join(dir, name), data); err != nil {
			return "", fmt.Errorf("realserver: write %s: %w", name, err)
		}
	}
	if err := os.RemoveAll(filepath.Join(dir, "node_modules")); err != nil {
		return "", fmt.Errorf("realserver: remove old node_modules: %w", err)
	}
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"npm_config_update_notifier=false",
		"npm_config_audit=false",
		"npm_config_fund=false",
	)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("realserver: npm ci in %s: %w\n%s", dir, err, strings.TrimSpace(out.String()))
	}
	if err := writeFileAtomic(filepath.Join(dir, stampName), []byte(hash+"\n")); err != nil {
		return "", fmt.Errorf("realserver: write stamp: %w", err)
	}
	installDir = dir
	return dir, nil
}

// contentHash is the hex SHA-256 of the embedded files (names and contents).
func contentHash() string {
	h := sha256.New()
	for _, name := range embeddedNames {
		data, err := jsFiles.ReadFile("js/" + name)
		if err != nil {
			panic("realserver: embedded file missing: " + name)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func cacheDir(hash string) (string, error) {
	if d := os.Getenv(EnvCache); d != "" {
		return filepath.Abs(d)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("realserver: no user cache dir (set %s): %w", EnvCache, err)
	}
	return filepath.Join(base, "authscope", "realserver-"+hash[:12]), nil
}

// upToDate reports whether dir holds a finished install of exactly the
// embedded files.
func upToDate(dir, hash string) bool {
	stamp, err := os.ReadFile(filepath.Join(dir, stampName))
	if err != nil || strings.TrimSpace(string(stamp)) != hash {
		return false
	}
	for _, name := range embeddedNames {
		want, _ := jsFiles.ReadFile("js/" + name)
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			return false
		}
	}
	for _, p := range []string{"better-auth", "@convex-dev/better-auth", "convex"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", p, "package.json")); err != nil {
			return false
		}
	}
	return true
}

func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// skipOrFatal skips the test because a tool is missing, or fails it when
// AUTHSCOPE_REQUIRE_REAL_SERVER=1.
func skipOrFatal(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("realserver: %s (%s=1, so this is an error)", msg, EnvRequire)
	}
	t.Skipf("realserver: %s; skipping real-server test (set %s=1 to make this fail)", msg, EnvRequire)
}

// Start installs the pinned npm packages (once, cached) and starts a server;
// it registers t.Cleanup to stop it.
//
// If node or npm is missing it calls t.Skip, unless the environment variable
// AUTHSCOPE_REQUIRE_REAL_SERVER=1 is set, in which case it calls t.Fatal.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	alg := opts.Alg
	if alg == "" {
		alg = "EdDSA"
	}
	if alg != "EdDSA" && alg != "RS256" {
		t.Fatalf("realserver: unsupported Alg %q (want EdDSA or RS256)", alg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skipOrFatal(t, "node not found in PATH (%v)", err)
	}
	if _, err := exec.LookPath("npm"); err != nil {
		skipOrFatal(t, "npm not found in PATH (%v)", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	dir, err := Install(ctx)
	cancel()
	if err != nil {
		if errors.Is(err, ErrToolMissing) {
			skipOrFatal(t, "%v", err)
		}
		t.Fatalf("realserver: install npm packages: %v", err)
	}

	stderr := &syncBuffer{}
	ready := make(chan string, 1)
	cmd := exec.Command(node, "server.mjs", "--alg", alg)
	cmd.Dir = dir
	cmd.Env = serverEnv()
	cmd.Stdout = &readyWriter{ready: ready, rest: stderr}
	cmd.Stderr = stderr
	cmd.WaitDelay = stopTimeout
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("realserver: stdin pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("realserver: start node: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()

	kill := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	var line string
	select {
	case line = <-ready:
	case <-exited:
		t.Fatalf("realserver: node exited before it was ready: %v\nstderr:\n%s", waitErr, stderr.String())
	case <-time.After(readyTimeout):
		_ = stdin.Close()
		kill()
		t.Fatalf("realserver: no ready line within %s\nstderr:\n%s", readyTimeout, stderr.String())
	}

	var msg struct {
		URL string `json:"url"`
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal([]byte(line), &msg); err != nil || msg.URL == "" {
		_ = stdin.Close()
		kill()
		t.Fatalf("realserver: bad ready line %q (%v)\nstderr:\n%s", line, err, stderr.String())
	}
	if msg.Alg != alg {
		_ = stdin.Close()
		kill()
		t.Fatalf("realserver: server reports alg %q, want %q", msg.Alg, alg)
	}

	t.Cleanup(func() {
		_ = stdin.Close() // the server exits when stdin reaches EOF
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			kill()
			t.Errorf("realserver: server did not exit within %s after stdin was closed; killed it", stopTimeout)
		}
		if t.Failed() {
			t.Logf("realserver (%s at %s) stderr:\n%s", alg, msg.URL, stderr.String())
		}
	})

	return &Server{URL: msg.URL, BaseURL: msg.URL + "/api/auth", Alg: alg}
}

// serverEnv is the parent environment minus anything that would change how
// Better Auth behaves, plus the fixed test settings.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "NODE_ENV", k == "TEST", k == "PORT", k == "CONVEX_SITE_URL", k == "AUTHSCOPE_ALG",
			strings.HasPrefix(k, "BETTER_AUTH_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"BETTER_AUTH_SECRET="+Secret,
		"BETTER_AUTH_TELEMETRY=0",
	)
}

// readyWriter receives node's stdout: the first line goes to ready, anything
// after it (there should be nothing) to rest.
type readyWriter struct {
	mu    sync.Mutex
	buf   []byte
	sent  bool
	ready chan<- string
	rest  io.Writer
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sent {
		_, _ = w.rest.Write(append([]byte("[stdout] "), p...))
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
		w.sent = true
		w.ready <- strings.TrimSpace(string(w.buf[:i]))
		if extra := w.buf[i+1:]; len(extra) > 0 {
			_, _ = w.rest.Write(append([]byte("[stdout] "), extra...))
		}
		w.buf = nil
	}
	return len(p), nil
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var userSeq atomic.Int64

// TestPassword is the password SignUp gives every user.
const TestPassword = "correct-horse-battery-staple"

// SignUp creates a user with a unique email (alice+<n>@test.example) and
// TestPassword through POST /api/auth/sign-up/email, sending Origin: s.URL.
// It fails the test unless the server answers 200.
func (s *Server) SignUp(t testing.TB) (email, password string) {
	t.Helper()
	n := userSeq.Add(1)
	email = fmt.Sprintf("alice+%d@test.example", n)
	password = TestPassword
	body, _ := json.Marshal(map[string]string{"email": email, "password": password, "name": fmt.Sprintf("Alice %d", n)})
	req, err := http.NewRequest(http.MethodPost, s.BaseURL+"/sign-up/email", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("realserver: sign-up request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.URL)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("realserver: sign-up: %v", err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("realserver: sign-up %s: status %d: %s", email, resp.StatusCode, rb)
	}
	return email, password
}
