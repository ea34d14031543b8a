package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
)

// clobberRig produces a pending-clobber violation under v0.12: two forced
// fetches are held, and the older one's finally empties the newer one's
// pending slot.
func clobberRig(t *testing.T) *rig {
	t.Helper()
	r := newRig(t, policy("v0.12"))
	r.press("h")
	// Settle after each fetch, as a user sees each held before the next
	// key: two requests sent at once reach the hold in either order.
	r.press("f")
	r.settle()
	r.press("f")
	r.settle()
	r.press("H")
	r.settle()
	if _, ok := lastEvent(r.eng, authstate.KindViolation); !ok {
		t.Fatal("no violation")
	}
	return r
}

// openLast selects the last event of kind k and opens its detail view.
func (r *rig) openLast(k authstate.Kind) authstate.Event {
	r.t.Helper()
	r.press("/")
	for _, c := range k.String() {
		r.press(string(c))
	}
	r.press("enter")
	r.press("enter")
	if r.m.mode != modeDetail {
		r.t.Fatalf("no detail view of a %s event:\n%s", k, r.screen())
	}
	return r.m.detail.ev
}

// TestViolationDetailSaysItsReasonOnce: a violation's reason and detail
// are the same sentence; the detail view shows it once.
func TestViolationDetailSaysItsReasonOnce(t *testing.T) {
	r := clobberRig(t)
	ev := r.openLast(authstate.KindViolation)
	sc := r.screen()
	// The wrapped sentence's first words appear once.
	head := ev.Detail[:30]
	if n := strings.Count(sc, head); n != 1 {
		t.Fatalf("the violation's sentence %q shows %d times:\n%s", head, n, sc)
	}
}

// TestStatusExplainsTheFlickerAfterP: after p with the Convex client, the
// status line says what caused the window and what removes it, at 80
// columns, and the flicker event's detail view says it at length.
func TestStatusExplainsTheFlickerAfterP(t *testing.T) {
	for _, pr83 := range []bool{false, true} {
		t.Run(map[bool]string{false: "pr83_off", true: "pr83_on"}[pr83], func(t *testing.T) {
			r := newRig(t, func(c *authstate.Config, o *Options) { c.Consumer = &authstate.ConsumerConfig{PR83: pr83} })
			r.clock.Advance(2 * time.Second)
			r.rotateHeld("p", 300*time.Millisecond)
			sc := r.screen()
			status := statusOf(sc)
			mustContain(t, status, "Convex flicker of 310ms after the password change", "queries failing under S1's deleted session",
				"until S2's token was confirmed", "no token-cache policy removes it")
			if pr83 {
				mustContain(t, status, "better-auth PR #9345")
				if strings.Contains(status, "#82") {
					t.Fatalf("with PR #83 the status blames clearAuth: %s", status)
				}
			} else {
				mustContain(t, status, "clearAuth on the fetcher swap (convex-js #82)", "PR #83 removes clearAuth")
			}
			r.openLast(authstate.KindFlicker)
			mustContain(t, r.screen(), "── Why", "What you see:")
			r.press("pgdown")
			mustContain(t, r.screen(), "What removes it: no token-cache policy")
		})
	}
}

// statusOf is the status lines of a screen (they start with »), joined.
func statusOf(screen string) string {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "» ") {
			out := []string{strings.TrimPrefix(l, "» ")}
			for _, n := range lines[i+1 : min(i+maxStatusLines, len(lines))] {
				if strings.HasPrefix(n, "──") {
					break
				}
				out = append(out, n)
			}
			// The wrap breaks lines at spaces and after hyphens.
			return strings.ReplaceAll(strings.Join(out, " "), "- ", "-")
		}
	}
	return ""
}

// TestStatusExplainsAViolation: a violation's status line names its cause
// and the policy that removes it; its detail view says it at length.
func TestStatusExplainsAViolation(t *testing.T) {
	r := clobberRig(t)
	mustContain(t, statusOf(r.screen()), "violation pending-clobber under v0.12", "v0.12's finally empties the pending slot whoever owns it",
		"pr329 (m) removes it")
	r.openLast(authstate.KindViolation)
	mustContain(t, r.screen(), "── Why", "What it means: a request's finally emptied", "What removes it: pr329 (m)")
}

// TestEveryInvariantIsExplained: the glossary and the status line have
// words for every violation kind the checker reports.
func TestEveryInvariantIsExplained(t *testing.T) {
	for _, inv := range authstate.Invariants {
		vk, ok := violationKinds[inv]
		if !ok || vk.meaning == "" || pick(vk.cause, "x") == "" || pick(vk.remedy, "x") == "" {
			t.Errorf("invariant %q has no explanation", inv)
		}
	}
}

// TestHelpShowsTheGlossary: ? opens a page that explains, below the keys,
// every timeline cell, every violation kind and the terms the panels use;
// at 80×24 it scrolls to its last line.
func TestHelpShowsTheGlossary(t *testing.T) {
	wants := []string{
		"█ authenticated:", "░ loading:", "✗ failing:", "_ signed out:",
		"pending slot:", "joined:", "configVersion:", "identity version:", "the provider's effects:",
		"clearAuth:", "PR #83:", "socket ready:", "socket paused:", "socket stopped:", "socket disconnected:",
	}
	for _, inv := range authstate.Invariants {
		wants = append(wants, inv+":")
	}
	for _, sz := range [][2]int{{80, 24}, {140, 45}} {
		r := newRig(t, consumer)
		r.m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		r.press("?")
		// Read the page screen by screen, as a user would.
		seen := r.screen()
		mustContain(t, seen, "── Help lines 1–", "p password+signal")
		for range 40 {
			r.press("pgdown")
			seen += r.screen()
		}
		for _, w := range wants {
			if !strings.Contains(seen, w) {
				t.Errorf("%dx%d: the help never shows %q", sz[0], sz[1], w)
			}
		}
		for _, l := range strings.Split(r.screen(), "\n") {
			if strings.HasPrefix(l, "── Help lines ") {
				// "lines a–b of n": the last screen ends at n.
				var a, b, n int
				if _, err := fmt.Sscanf(strings.TrimPrefix(l, "── Help lines "), "%d–%d of %d", &a, &b, &n); err != nil || b != n {
					t.Errorf("%dx%d: the help does not scroll to its end: %q (%v)", sz[0], sz[1], l, err)
				}
			}
		}
		r.press("esc")
		if r.m.mode != modeNormal {
			t.Fatal("esc did not close the help")
		}
	}
}

// TestResetCounters: after a flicker and a violation, c clears the header's
// violation count, the flicker windows and total and the timeline, and the
// log shows where; what happens next counts from zero.
func TestResetCounters(t *testing.T) {
	r := newRig(t, consumer, policy("v0.12"))
	r.clock.Advance(2 * time.Second)
	r.rotateHeld("p", 300*time.Millisecond)
	// A pending-clobber violation, as in clobberRig.
	r.press("h")
	// Settle after each fetch, as a user sees each held before the next
	// key: two requests sent at once reach the hold in either order.
	r.press("f")
	r.settle()
	r.press("f")
	r.settle()
	r.press("H")
	r.press("h")
	r.press("R")
	r.settle()
	r.clock.Advance(time.Second)
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	sc := r.screen()
	mustContain(t, headerOf(sc), "1 violation")
	mustContain(t, sc, "Convex flicker: 1 window, total 310ms")
	if cells := strings.Trim(stripOf(t, sc), " "); !strings.ContainsAny(cells, "✗░") {
		t.Fatalf("no flicker on the strip before c: %q", cells)
	}

	r.press("c")
	r.settle()
	r.m.Update(tickMsg{})
	sc = r.screen()
	if strings.Contains(headerOf(sc), "violation") {
		t.Fatalf("the header still counts violations after c:\n%s", sc)
	}
	mustContain(t, sc, "Convex flicker none", "counters_reset", "── counters reset")
	if strings.Contains(sc, "with no identity") {
		t.Fatalf("the count of queries with no identity survives c:\n%s", sc)
	}
	if cells := strings.Trim(stripOf(t, sc), " "); strings.ContainsAny(cells, "✗░") {
		t.Fatalf("the strip still shows the old flicker after c: %q", cells)
	}
	s := r.eng.Snapshot()
	if s.ViolationCount != 0 || s.Flicker.Count != 0 {
		t.Fatalf("engine after c: %d violations, %d flicker windows", s.ViolationCount, s.Flicker.Count)
	}

	// The next flicker counts from one.
	r.rotateHeld("p", 200*time.Millisecond)
	r.clock.Advance(time.Second)
	r.m.Update(tickMsg{})
	sc = r.screen()
	mustContain(t, sc, "Convex flicker: 1 window, total 210ms", "#1 03:04:08.310", "ran 1 time with no identity")
}

// headerOf is the header: the lines above the status (») or the first
// panel title.
func headerOf(screen string) string {
	var out []string
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, "» ") || strings.HasPrefix(l, "──") || strings.HasPrefix(l, "ready ·") {
			break
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// TestExplainerTokenFailure: a flicker after a failed token request under
// pr329 blames the null-as-sign-out and names hardened; under hardened,
// with no action before it, the sentence points at the log instead of
// blaming a policy.
func TestExplainerTokenFailure(t *testing.T) {
	feed := func(policy string, evs ...authstate.Event) explanation {
		var x explainer
		var last explanation
		for i, ev := range evs {
			ev.Seq, ev.Policy, ev.At = uint64(i+1), policy, t0.Add(time.Duration(i)*100*time.Millisecond)
			if xp, ok := x.observe(ev); ok {
				last = xp
			}
		}
		return last
	}
	calm := authstate.Event{Kind: authstate.KindConsumerState, Convex: &authstate.ConvexFlags{Authenticated: true}}
	open := authstate.Event{Kind: authstate.KindFlicker, Reason: "open", Detail: "flicker: Better Auth says signed in, but useConvexAuth says not authenticated"}
	closed := authstate.Event{Kind: authstate.KindFlicker, Reason: "closed", Detail: "flicker over after 1s"}
	failed := authstate.Event{Kind: authstate.KindFetchFailed, Fetch: 3, Detail: "request #3 failed"}

	xp := feed("pr329", calm, failed, open, closed)
	mustContain(t, xp.sentence, "Convex flicker of 100ms", "a token request failed and pr329 returned null", "#408", "hardened policy (m) retries")
	mustContain(t, strings.Join(xp.more, "\n"), "What removes it: the hardened policy")

	xp = feed("hardened", calm, open, closed)
	mustContain(t, xp.sentence, "useConvexAuth says not authenticated", "the events in the window show what started it")
	if strings.Contains(xp.sentence, "password change") || strings.Contains(xp.sentence, "#408") {
		t.Fatalf("a flicker with no cause before it is blamed: %s", xp.sentence)
	}
}
