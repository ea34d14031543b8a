package tui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
)

// The panels are a fold of the event stream: a model whose engine never
// ran, handed the events another engine emitted, shows that engine's
// session, token and fetches. Nothing is read from the idle engine.
func TestPanelsFollowTheEventsAlone(t *testing.T) {
	clock := authstate.NewFakeClock(t0)
	srv := newFakeServer(clock)
	b := newFakeClient(srv)
	if err := b.SignIn(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := authstate.Config{Backend: b, Policy: "pr329", Clock: clock}
	live, err := authstate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stream := live.SubscribeAll(0)
	live.Start(context.Background())
	defer live.Stop()
	live.Fetch("call1", true, "test")
	if err := live.Settle(t.Context(), b.Held, b.notify, clock); err != nil {
		t.Fatal(err)
	}
	evs, _ := stream.Take(0)

	idle, err := authstate.New(authstate.Config{Backend: newFakeClient(srv), Policy: "pr329", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{Engine: idle, Target: "sim 127.0.0.1:3210", Now: clock.Now, TickEvery: -1, NoColor: true})
	m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	before := stripView(m)
	if strings.Contains(before, b.sessionID()[:8]) {
		t.Fatalf("the session shows before any event:\n%s", before)
	}
	m.Update(eventsMsg{events: evs})
	mustContain(t, stripView(m), "S1 · id "+b.sessionID(), "Token cached", "matches the current session", "#1", "resolved: token for S1", "last poll")
}
