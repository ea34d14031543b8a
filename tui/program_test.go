package tui

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/authscope/authscope/authstate"
)

// probeMsg is a message the model ignores; sending one makes the program's
// filter look at the model once more.
type probeMsg struct{}

// watchReceived returns a program filter that publishes the model's
// received count, and a channel that ticks on every message.
func watchReceived() (tea.ProgramOption, *atomic.Uint64, chan struct{}) {
	var received atomic.Uint64
	seen := make(chan struct{}, 1)
	filter := tea.WithFilter(func(m tea.Model, msg tea.Msg) tea.Msg {
		if mm, ok := m.(*Model); ok {
			received.Store(mm.received)
		}
		select {
		case seen <- struct{}{}:
		default:
		}
		return msg
	})
	return filter, &received, seen
}

// waitReceived probes the running program until the model has taken want
// events from its subscription.
func waitReceived(t *testing.T, tm *teatest.TestModel, received *atomic.Uint64, seen chan struct{}, want uint64) {
	t.Helper()
	deadline := time.After(2 * time.Minute) // a safety net for a busy machine
	for received.Load() != want {
		tm.Send(probeMsg{})
		select {
		case <-seen:
		case <-deadline:
			t.Fatalf("the model received %d events, the engine logged %d", received.Load(), want)
		}
	}
}

// waitEngine waits until cond holds for the engine's snapshot.
func waitEngine(ctx context.Context, t *testing.T, e *authstate.Engine, cond func(authstate.Snapshot) bool) {
	t.Helper()
	for {
		ch := e.Changed()
		if cond(e.Snapshot()) {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatal("timed out waiting for the engine")
		}
	}
}

// TestProgramSmoke runs the model in a real Bubble Tea program: the first
// frame shows the session, a key drives the engine through the program, the
// event bridge delivers what it emitted, and q ends the program.
func TestProgramSmoke(t *testing.T) {
	r := newRig(t)
	filter, received, seen := watchReceived()
	tm := teatest.NewTestModel(t, r.m,
		teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(
			tea.WithColorProfile(colorprofile.Ascii),
			tea.WithEnvironment([]string{"TERM=xterm-256color"}),
			filter,
		))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("S1")) && bytes.Contains(b, []byte("provider mounted"))
	}, teatest.WithDuration(5*time.Second))

	tm.Type("f")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The program handles the key on its own goroutine: wait for the
	// request it starts, then for the engine to finish with it.
	waitEngine(ctx, t, r.eng, func(s authstate.Snapshot) bool { return s.TokenRequests == 1 })
	if err := r.eng.Settle(ctx, r.b.Held, r.b.notify, r.clock); err != nil {
		t.Fatal(err)
	}
	if r.b.tokens != 1 {
		t.Fatalf("f through the program sent %d token requests, want 1", r.b.tokens)
	}
	waitReceived(t, tm, received, seen, r.eng.Log().Total())
	tm.Type("?")
	tm.Type("q")
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if final.mode != modeHelp {
		t.Fatal("? was not handled before q")
	}
	golden.RequireEqual(t, []byte(stripView(final)))
}
