package fetcher

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/authscope/authscope/authstate"
)

// Gates is an http.RoundTripper that sits in the client transport and lets a
// user hold requests or responses, add latency, and inject faults, per
// endpoint (see EndpointOf). Because it lives on the client side it works
// against any server, the real one included. Safe for concurrent use.
//
// A request goes through, in order: latency, the request hold, the injected
// fault (taken from the queue when the request arrived), the server, the
// response hold. The response hold also holds the outcome of a failed round
// trip, so a held endpoint never resolves behind the user's back.
type Gates struct {
	next http.RoundTripper

	mu       sync.Mutex
	holdReq  map[string]bool
	holdResp map[string]bool
	latency  map[string]time.Duration
	faults   map[string][]Fault
	held     []*heldItem // arrival order
	lastID   int64
	inFlight int
	notify   func()
	maxBody  int64
	// releasing is closed when the previous Release has handed back all it took.
	releasing chan struct{}
}

// Fault is an injected failure for one request. Exactly one of Status or
// Network should be set; a zero Fault is ignored.
type Fault struct {
	// Status answers with a synthetic response with this status and the JSON
	// body {"code":"AUTHSCOPE_INJECTED","message":...}; the server is not contacted.
	Status int
	// Network fails the round trip like a dropped connection; the server is
	// not contacted. The error wraps ErrInjected.
	Network bool
	// Message replaces the default message in the synthetic body.
	Message string
}

// HeldItem describes one held request or response.
type HeldItem struct {
	ID       int64
	Endpoint string
	Since    time.Time
	Kind     string // "request" or "response"
}

// Hold kinds.
const (
	KindRequest  = "request"
	KindResponse = "response"
)

type heldItem struct {
	HeldItem
	release chan struct{} // closed by Release
	gone    chan struct{} // closed when the item has left the gate
	// handed is closed when the round trip is held again, or its result has
	// been handed to the caller: taken by the engine's loop when the request
	// carries an authstate.Handoff, returned from RoundTrip otherwise.
	handed chan struct{}
}

// InjectedCode is the "code" of a synthetic fault response.
const InjectedCode = "AUTHSCOPE_INJECTED"

// NewGates wraps next (a transport of its own, see NewTransport, when nil).
// Nothing is held, delayed or faulted until told.
func NewGates(next http.RoundTripper) *Gates {
	if next == nil {
		next = NewTransport()
	}
	return &Gates{
		next:     next,
		holdReq:  map[string]bool{},
		holdResp: map[string]bool{},
		latency:  map[string]time.Duration{},
		faults:   map[string][]Fault{},
		maxBody:  DefaultMaxBody,
	}
}

// SetMaxBody sets the limit for response bodies buffered by a response hold
// (default DefaultMaxBody). A bigger body fails the round trip with
// ErrBodyTooLarge.
func (g *Gates) SetMaxBody(n int64) {
	if n <= 0 {
		n = DefaultMaxBody
	}
	g.mu.Lock()
	g.maxBody = n
	g.mu.Unlock()
}

// HoldResponses turns the response hold for endpoint on or off. While on,
// requests reach the server, and each response is read in full, then held
// until released. Turning it off does not release what is already held.
func (g *Gates) HoldResponses(endpoint string, on bool) {
	g.mu.Lock()
	g.holdResp[endpoint] = on
	g.mu.Unlock()
}

// HoldRequests turns the request hold for endpoint on or off. While on, each
// request is held before it is sent; it already carries the cookies of the
// moment it was issued. Turning it off does not release what is already held.
func (g *Gates) HoldRequests(endpoint string, on bool) {
	g.mu.Lock()
	g.holdReq[endpoint] = on
	g.mu.Unlock()
}

// Holding reports whether requests or responses of endpoint are held.
func (g *Gates) Holding(endpoint string) (requests, responses bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.holdReq[endpoint], g.holdResp[endpoint]
}

// SetLatency adds d before each request to endpoint is sent (0 removes it).
func (g *Gates) SetLatency(endpoint string, d time.Duration) {
	g.mu.Lock()
	if d > 0 {
		g.latency[endpoint] = d
	} else {
		delete(g.latency, endpoint)
	}
	g.mu.Unlock()
}

// Latency returns the latency set for endpoint.
func (g *Gates) Latency(endpoint string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.latency[endpoint]
}

// InjectFault queues f for the next request to endpoint. Faults queue up:
// two calls fault the next two requests.
func (g *Gates) InjectFault(endpoint string, f Fault) {
	if !f.Network && (f.Status < 100 || f.Status > 999) {
		return
	}
	g.mu.Lock()
	g.faults[endpoint] = append(g.faults[endpoint], f)
	g.mu.Unlock()
}

// PendingFaults returns how many injected faults wait for endpoint.
func (g *Gates) PendingFaults(endpoint string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.faults[endpoint])
}

// SetNotify sets fn, called whenever the held set or the in-flight count
// changes. It is never called with the gate's lock held, may be called from
// any goroutine, and must not block.
func (g *Gates) SetNotify(fn func()) {
	g.mu.Lock()
	g.notify = fn
	g.mu.Unlock()
}

// Held returns how many requests and responses are held.
func (g *Gates) Held() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.held)
}

// HeldItems returns the held items in arrival order.
func (g *Gates) HeldItems() []HeldItem {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]HeldItem, len(g.held))
	for i, h := range g.held {
		out[i] = h.HeldItem
	}
	return out
}

// InFlight returns how many round trips have entered the gate and not yet
// returned, held ones included.
func (g *Gates) InFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inFlight
}

// Release releases held items across endpoints: "all" (in arrival order),
// "oldest" or "latest". It returns how many it released (0 when nothing is
// held or which is unknown). It does not wait for them; successive items are
// handed back in order, each after the previous one's result has reached its
// caller (for the engine's calls, after the engine's loop has taken it; see
// authstate.Handoff) or the previous one was held again.
func (g *Gates) Release(which string) int {
	g.mu.Lock()
	var picked []*heldItem
	switch n := len(g.held); {
	case n == 0:
	case which == "all":
		picked, g.held = g.held, nil
	case which == "oldest":
		picked, g.held = g.held[:1:1], g.held[1:]
	case which == "latest":
		picked, g.held = g.held[n-1:], g.held[:n-1:n-1]
	}
	if len(picked) == 0 {
		g.mu.Unlock()
		return 0
	}
	prev := g.releasing
	done := make(chan struct{})
	g.releasing = done
	fn := g.notify
	g.mu.Unlock()
	if fn != nil {
		fn()
	}
	go func() {
		defer close(done)
		if prev != nil {
			<-prev // keep the order across successive Release calls too
		}
		for _, h := range picked {
			close(h.release)
			<-h.gone
			<-h.handed
		}
	}()
	return len(picked)
}

// CloseIdleConnections closes the idle connections of the transport
// underneath, if it keeps any. http.Client.CloseIdleConnections reaches it.
func (g *Gates) CloseIdleConnections() {
	if c, ok := g.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// RoundTrip implements http.RoundTripper.
func (g *Gates) RoundTrip(req *http.Request) (*http.Response, error) {
	endpoint := EndpointOf(req)
	ctx := req.Context()

	g.mu.Lock()
	g.inFlight++
	lat := g.latency[endpoint]
	var fault *Fault
	if q := g.faults[endpoint]; len(q) > 0 {
		f := q[0]
		fault = &f
		g.faults[endpoint] = q[1:]
	}
	g.mu.Unlock()
	g.changed()
	var last *heldItem // the latest hold of this round trip
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
		g.changed()
		if last == nil {
			return
		}
		if h := authstate.HandoffFrom(ctx); h != nil {
			h.Notify(last.handed)
		} else {
			close(last.handed)
		}
	}()

	if lat > 0 {
		t := time.NewTimer(lat)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			closeBody(req)
			return nil, ctx.Err()
		}
	}
	if err := g.wait(ctx, endpoint, KindRequest, &last); err != nil {
		closeBody(req)
		return nil, err
	}

	var resp *http.Response
	var err error
	switch {
	case fault != nil && fault.Network:
		closeBody(req)
		err = fmt.Errorf("connection dropped (%w)", ErrInjected)
	case fault != nil:
		closeBody(req)
		resp = syntheticResponse(req, endpoint, *fault)
	default:
		resp, err = g.next.RoundTrip(req)
	}

	if !g.holdingResponses(endpoint) {
		return resp, err
	}
	if err == nil {
		if resp, err = g.buffer(resp); err != nil {
			resp = nil
		}
	}
	if werr := g.wait(ctx, endpoint, KindResponse, &last); werr != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, werr
	}
	return resp, err
}

func (g *Gates) holdingResponses(endpoint string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.holdResp[endpoint]
}

// wait holds the caller while the hold of this kind is on for endpoint,
// until Release or ctx ends it. *last is the round trip's previous hold; a
// new hold hands it on and takes its place.
func (g *Gates) wait(ctx context.Context, endpoint, kind string, last **heldItem) error {
	g.mu.Lock()
	on := g.holdReq[endpoint]
	if kind == KindResponse {
		on = g.holdResp[endpoint]
	}
	if !on {
		g.mu.Unlock()
		return nil
	}
	g.lastID++
	h := &heldItem{
		HeldItem: HeldItem{ID: g.lastID, Endpoint: endpoint, Since: time.Now(), Kind: kind},
		release:  make(chan struct{}),
		gone:     make(chan struct{}),
		handed:   make(chan struct{}),
	}
	g.held = append(g.held, h)
	g.mu.Unlock()
	if *last != nil {
		close((*last).handed)
	}
	*last = h
	g.changed()
	defer close(h.gone)

	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		removed := false
		for i, x := range g.held {
			if x == h {
				g.held = append(g.held[:i:i], g.held[i+1:]...)
				removed = true
				break
			}
		}
		g.mu.Unlock()
		if removed {
			g.changed()
		}
		return ctx.Err()
	}
}

// buffer reads resp's body in full (up to the limit) so that holding the
// response holds a complete answer, not a half-read connection.
func (g *Gates) buffer(resp *http.Response) (*http.Response, error) {
	g.mu.Lock()
	limit := g.maxBody
	g.mu.Unlock()
	defer resp.Body.Close()
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("gates: %w (limit %d bytes)", ErrBodyTooLarge, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("gates: %w (limit %d bytes)", ErrBodyTooLarge, limit)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	resp.TransferEncoding = nil
	return resp, nil
}

func (g *Gates) changed() {
	g.mu.Lock()
	fn := g.notify
	g.mu.Unlock()
	if fn != nil {
		fn()
	}
}

func syntheticResponse(req *http.Request, endpoint string, f Fault) *http.Response {
	msg := f.Message
	if msg == "" {
		msg = fmt.Sprintf("authscope injected HTTP %d on %s", f.Status, endpoint)
	}
	b, _ := json.Marshal(map[string]string{"code": InjectedCode, "message": msg})
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", f.Status, http.StatusText(f.Status)),
		StatusCode:    f.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(b)),
		ContentLength: int64(len(b)),
		Request:       req,
	}
}

// closeBody honours the RoundTripper contract: the request body is closed
// even when the request is never sent.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
