package authstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// inputKinds names every input type for the JSON codec. The names are
// stable: traces written by one version are read by the next. Each entry's
// example is a value with every field set, used by the tests.
var inputKinds = []struct {
	kind    string
	example Input
}{
	{"start", Start{}},
	{"action", DoAction{Action: ActionChangePassword, Signal: true}},
	{"fetch", FetchCall{Name: "a", Force: true, Cause: "scenario", Seq: 3}},
	{"observe", Observe{Cause: "focus"}},
	{"rerun_query", RerunQuery{Reason: "scenario"}},
	{"set_policy", SetPolicy{Policy: "hardened"}},
	{"set_poll_interval", SetPollInterval{Interval: 5 * time.Second}},
	{"reset_counters", ResetCounters{}},
	{"hold", Hold{What: "token"}},
	{"release", Release{Which: "oldest"}},
	{"inject_fault", InjectFault{Endpoint: "token", Status: 500, Network: true}},
	{"set_latency", SetLatency{Endpoint: "token", Latency: 200 * time.Millisecond}},
	{"held_changed", HeldChanged{Items: []string{"token response #3"}}},
	{"advance", Advance{By: 90 * time.Second}},
	{"token_fetch_done", TokenFetched{Call: 104, Fetch: 2, Token: exampleToken(), Err: "HTTP 503", Transient: true}},
	{"session_poll_done", SessionPolled{Call: 105, Poll: 3, Session: exampleSession(), Err: "connection dropped"}},
	{"action_done", ActionDone{Call: 106, Action: ActionSignOut, Err: "HTTP 500"}},
	{"convex_query_done", QueryDone{Call: 107, Result: QueryResult{AuthError: "expired", Error: "Unauthenticated", Value: `{"email":"a@example.com"}`}, Err: "closed"}},
	{"poll_tick", PollTick{Timer: 108}},
	{"poll_timeout", PollTimedOut{Timer: 109, Poll: 4}},
	{"signal_due", SignalDue{Timer: 110, Action: ActionSignIn}},
	{"retry_due", RetryDue{Timer: 111, Fetch: 5}},
	{"convex_refetch_due", RefetchDue{Timer: 112, Seq: 2}},
	{"convex_query_tick", QueryTick{Timer: 113}},
	{"convex_socket_closed", SocketClosed{Timer: 114}},
	{"convex_reconnect_due", ReconnectDue{Timer: 115, Seq: 1}},
}

func exampleToken() *Token {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Token{
		Raw:       "eyJhbGciOiJFZERTQSJ9.eyJzZXNzaW9uSWQiOiJzMSJ9.c2ln",
		SessionID: "s1", Subject: "u1", Issuer: "http://127.0.0.1:3210", Audience: []string{"convex"},
		IssuedAt: t0, ExpiresAt: t0.Add(15 * time.Minute), Verified: false, Problem: "bad signature",
	}
}

func exampleSession() *Session {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Session{ID: "s1", UserID: "u1", Email: "a@example.com", ExpiresAt: t0.Add(7 * 24 * time.Hour), CreatedAt: t0}
}

var (
	kindOfInput = map[reflect.Type]string{}
	inputOfKind = map[string]reflect.Type{}
)

func init() {
	for _, k := range inputKinds {
		t := reflect.TypeOf(k.example)
		kindOfInput[t] = k.kind
		inputOfKind[k.kind] = t
	}
}

// InputKind is the stable lower_snake name of in's type ("" if in is nil or
// not one of the engine's inputs).
func InputKind(in Input) string {
	if in == nil {
		return ""
	}
	return kindOfInput[reflect.TypeOf(in)]
}

// EncodeInput writes in as its kind and a JSON object.
//
// Tokens in completions are written with their public facts (fingerprint,
// session id, subject, issuer, audience, iat, exp, verified, problem) and
// the raw JWT in the field "jwt". The raw JWT is a secret: a writer that
// keeps the data should redact "jwt" (keep the header and claims, drop the
// signature); DecodeInput accepts a token without a signature, or without
// "jwt", and keeps the recorded fingerprint.
func EncodeInput(in Input) (kind string, data []byte, err error) {
	kind = InputKind(in)
	if kind == "" {
		return "", nil, fmt.Errorf("authstate: %T is not an engine input", in)
	}
	switch v := in.(type) {
	case TokenFetched:
		w := tokenFetchedWire{Call: v.Call, Fetch: v.Fetch, Token: tokenToWire(v.Token), Err: v.Err, Transient: v.Transient}
		data, err = json.Marshal(w)
	case SessionPolled:
		w := sessionPolledWire{Call: v.Call, Poll: v.Poll, Session: sessionToWire(v.Session), Err: v.Err}
		data, err = json.Marshal(w)
	default:
		data, err = json.Marshal(in)
	}
	return kind, data, err
}

// DecodeInput reads what EncodeInput wrote. An unknown kind, or data that
// does not fit the kind, is an error.
func DecodeInput(kind string, data []byte) (Input, error) {
	t, ok := inputOfKind[kind]
	if !ok {
		return nil, fmt.Errorf("unknown input kind %q", kind)
	}
	switch kind {
	case "token_fetch_done":
		var w tokenFetchedWire
		if err := json.Unmarshal(data, &w); err != nil {
			return nil, fmt.Errorf("input %s: %w", kind, err)
		}
		return TokenFetched{Call: w.Call, Fetch: w.Fetch, Token: w.Token.token(), Err: w.Err, Transient: w.Transient}, nil
	case "session_poll_done":
		var w sessionPolledWire
		if err := json.Unmarshal(data, &w); err != nil {
			return nil, fmt.Errorf("input %s: %w", kind, err)
		}
		return SessionPolled{Call: w.Call, Poll: w.Poll, Session: w.Session.session(), Err: w.Err}, nil
	}
	p := reflect.New(t)
	if err := json.Unmarshal(data, p.Interface()); err != nil {
		return nil, fmt.Errorf("input %s: %w", kind, err)
	}
	in, ok := p.Elem().Interface().(Input)
	if !ok {
		return nil, errors.New("authstate: input table holds a non-input")
	}
	return in, nil
}

type tokenFetchedWire struct {
	Call      int        `json:"call"`
	Fetch     int        `json:"fetch"`
	Token     *tokenWire `json:"token,omitempty"`
	Err       string     `json:"error,omitempty"`
	Transient bool       `json:"transient,omitempty"`
}

type sessionPolledWire struct {
	Call    int          `json:"call"`
	Poll    int          `json:"poll"`
	Session *sessionWire `json:"session,omitempty"`
	Err     string       `json:"error,omitempty"`
}

// tokenWire is a token as a trace holds it. JWT is the raw token: secret
// until a writer redacts it.
type tokenWire struct {
	Fingerprint string    `json:"fingerprint"`
	SessionID   string    `json:"session_id,omitempty"`
	Subject     string    `json:"sub,omitempty"`
	Issuer      string    `json:"iss,omitempty"`
	Audience    []string  `json:"aud,omitempty"`
	IssuedAt    time.Time `json:"iat"`
	ExpiresAt   time.Time `json:"exp"`
	Verified    bool      `json:"verified"`
	Problem     string    `json:"problem,omitempty"`
	JWT         string    `json:"jwt,omitempty"`
}

func tokenToWire(t *Token) *tokenWire {
	if t == nil {
		return nil
	}
	return &tokenWire{
		Fingerprint: t.Fingerprint(), SessionID: t.SessionID, Subject: t.Subject, Issuer: t.Issuer,
		Audience: append([]string(nil), t.Audience...), IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt,
		Verified: t.Verified, Problem: t.Problem, JWT: t.Raw,
	}
}

func (w *tokenWire) token() *Token {
	if w == nil {
		return nil
	}
	t := &Token{
		Raw: w.JWT, SessionID: w.SessionID, Subject: w.Subject, Issuer: w.Issuer, Audience: w.Audience,
		IssuedAt: w.IssuedAt, ExpiresAt: w.ExpiresAt, Verified: w.Verified, Problem: w.Problem,
	}
	if w.Fingerprint != "" && t.Fingerprint() != w.Fingerprint {
		// A redacted JWT no longer hashes to the recorded fingerprint:
		// keep the recorded one, so events name the token alike.
		t.fingerprint = w.Fingerprint
	}
	return t
}

type sessionWire struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id,omitempty"`
	Email     string    `json:"email,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
}

func sessionToWire(s *Session) *sessionWire {
	if s == nil {
		return nil
	}
	return &sessionWire{ID: s.ID, UserID: s.UserID, Email: s.Email, ExpiresAt: s.ExpiresAt, CreatedAt: s.CreatedAt}
}

func (w *sessionWire) session() *Session {
	if w == nil {
		return nil
	}
	return &Session{ID: w.ID, UserID: w.UserID, Email: w.Email, ExpiresAt: w.ExpiresAt, CreatedAt: w.CreatedAt}
}

// actionNames are the stable names of actions in inputs.
var actionNames = map[Action]string{
	ActionSignIn:             "sign_in",
	ActionSignOut:            "sign_out",
	ActionChangePassword:     "change_password",
	ActionChangePasswordKeep: "change_password_keep",
}

// MarshalText writes the action's stable name.
func (a Action) MarshalText() ([]byte, error) {
	if n, ok := actionNames[a]; ok {
		return []byte(n), nil
	}
	return nil, fmt.Errorf("unknown action %d", int(a))
}

// UnmarshalText reads an action's stable name.
func (a *Action) UnmarshalText(b []byte) error {
	for k, n := range actionNames {
		if n == string(b) {
			*a = k
			return nil
		}
	}
	return fmt.Errorf("unknown action %q", b)
}
