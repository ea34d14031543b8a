package fetcher_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/authscope/authscope/fetcher"
	"github.com/authscope/authscope/fetcher/authsim"
)

// connTracker counts a server's open connections.
type connTracker struct {
	mu      sync.Mutex
	open    map[net.Conn]bool
	changed chan struct{}
}

func (c *connTracker) state(conn net.Conn, s http.ConnState) {
	c.mu.Lock()
	switch s {
	case http.StateNew:
		c.open[conn] = true
	case http.StateClosed, http.StateHijacked:
		delete(c.open, conn)
	}
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *connTracker) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.open)
}

// Closing a backend closes the connections its transport keeps, before its
// OnClose hook stops the server: a connection left open (above all one
// dialed and parked unused) kept http.Server.Shutdown waiting out its
// timeout.
func TestBackendCloseLeavesNoConnectionOpen(t *testing.T) {
	tr := &connTracker{open: map[net.Conn]bool{}, changed: make(chan struct{}, 1)}
	srv := httptest.NewUnstartedServer(nil)
	origin := "http://" + srv.Listener.Addr().String()
	sim, err := authsim.New(authsim.Options{Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = sim
	srv.Config.ConnState = tr.state
	srv.Start()
	defer srv.Close()
	email, pw := sim.DefaultUser()
	b, err := fetcher.NewBackend(fetcher.BackendOptions{BaseURL: origin + "/api/auth", Email: email, Password: pw, Issuer: origin, ConvexURL: origin})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.SignIn(ctx); err != nil {
		t.Fatal(err)
	}
	// Requests at the same time open connections side by side.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if tok, err := b.FetchToken(ctx); err != nil || !tok.Verified {
				t.Errorf("FetchToken: %+v, %v", tok, err)
			}
		})
	}
	wg.Wait()
	if tr.count() == 0 {
		t.Fatal("the server saw no open connection")
	}
	b.Close()
	deadline := time.After(10 * time.Second) // a safety net: the closes take microseconds
	for tr.count() > 0 {
		select {
		case <-tr.changed:
		case <-deadline:
			t.Fatalf("%d connection(s) still open after Close", tr.count())
		}
	}
}
