package authstate

import (
	"maps"
	"strings"
	"time"
)

// Fold computes what the panels show from the event stream alone: apply
// every event an engine emits, in order, and Snapshot returns what the
// engine's own Snapshot would. Live mode feeds it from a subscription,
// replay from a recorded trace; both use this one reducer. A Fold never
// touches an engine. It is not safe for concurrent use.
//
// Busy and Timed are the engine's bookkeeping of its goroutines and timers
// and are not folded (always 0); Stopped is always false.
type Fold struct {
	cfg  FoldConfig
	last time.Time // time of the last event applied

	policy       string
	session      *Session
	pending      bool
	lastPoll     time.Time
	lastResult   string
	poll         int
	pollStarted  time.Time
	pollInterval time.Duration
	transport    TransportState
	labels       map[string]string
	labelsShared bool // a Snapshot holds labels: copy before writing
	mounted      bool
	skew         time.Duration

	cache, firstRender, lastServed *Token
	slot                           int // request in the pending slot
	promises                       map[int]*foldPromise
	order                          []int // ids of promises in flight, ascending
	calls                          map[string]*Call
	callOrder                      []string
	// limbo holds the callers of a rerouted request until their next event.
	limbo     []*Call
	tokenReqs int

	violations     []Event
	violationCount int
	staleServed    int

	client ClientState
	auth   *Token

	flickerOpen  bool
	flickerSince time.Time
	flickerWhy   string
	windows      []FlickerWindow

	tokens     map[string]foldToken
	tokenOrder []string
}

// FoldConfig is what a fold needs to know that no event says: how the
// engine was set up. Config.FoldConfig fills it from an engine's Config.
type FoldConfig struct {
	Policy       string
	PollInterval time.Duration
	// Transport is the client transport's state when the engine was made
	// (Engine.FoldConfig fills it).
	Transport TransportState
	// Consumer says the Convex client model runs; Query and PR83 are its
	// settings.
	Consumer bool
	Query    string
	PR83     bool
	// Now is the engine clock, for live mode: Snapshot's Now. Nil: the
	// time of the last event applied (replay).
	Now func() time.Time
}

// FoldConfig returns the fold settings matching an engine built from c.
func (c Config) FoldConfig() FoldConfig {
	fc := FoldConfig{Policy: c.Policy, PollInterval: c.PollInterval}
	if fc.Policy == "" {
		fc.Policy = "pr329"
	}
	if c.Clock != nil {
		fc.Now = c.Clock.Now
	}
	if cc := c.Consumer; cc != nil {
		fc.Consumer, fc.Query, fc.PR83 = true, cc.Query, cc.PR83
	}
	return fc
}

type foldPromise struct {
	info    FetchInfo
	waiters []*Call
}

type foldToken struct {
	info *TokenInfo
	tok  *Token
}

// maxFoldTokens bounds how many tokens TokenInfo can still find.
const maxFoldTokens = 256

// NewFold returns the fold of an engine that has emitted nothing yet.
func NewFold(cfg FoldConfig) *Fold {
	if cfg.Query == "" {
		cfg.Query = "auth:getAuthUser"
	}
	if cfg.Transport.Holding == "" {
		cfg.Transport.Holding = "none"
	}
	return &Fold{
		cfg:          cfg,
		policy:       cfg.Policy,
		pending:      true,
		pollInterval: cfg.PollInterval,
		transport:    cfg.Transport.clone(),
		labels:       make(map[string]string),
		promises:     make(map[int]*foldPromise),
		calls:        make(map[string]*Call),
		client:       ClientState{Loading: true, AuthState: amNoAuth.String(), Socket: socketReady.String()},
		tokens:       make(map[string]foldToken),
	}
}

// Apply folds one event in.
func (f *Fold) Apply(ev Event) {
	f.last = ev.At
	if ev.Policy != "" {
		f.policy = ev.Policy
	}
	f.setLabel(ev.SessionID, ev.Session)
	tok := f.token(ev.Token)
	switch ev.Kind {
	case KindPollStarted:
		f.poll, f.pollStarted = ev.Poll, ev.At
	case KindPollFailed:
		f.poll = 0
		if ev.Effect != "abandoned" {
			f.lastPoll, f.lastResult = ev.At, "failed: "+ev.Reason
		}
	case KindSessionObserved, KindSessionRotated, KindSessionEnded, KindSessionRefreshed:
		f.poll = 0
		f.lastPoll = ev.At
		f.pending = false
		f.session = nil
		if ev.Observed != nil {
			s := *ev.Observed
			f.session = &s
		}
		switch ev.Kind {
		case KindSessionRotated:
			f.lastResult = ChangeRotated.String()
		case KindSessionEnded:
			f.lastResult = ChangeEnded.String()
		case KindSessionRefreshed:
			f.lastResult = ChangeRefreshed.String()
		default:
			f.lastResult = ev.Reason
		}
	case KindNote:
		if ev.Effect == "mount" {
			f.mounted = true
		}
	case KindCacheSet:
		f.cache = tok
		if ev.Effect == "initial" {
			f.firstRender = tok
			f.learnSkew(tok, ev.At)
		}
	case KindCacheCleared:
		f.cache = nil
		if ev.Effect == "remount" {
			f.firstRender, f.slot = nil, 0
		}
	case KindPendingCleared:
		f.slot = 0
	case KindCallStarted:
		c := &Call{Name: ev.Call, Force: ev.Force, Cause: ev.Cause, Fetcher: ev.Fetcher, StartedAt: ev.At}
		if _, dup := f.calls[ev.Call]; !dup {
			f.callOrder = append(f.callOrder, ev.Call)
		}
		f.calls[ev.Call] = c
		f.trimCalls()
	case KindFetchStarted:
		f.tokenReqs++
		if p := f.promises[ev.Fetch]; p != nil {
			p.info.Attempts++
			p.info.State = "in flight"
			p.info.Session = ev.Session
			break
		}
		c := f.callFor(ev.Call, 0)
		p := &foldPromise{info: FetchInfo{ID: ev.Fetch, Force: ev.Force, Cause: ev.Cause, Session: ev.Session, Started: ev.At, State: "in flight", Attempts: 1}}
		if c != nil {
			c.Fetch, c.Source = ev.Fetch, "fetch"
			p.waiters = append(p.waiters, c)
		}
		f.promises[ev.Fetch] = p
		f.order = append(f.order, ev.Fetch) // ids only grow
		f.slot = ev.Fetch
	case KindFetchJoined:
		c := f.callFor(ev.Call, 0)
		if p := f.promises[ev.Fetch]; p != nil && c != nil {
			p.waiters = append(p.waiters, c)
		}
		if c != nil {
			c.Fetch, c.Source = ev.Fetch, "joined"
		}
	case KindFetchRetry:
		if p := f.promises[ev.Fetch]; p != nil {
			p.info.State = "waiting to retry"
		}
	case KindFetchResolved:
		f.learnSkew(tok, ev.At)
	case KindFetchDiscarded:
		if ev.Effect == "reroute" {
			if p := f.promises[ev.Fetch]; p != nil {
				f.limbo = append(f.limbo[:0], p.waiters...)
				f.forget(ev.Fetch)
			}
		}
	case KindTokenServed:
		if ev.Stale {
			f.staleServed++
		}
		c := f.callFor(ev.Call, ev.Fetch)
		if ev.Fetch != 0 {
			f.forget(ev.Fetch)
		}
		if tok != nil {
			f.lastServed = tok
		}
		if c == nil {
			break
		}
		c.Done, c.Token, c.Source, c.Fetch, c.DoneAt, c.Err = true, tok, ev.Source, ev.Fetch, ev.At, ""
		if tok == nil {
			c.Err = ev.Reason
		}
	case KindViolation:
		f.violationCount++
		if len(f.violations) < maxViolations {
			f.violations = append(f.violations, ev)
		}
	case KindCountersReset:
		f.violationCount, f.staleServed, f.violations, f.windows = 0, 0, nil, nil
		if f.flickerOpen {
			f.flickerSince = ev.At
		}
	case KindFlicker:
		switch ev.Reason {
		case "open":
			f.flickerOpen, f.flickerWhy = true, ev.Why
			f.flickerSince = ev.At
		case "closed":
			f.flickerOpen = false
			f.windows = append(f.windows, FlickerWindow{Start: f.flickerSince, End: ev.At, Duration: ev.Elapsed, Why: f.flickerWhy})
			if len(f.windows) > maxFlickerWindows {
				f.windows = f.windows[1:]
			}
		}
	case KindPollInterval:
		f.pollInterval = ev.Interval
	case KindTransport, KindHeldChanged:
		if ev.Transport != nil {
			f.transport = ev.Transport.clone()
		}
	case KindConvexState:
		if ev.Client != nil {
			f.client = *ev.Client
			f.auth = f.token(ev.Client.Auth)
		}
	}
}

// callFor finds the call an event names: among the waiters of request
// fetch, among the callers of a rerouted request, or by name.
func (f *Fold) callFor(name string, fetch int) *Call {
	if p := f.promises[fetch]; p != nil {
		for _, c := range p.waiters {
			if c.Name == name {
				return c
			}
		}
	}
	for i, c := range f.limbo {
		if c.Name == name {
			f.limbo = append(f.limbo[:i], f.limbo[i+1:]...)
			return c
		}
	}
	return f.calls[name]
}

// forget drops request id from those in flight.
func (f *Fold) forget(id int) {
	if _, ok := f.promises[id]; !ok {
		return
	}
	delete(f.promises, id)
	for i, v := range f.order {
		if v == id {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
}

// setLabel records a session's label. Snapshots share the map, so it is
// copied before a change once one has been handed out.
func (f *Fold) setLabel(id, label string) {
	if id == "" || label == "" || f.labels[id] == label {
		return
	}
	if f.labelsShared {
		f.labels = maps.Clone(f.labels)
		f.labelsShared = false
	}
	f.labels[id] = label
}

// trimCalls forgets the oldest finished calls beyond MaxCalls, as the
// engine does. Usually the oldest call is finished: dropping it from the
// front is cheap.
func (f *Fold) trimCalls() {
	for len(f.callOrder) > MaxCalls {
		c := f.calls[f.callOrder[0]]
		if c == nil || !c.Done {
			f.trimCallsSlow()
			return
		}
		delete(f.calls, f.callOrder[0])
		f.callOrder = f.callOrder[1:]
	}
}

func (f *Fold) trimCallsSlow() {
	kept := f.callOrder[:0]
	excess := len(f.callOrder) - MaxCalls
	for _, n := range f.callOrder {
		if excess > 0 && f.calls[n].Done {
			delete(f.calls, n)
			excess--
			continue
		}
		kept = append(kept, n)
	}
	f.callOrder = kept
}

func (f *Fold) learnSkew(t *Token, at time.Time) {
	if t != nil && t.Verified && !t.IssuedAt.IsZero() {
		f.skew = t.IssuedAt.Sub(at)
	}
}

// token rebuilds (once per fingerprint) the token an event describes.
func (f *Fold) token(ti *TokenInfo) *Token {
	if ti == nil {
		return nil
	}
	f.setLabel(ti.SessionID, ti.Session)
	ft, ok := f.tokens[ti.Fingerprint]
	if ok && ft.info.sameCheck(ti) {
		return ft.tok
	}
	// The same JWT can be checked again with another outcome (a JWKS
	// that was unreachable): the verdict is part of the token here.
	t := ti.token()
	f.tokens[ti.Fingerprint] = foldToken{info: ti, tok: t}
	if ok {
		return t
	}
	f.tokenOrder = append(f.tokenOrder, ti.Fingerprint)
	if len(f.tokenOrder) > maxFoldTokens {
		delete(f.tokens, f.tokenOrder[0])
		f.tokenOrder = f.tokenOrder[1:]
	}
	return t
}

// TokenInfo returns what the events said about the token with this
// fingerprint (its decoded header and claims included), if it is among
// the most recent ones. It is the replay's stand-in for Engine.RawToken:
// the raw JWT itself is never in an event.
func (f *Fold) TokenInfo(fingerprint string) (TokenInfo, bool) {
	ft, ok := f.tokens[fingerprint]
	if !ok {
		return TokenInfo{}, false
	}
	return *ft.info, true
}

func (f *Fold) now() time.Time {
	if f.cfg.Now != nil {
		return f.cfg.Now()
	}
	return f.last
}

func (f *Fold) sessionID() string {
	if f.session == nil {
		return ""
	}
	return f.session.ID
}

func (f *Fold) label(id string) string {
	if id == "" {
		return "none"
	}
	if l, ok := f.labels[id]; ok {
		return l
	}
	return "unseen"
}

// readable is what a non-forced call would get from the cache now.
func (f *Fold) readable(serverNow time.Time) *Token {
	switch f.policy {
	case "v0.12":
		return f.firstRender
	case "hardened":
		t := f.cache
		if t == nil || !t.Verified || t.SessionID != f.sessionID() || t.ExpiredAt(serverNow, HardenedLeeway) {
			return nil
		}
		return t
	}
	return f.cache
}

// Snapshot is the state the events applied so far describe. It shares
// nothing that later events change.
func (f *Fold) Snapshot() Snapshot {
	now := f.now()
	s := Snapshot{
		Policy:         f.policy,
		Now:            now,
		ServerNow:      now.Add(f.skew),
		SessionPending: f.pending,
		LastPoll:       f.lastPoll,
		LastPollResult: f.lastResult,
		PollInterval:   f.pollInterval,
		PollInFlight:   f.poll,
		TokenRequests:  f.tokenReqs,
		Labels:         f.labels,
		ViolationCount: f.violationCount,
		StaleServed:    f.staleServed,
		Mounted:        f.mounted,
		Cache:          f.cache,
		LastServed:     f.lastServed,
		Pending:        f.slot,
		Transport:      f.transport.clone(),
	}
	f.labelsShared = true
	if f.poll != 0 {
		s.PollStarted = f.pollStarted
	}
	if f.violations != nil {
		s.Violations = append([]Event(nil), f.violations...)
	}
	if f.session != nil {
		cp := *f.session
		s.Session = &cp
		s.SessionLabel = f.label(cp.ID)
	}
	s.CacheLabel = "none"
	if f.cache != nil {
		s.CacheLabel = f.label(f.cache.SessionID)
	}
	s.Readable = f.readable(s.ServerNow)
	for _, id := range f.order {
		p := f.promises[id]
		fi := p.info
		names := make([]string, len(p.waiters))
		for i, c := range p.waiters {
			names[i] = c.Name
		}
		fi.Calls = strings.Join(names, ",")
		s.InFlight = append(s.InFlight, fi)
	}
	if len(f.callOrder) > 0 {
		s.Calls = make([]Call, 0, len(f.callOrder))
		for _, n := range f.callOrder {
			s.Calls = append(s.Calls, *f.calls[n])
		}
	}
	if f.policy == "hardened" {
		s.ProviderLoading, s.ProviderAuthenticated = f.pending && s.Readable == nil, f.session != nil
	} else {
		s.ProviderLoading, s.ProviderAuthenticated = f.pending && f.firstRender == nil, f.session != nil || f.firstRender != nil
	}
	if f.cfg.Consumer {
		c := f.client
		s.Convex = ConvexState{
			Enabled: true, IsLoading: c.Loading, IsAuthenticated: c.Authenticated, IsRefreshing: c.Refreshing,
			AuthState: c.AuthState, ConfigVersion: c.ConfigVersion, IdentityVersion: c.IdentityVersion,
			Socket: c.Socket, Auth: f.auth, Query: f.cfg.Query, PR83: f.cfg.PR83, AnonymousQueries: c.Anonymous,
		}
		if c.LastResult != nil {
			r := *c.LastResult
			s.Convex.LastResult = &r
		}
	}
	s.Flicker = FlickerStats{Count: len(f.windows), Open: f.flickerOpen, Windows: append([]FlickerWindow(nil), f.windows...)}
	for _, w := range f.windows {
		s.Flicker.Total += w.Duration
	}
	if f.flickerOpen {
		d := f.now().Sub(f.flickerSince)
		s.Flicker.Total += d
		s.Flicker.Count++
		s.Flicker.Windows = append(s.Flicker.Windows, FlickerWindow{Start: f.flickerSince, Duration: d, Why: f.flickerWhy})
	}
	return s
}

// sameCheck says whether two descriptions of one JWT agree on what the
// client made of it.
func (ti *TokenInfo) sameCheck(o *TokenInfo) bool {
	return ti.Verified == o.Verified && ti.Problem == o.Problem && ti.SessionID == o.SessionID &&
		ti.IssuedAt.Equal(o.IssuedAt) && ti.ExpiresAt.Equal(o.ExpiresAt)
}

// Clone returns an independent copy: a checkpoint to fold on from.
func (f *Fold) Clone() *Fold {
	n := *f
	n.labels = maps.Clone(f.labels)
	n.tokens = maps.Clone(f.tokens)
	n.tokenOrder = append([]string(nil), f.tokenOrder...)
	n.violations = append([]Event(nil), f.violations...)
	n.windows = append([]FlickerWindow(nil), f.windows...)
	n.order = append([]int(nil), f.order...)
	n.callOrder = append([]string(nil), f.callOrder...)
	if f.session != nil {
		s := *f.session
		n.session = &s
	}
	// Calls are shared by name and by the requests they wait on: copy
	// each once and point both at the copy.
	copied := make(map[*Call]*Call, len(f.calls))
	dup := func(c *Call) *Call {
		if c == nil {
			return nil
		}
		if d, ok := copied[c]; ok {
			return d
		}
		d := *c
		copied[c] = &d
		return &d
	}
	n.calls = make(map[string]*Call, len(f.calls))
	for k, c := range f.calls {
		n.calls[k] = dup(c)
	}
	n.promises = make(map[int]*foldPromise, len(f.promises))
	for id, p := range f.promises {
		q := &foldPromise{info: p.info, waiters: make([]*Call, len(p.waiters))}
		for i, c := range p.waiters {
			q.waiters[i] = dup(c)
		}
		n.promises[id] = q
	}
	n.limbo = make([]*Call, len(f.limbo))
	for i, c := range f.limbo {
		n.limbo[i] = dup(c)
	}
	return &n
}

// Timeline is a recorded event stream with the fold kept at a checkpoint
// every few events, so that the state after any number of events is at
// most that many applies away (replay's seek).
type Timeline struct {
	events []Event
	every  int
	marks  []*Fold // marks[i] has applied events[:i*every]
}

// NewTimeline folds events once, keeping a checkpoint every every events
// (default 1024).
func NewTimeline(cfg FoldConfig, events []Event, every int) *Timeline {
	if every <= 0 {
		every = 1024
	}
	t := &Timeline{events: events, every: every}
	f := NewFold(cfg)
	t.marks = append(t.marks, f.Clone())
	for i, ev := range events {
		f.Apply(ev)
		if (i+1)%every == 0 {
			t.marks = append(t.marks, f.Clone())
		}
	}
	return t
}

// Len is the number of events.
func (t *Timeline) Len() int { return len(t.events) }

// At returns the fold after the first n events (clamped to the stream). The
// caller owns it.
func (t *Timeline) At(n int) *Fold {
	n = min(max(n, 0), len(t.events))
	m := n / t.every
	f := t.marks[m].Clone()
	for _, ev := range t.events[m*t.every : n] {
		f.Apply(ev)
	}
	return f
}
