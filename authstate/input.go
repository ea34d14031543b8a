package authstate

// Inputs are everything that changes an engine's state. Each one is a plain
// value of one of the types below; the loop applies them one at a time, in
// one place (Engine.apply), and reports each to Config.OnInput before the
// events it causes. The set is closed: only this package can add to it.
//
// There are five groups:
//   - what a user or a scenario asks for (DoAction, FetchCall, Observe,
//     RerunQuery, SetPolicy, SetPollInterval, ResetCounters, Start);
//   - transport controls, applied through the backend's Controls (Hold,
//     Release, InjectFault, SetLatency);
//   - the virtual clock (Advance);
//   - completions of the network calls the engine made (TokenFetched,
//     SessionPolled, ActionDone, QueryDone), with their results as data;
//   - timer firings (PollTick, PollTimedOut, SignalDue, RetryDue,
//     RefetchDue, QueryTick, SocketClosed, ReconnectDue).
//
// Completions name the call they finish (Call, numbered by the engine as it
// starts them) and timers the timer that fired (Timer): an engine ignores a
// completion or a firing it is not waiting for, so a stopped timer whose
// firing was already queued does nothing.
//
// # How to add an input
//
//  1. Add a struct here with exported, JSON-tagged fields (lower_snake) and
//     an isInput method.
//  2. Add a case for it to the type switch in Engine.apply (apply.go).
//  3. Add its kind name and an example value to inputKinds
//     (input_codec.go).
//
// TestEveryInputHasAKind fails when a type that implements Input is missing
// from inputKinds, and TestEveryInputIsApplied when apply has no case for it.

import "time"

// Input is one input to an engine. See the package's input.go for the set.
type Input interface {
	isInput()
}

// ---- what a user or a scenario asks for ----

// Start mounts the client: the first observation of the session, the
// session poller and the query interval. Engine.Start sends it.
type Start struct{}

// DoAction is a server action (sign-in, sign-out, change-password). With
// Signal, a success is followed by a session observation, as Better Auth's
// session signal does.
type DoAction struct {
	Action Action `json:"action"`
	Signal bool   `json:"signal,omitempty"`
}

// FetchCall is a fetchAccessToken call. Name identifies it; Seq is the
// number Engine.Fetch took for it from the engine's call counter.
type FetchCall struct {
	Name  string `json:"name"`
	Force bool   `json:"force,omitempty"`
	Cause string `json:"cause,omitempty"`
	Seq   int    `json:"seq,omitempty"`
}

// Observe polls the session now.
type Observe struct {
	Cause string `json:"cause,omitempty"`
}

// RerunQuery asks the Convex deployment to run the subscribed query again.
type RerunQuery struct {
	Reason string `json:"reason,omitempty"`
}

// SetPolicy switches the token-cache policy; the provider remounts.
type SetPolicy struct {
	Policy string `json:"policy"`
}

// SetPollInterval changes the session poll interval (0: off).
type SetPollInterval struct {
	Interval time.Duration `json:"interval_ns"`
}

// ResetCounters clears the violation count and the flicker windows.
type ResetCounters struct{}

// ---- transport controls ----

// Hold starts holding "token" responses or "token_request" requests in the
// client transport, or stops holding ("none").
type Hold struct {
	What string `json:"what"`
}

// Release lets held requests or responses go: "all", "oldest" or "latest".
type Release struct {
	Which string `json:"which"`
}

// InjectFault makes the next request to Endpoint fail, with an HTTP Status
// or, with Network, as a dropped connection.
type InjectFault struct {
	Endpoint string `json:"endpoint"`
	Status   int    `json:"status,omitempty"`
	Network  bool   `json:"network,omitempty"`
}

// SetLatency adds Latency before each request to Endpoint (0 removes it).
type SetLatency struct {
	Endpoint string        `json:"endpoint"`
	Latency  time.Duration `json:"latency_ns"`
}

// HeldChanged says what the client transport holds now, in arrival order
// ("token response #3"). Requests and responses are held outside the loop
// (a request reaching a gate), so whoever watches the transport sends it
// when the held set changes (see fetcher.Backend.SetNotify).
type HeldChanged struct {
	Items []string `json:"items,omitempty"`
}

// ---- the clock ----

// Advance moves a FakeClock on by By. Timers that fall due fire on the
// engine's loop one at a time, each applied at its due time, and each once
// no network call is running (every one has finished or is held): what a
// timer starts is answered before the next one fires. Inputs sent while an
// Advance is under way are applied as they come, at the clock's time then.
type Advance struct {
	By time.Duration `json:"by_ns"`
}

// ---- completions ----

// TokenFetched is the answer of a token request (GET /convex/token):
// a token, or an error.
type TokenFetched struct {
	Call      int    `json:"call"`
	Fetch     int    `json:"fetch"` // the request number (#1, #2, …)
	Token     *Token `json:"token,omitempty"`
	Err       string `json:"error,omitempty"`
	Transient bool   `json:"transient,omitempty"` // the error is worth retrying
}

// SessionPolled is the answer of a get-session: a session, none (signed
// out), or an error.
type SessionPolled struct {
	Call    int      `json:"call"`
	Poll    int      `json:"poll"` // the get-session number
	Session *Session `json:"session,omitempty"`
	Err     string   `json:"error,omitempty"`
}

// ActionDone is the end of a server action.
type ActionDone struct {
	Call   int    `json:"call"`
	Action Action `json:"action"`
	Err    string `json:"error,omitempty"`
	// cause is the error itself when the call was made in this process,
	// so that Engine.Err keeps its chain (errors.Is); a decoded input has
	// only Err.
	cause error
}

// QueryDone is the Convex deployment's answer to a message on the socket
// (an Authenticate or a query run).
type QueryDone struct {
	Call   int         `json:"call"`
	Result QueryResult `json:"result"`
	Err    string      `json:"error,omitempty"` // the message did not reach the deployment
}

// ---- timer firings ----

// PollTick is the session poller's timer.
type PollTick struct {
	Timer int `json:"timer"`
}

// PollTimedOut is a get-session that had no answer within PollTimeout.
type PollTimedOut struct {
	Timer int `json:"timer"`
	Poll  int `json:"poll"`
}

// SignalDue is Better Auth's session signal after a server action.
type SignalDue struct {
	Timer  int    `json:"timer"`
	Action Action `json:"action"`
}

// RetryDue is the hardened policy's retry of a request that failed
// transiently.
type RetryDue struct {
	Timer int `json:"timer"`
	Fetch int `json:"fetch"`
}

// RefetchDue is the AuthenticationManager's scheduled token refetch.
type RefetchDue struct {
	Timer int `json:"timer"`
	Seq   int `json:"seq"`
}

// QueryTick is the interval re-run of the subscribed query.
type QueryTick struct {
	Timer int `json:"timer"`
}

// SocketClosed is the end of the WebSocket's close handshake.
type SocketClosed struct {
	Timer int `json:"timer"`
}

// ReconnectDue is the reconnect after the deployment closed the socket.
type ReconnectDue struct {
	Timer int `json:"timer"`
	Seq   int `json:"seq"`
}

func (Start) isInput()           {}
func (DoAction) isInput()        {}
func (FetchCall) isInput()       {}
func (Observe) isInput()         {}
func (RerunQuery) isInput()      {}
func (SetPolicy) isInput()       {}
func (SetPollInterval) isInput() {}
func (ResetCounters) isInput()   {}
func (Hold) isInput()            {}
func (Release) isInput()         {}
func (InjectFault) isInput()     {}
func (SetLatency) isInput()      {}
func (HeldChanged) isInput()     {}
func (Advance) isInput()         {}
func (TokenFetched) isInput()    {}
func (SessionPolled) isInput()   {}
func (ActionDone) isInput()      {}
func (QueryDone) isInput()       {}
func (PollTick) isInput()        {}
func (PollTimedOut) isInput()    {}
func (SignalDue) isInput()       {}
func (RetryDue) isInput()        {}
func (RefetchDue) isInput()      {}
func (QueryTick) isInput()       {}
func (SocketClosed) isInput()    {}
func (ReconnectDue) isInput()    {}

// Controls is what a backend offers for the transport inputs (Hold,
// Release, InjectFault, SetLatency). *fetcher.Backend has it. The engine
// looks for each method on its own; an input whose method the backend
// lacks is reported (a transport event) as not applied, with
// ErrNoControls.
type Controls interface {
	// Hold starts holding "token" responses or "token_request" requests,
	// or stops holding ("none").
	Hold(what string) error
	// Release lets held items go ("all", "oldest", "latest") and says how
	// many went.
	Release(which string) int
	// InjectFault makes the next request to endpoint fail.
	InjectFault(endpoint string, status int, network bool) error
	// SetLatency adds d before each request to endpoint.
	SetLatency(endpoint string, d time.Duration)
}
