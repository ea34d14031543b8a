package tui

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/fetcher"
	"github.com/authscope/authscope/fetcher/authsim"
	"github.com/authscope/authscope/fetcher/target"
)

// simDevices is a model over n devices of the simulator's default user,
// each with its own backend (cookie jar, gates) and engine (wall clock),
// signed in separately, with the Convex client model querying the
// simulator's /api/query. The view's clock can be moved ahead of the wall
// clock, so the strip can be read "later" without sleeping.
type simDevices struct {
	t     *testing.T
	devs  []rigDevice2
	m     *Model
	ahead atomic.Int64
}

type rigDevice2 struct {
	b   *fetcher.Backend
	eng *authstate.Engine
}

func newSimDevices(t *testing.T, n int, policy string) *simDevices {
	t.Helper()
	srv, origin, stop, err := target.StartSim(authsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	email, password := srv.DefaultUser()
	r := &simDevices{t: t}
	var devices []Device
	for range n {
		b, err := fetcher.NewBackend(fetcher.BackendOptions{BaseURL: origin + "/api/auth", Email: email, Password: password, Issuer: origin, ConvexURL: origin, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close)
		if err := b.SignIn(t.Context()); err != nil {
			t.Fatal(err)
		}
		eng, err := authstate.New(authstate.Config{Backend: b, Policy: policy, LogSize: 4096, Consumer: &authstate.ConsumerConfig{Backend: b}})
		if err != nil {
			t.Fatal(err)
		}
		r.devs = append(r.devs, rigDevice2{b: b, eng: eng})
		devices = append(devices, Device{Engine: eng, Transport: b})
	}
	r.m = New(Options{Devices: devices, Target: "sim", TickEvery: -1, NoColor: true,
		Now: func() time.Time { return time.Now().Add(time.Duration(r.ahead.Load())) }})
	for _, d := range r.devs {
		d.eng.Start(context.Background())
		t.Cleanup(d.eng.Stop)
	}
	r.settle()
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	return r
}

// settle waits until no device has work left, then delivers their events.
func (r *simDevices) settle() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var before uint64
		for _, d := range r.devs {
			before += d.eng.Log().Total()
		}
		for _, d := range r.devs {
			if err := d.eng.Settle(ctx, d.b.Held, nil, nil); err != nil {
				r.t.Fatalf("settle: %v", err)
			}
		}
		var after uint64
		for _, d := range r.devs {
			after += d.eng.Log().Total()
		}
		if after == before {
			break
		}
	}
	r.pump()
}

func (r *simDevices) pump() {
	for i, d := range r.m.devs {
		batch, _ := d.sub.Take(0)
		r.m.Update(eventsMsg{dev: i, events: batch})
	}
}

func (r *simDevices) press(k string) { r.m.Update(keyMsg(k)) }

// later moves the view's clock ahead and refreshes, as ticks would.
func (r *simDevices) later(d time.Duration) {
	r.ahead.Add(int64(d))
	r.m.Update(tickMsg{})
}

// TestSimPasswordChangeFlickers: on the simulator, p makes the Convex side
// flicker under every policy (reference §5 case 6: the server deletes the
// session the query reads, then the fetcher swap clears auth). The panel
// counts the window with its reason, the strip keeps a cell that is not
// authenticated, and the client ends authenticated.
func TestSimPasswordChangeFlickers(t *testing.T) {
	for _, p := range authstate.PolicyNames() {
		t.Run(p, func(t *testing.T) {
			r := newSimDevices(t, 1, p)
			if s := r.devs[0].eng.Snapshot(); !s.Convex.IsAuthenticated || s.Flicker.Count != 0 {
				t.Fatalf("before p: authenticated %v, %d flickers", s.Convex.IsAuthenticated, s.Flicker.Count)
			}
			r.later(time.Second)
			r.press("p")
			r.settle()
			s := r.devs[0].eng.Snapshot()
			if s.SessionLabel != "S2" || s.Flicker.Count < 1 || !s.Convex.IsAuthenticated || s.Flicker.Open {
				t.Fatalf("after p: session %s, %d flickers (open %v), authenticated %v", s.SessionLabel, s.Flicker.Count, s.Flicker.Open, s.Convex.IsAuthenticated)
			}
			r.later(2 * time.Second)
			sc := r.screen()
			mustContain(t, sc, "── Convex client model", "useConvexAuth authenticated", "Convex flicker: ", "Better Auth says signed in, Convex disagrees", "#1 ", "Unauthenticated")
			cells := stripOf(t, sc)
			if !strings.ContainsAny(cells, "✗░") {
				t.Fatalf("the strip shows no flicker after p: %q", cells)
			}
			if !strings.HasSuffix(cells, "██") {
				t.Fatalf("the strip does not end authenticated: %q", cells)
			}
			// At 80x24 too, in the compact panel.
			r.m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			sc = r.screen()
			mustContain(t, sc, "── Convex authenticated · query ok", "Convex flicker: ")
			if cells := stripOf(t, sc); !strings.ContainsAny(cells, "✗░") || !strings.HasSuffix(cells, "█") {
				t.Fatalf("80x24 strip %q", cells)
			}
		})
	}
}

func (r *simDevices) screen() string { return stripView(r.m) }

// TestSimPasswordChangeEndsTheOtherDevice: two devices of one user on the
// simulator. p on device 1 (change-password with revokeOtherSessions)
// rotates device 1's session; device 2's session is gone on the server, so
// its next query fails and its next poll finds no session, after which
// its Convex side is signed out. Device 2's poller, not the test, finds it.
func TestSimPasswordChangeEndsTheOtherDevice(t *testing.T) {
	r := newSimDevices(t, 2, "pr329")
	d1, d2 := r.devs[0], r.devs[1]
	sc := r.screen()
	mustContain(t, sc, "device 1/2", "device 2: S1, Convex authenticated")

	r.press("p")
	r.settle()
	if s := d1.eng.Snapshot(); s.SessionLabel != "S2" || !s.Convex.IsAuthenticated {
		t.Fatalf("device 1 after p: %s, authenticated %v", s.SessionLabel, s.Convex.IsAuthenticated)
	}
	// Device 2 has not looked yet: it still believes in its session.
	if s := d2.eng.Snapshot(); s.Session == nil {
		t.Fatal("device 2 noticed before observing anything")
	}
	// Its subscribed query runs again (the interval, here by hand): the
	// session it reads is gone.
	d2.eng.RerunQuery("interval")
	r.settle()
	if s := d2.eng.Snapshot(); s.Convex.LastResult == nil || s.Convex.LastResult.OK() || !s.Flicker.Open {
		t.Fatalf("device 2's query after the revocation: %+v, flicker open %v", s.Convex.LastResult, s.Flicker.Open)
	}
	mustContain(t, r.screen(), "device 2: S1, Convex failing")

	// Its poller runs (device 2 keeps running while device 1 is shown) and
	// finds the session gone.
	d2.eng.SetPollInterval(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitEngine(ctx, t, d2.eng, func(s authstate.Snapshot) bool { return s.Session == nil && !s.Convex.IsAuthenticated })
	d2.eng.SetPollInterval(0)
	r.settle()
	r.later(2 * time.Second)
	mustContain(t, r.screen(), "device 2: signed out")

	r.press("d")
	sc = r.screen()
	mustContain(t, sc, "device 2/2", "device 1: S2, Convex authenticated", "signed out", "session S1 ended", "Convex flicker: 1 window")
	cells := stripOf(t, sc)
	if !strings.Contains(cells, "✗") || !strings.HasSuffix(cells, "_") {
		t.Fatalf("device 2's strip: %q; want the failing query, then signed out", cells)
	}
	// Device 2 signs in again, with a session of its own.
	r.press("i")
	r.settle()
	if s := d2.eng.Snapshot(); s.Session == nil || s.SessionLabel != "S2" {
		t.Fatalf("device 2 after i: %+v", s.SessionLabel)
	}
	if d1.eng.Snapshot().Session.ID == d2.eng.Snapshot().Session.ID {
		t.Fatal("the devices share a session")
	}
}
