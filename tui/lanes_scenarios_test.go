package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// Every shipped scenario under every policy, run against the simulator
// and its logged events given to the panel as a replay would: at 80×24
// and 140×45 the lanes fit the screen, and with the cursor on each
// violation or each flicker window's opening, that finding is on screen
// in words with its event number; at 60×15 they still fit.
func TestLanesEveryScenario(t *testing.T) {
	files, err := filepath.Glob("../scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	r := newRig(t)
	r.press("w")
	findings := 0
	for _, f := range files {
		sc, err := scenario.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, pol := range authstate.PolicyNames() {
			var mu sync.Mutex
			var evs []authstate.Event
			res := scenario.Run(context.Background(), &target.Sim{}, sc, pol, scenario.Options{OnEvent: func(ev authstate.Event) {
				mu.Lock()
				defer mu.Unlock()
				if !ev.Kind.Quiet() {
					evs = append(evs, ev)
				}
			}})
			if res.Skipped {
				continue
			}
			mu.Lock()
			src := sliceSource(evs)
			mu.Unlock()
			name := fmt.Sprintf("%s under %s", filepath.Base(f), pol)
			r.m.src = src
			for _, sz := range []struct{ w, h int }{{60, 15}, {80, 24}, {140, 45}} {
				r.m.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
				r.press("end")
				lanesFit(t, name, r.screen(), sz.w, sz.h)
				if sz.w == 60 {
					continue
				}
				for _, ev := range src {
					var want string
					switch {
					case ev.Kind == authstate.KindViolation:
						want = fmt.Sprintf("✗ %d ", ev.Seq)
					case ev.Kind == authstate.KindFlicker && ev.Reason == "open":
						want = fmt.Sprintf("░ %d–", ev.Seq)
					default:
						continue
					}
					findings++
					r.m.events.selectSeq(ev.Seq, r.m.src)
					r.m.Update(tickMsg{})
					s := r.screen()
					lanesFit(t, name, s, sz.w, sz.h)
					if !strings.Contains(s, want) || !strings.Contains(s, fmt.Sprintf("▲ %d ", ev.Seq)) {
						t.Errorf("%s at %dx%d, cursor on event %d (%s): the screen lacks %q:\n%s", name, sz.w, sz.h, ev.Seq, ev.Kind, want, s)
					}
				}
			}
		}
	}
	if findings == 0 {
		t.Fatal("no scenario had a violation or a flicker window")
	}
}

func lanesFit(t *testing.T, name, screen string, w, h int) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	if len(lines) > h {
		t.Errorf("%s: %d lines on a %d-line screen", name, len(lines), h)
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > w {
			t.Errorf("%s: a line of %d cells on a %d-wide screen: %q", name, n, w, l)
		}
	}
}
