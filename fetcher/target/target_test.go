package target

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/authscope/authscope/fetcher/authsim"
)

// stop returns as soon as the last busy connection goes, not at the next
// of http.Server.Shutdown's polls (1, 2, 4 … 500 ms apart): a run would
// otherwise wait a millisecond or more on the wall clock for a connection
// whose handler had not yet marked it idle when the run ended.
func TestStopWaitsForBusyConnectionsWithoutPolling(t *testing.T) {
	_, origin, stop, err := StartSim(authsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", origin[len("http://"):])
	if err != nil {
		stop()
		t.Fatal(err)
	}
	// Half a request: the server holds the connection as busy (new, then
	// reading its header) until it goes.
	if _, err := c.Write([]byte("GET /api/auth/ok HTTP/1.1\r\nHost: x\r\n")); err != nil {
		c.Close()
		stop()
		t.Fatal(err)
	}
	// The server accepts connections in order: once a later one has its
	// answer, it holds this one.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(origin + "/api/auth/ok")
	if err != nil {
		c.Close()
		stop()
		t.Fatal(err)
	}
	resp.Body.Close()
	stopped := make(chan time.Time, 1)
	go func() {
		stop()
		stopped <- time.Now()
	}()
	// Shutdown's polls fall at about 1, 3, 7 … 127, 255 and then 500 ms
	// apart (plus up to 10 % jitter): going at 300 ms, a polling stop
	// returns about 450 ms later. The bound below leaves a busy machine a
	// wide margin; the sleep only places the close between two polls.
	time.Sleep(300 * time.Millisecond)
	closed := time.Now()
	c.Close()
	var at time.Time
	select {
	case at = <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not return")
	}
	if lag := at.Sub(closed); lag > 250*time.Millisecond {
		t.Fatalf("stop returned %v after the last busy connection went; want at once", lag)
	}
}

// waitNotBusy returns once the last busy connection goes, woken by its
// state change.
func TestConnTrackerWakesOnTheLastBusyConnection(t *testing.T) {
	tr := &connTracker{busy: map[net.Conn]bool{}, changed: make(chan struct{})}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	tr.track(a, http.StateNew)
	tr.track(a, http.StateActive)
	tr.track(b, http.StateActive)
	done := make(chan struct{})
	go func() {
		tr.waitNotBusy(t.Context())
		close(done)
	}()
	tr.track(a, http.StateIdle)
	select {
	case <-done:
		t.Fatal("waitNotBusy returned while a connection was still active")
	default:
	}
	tr.track(b, http.StateClosed)
	<-done
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.busy) != 0 {
		t.Fatalf("%d connection(s) still counted busy", len(tr.busy))
	}
}
