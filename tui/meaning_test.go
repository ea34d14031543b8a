package tui

import (
	"strings"
	"testing"

	"github.com/authscope/authscope/authstate"
)

// clobberRig produces a pending-clobber violation under v0.12: two forced
// fetches are held, and the older one's finally empties the newer one's
// pending slot.
func clobberRig(t *testing.T) *rig {
	t.Helper()
	r := newRig(t, policy("v0.12"))
	r.press("h")
	r.press("f")
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
