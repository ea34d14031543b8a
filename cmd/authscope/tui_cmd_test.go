package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/fetcher"
	"github.com/authscope/authscope/fetcher/authsim"
	"github.com/authscope/authscope/fetcher/target"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func simTUIOptions() tuiOptions {
	return tuiOptions{policy: "pr329", alg: "EdDSA", TUIConfig: TUIConfig{Devices: 1, Query: "auth:getAuthUser", QueryInterval: defaultQueryInterval}}
}

// openSession resolves *o and opens its TUI session, closed when the
// test ends.
func openSession(t *testing.T, o *tuiOptions) *tuiSession {
	t.Helper()
	if err := o.resolve(); err != nil {
		t.Fatal(err)
	}
	s, err := openTUISession(t.Context(), *o, discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s
}

// openStarted resolves o, opens the session and starts every engine.
func openStarted(t *testing.T, o tuiOptions) *tuiSession {
	t.Helper()
	s := openSession(t, &o)
	t.Cleanup(s.start(context.Background()))
	settleAll(t, s)
	return s
}

func settleAll(t *testing.T, s *tuiSession) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, d := range s.devices {
		if err := d.Engine.Settle(ctx, d.Transport.Held, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// The simulator target runs the Convex client model by default, and two
// devices are two clients with sessions of their own; p on one ends the
// other's at its next observation.
func TestTUISessionOnTheSimulator(t *testing.T) {
	o := simTUIOptions()
	o.Devices = 2
	o.TokenLatency = 30 * time.Millisecond
	s := openStarted(t, o)
	if len(s.devices) != 2 || s.real || !strings.HasPrefix(s.display, "sim 127.0.0.1:") {
		t.Fatalf("session %+v", s)
	}
	d1, d2 := s.devices[0].Engine, s.devices[1].Engine
	s1, s2 := d1.Snapshot(), d2.Snapshot()
	if !s1.Convex.Enabled || !s1.Convex.IsAuthenticated || s1.Convex.Query != "auth:getAuthUser" {
		t.Fatalf("device 1's Convex client: %+v", s1.Convex)
	}
	if s1.Session == nil || s2.Session == nil || s1.Session.ID == s2.Session.ID {
		t.Fatal("the devices do not have sessions of their own")
	}
	// One label per session on every device: device 2's session is S2,
	// and device 1's S1 is S1 on device 2 too.
	if s1.SessionLabel != "S1" || s2.SessionLabel != "S2" || s2.Label(s1.Session.ID) != "S1" || s1.Label(s2.Session.ID) != "S2" {
		t.Fatalf("labels: device 1 %s, device 2 %s (device 2 calls device 1's %s)", s1.SessionLabel, s2.SessionLabel, s2.Label(s1.Session.ID))
	}
	if got := s.devices[1].Transport.Latency(fetcher.EndpointToken); got != 30*time.Millisecond {
		t.Fatalf("--token-latency on device 2: %s", got)
	}
	d1.Do(authstate.ActionChangePassword, true)
	settleAll(t, s)
	d2.Observe("poll")
	settleAll(t, s)
	if d2.Snapshot().Session != nil || d1.Snapshot().Session == nil {
		t.Fatal("p on device 1 did not end device 2's session")
	}
	if got := d1.Snapshot().SessionLabel; got != "S3" {
		t.Fatalf("device 1's new session is %s, want S3 (S1 and S2 were taken)", got)
	}
	opts := s.options(o, discard)
	if len(opts.Devices) != 2 || opts.RealTarget {
		t.Fatalf("tui options %+v", opts)
	}
}

func TestTUISessionWithoutConsumer(t *testing.T) {
	o := simTUIOptions()
	o.NoConsumer = true
	s := openStarted(t, o)
	if s.devices[0].Engine.Snapshot().Convex.Enabled {
		t.Fatal("--no-consumer left the Convex client on")
	}
}

// A real target started from a session cookie: the client is that session,
// the Convex client runs with --convex-url, and p fails with ErrNoPassword
// as an event instead of stopping anything.
func TestTUISessionFromACookie(t *testing.T) {
	srv, origin, stop, err := target.StartSim(authsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	email, password := srv.DefaultUser()
	browser, err := fetcher.NewBackend(fetcher.BackendOptions{BaseURL: origin + "/api/auth", Email: email, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	if err := browser.SignIn(t.Context()); err != nil {
		t.Fatal(err)
	}
	want, _ := browser.GetSession(t.Context())
	var cookie string
	for _, c := range browser.Client().Cookies() {
		if strings.HasSuffix(c.Name, "session_token") {
			cookie = c.Value
		}
	}
	t.Setenv("AUTHSCOPE_EMAIL", "")
	t.Setenv("AUTHSCOPE_PASSWORD", "")
	t.Setenv("AUTHSCOPE_SESSION_COOKIE", cookie)
	t.Setenv("AUTHSCOPE_CONVEX_URL", origin)
	o := simTUIOptions()
	o.target = origin
	s := openStarted(t, o)
	eng := s.devices[0].Engine
	snap := eng.Snapshot()
	if !s.real || snap.Session == nil || snap.Session.ID != want.ID || !snap.Convex.IsAuthenticated {
		t.Fatalf("cookie client: real %v, session %+v, Convex %+v", s.real, snap.Session, snap.Convex)
	}
	eng.Do(authstate.ActionChangePassword, true)
	settleAll(t, s)
	if err := eng.Err(); !errors.Is(err, fetcher.ErrNoPassword) {
		t.Fatalf("p from a cookie: %v, want ErrNoPassword", err)
	}
	failed := false
	for _, ev := range eng.Log().All() {
		if ev.Kind == authstate.KindActionFailed && strings.Contains(ev.Detail, "no password") {
			failed = true
		}
	}
	if !failed || eng.Snapshot().Session == nil {
		t.Fatal("the failed rotation is not an event, or it cost the session")
	}

	// A cookie the server does not know is refused up front.
	o.SessionCookie = "not-a-session"
	if err := o.resolve(); err != nil {
		t.Fatal(err)
	}
	if _, err := openTUISession(t.Context(), o, discard); err == nil || !strings.Contains(err.Error(), "--session-cookie: the server knows no session") {
		t.Fatalf("unknown cookie: %v", err)
	}
}

func TestTUIOptionsResolve(t *testing.T) {
	for _, env := range []string{"AUTHSCOPE_EMAIL", "AUTHSCOPE_PASSWORD", "AUTHSCOPE_SESSION_COOKIE", "AUTHSCOPE_CONVEX_URL"} {
		t.Setenv(env, "")
	}
	for _, tc := range []struct {
		name string
		edit func(*tuiOptions)
		want string
	}{
		{"defaults", func(o *tuiOptions) {}, ""},
		{"bad theme", func(o *tuiOptions) { o.Theme = "purple" }, `theme "purple"`},
		{"bad keymap", func(o *tuiOptions) { o.Keys = map[string][]string{"fetch": {"p"}} }, `config keymap: keys: binding "fetch": "p" is already bound to password`},
		{"good keymap", func(o *tuiOptions) { o.Keys = map[string][]string{"device": {"ctrl+n"}}; o.Theme = "light" }, ""},
		{"negative latency", func(o *tuiOptions) { o.SessionLatency = -time.Second }, "--session-latency: must not be negative"},
		{"zero devices means one", func(o *tuiOptions) { o.Devices = 0 }, ""},
		{"cookie on a real target", func(o *tuiOptions) { o.target = "http://127.0.0.1:1"; o.SessionCookie = "c" }, ""},
		{"two devices with a password", func(o *tuiOptions) {
			o.target, o.email, o.password, o.Devices = "http://127.0.0.1:1", "a@b.c", "pw", 2
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := simTUIOptions()
			tc.edit(&o)
			err := o.resolve()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// --target of a running `authscope sim` without --convex-url: the Convex
// client model runs against the simulator's own /api/query.
func TestTUIConvexOnASimTarget(t *testing.T) {
	base, _, _, _ := startSimCmd(t, simOptions{addr: "127.0.0.1:0", alg: "EdDSA", tokenTTL: 900 * time.Second, email: "e@x.test", password: "pw-123456789"})
	for _, env := range []string{"AUTHSCOPE_EMAIL", "AUTHSCOPE_PASSWORD", "AUTHSCOPE_SESSION_COOKIE", "AUTHSCOPE_CONVEX_URL"} {
		t.Setenv(env, "")
	}
	o := simTUIOptions()
	o.target, o.email, o.password = base, "e@x.test", "pw-123456789"
	s := openStarted(t, o)
	c := s.devices[0].Engine.Snapshot().Convex
	if s.real || !s.consumer || !c.Enabled || !c.IsAuthenticated || s.options(o, discard).ConvexOff != "" {
		t.Fatalf("real %v, consumer %v, Convex %+v", s.real, s.consumer, c)
	}
	if want := "sim " + strings.TrimPrefix(strings.TrimSuffix(base, "/api/auth"), "http://"); s.display != want {
		t.Fatalf("the header names the target %q, want %q", s.display, want)
	}
}

// A real target without --convex-url keeps a one-line Convex panel that
// says what to pass; --no-consumer hides it.
func TestTUIConvexOffSaysWhatToPass(t *testing.T) {
	srv, origin, stop, err := target.StartSim(authsim.Options{}) // no /_authsim: a stand-in for a real server
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for _, env := range []string{"AUTHSCOPE_EMAIL", "AUTHSCOPE_PASSWORD", "AUTHSCOPE_SESSION_COOKIE", "AUTHSCOPE_CONVEX_URL"} {
		t.Setenv(env, "")
	}
	o := simTUIOptions()
	o.target = origin
	o.email, o.password = srv.DefaultUser()
	s := openStarted(t, o)
	if s.consumer || s.devices[0].Engine.Snapshot().Convex.Enabled {
		t.Fatal("the Convex client model runs without a deployment")
	}
	if got := s.options(o, discard).ConvexOff; !strings.Contains(got, "--convex-url https://<name>.convex.cloud") || !strings.Contains(got, "convex.url") {
		t.Fatalf("ConvexOff %q", got)
	}
	o.NoConsumer = true
	if got := openStarted(t, o).options(o, discard).ConvexOff; got != "" {
		t.Fatalf("--no-consumer: ConvexOff %q", got)
	}
}
