package authsim

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Endpoint names used by the controls.
const (
	EndpointSignUp              = "sign-up"
	EndpointSignIn              = "sign-in"
	EndpointSignOut             = "sign-out"
	EndpointGetSession          = "get-session"
	EndpointChangePassword      = "change-password"
	EndpointListSessions        = "list-sessions"
	EndpointRevokeSession       = "revoke-session"
	EndpointRevokeSessions      = "revoke-sessions"
	EndpointRevokeOtherSessions = "revoke-other-sessions"
	EndpointToken               = "token"
	EndpointJWKS                = "jwks"
	EndpointOpenIDConfiguration = "openid-configuration"
	EndpointQuery               = "query"
	// EndpointOther counts requests to any other path.
	EndpointOther = "other"
)

var endpointPaths = map[string]string{
	BasePath + "/sign-up/email":                           EndpointSignUp,
	BasePath + "/sign-in/email":                           EndpointSignIn,
	BasePath + "/sign-out":                                EndpointSignOut,
	BasePath + "/get-session":                             EndpointGetSession,
	BasePath + "/change-password":                         EndpointChangePassword,
	BasePath + "/list-sessions":                           EndpointListSessions,
	BasePath + "/revoke-session":                          EndpointRevokeSession,
	BasePath + "/revoke-sessions":                         EndpointRevokeSessions,
	BasePath + "/revoke-other-sessions":                   EndpointRevokeOtherSessions,
	BasePath + "/convex/token":                            EndpointToken,
	BasePath + "/convex/jwks":                             EndpointJWKS,
	BasePath + "/convex/.well-known/openid-configuration": EndpointOpenIDConfiguration,
	QueryPath: EndpointQuery,
}

// Endpoints lists the endpoint names the controls accept, in a stable order.
func Endpoints() []string {
	return []string{
		EndpointSignUp, EndpointSignIn, EndpointSignOut, EndpointGetSession,
		EndpointChangePassword, EndpointListSessions, EndpointRevokeSession,
		EndpointRevokeSessions, EndpointRevokeOtherSessions, EndpointToken,
		EndpointJWKS, EndpointOpenIDConfiguration, EndpointQuery,
	}
}

func knownEndpoint(name string) bool {
	for _, e := range Endpoints() {
		if e == name {
			return true
		}
	}
	return false
}

// EndpointFor names the endpoint a request path belongs to, EndpointOther if none.
func EndpointFor(path string) string {
	if name, ok := endpointPaths[path]; ok {
		return name
	}
	return EndpointOther
}

// Fault is what FailNth does to a request instead of processing it.
type Fault struct {
	// Status answers with this HTTP status and a Better-Auth-style JSON error
	// body {"message","code"}.
	Status int
	// Code and Message override the error body (default: derived from Status).
	Code, Message string
	// Drop closes the connection without any response.
	Drop bool
}

type endpointControl struct {
	requests int
	latency  time.Duration
	holding  bool
	held     []*heldRequest
	faults   map[int]Fault // absolute request number → fault
}

type heldRequest struct{ release chan struct{} }

// control returns the control block of an endpoint; s.mu must be held.
func (s *Server) control(name string) *endpointControl {
	c := s.ctl[name]
	if c == nil {
		c = &endpointControl{faults: map[int]Fault{}}
		s.ctl[name] = c
	}
	return c
}

// notifyLocked wakes WaitHeld callers; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// SetLatency delays every request to endpoint by d before it is processed
// (0 removes the delay). The delay comes before any hold.
func (s *Server) SetLatency(endpoint string, d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.control(endpoint).latency = d
}

// Hold makes every later request to endpoint wait, before it is processed,
// until Release lets it go or its client gives up. Holding stays on until
// Unhold.
func (s *Server) Hold(endpoint string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.control(endpoint).holding = true
}

// Unhold stops holding new requests to endpoint and releases the held ones.
// It returns how many were released.
func (s *Server) Unhold(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.control(endpoint)
	c.holding = false
	return s.releaseLocked(c, "all")
}

// Release lets held requests to endpoint proceed: which is "all", "oldest" or
// "latest". It returns how many were released; holding stays on.
func (s *Server) Release(endpoint string, which string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.releaseLocked(s.control(endpoint), which)
}

func (s *Server) releaseLocked(c *endpointControl, which string) int {
	if len(c.held) == 0 {
		return 0
	}
	var out []*heldRequest
	switch strings.ToLower(which) {
	case "all", "":
		out, c.held = c.held, nil
	case "oldest":
		out, c.held = c.held[:1], c.held[1:]
	case "latest":
		n := len(c.held) - 1
		out, c.held = c.held[n:], c.held[:n:n]
	default:
		return 0
	}
	for _, h := range out {
		close(h.release)
	}
	s.notifyLocked()
	return len(out)
}

// Held reports how many requests to endpoint are waiting for a Release.
func (s *Server) Held(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.ctl[endpoint]; c != nil {
		return len(c.held)
	}
	return 0
}

// WaitHeld blocks until at least n requests to endpoint are held, or ctx ends.
func (s *Server) WaitHeld(ctx context.Context, endpoint string, n int) error {
	for {
		s.mu.Lock()
		held := 0
		if c := s.ctl[endpoint]; c != nil {
			held = len(c.held)
		}
		ch := s.changed
		s.mu.Unlock()
		if held >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// FailNth makes the nth request to endpoint from now on (1 = the next one)
// get the fault instead of being processed. Latency and holds still apply
// to it first.
func (s *Server) FailNth(endpoint string, n int, f Fault) {
	if n < 1 {
		n = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.control(endpoint)
	c.faults[c.requests+n] = f
}

// Requests reports how many requests to endpoint have arrived.
func (s *Server) Requests(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.ctl[endpoint]; c != nil {
		return c.requests
	}
	return 0
}

// arrive counts a request and picks its fault, if one was planned.
func (s *Server) arrive(name string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.control(name)
	c.requests++
	f, ok := c.faults[c.requests]
	if ok {
		delete(c.faults, c.requests)
	}
	return f, ok
}

// gate applies the latency and then the hold of an endpoint.
func (s *Server) gate(ctx context.Context, name string) error {
	s.mu.Lock()
	latency := s.control(name).latency
	s.mu.Unlock()
	if latency > 0 {
		if err := s.sleep(ctx, latency); err != nil {
			return err
		}
	}
	s.mu.Lock()
	c := s.control(name)
	if !c.holding {
		s.mu.Unlock()
		return nil
	}
	h := &heldRequest{release: make(chan struct{})}
	c.held = append(c.held, h)
	s.notifyLocked()
	s.mu.Unlock()
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for i, x := range c.held {
			if x == h {
				c.held = append(c.held[:i:i], c.held[i+1:]...)
				s.notifyLocked()
				break
			}
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

// applyFault answers a faulted request.
func (s *Server) applyFault(w http.ResponseWriter, f Fault) {
	if f.Drop {
		dropConnection(w)
		return
	}
	status := f.Status
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	code, msg := f.Code, f.Message
	if code == "" {
		code = statusCode(status)
	}
	if msg == "" {
		msg = http.StatusText(status)
		if msg == "" {
			msg = "Injected fault"
		}
	}
	b, _ := marshalJS(apiError{Message: msg, Code: code})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// dropConnection closes the client connection without a response. When the
// writer cannot be hijacked (HTTP/2), it aborts the handler the way net/http
// documents, which resets the stream.
func dropConnection(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

// statusCode is better-call's name for an HTTP status (its statusCodes table).
func statusCode(status int) string {
	switch status {
	case 400:
		return "BAD_REQUEST"
	case 401:
		return "UNAUTHORIZED"
	case 403:
		return "FORBIDDEN"
	case 404:
		return "NOT_FOUND"
	case 405:
		return "METHOD_NOT_ALLOWED"
	case 408:
		return "REQUEST_TIMEOUT"
	case 409:
		return "CONFLICT"
	case 413:
		return "PAYLOAD_TOO_LARGE"
	case 415:
		return "UNSUPPORTED_MEDIA_TYPE"
	case 422:
		return "UNPROCESSABLE_ENTITY"
	case 429:
		return "TOO_MANY_REQUESTS"
	case 500:
		return "INTERNAL_SERVER_ERROR"
	case 501:
		return "NOT_IMPLEMENTED"
	case 502:
		return "BAD_GATEWAY"
	case 503:
		return "SERVICE_UNAVAILABLE"
	case 504:
		return "GATEWAY_TIMEOUT"
	}
	t := http.StatusText(status)
	if t == "" {
		return "ERROR"
	}
	return strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_", "'", "").Replace(t))
}
