package tui

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/authscope/authscope/trace"
)

// compareRecipeRig runs the README's stale-token recipe (h t p t R) in
// compare mode, each key to every column, with the Convex client model on.
func compareRecipeRig(t *testing.T, names ...string) *rig {
	t.Helper()
	r := rigColumns(t, names, consumer)
	for _, k := range []string{"h", "t", "p", "t", "R"} {
		r.advance(300 * time.Millisecond)
		r.columnsStep(k)
	}
	r.advance(500 * time.Millisecond)
	r.m.Update(tickMsg{})
	return r
}

// columnOf is the part of each screen line that column i (0-based) of n
// covers on a screen w wide.
func columnOf(screen string, i, n, w int) string {
	cw := columnWidth(w, n)
	var out []string
	for _, l := range strings.Split(screen, "\n") {
		r := []rune(l)
		from := i * (cw + len([]rune(columnSep)))
		if from >= len(r) {
			out = append(out, "")
			continue
		}
		out = append(out, string(r[from:min(from+cw, len(r))]))
	}
	return strings.Join(out, "\n")
}

// In compare mode the same keys reach both columns: v0.12 serves the stale
// token and the checker flags it; pr329 does neither, and the screen says
// in words where they differ.
func TestCompareShowsWhichColumnServesAStaleToken(t *testing.T) {
	r := compareRecipeRig(t, "v0.12", "pr329")
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	screen := r.screen()
	top := strings.Join(strings.Split(screen, "\n")[:20], "\n")
	v012, pr329 := columnOf(top, 0, 2, 140), columnOf(top, 1, 2, 140)
	if !strings.Contains(v012, "STALE served") || !strings.Contains(v012, "violation") {
		t.Errorf("the v0.12 column shows no stale token served and no violation:\n%s", v012)
	}
	if strings.Contains(pr329, "STALE served") || strings.Contains(pr329, "violation") {
		t.Errorf("the pr329 column shows a stale token or a violation:\n%s", pr329)
	}
	for _, want := range []string{"DIFFER stale token served: v0.12 YES", "pr329 no", "DIFFER violations: v0.12 "} {
		if !strings.Contains(screen, want) {
			t.Errorf("no %q on screen:\n%s", want, screen)
		}
	}
	// Both engines got every key: each has a token request held and
	// released, and a password change.
	for i, d := range r.devs {
		if d.b.changes != 1 || d.b.tokens < 2 {
			t.Errorf("column %d: %d password changes, %d token requests; want 1 and ≥ 2", i+1, d.b.changes, d.b.tokens)
		}
	}
}

// An action pressed while the columns settle waits its turn, then goes
// to every column.
func TestCompareKeysWaitForTheColumnsToSettle(t *testing.T) {
	r := rigColumns(t, []string{"v0.12", "pr329"})
	if cmd := r.press("t"); cmd == nil {
		t.Fatal("an action in compare mode returned no command to wait for the columns")
	}
	r.press("f")
	if !strings.Contains(r.m.status, "1 key(s) queued") {
		t.Fatalf("status %q: the second key was not queued", r.m.status)
	}
	r.settle()
	for i, d := range r.devs {
		if d.b.tokens != 1 {
			t.Fatalf("column %d: %d token requests before the columns settled; want 1", i+1, d.b.tokens)
		}
	}
	_, cmd := r.m.Update(settledMsg{})
	if cmd == nil {
		t.Fatal("the queued key did not go once the columns settled")
	}
	r.settle()
	for i, d := range r.devs {
		if d.b.tokens != 2 {
			t.Errorf("column %d: %d token requests after the queued forced fetch; want 2", i+1, d.b.tokens)
		}
	}
	// A column that does not settle in time is named, and the queue goes on.
	r.m.Update(settledMsg{late: []int{2}})
	if !strings.Contains(r.m.status, "pr329 did not settle") {
		t.Errorf("status %q: the late column is not named", r.m.status)
	}
}

// The event log holds every column's events, each row tagged with its
// column; d narrows it to one column and back.
func TestCompareLogTagsRowsWithTheirColumn(t *testing.T) {
	r := compareRecipeRig(t, "v0.12", "pr329")
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	r.press("/")
	for _, c := range "token_served" {
		r.press(string(c))
	}
	r.press("enter")
	rows := func() (v012, pr329 int) {
		for _, l := range strings.Split(r.screen(), "\n") {
			if !strings.Contains(l, "token_served") {
				continue
			}
			switch {
			case strings.HasPrefix(strings.TrimLeft(l, " ›"), "v0.12 "):
				v012++
			case strings.HasPrefix(strings.TrimLeft(l, " ›"), "pr329 "):
				pr329++
			}
		}
		return
	}
	if a, b := rows(); a == 0 || b == 0 {
		t.Fatalf("merged log: %d v0.12 rows, %d pr329 rows of token_served; want both:\n%s", a, b, r.screen())
	}
	r.press("d")
	if a, b := rows(); a == 0 || b != 0 {
		t.Errorf("log narrowed to v0.12: %d v0.12 rows, %d pr329 rows:\n%s", a, b, r.screen())
	}
	r.press("d")
	if a, b := rows(); a != 0 || b == 0 {
		t.Errorf("log narrowed to pr329: %d v0.12 rows, %d pr329 rows:\n%s", a, b, r.screen())
	}
	r.press("d")
	if a, b := rows(); a == 0 || b == 0 {
		t.Errorf("back to every column: %d v0.12 rows, %d pr329 rows", a, b)
	}
	// The detail of a merged row is that row's event.
	r.press("enter")
	if !strings.Contains(r.screen(), "token_served") {
		t.Errorf("the detail view does not show the selected event:\n%s", r.screen())
	}
}

// The policy key does not change a column's variant.
func TestComparePolicyKeyKeepsTheVariants(t *testing.T) {
	r := rigColumns(t, []string{"v0.12", "pr329"})
	r.press("m")
	r.settle()
	for i, want := range []string{"v0.12", "pr329"} {
		if got := r.m.devs[i].snap.Policy; got != want {
			t.Errorf("column %d runs %s after m; want %s", i+1, got, want)
		}
	}
}

func TestCompareGolden(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {140, 45}, {250, 80}} {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			r := compareRecipeRig(t, "v0.12", "pr329", "pr329+pr83", "hardened")
			r.m.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
			golden.RequireEqual(t, []byte(wallClockFree(r.screen())))
		})
	}
}

// A compare session's trace replays as columns: at its end the columns
// and their differences say what the live screen said, and the log's rows
// carry their column.
func TestReplayShowsTheColumns(t *testing.T) {
	names := []string{"v0.12", "pr329"}
	rec := &recorder{}
	rec.w = trace.NewWriter(&rec.buf, trace.Header{
		Authscope: "test", Command: "tui", Policy: "v0.12", Started: t0, Devices: len(names), Columns: names,
		Target:  trace.Target{Kind: "sim", Host: "127.0.0.1:3210"},
		Options: map[string]string{"consumer": "true", "poll": "0s"},
	}, trace.Options{})
	r := rigColumns(t, names, rec.device(), consumer)
	for _, k := range []string{"h", "t", "p", "t", "R"} {
		r.advance(300 * time.Millisecond)
		r.columnsStep(k)
	}
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	r.m.Update(tickMsg{})
	live := r.screen()
	m := replayOf(t, rec.trace(t), 140, 45)
	replayPress(m, "end")
	replay := stripView(m)
	block := func(screen string) string {
		lines := strings.Split(screen, "\n")
		from, to := -1, -1
		for i, l := range lines {
			if from < 0 && strings.HasPrefix(l, " 1 v0.12") {
				from = i
			}
			if strings.HasPrefix(l, "── Events") {
				to = i
				break
			}
		}
		if from < 0 || to < 0 {
			t.Fatalf("no columns on screen:\n%s", screen)
		}
		return strings.Join(lines[from:to], "\n")
	}
	if got, want := block(replay), block(live); got != want {
		t.Fatalf("the replay's columns differ from the live ones.\nlive:\n%s\nreplay:\n%s", want, got)
	}
	if !strings.Contains(replay, "DIFFER stale token served: v0.12 YES") {
		t.Errorf("the replay does not say where the columns differ:\n%s", replay)
	}
	tagged := 0
	for _, l := range strings.Split(replay, "\n") {
		if s := strings.TrimLeft(l, " ›"); strings.HasPrefix(s, "v0.12 ") || strings.HasPrefix(s, "pr329 ") {
			tagged++
		}
	}
	if tagged < 5 {
		t.Errorf("%d log rows tagged with a column in the replay:\n%s", tagged, replay)
	}
}

// A duration from a file can be anything: the most negative one has no
// positive twin, and must not send humanDur round for ever.
func TestHumanDurOfExtremes(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{math.MinInt64, "-106751d23h"}, {math.MaxInt64, "106751d23h"}, {-1500 * time.Millisecond, "-1.5s"}} {
		if got := humanDur(c.d); got != c.want {
			t.Errorf("humanDur(%d) = %q, want %q", int64(c.d), got, c.want)
		}
	}
}

// cellWidth is ansi.StringWidth, only quicker: the same width for every
// kind of line the panels draw, and for anything else.
func TestCellWidthIsStringWidth(t *testing.T) {
	st := NewStyles(true, false)
	for _, s := range []string{
		"", "plain ascii", st.Bad.Render("STALE") + " · " + st.Dim.Render("x"), "── Session ─────", "⠇ in flight", "✓ resolved", "✗ ✗ █░_",
		"e\u0301", "日本語", "⏸ ▶ ×¼ ½", "a\x1b]8;;http://x\x07link\x1b]8;;\x07", "\x1b[", "\x1b[31", "tab\there", "\u200d", "→ ← ›", "•",
	} {
		if got, want := cellWidth(s), ansi.StringWidth(s); got != want {
			t.Errorf("cellWidth(%q) = %d, ansi.StringWidth = %d", s, got, want)
		}
	}
}

func FuzzCellWidth(f *testing.F) {
	f.Add("── Fetches ─ · ✓ \x1b[1mbold\x1b[0m")
	f.Add("e\u0301 日本")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := cellWidth(s), ansi.StringWidth(s); got != want {
			t.Errorf("cellWidth(%q) = %d, ansi.StringWidth = %d", s, got, want)
		}
	})
}

// The header shows the current column's hold and latency. Holds mirror,
// so the columns agree; where one column's transport holds otherwise, the
// header says so in words.
func TestCompareHeaderSaysWhenHoldsDiffer(t *testing.T) {
	r := rigColumns(t, []string{"v0.12", "pr329"})
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	r.columnsStep("h")
	r.m.Update(tickMsg{})
	if s := r.screen(); strings.Contains(s, "holds differ") || strings.Contains(s, "holds or latencies differ") {
		t.Fatalf("the columns hold alike, yet the header says they differ:\n%s", s)
	}
	if err := r.devs[1].eng.Hold("none"); err != nil {
		t.Fatal(err)
	}
	r.settle()
	r.m.Update(tickMsg{})
	if header := strings.SplitN(r.screen(), "\n", 2)[0]; !strings.Contains(header, "the columns' holds or latencies differ") {
		t.Fatalf("one column stopped holding, and the header does not say the columns differ:\n%s", header)
	}
}
