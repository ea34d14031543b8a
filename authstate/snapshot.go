package authstate

import (
	"sort"
	"time"
)

func (e *Engine) snapshot() Snapshot {
	s := Snapshot{
		Policy:         e.policy.Name(),
		Now:            e.now(),
		SessionPending: e.view.pending,
		LastPoll:       e.view.lastPoll,
		LastPollResult: e.view.lastResult,
		TokenRequests:  e.tokenReqs,
		Busy:           len(e.flights),
		Timed:          e.timed,
		PollInterval:   e.pollInterval,
		Labels:         e.labels.all(),
		Violations:     append([]Event(nil), e.violations...),
		ViolationCount: e.violationCount,
		StaleServed:    e.staleServed,
		Mounted:        e.mounted,
		Transport:      e.tport.clone(),
	}
	if e.poll != nil {
		s.PollInFlight, s.PollStarted = e.poll.seq, e.poll.started
	}
	if e.view.s != nil {
		cp := *e.view.s
		s.Session = &cp
		s.SessionLabel = e.label(cp.ID)
	}
	s.Cache = e.prov.cache
	s.LastServed = e.lastServed
	s.ServerNow = e.serverNow()
	s.CacheLabel = labelOf(e, e.prov.cache)
	s.Readable = e.policy.readable(e)
	if e.prov.pending != nil {
		s.Pending = e.prov.pending.id
	}
	ids := make([]int, 0, len(e.promises))
	for id := range e.promises {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		p := e.promises[id]
		s.InFlight = append(s.InFlight, FetchInfo{ID: p.id, Force: p.force, Cause: p.cause, Session: e.label(p.sessionID), Started: p.started, State: p.state, Attempts: p.attempts, Calls: p.callNames()})
	}
	for _, n := range e.callOrder {
		s.Calls = append(s.Calls, *e.calls[n])
	}
	s.ProviderLoading, s.ProviderAuthenticated = e.policy.providerState(e)
	if e.consumer != nil {
		s.Convex = e.consumer.snapshot()
	}
	s.Flicker = e.flicker.stats(e.now())
	return s
}

func labelOf(e *Engine, t *Token) string {
	if t == nil {
		return "none"
	}
	return e.label(t.SessionID)
}

// Snapshot is a copy of the engine's state at one moment.
type Snapshot struct {
	Policy         string
	Now            time.Time
	Session        *Session // nil when signed out
	SessionLabel   string
	SessionPending bool // no observation has completed yet
	LastPoll       time.Time
	LastPollResult string
	PollInterval   time.Duration
	// Transport is what the client transport holds and its token latency.
	Transport TransportState
	// PollInFlight is the number of the get-session request in flight (0
	// when none), sent at PollStarted.
	PollInFlight int
	PollStarted  time.Time
	// Cache is the provider's stored token; Readable is what a non-forced
	// fetch would return from the cache right now (in v0.12 that is the
	// first render's value, whatever Cache holds).
	Cache      *Token
	CacheLabel string
	Readable   *Token
	// LastServed is the last token a call returned.
	LastServed *Token
	// ServerNow is the client's estimate of the server's clock.
	ServerNow time.Time
	Pending   int // request in the pending slot, 0 if none
	InFlight  []FetchInfo
	Calls     []Call
	Labels    map[string]string // session id → label
	// TokenRequests counts requests sent to the token endpoint (retries
	// included; the initial token is not one).
	TokenRequests int
	// Violations holds the first violations (up to maxViolations);
	// ViolationCount counts them all.
	Violations     []Event
	ViolationCount int
	// StaleServed counts the calls that were given a stale token since
	// the counters were last reset (token_served events marked stale).
	StaleServed int
	// Busy counts network calls whose completion the loop has not handled;
	// Timed counts retries and signals still due.
	Busy, Timed int
	// ProviderLoading and ProviderAuthenticated are what the provider's
	// useAuth hook returns to Convex.
	ProviderLoading, ProviderAuthenticated bool
	Mounted                                bool
	Stopped                                bool
	// Convex is the Convex client model's state (Enabled false when off).
	Convex ConvexState
	// Flicker measures the windows in which Better Auth says signed in
	// but the Convex side does not.
	Flicker FlickerStats
}

// Call finds a fetch call by name.
func (s Snapshot) Call(name string) (Call, bool) {
	for _, c := range s.Calls {
		if c.Name == name {
			return c, true
		}
	}
	return Call{}, false
}

// Label is the label of a session id, "none" for "".
func (s Snapshot) Label(id string) string {
	if id == "" {
		return "none"
	}
	if l, ok := s.Labels[id]; ok {
		return l
	}
	return "unseen"
}

// FetchInfo describes one request in flight.
type FetchInfo struct {
	ID       int
	Force    bool
	Cause    string
	Session  string // label of the session the client was in when it was sent
	Started  time.Time
	State    string // "in flight", "waiting to retry"
	Attempts int
	Calls    string
}
