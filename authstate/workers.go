package authstate

import "time"

// The engine's network calls run on goroutines that are kept for the next
// call rather than started afresh. A call goes through the HTTP client,
// JSON, cookies and signature checks (and, against the in-process
// simulator, the server's handler too), deep enough that a new goroutine's
// stack would be copied several times as it grows: in a run of a few
// milliseconds that was a tenth of the time. A kept goroutine has its
// stack grown already.
//
// Handing a call to a parked worker starts it as a go statement would:
// at once, concurrently with the caller, with no order among calls.

// workerIdle is how long an idle worker waits for a call before it ends.
const workerIdle = 2 * time.Second

// work hands calls to idle workers; unbuffered, a send succeeds only when a
// worker is waiting for one.
var work = make(chan func())

// goCall runs f on a goroutine of its own: an idle worker if one waits,
// else a new one.
func goCall(f func()) {
	select {
	case work <- f:
	default:
		go worker(f)
	}
}

func worker(f func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		f()
		f = nil
		idle.Reset(workerIdle)
		select {
		case f = <-work:
		case <-idle.C:
			return
		}
	}
}
