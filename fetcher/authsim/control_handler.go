package authsim

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// ControlPrefix is where `authscope sim` mounts ControlHandler.
const ControlPrefix = "/_authsim/"

// ControlHandler serves the simulator's controls as JSON, for loopback
// clients only. Paths are relative to ControlPrefix (the prefix itself is
// optional, so the handler works mounted with or without http.StripPrefix):
//
//	GET  state                                   endpoints, sessions (no tokens), alg
//	POST latency        {"endpoint","ms"} or {"endpoint","duration":"250ms"}
//	POST hold           {"endpoint"}
//	POST unhold         {"endpoint"}                       → {"released":N}
//	POST release        {"endpoint","which":"all|oldest|latest"} → {"released":N}
//	POST fault          {"endpoint","nth","status","code","message","drop"}
//	POST expire-session {"sessionId"}                     → {"expired":bool}
//
// Besides refusing any RemoteAddr that is not loopback, it refuses a Host
// header that is not a loopback name (localhost, 127.0.0.1, [::1]), so a
// page whose DNS name was rebound to 127.0.0.1 cannot read it; it requires
// Content-Type: application/json on POST and refuses a foreign Origin, so a
// web page in a local browser cannot drive it with a simple cross-site form.
func (s *Server) ControlHandler() http.Handler {
	return http.HandlerFunc(s.serveControl)
}

type controlRequest struct {
	Endpoint  string `json:"endpoint"`
	MS        *int64 `json:"ms"`
	Duration  string `json:"duration"`
	Which     string `json:"which"`
	Nth       int    `json:"nth"`
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Drop      bool   `json:"drop"`
	SessionID string `json:"sessionId"`
}

// ControlState is the answer of GET state.
type ControlState struct {
	Alg      string   `json:"alg"`
	Origin   string   `json:"origin,omitempty"`
	Trusted  []string `json:"trustedOrigins,omitempty"`
	TokenTTL float64  `json:"tokenTtlSeconds"`
	// PreserveSession is Options.PreserveSession (better-auth PR #9345).
	PreserveSession bool                    `json:"preserveSession,omitempty"`
	Endpoints       map[string]EndpointInfo `json:"endpoints"`
	Sessions        []SessionState          `json:"sessions"`
}

// EndpointInfo describes the controls of one endpoint.
type EndpointInfo struct {
	Requests  int   `json:"requests"`
	Held      int   `json:"held"`
	Holding   bool  `json:"holding"`
	LatencyMS int64 `json:"latencyMs"`
	Faults    []int `json:"pendingFaults,omitempty"` // request numbers still to fail
}

// SessionState is a session as the control API shows it: never the token.
type SessionState struct {
	ID        string `json:"id"`
	UserID    string `json:"userId"`
	ExpiresAt string `json:"expiresAt"`
	CreatedAt string `json:"createdAt"`
	Expired   bool   `json:"expired"`
}

// State snapshots the controls and sessions.
func (s *Server) State() ControlState {
	now := s.nowMillis()
	st := ControlState{Alg: s.alg, Origin: s.origin, Trusted: s.trusted, TokenTTL: s.ttl.Seconds(), PreserveSession: s.preserve, Endpoints: map[string]EndpointInfo{}}
	s.mu.Lock()
	for _, name := range append(Endpoints(), EndpointOther) {
		info := EndpointInfo{}
		if c := s.ctl[name]; c != nil {
			info = EndpointInfo{Requests: c.requests, Held: len(c.held), Holding: c.holding, LatencyMS: c.latency.Milliseconds()}
			for n := range c.faults {
				info.Faults = append(info.Faults, n)
			}
			sort.Ints(info.Faults)
		}
		st.Endpoints[name] = info
	}
	s.mu.Unlock()
	for _, si := range s.Sessions() {
		st.Sessions = append(st.Sessions, SessionState{
			ID: si.ID, UserID: si.UserID, ExpiresAt: isoTime(si.ExpiresAt), CreatedAt: isoTime(si.CreatedAt),
			Expired: si.ExpiresAt.Before(now),
		})
	}
	if st.Sessions == nil {
		st.Sessions = []SessionState{}
	}
	return st
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	if !loopbackAddr(r.RemoteAddr) {
		controlJSON(w, http.StatusForbidden, map[string]string{"error": "the control API answers loopback clients only"})
		return
	}
	if !loopbackHost(r.Host) {
		controlJSON(w, http.StatusMisdirectedRequest, map[string]string{"error": "the control API answers only to a loopback Host (localhost, 127.0.0.1 or [::1])"})
		return
	}
	if o := r.Header.Get("Origin"); o != "" && !loopbackOrigin(o) {
		controlJSON(w, http.StatusForbidden, map[string]string{"error": "foreign Origin refused"})
		return
	}
	op := strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(ControlPrefix, "/"))
	op = strings.Trim(op, "/")
	if op == "state" {
		if r.Method != http.MethodGet {
			controlJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET"})
			return
		}
		controlJSON(w, http.StatusOK, s.State())
		return
	}
	if r.Method != http.MethodPost {
		controlJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		controlJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "Content-Type must be application/json"})
		return
	}
	var req controlRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		controlJSON(w, http.StatusBadRequest, map[string]string{"error": "bad JSON: " + err.Error()})
		return
	}
	if op != "expire-session" && !knownEndpoint(req.Endpoint) {
		controlJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("unknown endpoint %q (want one of %s)", req.Endpoint, strings.Join(Endpoints(), ", "))})
		return
	}
	switch op {
	case "latency":
		d, err := req.latency()
		if err != nil {
			controlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		s.SetLatency(req.Endpoint, d)
		controlJSON(w, http.StatusOK, map[string]any{"endpoint": req.Endpoint, "latencyMs": d.Milliseconds()})
	case "hold":
		s.Hold(req.Endpoint)
		controlJSON(w, http.StatusOK, map[string]any{"endpoint": req.Endpoint, "holding": true})
	case "unhold":
		controlJSON(w, http.StatusOK, map[string]any{"endpoint": req.Endpoint, "released": s.Unhold(req.Endpoint)})
	case "release":
		which := strings.ToLower(req.Which)
		if which == "" {
			which = "all"
		}
		if which != "all" && which != "oldest" && which != "latest" {
			controlJSON(w, http.StatusBadRequest, map[string]string{"error": `which must be "all", "oldest" or "latest"`})
			return
		}
		controlJSON(w, http.StatusOK, map[string]any{"endpoint": req.Endpoint, "released": s.Release(req.Endpoint, which)})
	case "fault":
		if !req.Drop && (req.Status < 100 || req.Status > 999) {
			controlJSON(w, http.StatusBadRequest, map[string]string{"error": "give a status (100-999) or drop:true"})
			return
		}
		nth := req.Nth
		if nth < 1 {
			nth = 1
		}
		s.FailNth(req.Endpoint, nth, Fault{Status: req.Status, Code: req.Code, Message: req.Message, Drop: req.Drop})
		controlJSON(w, http.StatusOK, map[string]any{"endpoint": req.Endpoint, "nth": nth})
	case "expire-session":
		if req.SessionID == "" {
			controlJSON(w, http.StatusBadRequest, map[string]string{"error": "sessionId is required"})
			return
		}
		controlJSON(w, http.StatusOK, map[string]any{"expired": s.ExpireSession(req.SessionID)})
	default:
		controlJSON(w, http.StatusNotFound, map[string]string{"error": "unknown control " + op})
	}
}

func (req controlRequest) latency() (time.Duration, error) {
	switch {
	case req.MS != nil && req.Duration != "":
		return 0, fmt.Errorf("give ms or duration, not both")
	case req.MS != nil:
		if *req.MS < 0 {
			return 0, fmt.Errorf("ms must not be negative")
		}
		return time.Duration(*req.MS) * time.Millisecond, nil
	case req.Duration != "":
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("bad duration %q", req.Duration)
		}
		return d, nil
	}
	return 0, nil
}

func loopbackAddr(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// loopbackHost reports whether a Host header names this machine by a
// loopback name: localhost or a loopback IP literal, with or without a port.
// A DNS name that merely resolves to 127.0.0.1 is refused (DNS rebinding).
func loopbackHost(host string) bool {
	if host == "" {
		return false
	}
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	if strings.HasPrefix(h, "[") != strings.HasSuffix(h, "]") {
		return false
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func loopbackOrigin(o string) bool {
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func controlJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
