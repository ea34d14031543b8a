package tui

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/fetcher"
	"github.com/authscope/authscope/fetcher/authsim"
)

// simServer is the simulator on a fixed loopback port that a test can stop
// and start again: the server process dies, its state (users, sessions,
// keys) survives, as with a dev server that restarts.
type simServer struct {
	t    *testing.T
	srv  *authsim.Server
	addr string
	hs   *http.Server
}

func startSimServer(t *testing.T) *simServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &simServer{t: t, addr: ln.Addr().String()}
	s.srv, err = authsim.New(authsim.Options{Origin: s.origin()})
	if err != nil {
		t.Fatal(err)
	}
	s.serve(ln)
	t.Cleanup(s.stop)
	return s
}

func (s *simServer) origin() string { return "http://" + s.addr }

func (s *simServer) serve(ln net.Listener) {
	s.hs = &http.Server{Handler: s.srv, ReadHeaderTimeout: 5 * time.Second}
	go s.hs.Serve(ln)
}

// stop kills the server: listener and every connection.
func (s *simServer) stop() {
	if s.hs != nil {
		s.hs.Close()
		s.hs = nil
	}
}

// restart serves the same simulator on the same port again.
func (s *simServer) restart() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("listen again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

// simRig is a model on an engine (wall clock) on a client of the simulator.
type simRig struct {
	t   *testing.T
	sim *simServer
	b   *fetcher.Backend
	eng *authstate.Engine
	m   *Model
}

func newSimRig(t *testing.T, logSize int) *simRig {
	t.Helper()
	sim := startSimServer(t)
	email, password := sim.srv.DefaultUser()
	b, err := fetcher.NewBackend(fetcher.BackendOptions{BaseURL: sim.origin() + "/api/auth", Email: email, Password: password, Issuer: sim.origin(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.SignIn(t.Context()); err != nil {
		t.Fatal(err)
	}
	eng, err := authstate.New(authstate.Config{Backend: b, Policy: "pr329", LogSize: logSize})
	if err != nil {
		t.Fatal(err)
	}
	r := &simRig{t: t, sim: sim, b: b, eng: eng}
	r.m = New(Options{Engine: eng, Transport: b, Target: "sim " + sim.addr, TickEvery: -1, NoColor: true})
	eng.Start(context.Background())
	t.Cleanup(eng.Stop)
	r.settle()
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	return r
}

func (r *simRig) settle() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.eng.Settle(ctx, r.b.Held, nil, nil); err != nil {
		r.t.Fatalf("settle: %v", err)
	}
	batch, _ := r.m.sub.Take(0)
	r.m.Update(eventsMsg{events: batch})
}

func (r *simRig) press(k string) {
	r.m.Update(keyMsg(k))
}

// TestServerDiesAndComesBack stops the simulator under the TUI and starts
// it again on the same port: the failures show as events and in the
// panels, in words, and the next fetch and poll recover.
func TestServerDiesAndComesBack(t *testing.T) {
	r := newSimRig(t, 4096)
	r.press("f")
	r.settle()
	mustContain(t, stripView(r.m), "S1", "matches the current session", "resolved: token for S1")

	r.sim.stop()
	r.press("f")
	r.settle()
	r.eng.Observe("poll")
	r.settle()
	r.press("p")
	r.settle()
	sc := stripView(r.m)
	mustContain(t, sc, "fetch_failed", "poll_failed", "action_failed", "last poll", "FAILED:", "✗ failed:", "network error")
	if s := r.eng.Snapshot(); s.SessionLabel != "S1" {
		t.Fatalf("a dead server cost the session: %s (Better Auth keeps the session on errors)", s.SessionLabel)
	}

	r.sim.restart()
	r.eng.Observe("poll")
	r.settle()
	r.press("f")
	r.settle()
	sc = stripView(r.m)
	mustContain(t, sc, "last poll", "unchanged", "matches the current session", "resolved: token for S1")
	if _, ok := lastEvent(r.eng, authstate.KindFetchResolved); !ok {
		t.Fatal("no fetch resolved after the restart")
	}
	if ev, _ := lastEvent(r.eng, authstate.KindTokenServed); ev.Token == nil {
		t.Fatalf("the last call after the restart got no token: %s", ev.Detail)
	}
	// The key still drives the server after recovery.
	r.press("p")
	r.settle()
	if s := r.eng.Snapshot(); s.SessionLabel != "S2" {
		t.Fatalf("p after recovery: session %s, want S2", s.SessionLabel)
	}
}

// TestThousandRotations changes the password 1000 times on the simulator
// (each followed by a poll) while the model runs in a real program and
// consumes the subscription: no event is lost, and keys pressed during and
// after the flood are handled.
func TestThousandRotations(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 rotations against the simulator")
	}
	r := newSimRig(t, 100_000)
	filter, received, seen := watchReceived()
	tm := teatest.NewTestModel(t, r.m,
		teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii), filter))
	// A safety net, not a speed check: under -race on a busy 2-core
	// machine the flood takes minutes (the speed is in the benchmarks).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	settle := func(i int) {
		t.Helper()
		if err := r.eng.Settle(ctx, r.b.Held, nil, nil); err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
	}
	began := time.Now()
	presses := 0
	for i := range 1000 {
		r.eng.Do(authstate.ActionChangePassword, false)
		settle(i)
		r.eng.Observe("test")
		settle(i)
		if i%50 == 0 {
			// A plain fetch through the program, finished before the
			// next rotation: a token request still out when the session
			// rotates gets a 401 that clears the new session cookie
			// (scenario 19), which would end this run early.
			tm.Type("t")
			presses++
			waitEngine(ctx, t, r.eng, func(authstate.Snapshot) bool { return countKind(r.eng, authstate.KindTokenServed) == presses })
			settle(i)
		}
	}
	took := time.Since(began)
	if s := r.eng.Snapshot(); s.SessionLabel != "S1001" {
		t.Fatalf("after 1000 rotations the client is in %s, want S1001", s.SessionLabel)
	}
	waitReceived(t, tm, received, seen, r.eng.Log().Total())

	// A key after the flood is answered.
	tm.Type("m")
	waitEngine(ctx, t, r.eng, func(s authstate.Snapshot) bool { return s.Policy == "hardened" })
	if err := r.eng.Settle(ctx, r.b.Held, nil, nil); err != nil {
		t.Fatal(err)
	}
	total := r.eng.Log().Total()
	waitReceived(t, tm, received, seen, total)
	tm.Type("q")
	final := tm.FinalModel(t, teatest.WithFinalTimeout(time.Minute)).(*Model)
	if final.Received() != total || final.Dropped() != 0 {
		t.Fatalf("the model received %d of %d events, dropped %d", final.Received(), total, final.Dropped())
	}
	t.Logf("1000 rotations + polls in %s; %d events, all received, none dropped; %d key presses handled during the flood", took.Round(time.Millisecond), total, presses)
}
