package authstate

import (
	"testing"
)

// TestConsumerStateNotRepeated: a consumer_state event says that
// useConvexAuth or the query changed, so two in a row never carry the
// same flags.
func TestConsumerStateNotRepeated(t *testing.T) {
	for _, policy := range PolicyNames() {
		t.Run(policy, func(t *testing.T) {
			h := newConsumerHarness(t, policy, false)
			h.e.Do(ActionChangePassword, true)
			h.settle()
			h.e.Do(ActionChangePassword, false)
			h.settle()
			h.e.Fetch("", true, "test")
			h.settle()
			if err := h.e.SetPolicy(policy); err != nil {
				t.Fatal(err)
			}
			h.settle()
			h.e.Do(ActionSignOut, true)
			h.settle()
			h.e.Do(ActionSignIn, true)
			h.settle()
			var last *Event
			for _, ev := range h.e.Log().All() {
				if ev.Kind != KindConsumerState {
					continue
				}
				if last != nil && *last.Convex == *ev.Convex {
					t.Errorf("#%d repeats #%d: %s", ev.Seq, last.Seq, ev.Detail)
				}
				ev := ev
				last = &ev
			}
		})
	}
}
