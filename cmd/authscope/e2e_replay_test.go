package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// durationRx matches a duration as the panels print one ("1.2s", "14m59s",
// "6d23h", "200ms"); spinnerRx a spinner's frame.
var (
	durationRx = regexp.MustCompile(` *\b\d+(\.\d+)?(ns|µs|ms|s|m|h|d)(\d+(\.\d+)?(ms|s|m|h))*\b`)
	spinnerRx  = regexp.MustCompile(`[⠁-⣿]`)
	eventsRx   = regexp.MustCompile(`(?m)^── Events (\d+)`)
	positionRx = regexp.MustCompile(`REPLAY \S+ (?:event )?(\d+)(?: of |/)(\d+)`)
)

// panelRegion is the screen from the session panel's title to the event
// log's title, with what depends on the moment it was drawn masked: the
// durations (ages, countdowns, an open flicker window's length), the
// spinners and the Convex strip, whose cells end at the view's clock.
func panelRegion(t *testing.T, screen string) string {
	t.Helper()
	p, ok := findPanels(screen)
	if !ok {
		t.Fatalf("no panels on screen:\n%s", screen)
	}
	return p
}

// findPanels is panelRegion without the failure: ok is false when the
// screen shows no whole panel region (as right after a resize, before
// the program has drawn at the new size and the old frame is cut off).
func findPanels(screen string) (string, bool) {
	lines := strings.Split(screen, "\n")
	from, to := -1, -1
	for i, l := range lines {
		if from < 0 && strings.HasPrefix(l, "── Session") {
			from = i
		}
		if from >= 0 && strings.HasPrefix(l, "── Events") {
			to = i
			break
		}
	}
	if from < 0 || to < 0 {
		return "", false
	}
	out := make([]string, 0, to-from)
	for _, l := range lines[from:to] {
		if strings.HasPrefix(strings.TrimSpace(l), "timeline ") || strings.Contains(l, "█ authenticated") {
			l = "(the Convex strip)"
		}
		l = durationRx.ReplaceAllString(l, " ‹d›") // columns padded to the width of a duration
		l = spinnerRx.ReplaceAllString(l, "‹s›")
		out = append(out, strings.TrimRight(l, " "))
	}
	return strings.Join(out, "\n"), true
}

// samePanels compares two masked panel regions line by line; a line cut
// short ("…") matches one it is the start of, since a masked duration
// moves where a line is cut.
func samePanels(a, b string) bool {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(la) != len(lb) {
		return false
	}
	for i := range la {
		x, y := la[i], lb[i]
		if x == y {
			continue
		}
		xc, xcut := strings.CutSuffix(x, "…")
		yc, ycut := strings.CutSuffix(y, "…")
		if !(xcut || ycut) || !(strings.HasPrefix(xc, yc) || strings.HasPrefix(yc, xc)) {
			return false
		}
	}
	return true
}

// settled waits until two captures 300 ms apart show the same panels: the
// engine has nothing left to do for now. A capture without a whole panel
// region (the old frame cut off by a resize the program has not drawn
// yet) does not count.
func (s *tmuxSession) settled() string {
	s.t.Helper()
	prev := ""
	deadline := time.Now().Add(15 * time.Second)
	for {
		sc := s.screen()
		if p, ok := findPanels(sc); ok && p == prev {
			return sc
		} else if ok {
			prev = p
		} else {
			prev = ""
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen never settled:\n%s", sc)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestE2ERecordAndReplayInTmux is issue 9's first "done when": record the
// README's stale-token recipe under v0.12 with --record, note the live
// screen once the stale token has been served, replay the trace, seek to
// that event, and check the panels say what the live screen said, at
// 140x45 and 80x24.
func TestE2ERecordAndReplayInTmux(t *testing.T) {
	bin, dir := buildForTmux(t)
	record := filepath.Join(dir, "recipe.jsonl")
	s := startTmuxSize(t, bin, dir, 140, 45, "--log-file", filepath.Join(dir, "authscope.log"), "--record", record)
	s.waitScreen("first screen", "S1", "policy pr329", "useConvexAuth authenticated")
	playToTheJoinedFetch(s)
	s.keys("R")
	s.waitScreen("R", "STALE: bound to S1, current session is S2")
	// The session poll goes on: each capture is paired with the number
	// of events it had taken, read from the same capture.
	type capture struct {
		screen string
		events int
	}
	live := map[string]capture{}
	for _, size := range []struct{ w, h int }{{140, 45}, {80, 24}} {
		s.resize(size.w, size.h)
		sc := s.settled()
		m := eventsRx.FindStringSubmatch(sc)
		if m == nil {
			t.Fatalf("no event count on the live screen:\n%s", sc)
		}
		n, _ := strconv.Atoi(m[1])
		live[fmt.Sprintf("%dx%d", size.w, size.h)] = capture{sc, n}
	}
	t.Logf("live:\n%s", live["140x45"].screen)
	s.keys("q")
	s.waitExit(dir)

	rdir := filepath.Join(dir, "replay")
	if err := os.Mkdir(rdir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := startTmuxSize(t, bin, rdir, 140, 45, "replay", "--log-file", filepath.Join(rdir, "replay.log"), record)
	r.waitScreen("replay opens", "REPLAY", "event 0 of")
	// ] to the first violation: the stale token served.
	r.keys("]")
	r.waitMatch("]", `REPLAY \S+ event [1-9]\d* of`)
	pos := func() int {
		r.waitMatch("the position in the header", positionRx.String())
		m := positionRx.FindStringSubmatch(r.screen())
		if m == nil {
			t.Fatalf("no position in the header:\n%s", r.screen())
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	for _, size := range []struct{ w, h int }{{140, 45}, {80, 24}} {
		name := fmt.Sprintf("%dx%d", size.w, size.h)
		want := live[name]
		r.resize(size.w, size.h)
		for p := pos(); p != want.events; p = pos() {
			next := p + 1
			if p < want.events {
				r.keys("Right")
			} else {
				r.keys("Left")
				next = p - 1
			}
			r.waitMatch(fmt.Sprintf("at event %d", next), fmt.Sprintf(`REPLAY \S+ (event )?%d( of |/)`, next))
		}
		r.waitMatch("replay at "+name, fmt.Sprintf(`(?m)^── Events %d\b`, want.events))
		replay := r.settled()
		if header, _, _ := strings.Cut(replay, "\n"); !strings.Contains(header, "REPLAY") {
			t.Fatalf("%s: the header does not say REPLAY:\n%s", name, replay)
		}
		if got, exp := panelRegion(t, replay), panelRegion(t, want.screen); !samePanels(got, exp) {
			t.Errorf("%s: the replay's panels differ from the live screen's.\nlive:\n%s\nreplay:\n%s", name, want.screen, replay)
		}
		for _, w := range []string{"STALE", "S2"} {
			if !strings.Contains(replay, w) {
				t.Errorf("%s: the replay lacks %q:\n%s", name, w, replay)
			}
		}
		t.Logf("replay at %s:\n%s", name, replay)
	}
	r.keys("p")
	r.waitScreen("read-only", "replay: read-only")
	r.keys("q")
	r.waitExit(rdir)
}
