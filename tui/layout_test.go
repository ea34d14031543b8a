package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/authscope/authscope/authstate"
)

// recipeRig plays the README's one-minute recipe: m m (v0.12), h t, p,
// t, R, h R. The first fetch resolves with S1's token after the rotation,
// which v0.12 serves: a violation, and a stale fetch row.
func recipeRig(t *testing.T, opts ...rigOption) *rig {
	t.Helper()
	r := newRig(t, opts...)
	for _, k := range []string{"m", "m", "h", "t", "p", "t", "R", "h", "R"} {
		r.press(k)
		if r.m.mode == modeConfirm {
			r.press("y")
		}
		r.settle()
	}
	if r.m.snap.ViolationCount == 0 {
		t.Fatalf("the recipe gave no violation:\n%s", r.screen())
	}
	return r
}

// TestHeaderIsOneLine: whatever the width, the header takes one line (the
// status line comes second) and keeps the policy and the violation count;
// wider screens show more of it.
func TestHeaderIsOneLine(t *testing.T) {
	rigs := map[string]func(*testing.T) *rig{
		"recipe":      func(t *testing.T) *rig { return recipeRig(t) },
		"real target": func(t *testing.T) *rig { return recipeRig(t, realTarget, demo) },
		"two devices": func(t *testing.T) *rig {
			r := newRigN(t, 2)
			r.press("h")
			r.press("t")
			r.settle()
			return r
		},
	}
	for name, mk := range rigs {
		t.Run(name, func(t *testing.T) {
			r := mk(t)
			shown := 0
			for _, w := range []int{50, 60, 80, 100, 120, 140, 150, 200} {
				r.m.Update(tea.WindowSizeMsg{Width: w, Height: 24})
				lines := strings.Split(r.screen(), "\n")
				head := lines[0]
				if !strings.HasPrefix(lines[1], "»") && !strings.HasPrefix(lines[1], "ready") {
					t.Fatalf("%d columns: the header takes more than one line:\n%s", w, strings.Join(lines[:3], "\n"))
				}
				if ansi.StringWidth(head) > w {
					t.Fatalf("%d columns: the header is %d wide", w, ansi.StringWidth(head))
				}
				if w >= 60 && r.m.snap.ViolationCount > 0 && !strings.Contains(head, fmt.Sprintf("%d viol", r.m.snap.ViolationCount)) {
					t.Errorf("%d columns: the header lost the violation count: %q", w, head)
				}
				if w >= 60 && !strings.Contains(head, "policy ") {
					t.Errorf("%d columns: the header lost the policy: %q", w, head)
				}
				if w >= 80 && len(r.m.devs) == 1 && r.m.snap.ViolationCount > 0 && !strings.Contains(head, "violation") {
					t.Errorf("%d columns: the violation count is abbreviated: %q", w, head)
				}
				if n := strings.Count(head, " · "); n < shown {
					t.Errorf("%d columns: %d parts, fewer than at a narrower width (%d): %q", w, n, shown, head)
				} else {
					shown = n
				}
				t.Logf("%3d: %s", w, head)
			}
		})
	}
}

// staleFetch is the recipe's request that resolved with S1's token after
// the rotation, and the event that says so.
func staleFetch(t *testing.T, r *rig) authstate.Event {
	t.Helper()
	for _, ev := range r.eng.Log().All() {
		if ev.Kind == authstate.KindFetchResolved && ev.Stale {
			return ev
		}
	}
	t.Fatalf("no stale fetch_resolved in the recipe:\n%s", r.screen())
	return authstate.Event{}
}

// TestFetchRowSelectableAndReadInFull: at 80×24 the recipe's stale fetch
// row is cut; tab moves the focus to the fetches panel, the row stays
// while it has the focus, and enter shows it in full with its event.
func TestFetchRowSelectableAndReadInFull(t *testing.T) {
	r := recipeRig(t)
	stale := staleFetch(t, r)
	full := fmt.Sprintf("resolved: token for S1 (STALE: %s)", stale.Reason)
	if strings.Contains(r.screen(), full) {
		t.Fatalf("the row is not cut at 80 columns; the test shows nothing:\n%s", r.screen())
	}
	r.press("tab")
	if r.m.focus != focusFetches {
		t.Fatal("tab did not move the focus to the fetches")
	}
	// Finished rows normally go after 3 s; not while the panel is read.
	r.clock.Advance(10 * time.Second)
	r.m.Update(tickMsg{})
	for range maxFetchRows {
		if row, ok := r.m.fetches.selected(); !ok || row.id == stale.Fetch {
			break
		}
		r.press("down")
	}
	mustContain(t, r.screen(), fmt.Sprintf("› #%-3d plain", stale.Fetch), "tab back")
	r.press("enter")
	if r.m.mode != modeDetail {
		t.Fatalf("enter on a fetch row opened nothing:\n%s", r.screen())
	}
	sc := r.screen()
	mustContain(t, sc, fmt.Sprintf("Detail request #%d", stale.Fetch), "sent under S1", "outcome ✗ "+full,
		fmt.Sprintf("Event #%d, which ended it", stale.Seq), "kind fetch_resolved", "Raw JWT")
	r.press("esc")
	r.press("tab")
	if r.m.focus != focusEvents {
		t.Fatal("tab did not give the focus back to the log")
	}
	r.clock.Advance(10 * time.Second)
	r.m.Update(tickMsg{})
	if len(r.m.fetches.rows) != 0 {
		t.Fatalf("finished rows stayed after the focus left: %d", len(r.m.fetches.rows))
	}
}

// lineWith is the first screen line holding s (-1 if none).
func lineWith(screen, s string) int {
	for i, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, s) {
			return i
		}
	}
	return -1
}

func click(x, y int) tea.MouseClickMsg {
	return tea.MouseClickMsg(tea.Mouse{X: x, Y: y, Button: tea.MouseLeft})
}

func wheel(y int, b tea.MouseButton) tea.MouseWheelMsg {
	return tea.MouseWheelMsg(tea.Mouse{X: 10, Y: y, Button: b})
}

// TestMouseSelectsAndScrolls: the view turns on mouse reporting; a click
// selects the row under it (an event or a request) and a second click
// opens it; the wheel scrolls the log, or the fetches under the pointer.
func TestMouseSelectsAndScrolls(t *testing.T) {
	r := recipeRig(t)
	if r.m.View().MouseMode != tea.MouseModeCellMotion {
		t.Fatal("the view does not ask for mouse events")
	}
	stale := staleFetch(t, r)
	row := fmt.Sprintf("#%-3d plain", stale.Fetch)
	y := lineWith(r.screen(), row)
	if y < 0 {
		t.Fatalf("no row %q:\n%s", row, r.screen())
	}
	r.m.Update(click(5, y))
	if r.m.focus != focusFetches || r.m.fetches.sel != stale.Fetch || r.m.mode != modeNormal {
		t.Fatalf("a click on request #%d: focus %s, selected #%d, mode %s", stale.Fetch, r.m.focus, r.m.fetches.sel, r.m.mode)
	}
	mustContain(t, r.screen(), "› "+row)
	r.m.Update(click(5, y))
	mustContain(t, r.screen(), fmt.Sprintf("Detail request #%d", stale.Fetch))
	// The wheel scrolls the detail view (on a screen too short for it).
	r.m.Update(tea.WindowSizeMsg{Width: 80, Height: 12})
	r.m.Update(wheel(5, tea.MouseWheelDown))
	if r.m.detail.offset != wheelRows {
		t.Fatalf("a notch down scrolled the detail view to %d", r.m.detail.offset)
	}
	r.m.Update(wheel(5, tea.MouseWheelUp))
	if r.m.detail.offset != 0 {
		t.Fatalf("a notch up scrolled the detail view to %d", r.m.detail.offset)
	}
	r.m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	r.press("esc")

	// The wheel over the log moves its selection three rows a notch.
	sc := r.screen()
	logY := lineWith(sc, "── Events") + 1
	r.m.Update(wheel(logY, tea.MouseWheelUp))
	if r.m.focus != focusFetches {
		t.Fatal("the wheel moved the focus")
	}
	if r.m.events.follow {
		t.Fatal("the wheel up did not scroll the log")
	}
	total := r.eng.Log().Total()
	if r.m.events.sel != total-wheelRows {
		t.Fatalf("after a notch up the selection is #%d, want #%d", r.m.events.sel, total-wheelRows)
	}
	// A click on an event row selects that event and gives the log the
	// focus; a second click opens it.
	sc = r.screen()
	ev := r.m.events.rows[0]
	y = lineWith(sc, "── Events") + 1
	r.m.Update(click(30, y))
	if r.m.focus != focusEvents || r.m.events.sel != ev.Seq {
		t.Fatalf("a click on event #%d: focus %s, selected #%d", ev.Seq, r.m.focus, r.m.events.sel)
	}
	r.m.Update(click(30, y))
	mustContain(t, r.screen(), fmt.Sprintf("Detail event #%d", ev.Seq))
	r.press("esc")
	// The wheel over the fetches moves their selection.
	r.m.Update(wheel(lineWith(r.screen(), "── Fetches")+1, tea.MouseWheelDown))
	if r.m.focus != focusFetches {
		t.Fatal("the wheel over the fetches did not give them the focus")
	}
}

// TestConfirmIsABoxOverThePanels: p on a real target asks in a framed box
// in the middle of the screen, holding the whole question and the
// answers, at both sizes.
func TestConfirmIsABoxOverThePanels(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {140, 45}} {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			r := newRig(t, realTarget)
			r.m.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
			r.press("p")
			lines := strings.Split(r.screen(), "\n")
			top, bottom := lineWith(r.screen(), "╭─ Confirm"), lineWith(r.screen(), "╰")
			if top < 0 || bottom < top {
				t.Fatalf("no box:\n%s", r.screen())
			}
			if mid := (top + bottom) / 2; mid < sz.h/2-2 || mid > sz.h/2+2 {
				t.Errorf("the box is centred on line %d of %d", mid, sz.h)
			}
			var inside []string
			for _, l := range lines[top+1 : bottom] {
				a, b := strings.Index(l, "│"), strings.LastIndex(l, "│")
				if a < 0 || b <= a {
					t.Fatalf("a box line without borders: %q", l)
				}
				inside = append(inside, strings.TrimSpace(l[a+len("│"):b]))
			}
			text := strings.Join(strings.Fields(strings.Join(inside, " ")), " ")
			if !strings.Contains(text, r.m.confirm.question) || !strings.Contains(text, "y yes, do it · n/esc cancel") {
				t.Fatalf("the box says %q, want the question %q and the answers", text, r.m.confirm.question)
			}
			if strings.Contains(strings.Join(lines[bottom+1:], "\n"), "Change the password") {
				t.Errorf("the question is also on the bottom lines:\n%s", r.screen())
			}
			t.Logf("\n%s", r.screen())
		})
	}
}
