package authstate

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Reads look at the state without changing it, so they must not wake the
// waiters of Changed: a waiter that reads after every wake-up would spin.
func TestReadsDoNotSignalChanged(t *testing.T) {
	h := newHarness(t, "pr329", false)
	ch := h.e.Changed()
	h.e.Snapshot()
	_ = h.e.Err()
	h.e.Snapshot() // handled after the reads above and whatever they signalled
	select {
	case <-ch:
		t.Fatal("a read closed the Changed channel")
	default:
	}
	h.e.Observe("test")
	h.settle()
	select {
	case <-ch:
	default:
		t.Fatal("an observation did not close the Changed channel")
	}
}

// A waiter on a held fetch reads the state once per change, however often
// others read it: a TUI that snapshots on every frame must not make an
// Await spin.
func TestAwaitOnHeldFetchDoesNotSpin(t *testing.T) {
	h := newHarness(t, "pr329", false)
	h.b.mu.Lock()
	h.b.hold = true
	h.b.mu.Unlock()
	h.fetch("a", false)
	if h.b.Held() != 1 {
		t.Fatalf("held = %d, want the token response held", h.b.Held())
	}
	reads := func() int {
		var n int
		if err := h.e.read(func() { n = h.e.reads }); err != nil {
			t.Fatal(err)
		}
		return n
	}

	done := make(chan error, 1)
	before := reads()
	go func() { done <- h.e.Await(context.Background(), "a") }()
	// Wait until the waiter has made its first read; it then waits. (The
	// count includes our own reads, one per turn.)
	for n := 1; reads() < before+n+1; n++ {
		runtime.Gosched()
	}
	before = reads()
	const others = 200
	for range others {
		h.e.Snapshot()
	}
	h.b.release(0)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Counted from before: our own reads (the others and the last count)
	// and the waiter's, which reads once per change: the answer to
	// request #1 and the call's resolution are a handful of messages.
	waiter := reads() - before - others - 1
	if waiter > 10 {
		t.Errorf("the waiter read the state about %d times while the fetch was held; it should read once per change", waiter)
	}
	if c := h.call("a"); c.Token == nil {
		t.Errorf("call a returned no token: %+v", c)
	}
}

// Returned does not wait: it names the call that has not returned and the
// request it waits on.
func TestReturnedSaysWhatACallWaitsOn(t *testing.T) {
	h := newHarness(t, "pr329", false)
	h.b.mu.Lock()
	h.b.hold = true
	h.b.mu.Unlock()
	h.fetch("a", false)
	err := h.e.Returned("a")
	if err == nil || !strings.Contains(err.Error(), `fetch "a" has not returned: it is waiting on request #1`) {
		t.Fatalf("Returned = %v", err)
	}
	h.b.release(0)
	h.settle()
	if err := h.e.Returned("a"); err != nil {
		t.Fatalf("after the release: %v", err)
	}
}

// Settle reads the engine's running calls, then the transport's held ones.
// When the loop applies a completion between the two reads (here a poll
// whose answer starts a token request, which the transport holds, and a
// query, which it does not), the counts are of different moments: "one
// running, one held" must not be taken for "all that runs is held", or
// the next input races the query's answer.
func TestSettleReadsTheEngineAndTheTransportAtOneMoment(t *testing.T) {
	h := newConsumerHarness(t, "pr329", false)
	h.e.Do(ActionChangePassword, false) // the server rotates the session
	h.settle()
	poll, query := make(chan struct{}), make(chan struct{})
	h.b.mu.Lock()
	h.b.hold, h.b.sessionGate, h.b.queryGate = true, poll, query
	h.b.mu.Unlock()
	h.e.Observe("test") // the poll that finds the rotation waits
	calls := 0
	held := func() int {
		calls++
		switch calls {
		case 1:
			// Between Settle's two reads: the poll answers, and its answer
			// starts a token request (held) and a query (waiting).
			close(poll)
			for h.b.Held() == 0 {
				<-h.b.notify
			}
		case 2:
			// Settle read again: the query may answer now.
			close(query)
		}
		return h.b.Held()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := h.e.Settle(ctx, held, h.b.notify, h.clock); err != nil {
		t.Fatal(err)
	}
	var running int
	if err := h.e.read(func() { running = len(h.e.flights) - len(h.e.ready) }); err != nil {
		t.Fatal(err)
	}
	if calls < 2 {
		close(query)
	}
	if running != h.b.Held() {
		t.Fatalf("Settle returned with %d call(s) running and %d held: the query's answer was still to come", running, h.b.Held())
	}
}
