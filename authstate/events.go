package authstate

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Kind says what changed. Every state change of the engine is one event.
type Kind uint8

const (
	KindSessionObserved  Kind = iota + 1 // a poll answered and the view changed or was confirmed
	KindSessionRotated                   // the view went from one session to another
	KindSessionEnded                     // the view went from a session to none
	KindSessionRefreshed                 // same session, later expiry (sliding refresh)
	KindPollFailed                       // get-session failed; the view is kept
	KindFetchStarted                     // a token request went out
	KindFetchJoined                      // a call shares an in-flight request
	KindFetchResolved                    // a request came back with a token
	KindFetchFailed                      // a request came back without a token
	KindFetchRetry                       // a transient failure will be retried
	KindFetchDiscarded                   // a result was thrown away by a guard
	KindPendingCleared                   // the pending-request slot was emptied
	KindCacheSet                         // the cache now holds a token
	KindCacheCleared                     // the cache was emptied
	KindTokenServed                      // a fetchAccessToken call returned
	KindViolation                        // the invariant checker found a problem
	KindAction                           // a server action started or finished (sign-in, change-password…)
	KindActionFailed                     // a server action failed
	KindPolicyChanged                    // the token-cache policy was switched
	KindNote                             // anything else worth showing
	KindConvex                           // the Convex client model did something (setAuth, pause, Authenticate…)
	KindConsumerState                    // useConvexAuth's isLoading / isAuthenticated changed
	KindQueryResult                      // the subscribed query answered
	KindFlicker                          // a flicker window opened or closed
	KindPollPending                      // a poll was due while get-session was still in flight: skipped
	KindCountersReset                    // the violation count and the flicker windows were cleared (a mark in the log)
	KindTransport                        // a transport control was applied: hold, release, fault, latency

	// Quiet kinds carry state the fold needs at moments no logged event
	// marks. They go to subscribers only: not to the log, not to the
	// checker, and they take no sequence number of their own (Seq is that
	// of the event before). See Kind.Quiet.
	KindPollStarted  // a get-session request went out
	KindCallStarted  // fetchAccessToken was called
	KindPollInterval // the session poll interval was set
	KindConvexState  // the Convex client model's state changed
	KindHeldChanged  // what the client transport holds changed
	kindEnd
)

var kindNames = [...]string{
	KindSessionObserved:  "session_observed",
	KindSessionRotated:   "session_rotated",
	KindSessionEnded:     "session_ended",
	KindSessionRefreshed: "session_refreshed",
	KindPollFailed:       "poll_failed",
	KindFetchStarted:     "fetch_started",
	KindFetchJoined:      "fetch_joined",
	KindFetchResolved:    "fetch_resolved",
	KindFetchFailed:      "fetch_failed",
	KindFetchRetry:       "fetch_retry",
	KindFetchDiscarded:   "fetch_discarded",
	KindPendingCleared:   "pending_cleared",
	KindCacheSet:         "cache_set",
	KindCacheCleared:     "cache_cleared",
	KindTokenServed:      "token_served",
	KindViolation:        "violation",
	KindAction:           "action",
	KindActionFailed:     "action_failed",
	KindPolicyChanged:    "policy_changed",
	KindNote:             "note",
	KindConvex:           "convex",
	KindConsumerState:    "consumer_state",
	KindQueryResult:      "query_result",
	KindFlicker:          "flicker",
	KindPollPending:      "poll_pending",
	KindCountersReset:    "counters_reset",
	KindTransport:        "transport",
	KindPollStarted:      "poll_started",
	KindCallStarted:      "call_started",
	KindPollInterval:     "poll_interval",
	KindConvexState:      "convex_state",
	KindHeldChanged:      "held_changed",
}

// Quiet reports whether events of kind k only feed the fold (Fold): they
// are published to subscribers, never written to the log.
func (k Kind) Quiet() bool { return k >= KindPollStarted && k < kindEnd }

func (k Kind) String() string {
	if k > 0 && k < kindEnd {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, bool) {
	for k := Kind(1); k < kindEnd; k++ {
		if kindNames[k] == s {
			return k, true
		}
	}
	return 0, false
}

func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

func (k *Kind) UnmarshalText(b []byte) error {
	v, ok := ParseKind(string(b))
	if !ok {
		return fmt.Errorf("unknown event kind %q", b)
	}
	*k = v
	return nil
}

// TokenInfo is what an event says about a token. It carries no secret: the
// raw JWT stays in the engine (see Engine.RawToken).
type TokenInfo struct {
	Fingerprint string    `json:"fingerprint"`
	Session     string    `json:"session"` // label, e.g. S1
	SessionID   string    `json:"sessionId"`
	IssuedAt    time.Time `json:"iat"`
	ExpiresAt   time.Time `json:"exp"`
	Verified    bool      `json:"verified"`
	Problem     string    `json:"problem,omitempty"`
	Subject     string    `json:"sub,omitempty"`
	Issuer      string    `json:"iss,omitempty"`
	Audience    []string  `json:"aud,omitempty"`
	// Header and Claims are the JWT's decoded header and payload (JSON),
	// when the raw token is a JWT. The signature is never carried.
	Header json.RawMessage `json:"header,omitempty"`
	Claims json.RawMessage `json:"claims,omitempty"`
}

// token rebuilds the Token an event describes, without its raw JWT: its
// Fingerprint is the one the event carries.
func (ti *TokenInfo) token() *Token {
	if ti == nil {
		return nil
	}
	return &Token{
		SessionID: ti.SessionID, Subject: ti.Subject, Issuer: ti.Issuer, Audience: ti.Audience,
		IssuedAt: ti.IssuedAt, ExpiresAt: ti.ExpiresAt, Verified: ti.Verified, Problem: ti.Problem,
		fingerprint: ti.Fingerprint,
	}
}

// Event is one change of engine state. It is a flat value so that the log
// can hold many of them cheaply; fields that do not apply are zero.
type Event struct {
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Kind   Kind      `json:"kind"`
	Policy string    `json:"policy,omitempty"`
	// Session is the label of the session the event is about (S1, S2, …);
	// From is the previous one for rotations and ends.
	Session   string `json:"session,omitempty"`
	SessionID string `json:"sessionId,omitempty"`
	From      string `json:"from,omitempty"`
	// Fetch is the request number (#1, #2, …); Owner is another request
	// involved (the one whose slot was cleared, the newer cache writer…).
	Fetch int    `json:"fetch,omitempty"`
	Owner int    `json:"owner,omitempty"`
	Call  string `json:"call,omitempty"`
	Force bool   `json:"force,omitempty"`
	Cause string `json:"cause,omitempty"`
	// Token is the token involved, if any; Stale says it is bound to a
	// session other than the current one, or expired.
	Token  *TokenInfo `json:"token,omitempty"`
	Stale  bool       `json:"stale,omitempty"`
	Source string     `json:"source,omitempty"` // for token_served: cache, fetch, joined, none
	Reason string     `json:"reason,omitempty"`
	Detail string     `json:"detail,omitempty"`
	// Convex is what useConvexAuth and the subscribed query say, on
	// consumer_state events.
	Convex *ConvexFlags `json:"convex,omitempty"`

	// The fields below feed the fold (Fold); the log does not show them.
	//
	// Poll is the number of the get-session request the event is about.
	Poll int `json:"poll,omitempty"`
	// Observed is the session an observation found (session_* events;
	// nil when it found none).
	Observed *Session `json:"observed,omitempty"`
	// Fetcher is the fetcher identity a call was made on (call_started).
	Fetcher int `json:"fetcher,omitempty"`
	// Effect names what the event did to the state that its kind does not
	// say: "mount" (the provider mounted), "initial" (the SSR token became
	// the first render's cache), "remount" (the provider remounted),
	// "abandoned" (a get-session was given up without an answer),
	// "reroute" (a request was dropped and its callers moved on).
	Effect string `json:"effect,omitempty"`
	// Why is why a flicker window opened; Elapsed is how long it lasted
	// on the engine clock (flicker closed).
	Why     string        `json:"why,omitempty"`
	Elapsed time.Duration `json:"elapsed,omitempty"`
	// Interval is the session poll interval (poll_interval).
	Interval time.Duration `json:"interval,omitempty"`
	// Client is the Convex client model's state (convex_state).
	Client *ClientState `json:"client,omitempty"`
	// Transport is the client transport's state after a transport
	// control (transport) or a change of what it holds (held_changed).
	Transport *TransportState `json:"transport,omitempty"`
}

// TransportState is what the client transport holds and how slow it is
// made, as far as the engine knows: what it was asked (Hold, SetLatency)
// and what HeldChanged inputs said it holds.
type TransportState struct {
	// Holding is "token" (responses), "token_request" or "none".
	Holding string `json:"holding"`
	// Latency is the latency added before token requests.
	Latency time.Duration `json:"token_latency_ns,omitempty"`
	// Held names what is held, in arrival order ("token response #3").
	Held []string `json:"held,omitempty"`
}

func (t TransportState) clone() TransportState {
	t.Held = slices.Clone(t.Held)
	if len(t.Held) == 0 {
		t.Held = nil
	}
	return t
}

// ClientState is the Convex client model's state as convex_state events
// report it.
type ClientState struct {
	Loading         bool         `json:"isLoading"`
	Authenticated   bool         `json:"isAuthenticated"`
	Refreshing      bool         `json:"isRefreshing"`
	AuthState       string       `json:"authState"`
	ConfigVersion   int          `json:"configVersion"`
	IdentityVersion int          `json:"identityVersion"`
	Socket          string       `json:"socket"`
	Auth            *TokenInfo   `json:"auth,omitempty"`
	LastResult      *QueryResult `json:"lastResult,omitempty"`
	Anonymous       int          `json:"anonymousQueries,omitempty"`
}

// ConvexFlags is the Convex client's observable state.
type ConvexFlags struct {
	Loading       bool `json:"isLoading"`
	Authenticated bool `json:"isAuthenticated"`
	// Failing is true when the subscribed query's last result is an error.
	Failing bool `json:"queryFailing"`
}

// Summary is a one-line description for humans.
func (e Event) Summary() string {
	s := e.Detail
	if s == "" {
		s = e.Reason
	}
	return s
}

// MarshalJSON adds the "type" field of the run --json format.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	return json.Marshal(struct {
		Type string `json:"type"`
		plain
	}{"event", plain(e)})
}

// EventLog is a bounded ring of the most recent events. It is safe for
// concurrent use: the engine appends, viewers read.
type EventLog struct {
	mu    sync.RWMutex
	buf   []Event
	size  int // the most events held; buf grows up to it
	start int // index of the oldest event
	n     int
	total uint64
}

// NewEventLog returns a log that keeps the last size events.
func NewEventLog(size int) *EventLog {
	if size <= 0 {
		size = 1
	}
	return &EventLog{size: size}
}

func (l *EventLog) append(e Event) {
	l.mu.Lock()
	if len(l.buf) < l.size {
		// The ring grows as events come: a scenario run keeps room for
		// 65536 and emits a few dozen, and allocating it all up front cost
		// 15 MB a run.
		if len(l.buf) == cap(l.buf) {
			grown := make([]Event, len(l.buf), min(max(2*cap(l.buf), 64), l.size))
			copy(grown, l.buf)
			l.buf = grown
		}
		l.buf = append(l.buf, e)
		l.n++
	} else {
		l.buf[l.start] = e
		l.start = (l.start + 1) % len(l.buf)
	}
	l.total++
	l.mu.Unlock()
}

// Len is the number of events held.
func (l *EventLog) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.n
}

// Bounds returns the sequence numbers of the oldest and newest events held,
// read together (0, 0 when empty). Events are appended with consecutive
// sequence numbers, so position i holds first+i.
func (l *EventLog) Bounds() (first, last uint64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.n == 0 {
		return 0, 0
	}
	return l.buf[l.start].Seq, l.buf[(l.start+l.n-1)%len(l.buf)].Seq
}

// Total is the number of events ever appended, including those dropped
// from the ring.
func (l *EventLog) Total() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.total
}

// Slice copies out events [from, to) of those held, oldest first. Indexes
// are clamped, so callers can ask for a window without knowing the length.
func (l *EventLog) Slice(from, to int) []Event {
	l.mu.RLock()
	defer l.mu.RUnlock()
	from = max(from, 0)
	to = min(to, l.n)
	if from >= to {
		return nil
	}
	out := make([]Event, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, l.buf[(l.start+i)%len(l.buf)])
	}
	return out
}

// All copies out every event held, oldest first.
func (l *EventLog) All() []Event { return l.Slice(0, l.Len()) }

// broker fans events out to subscribers without ever blocking the engine:
// a subscriber whose buffer is full misses the event, and the miss is counted.
type broker struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
	// streams lose nothing (see Engine.SubscribeAll).
	streams map[*Stream]struct{}
}

// Subscription receives events on C until Close.
type Subscription struct {
	C       <-chan Event
	c       chan Event
	b       *broker
	mu      sync.Mutex
	dropped uint64
	closed  bool
}

// Dropped is how many events this subscriber missed because its buffer
// was full.
func (s *Subscription) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Close stops delivery and closes C.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.b.mu.Unlock()
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.c)
	}
	s.mu.Unlock()
}

func (b *broker) subscribe(buf int) *Subscription {
	if buf <= 0 {
		buf = 1024
	}
	c := make(chan Event, buf)
	s := &Subscription{C: c, c: c, b: b}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = make(map[*Subscription]struct{})
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

func (b *broker) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.streams {
		s.add(e)
	}
	for s := range b.subs {
		s.mu.Lock()
		if !s.closed {
			select {
			case s.c <- e:
			default:
				s.dropped++
			}
		}
		s.mu.Unlock()
	}
}

func (b *broker) closeAll() {
	b.mu.Lock()
	subs, streams := b.subs, b.streams
	b.subs, b.streams = nil, nil
	b.mu.Unlock()
	for s := range streams {
		s.end()
	}
	for s := range subs {
		s.mu.Lock()
		if !s.closed {
			s.closed = true
			close(s.c)
		}
		s.mu.Unlock()
	}
}
