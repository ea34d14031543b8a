package tui

import (
	"strings"
	"testing"
	"time"
)

// TestSessionPanelShowsAHangingPoll: while get-session has not answered,
// the session panel says a poll is in flight and for how long; when it
// times out, the panel says it failed (not "unchanged").
func TestSessionPanelShowsAHangingPoll(t *testing.T) {
	r := newRig(t)
	r.settle()
	r.m.refreshDevice(r.m.device)
	if !r.m.haveSnap {
		t.Fatal("no snapshot")
	}
	panel := func(width int, compact bool) string {
		return stripContent(strings.Join(r.m.pane(r.m.device).sessionPanel(width, compact), "\n"))
	}
	if got := panel(140, false); strings.Contains(got, "in flight") {
		t.Fatalf("a poll in flight shown while none is:\n%s", got)
	}

	r.m.snap.PollInFlight, r.m.snap.PollStarted = 7, r.m.now.Add(-4*time.Second)
	for _, w := range []int{140, 80} {
		for _, compact := range []bool{false, true} {
			if got := panel(w, compact); !strings.Contains(got, "poll #7 in flight 4s") {
				t.Errorf("%d wide (compact %v): no poll in flight:\n%s", w, compact, got)
			}
		}
	}

	r.m.snap.PollInFlight = 0
	r.m.snap.LastPoll = r.m.now
	r.m.snap.LastPollResult = "failed: get-session #7 had no answer after 10s (timed out)"
	if got := panel(140, false); !strings.Contains(got, "FAILED: get-session #7 had no answer after 10s (timed out)") || strings.Contains(got, "in flight") {
		t.Errorf("the timeout is not shown:\n%s", got)
	}
}
