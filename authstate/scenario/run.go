package scenario

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authscope/authscope/authstate"
)

// Client is one client's connection to a target: a Better Auth backend for
// the engine, plus the transport gates a scenario drives. Each run gets a
// fresh one (its own cookie jar).
//
// The run drives the gates through the engine (its Hold, Release and
// InjectFault inputs), which calls the client's Controls: Hold starts
// holding "token" responses, "token_request" requests (before they reach
// the server), or stops holding ("none"); Release lets held items go
// ("all", "oldest" or "latest"); InjectFault makes the next request to an
// endpoint fail, with an HTTP status or (network) as a dropped connection.
type Client interface {
	authstate.Backend
	authstate.Controls
	// Held is how many items are held now.
	Held() int
	// HeldSummary describes what is held, for error messages.
	HeldSummary() string
	// SetNotify registers a function called whenever the held set changes.
	SetNotify(func())
	Close()
}

// ErrNeedsConvex says a scenario runs the Convex client model and the
// target has no Convex deployment to query.
var ErrNeedsConvex = errors.New("this scenario runs the Convex client model and needs a Convex deployment: give --convex-url (the simulator has one built in)")

// convexClient is a client that can also query a Convex deployment.
type convexClient interface {
	authstate.ConvexBackend
	ConvexURL() string
}

// Target opens clients against one server: the built-in simulator or a
// real Better Auth deployment.
type Target interface {
	// Name is "sim" or the base URL.
	Name() string
	// Open signs nothing in; it returns a client with an empty cookie jar.
	Open(ctx context.Context) (Client, error)
}

// ClockedTarget is a target whose server can keep the run's time: the
// simulator. A run opens it with its virtual clock, so that the server
// stamps sessions and tokens with virtual times: on the wall clock, two
// tokens minted in a run would be equal or not depending on whether a
// second boundary fell between them, and the run's events with them. A
// wait step then moves the server's clock too, as time passes for a
// sleeping tab's server; a real server keeps its own clock, which the
// client's estimate of it (from each token's iat) follows.
type ClockedTarget interface {
	Target
	// OpenClocked is Open with the server, and the client's checks of
	// its tokens, on the clock now.
	OpenClocked(ctx context.Context, now func() time.Time) (Client, error)
}

// ServerSwitches are switches of the server under test that a scenario
// (start.server) or a variant (+preserve) asks for.
type ServerSwitches struct {
	// PreserveSession: change-password with revokeOtherSessions keeps the
	// caller's session (better-auth PR #9345, not merged).
	PreserveSession bool
}

// SwitchableTarget is a target that starts a server of its own for each
// run, so that a run can set the server's switches: the simulator.
type SwitchableTarget interface {
	ClockedTarget
	// OpenSwitched is OpenClocked with a server that has the switches sw.
	OpenSwitched(ctx context.Context, now func() time.Time, sw ServerSwitches) (Client, error)
}

// SignedInTarget is a switchable target that can open a client already
// signed in, in the state OpenSwitched and a sign-in would leave it in (the
// simulator forks a pair that signed in once). A run of a scenario that
// starts signed in uses it.
type SignedInTarget interface {
	SwitchableTarget
	OpenSignedIn(ctx context.Context, now func() time.Time, sw ServerSwitches) (Client, error)
}

// ErrNeedsRotation says a scenario is about a rotation of the caller's
// session, which a variant with +preserve does not have.
var ErrNeedsRotation = errors.New("this scenario is about a rotation of the caller's session (start.server.needs_rotation), and with +preserve the server keeps the session")

// ErrNeedsPreserve says a run needs a server that keeps the caller's
// session on a password change, which only the simulator can be.
var ErrNeedsPreserve = errors.New("this run needs a server that keeps the caller's session on a password change (preserve_session, better-auth PR #9345, not merged): only the built-in simulator has that switch")

// Options tune a run.
type Options struct {
	// StepTimeout bounds each step (default DefaultStepTimeout). It is a
	// safety net for a server that does not answer: a run never waits it
	// out otherwise, as an await that cannot progress fails at once.
	StepTimeout time.Duration
	// OnEvent, if set, receives every engine event in order, on the
	// engine's loop (authstate.Config.OnEvent).
	OnEvent func(authstate.Event)
	// OnInput, if set, receives every input the engine applies, in order,
	// before the events it causes (authstate.Config.OnInput): the steps'
	// actions, fetches, holds, releases, faults and waits, and the network
	// completions and timers they lead to.
	OnInput func(at time.Time, in authstate.Input)
	// Start is the virtual clock's starting time (default now, to the
	// second).
	Start time.Time
	// CheckFold turns on the engine's fold check (Engine.CheckFold): the
	// result's FoldError reports the first difference between the fold
	// of the events and the engine's state, and FoldChecked how many
	// messages were compared.
	CheckFold bool
}

// DefaultStepTimeout is the default bound on one step. Only a server that
// does not answer reaches it, so it is generous: a busy machine must not
// turn a slow answer into a failure.
const DefaultStepTimeout = 10 * time.Second

// Result is the outcome of one scenario under one policy or variant.
type Result struct {
	Scenario string `json:"scenario"`
	File     string `json:"file,omitempty"`
	Policy   string `json:"policy"`
	// Variant is the variant's name (authstate.Variant.String) for a run
	// made by RunVariant with a switch on; PR83 and PreserveSession say
	// what the run had in effect, from the variant or the scenario's own
	// start.
	Variant         string    `json:"variant,omitempty"`
	PR83            bool      `json:"pr83,omitempty"`
	PreserveSession bool      `json:"preserve_session,omitempty"`
	Passed          bool      `json:"passed"`
	Failures        []Failure `json:"failures"`
	// Buggy is true when the scenario says the reference calls this policy
	// wrong for the case, so a failure reproduces the bug.
	Buggy      bool  `json:"expected_to_fail"`
	DurationMS int64 `json:"duration_ms"`
	// Err is a run error (connection, timeout) rather than an expectation.
	Err    string `json:"error,omitempty"`
	Events int    `json:"events"`
	// Skipped is set when the target cannot run the scenario at all (a
	// consumer scenario without a Convex deployment); Err says why.
	Skipped bool `json:"skipped,omitempty"`
	// FoldError and FoldChecked report Options.CheckFold.
	FoldError   string `json:"fold_error,omitempty"`
	FoldChecked int    `json:"fold_checked,omitempty"`
	// TargetError is the first failure of the target that no fault step
	// asked for (a 5xx, a redirect, a garbage or oversized answer, a dropped
	// connection). The run then says nothing about the policy: it is a
	// connection error, not a verdict.
	TargetError string `json:"target_error,omitempty"`
}

// Failure is one expectation that did not hold.
type Failure struct {
	Expect string `json:"expect"`
	Got    string `json:"got"`
	Line   int    `json:"line,omitempty"`
}

// Verdict is a short word for the result.
func (r Result) Verdict() string {
	switch {
	case r.Skipped:
		return "SKIP"
	case r.TargetError != "", r.Err != "" && len(r.Failures) == 0:
		return "ERROR"
	case r.Passed:
		return "PASS"
	}
	return "FAIL"
}

// SetupError is a failure to reach or prepare the target: exit status 2
// rather than 1.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// Run runs sc under policy against target.
func Run(ctx context.Context, target Target, sc *Scenario, policy string, opts Options) Result {
	return RunVariant(ctx, target, sc, authstate.Variant{Policy: policy}, opts)
}

// RunVariant runs sc under the variant v against target: v's policy, with
// convex-js PR #83's provider if v.PR83 (when the scenario runs the Convex
// client model; without it the switch changes nothing), and with a server
// that keeps the caller's session if v.Preserve. The scenario's own start
// switches (pr83, server.preserve_session) stay on under every variant.
// The result is expected to fail when sc.Buggy names the variant that ran:
// v with the switches in effect (a plain policy names the variant with no
// switch). A target that cannot preserve the
// session skips the run (Result.Skipped, with the reason in Err).
func RunVariant(ctx context.Context, target Target, sc *Scenario, v authstate.Variant, opts Options) (res Result) {
	began := time.Now()
	res = Result{Scenario: sc.Name, File: sc.File, Policy: v.Policy}
	ran := sc.Effective(v)
	sw := runSwitches{pr83: ran.PR83, preserve: ran.Preserve}
	if v.PR83 || v.Preserve {
		res.Variant = v.String()
	}
	res.PR83, res.PreserveSession = sw.pr83, sw.preserve
	// The verdict is for the variant that ran.
	name := ran.String()
	for _, b := range sc.Buggy {
		if b == name {
			res.Buggy = true
		}
	}
	defer func() { res.DurationMS = time.Since(began).Milliseconds() }()
	if opts.StepTimeout <= 0 {
		opts.StepTimeout = DefaultStepTimeout
	}
	if sw.preserve && sc.Start.NeedsRotation {
		res.Skipped, res.Passed, res.Err = true, true, ErrNeedsRotation.Error()
		return res
	}
	r, err := newRun(ctx, target, sc, v.Policy, sw, opts)
	if errors.Is(err, ErrNeedsConvex) || errors.Is(err, ErrNeedsPreserve) {
		res.Skipped, res.Passed, res.Err = true, true, err.Error()
		return res
	}
	if err != nil {
		res.Err = err.Error()
		res.Failures = []Failure{{Expect: "the run to start", Got: err.Error()}}
		return res
	}
	defer r.close()
	if opts.CheckFold {
		defer func() {
			if err := r.eng.FoldErr(); err != nil {
				res.FoldError = err.Error()
			}
			res.FoldChecked, _ = r.eng.FoldChecked()
		}()
	}
	defer func() {
		if err := r.targetErr(); err != nil {
			res.TargetError = err.Error()
			res.Passed = false
		}
	}()
	for _, st := range sc.Steps {
		if err := r.step(ctx, st); err != nil {
			res.Err = err.Error()
			res.Failures = []Failure{{Expect: fmt.Sprintf("step %q (line %d) to finish", st, st.Line), Got: err.Error(), Line: st.Line}}
			res.Events = r.events()
			return res
		}
	}
	res.Failures = r.check(ctx, sc)
	res.Passed = len(res.Failures) == 0
	res.Events = r.events()
	return res
}

type run struct {
	policy string
	client Client
	eng    *authstate.Engine
	clock  *authstate.FakeClock
	opts   Options
	notify chan struct{}
}

// Effective is the variant that runs when sc is run under v: +pr83 only
// where the scenario runs the Convex client model (elsewhere it changes
// nothing), and the scenario's own start switches (pr83,
// server.preserve_session) on under every variant.
func (sc *Scenario) Effective(v authstate.Variant) authstate.Variant {
	return authstate.Variant{
		Policy:   v.Policy,
		PR83:     sc.Start.Consumer && (sc.Start.PR83 || v.PR83),
		Preserve: sc.Start.PreserveSession || v.Preserve,
	}
}

// runSwitches are the switches in effect for one run.
type runSwitches struct{ pr83, preserve bool }

func newRun(ctx context.Context, target Target, sc *Scenario, policy string, sw runSwitches, opts Options) (*run, error) {
	start := opts.Start
	if start.IsZero() {
		// A whole second, as a JWT's iat is: the client's estimate of the
		// server's clock is then the same in every run.
		start = time.Now().Truncate(time.Second)
	}
	clock := authstate.NewFakeClock(start)
	var client Client
	var err error
	signedIn := false
	if st, ok := target.(SignedInTarget); ok && sc.Start.SignedIn {
		setup, cancel := context.WithTimeout(ctx, 4*opts.StepTimeout)
		client, err = st.OpenSignedIn(setup, clock.Now, ServerSwitches{PreserveSession: sw.preserve})
		cancel()
		if err != nil {
			return nil, &SetupError{fmt.Errorf("open %s and sign in before the start: %w", target.Name(), err)}
		}
		signedIn = true
	} else if st, ok := target.(SwitchableTarget); ok {
		client, err = st.OpenSwitched(ctx, clock.Now, ServerSwitches{PreserveSession: sw.preserve})
	} else if sw.preserve {
		return nil, ErrNeedsPreserve
	} else if ct, ok := target.(ClockedTarget); ok {
		client, err = ct.OpenClocked(ctx, clock.Now)
	} else {
		client, err = target.Open(ctx)
	}
	if err != nil {
		return nil, &SetupError{fmt.Errorf("open %s: %w", target.Name(), err)}
	}
	r := &run{policy: policy, client: client, clock: clock, opts: opts, notify: make(chan struct{}, 1)}
	client.SetNotify(func() {
		select {
		case r.notify <- struct{}{}:
		default:
		}
	})
	setup, cancel := context.WithTimeout(ctx, 4*opts.StepTimeout)
	defer cancel()
	if sc.Start.SignedIn && !signedIn {
		if err := client.SignIn(setup); err != nil {
			client.Close()
			return nil, &SetupError{fmt.Errorf("sign in before the start: %w", err)}
		}
	}
	var initial *authstate.Token
	if sc.Start.InitialToken {
		initial, err = client.FetchToken(setup)
		if err != nil {
			client.Close()
			return nil, &SetupError{fmt.Errorf("mint the initial token: %w", err)}
		}
	}
	cfg := authstate.Config{
		Backend:      client,
		Policy:       policy,
		Clock:        r.clock,
		LogSize:      1 << 16,
		InitialToken: initial,
		OnEvent:      opts.OnEvent,
		OnInput:      opts.OnInput,
		// Results of calls that finish at the same virtual instant are
		// applied in the order the calls started, whatever the machine's
		// load: a run gives the same events every time.
		OrderedCompletions: true,
	}
	if sc.Start.Consumer {
		cb, ok := client.(convexClient)
		if !ok || cb.ConvexURL() == "" {
			client.Close()
			return nil, ErrNeedsConvex
		}
		cfg.Consumer = &authstate.ConsumerConfig{Backend: cb, PR83: sw.pr83}
	}
	r.eng, err = authstate.New(cfg)
	if err != nil {
		client.Close()
		return nil, err
	}
	if opts.CheckFold {
		r.eng.CheckFold()
	}
	r.eng.Start(ctx)
	if err := r.settle(ctx, "the client to start"); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *run) close() {
	r.eng.Stop()
	r.client.Close()
}

func (r *run) events() int { return int(r.eng.Log().Total()) }

// targetErr is the first failure of the target no fault step asked for, if
// the client keeps track of them.
func (r *run) targetErr() error {
	if t, ok := r.client.(interface{ TargetErr() error }); ok {
		return t.TargetErr()
	}
	return nil
}

// settle waits until the engine has nothing to do but wait for held items.
func (r *run) settle(ctx context.Context, what string) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.StepTimeout)
	defer cancel()
	if err := r.eng.Settle(ctx, r.client.Held, r.notify, r.clock); err != nil {
		return fmt.Errorf("gave up after %s waiting for %s: %w", r.opts.StepTimeout, what, err)
	}
	return nil
}

func (r *run) step(ctx context.Context, st Step) error {
	switch st.Op {
	case OpSignIn:
		r.eng.Do(authstate.ActionSignIn, true)
	case OpSignOut:
		r.eng.Do(authstate.ActionSignOut, true)
	case OpChangePassword:
		r.eng.Do(authstate.ActionChangePassword, false)
	case OpObserve:
		r.eng.Observe("scenario")
	case OpQuery:
		r.eng.RerunQuery("scenario")
	case OpRemount:
		// Setting the policy the run is under remounts the provider:
		// the cache and the pending slot start empty.
		if err := r.eng.SetPolicy(r.policy); err != nil {
			return err
		}
	case OpRotate:
		r.eng.Do(authstate.ActionChangePassword, false)
		if err := r.settle(ctx, st.String()); err != nil {
			return err
		}
		if err := r.eng.Err(); err != nil {
			return err
		}
		r.eng.Observe("after rotation")
	case OpFetch:
		r.eng.Fetch(st.As, st.Force, "scenario")
	case OpAwait:
		if err := r.settle(ctx, st.String()); err != nil {
			return err
		}
		// Settled, the engine has nothing left to do: a call that has not
		// returned waits on something held, and no later step can release
		// it while this one waits. Say so now rather than wait out the
		// step timeout.
		if err := r.eng.Returned(st.Names...); err != nil {
			if h := r.client.HeldSummary(); h != "" {
				return fmt.Errorf("%w; held in the client transport: %s (add a release step)", err, h)
			}
			return err
		}
	case OpHold:
		if err := r.eng.Hold(st.What); err != nil {
			return err
		}
	case OpRelease:
		r.eng.Release(st.What)
	case OpWait:
		r.eng.Advance(st.Wait)
	case OpFault:
		if err := r.eng.InjectFault(st.Fault.Endpoint, st.Fault.Status, st.Fault.Network); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown step %q", st.Op)
	}
	if err := r.settle(ctx, st.String()); err != nil {
		return err
	}
	if st.Op != OpChangePassword && st.Op != OpSignIn && st.Op != OpSignOut && st.Op != OpRotate {
		return nil
	}
	return r.eng.Err()
}
