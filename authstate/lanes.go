package authstate

import (
	"fmt"
	"strings"
	"time"
)

// This file derives the swimlanes of a stretch of one device's event
// stream: one lane per actor of the client stack (the server's sessions,
// the session poller, the fetchAccessToken calls answered from the cache,
// each token request, the token cache, the Convex client), each lane a
// list of spans and ticks, plus the findings (violations and flicker
// windows) labelled in words. It is a pure function of the events, so the
// TUI's swimlane view and a report draw the same lanes live and in replay.

// LaneKind is the actor a lane follows.
type LaneKind uint8

const (
	LaneSessions LaneKind = iota + 1 // the server's sessions, as the client saw them
	LanePoller                       // get-session answers, failures and skipped polls
	LaneCalls                        // fetchAccessToken calls answered without a request (from the cache)
	LaneRequest                      // one token request and the calls it served
	LaneCache                        // which token the provider's cache holds
	LaneConvex                       // useConvexAuth's phase and the Convex client's steps
)

// SpanStyle says what a span stands for, so that a view can draw it.
type SpanStyle uint8

const (
	SpanLive      SpanStyle = iota // a current session, a request that resolved fresh, a fresh cache value
	SpanGone                       // a session rotated away or ended
	SpanStale                      // a request resolved with a stale token; a cache value whose session is gone
	SpanFailed                     // a request that failed
	SpanDiscarded                  // a request whose result a guard threw away
	SpanPending                    // a request still in flight at the end of the events
	SpanAuthed                     // Convex: authenticated, the query answers
	SpanLoading                    // Convex: useConvexAuth is loading
	SpanFailing                    // Convex: not authenticated, or the query fails, while Better Auth says signed in
	SpanSignedOut                  // Convex: Better Auth says signed out
)

// TickStyle says what a tick stands for.
type TickStyle uint8

const (
	TickPoll        TickStyle = iota // a get-session answer
	TickPollFailed                   // a get-session failure
	TickPollSkipped                  // a poll skipped: the previous one was still in flight
	TickRefresh                      // a session's expiry moved later
	TickJoined                       // a call joined a request in flight
	TickServed                       // a call was served a token
	TickServedStale                  // a call was served a stale token
	TickRetry                        // a request will be retried
	TickConvex                       // a step of the Convex client (setAuth, Authenticate…)
	TickQueryOK                      // the subscribed query answered
	TickQueryError                   // the subscribed query failed
	TickFailed                       // a request failed (it may be retried, or discarded after)
)

// Span is a stretch of time on a lane.
type Span struct {
	From, To       time.Time
	FromSeq, ToSeq uint64
	// Open: the span was still open at the last event (To is that event's
	// time).
	Open  bool
	Style SpanStyle
	// Label names the span in a few words ("S1", "S1's token",
	// "authenticated"); Title says it at length.
	Label, Title string
}

// Tick is a moment on a lane.
type Tick struct {
	At    time.Time
	Seq   uint64
	Style TickStyle
	Label string // a few words, "" for none
}

// Lane is one actor's row.
type Lane struct {
	Kind LaneKind
	// Name is the lane's name in words; Short is the same in a few
	// characters for a narrow screen.
	Name, Short string
	// Fetch is the request number of a LaneRequest lane.
	Fetch int
	Spans []Span
	Ticks []Tick
}

// MarkKind says whether a mark is a violation or a flicker window.
type MarkKind uint8

const (
	MarkViolation MarkKind = iota + 1
	MarkFlicker
)

// Mark is a finding: a violation at one event, or a flicker window from
// one event to another.
type Mark struct {
	Kind   MarkKind
	At, To time.Time
	// Seq is the violation's event or the window's opening; ToSeq is the
	// closing event (0 while the window is open).
	Seq, ToSeq uint64
	Open       bool
	// Label says in words what went wrong: "stale token served to key t:
	// bound to S1, which has ended (now S2)".
	Label string
}

// Lanes is the swimlane drawing of a stretch of events.
type Lanes struct {
	From, To          time.Time // the first and the last event's times
	FirstSeq, LastSeq uint64
	Lanes             []Lane
	Marks             []Mark
}

// LaneSet derives the lanes of evs (one device's events, oldest first;
// quiet kinds are ignored). Lanes come in a fixed order: sessions, poller,
// calls, one per request in the order they started, cache, Convex. A lane
// with nothing on it is left out, except sessions, poller and cache.
func LaneSet(evs []Event) Lanes {
	var out Lanes
	b := laneBuilder{
		sessions: Lane{Kind: LaneSessions, Name: "server sessions", Short: "sess"},
		poller:   Lane{Kind: LanePoller, Name: "session poller", Short: "poll"},
		calls:    Lane{Kind: LaneCalls, Name: "calls served from cache", Short: "calls"},
		cache:    Lane{Kind: LaneCache, Name: "token cache", Short: "cache"},
		convex:   Lane{Kind: LaneConvex, Name: "Convex client", Short: "cvx"},
		live:     map[string]int{},
		gone:     map[string]string{},
		reqs:     map[int]int{},
		cacheAt:  -1,
		flicker:  -1,
		phaseAt:  -1,
		state:    laneConsumer{loading: true},
	}
	n := 0
	for _, ev := range evs {
		if ev.Kind.Quiet() || ev.Kind == 0 {
			continue
		}
		if n == 0 {
			out.From, out.FirstSeq = ev.At, ev.Seq
		}
		n++
		out.To, out.LastSeq = ev.At, ev.Seq
		b.apply(ev)
	}
	if n == 0 {
		return out
	}
	b.finish(out.To, out.LastSeq)
	out.Lanes = append(out.Lanes, b.sessions, b.poller)
	if len(b.calls.Ticks) > 0 {
		out.Lanes = append(out.Lanes, b.calls)
	}
	for i := range b.requests {
		out.Lanes = append(out.Lanes, b.requests[i].lane)
	}
	out.Lanes = append(out.Lanes, b.cache)
	if b.hasConvex {
		out.Lanes = append(out.Lanes, b.convex)
	}
	out.Marks = b.marks
	return out
}

type laneRequest struct {
	lane              Lane
	call, under, what string
	joined            []string
	ended             bool
}

type laneConsumer struct{ known, signedIn, loading, authed, failing bool }

func (s laneConsumer) style() (SpanStyle, bool) {
	switch {
	case !s.known:
		return 0, false
	case !s.signedIn:
		return SpanSignedOut, true
	case s.loading:
		return SpanLoading, true
	case !s.authed || s.failing:
		return SpanFailing, true
	}
	return SpanAuthed, true
}

var phaseLabel = map[SpanStyle]string{
	SpanAuthed:    "authenticated",
	SpanLoading:   "loading",
	SpanFailing:   "failing",
	SpanSignedOut: "signed out",
}

type laneBuilder struct {
	sessions, poller, calls, cache, convex Lane
	requests                               []laneRequest

	live map[string]int    // session label → index of its open span
	gone map[string]string // session label → what replaced it ("S2", "none")
	reqs map[int]int       // request number → index in requests

	cacheAt   int    // index of the cache's open span, -1 for none
	held      string // the session of the token the cache holds
	flicker   int    // index of the open flicker mark, -1 for none
	phaseAt   int    // index of the Convex phase's open span, -1 for none
	state     laneConsumer
	hasConvex bool

	marks []Mark
}

func closeSpan(l *Lane, i int, ev Event, how string) {
	s := &l.Spans[i]
	s.To, s.ToSeq = ev.At, ev.Seq
	if how != "" {
		s.Title += "; " + how
	}
}

func (b *laneBuilder) apply(ev Event) {
	switch ev.Kind {
	case KindSessionObserved, KindSessionRotated, KindSessionRefreshed, KindSessionEnded:
		b.session(ev)
	case KindPollFailed:
		b.poller.Ticks = append(b.poller.Ticks, Tick{At: ev.At, Seq: ev.Seq, Style: TickPollFailed, Label: "failed"})
	case KindPollPending:
		b.poller.Ticks = append(b.poller.Ticks, Tick{At: ev.At, Seq: ev.Seq, Style: TickPollSkipped, Label: "skipped"})
	case KindFetchStarted, KindFetchJoined, KindFetchResolved, KindFetchFailed, KindFetchDiscarded, KindFetchRetry:
		b.request(ev)
	case KindTokenServed:
		b.served(ev)
	case KindCacheSet, KindCacheCleared:
		b.cacheEvent(ev)
	case KindViolation:
		b.marks = append(b.marks, Mark{Kind: MarkViolation, At: ev.At, To: ev.At, Seq: ev.Seq, Label: b.violationWords(ev)})
	case KindFlicker:
		b.flickerEvent(ev)
	case KindConvex:
		b.hasConvex = true
		b.convex.Ticks = append(b.convex.Ticks, Tick{At: ev.At, Seq: ev.Seq, Style: TickConvex, Label: firstWords(ev.Summary(), 3)})
	case KindQueryResult:
		b.hasConvex = true
		st, label := TickQueryOK, "ok"
		if ev.Reason != "ok" {
			st, label = TickQueryError, "query "+firstWords(ev.Reason, 2)
		}
		b.convex.Ticks = append(b.convex.Ticks, Tick{At: ev.At, Seq: ev.Seq, Style: st, Label: label})
	case KindConsumerState:
		b.hasConvex = true
	}
	b.consumer(ev)
}

func (b *laneBuilder) session(ev Event) {
	from := ev.From
	switch ev.Kind {
	case KindSessionRotated:
		if from != "" {
			b.endSession(from, ev, "rotated away to "+ev.Session, ev.Session)
		}
		b.poller.Ticks = append(b.poller.Ticks, Tick{At: ev.At, Seq: ev.Seq, Style: TickPoll, Label: "→ " + ev.Session})
	case KindSessionEnded:
		b.endSession(from, ev, "ended", "none")
		b.poller.Ticks = append(b.poller.Ticks, Tick{At: ev.At, Seq: ev.Seq, Style: TickPoll, Label: "ended"})
		return
	case KindSessionRefreshed:
		b.poller.Ticks = append(b.poller.Ticks, Tick{At: ev.At, Seq: ev.Seq, Style: TickRefresh, Label: "refreshed"})
	default:
		b.poller.Ticks = append(b.poller.Ticks, Tick{At: ev.At, Seq: ev.Seq, Style: TickPoll})
	}
	s := ev.Session
	if s == "" || s == "none" {
		return
	}
	delete(b.gone, s)
	if _, ok := b.live[s]; ok {
		return
	}
	b.live[s] = len(b.sessions.Spans)
	b.sessions.Spans = append(b.sessions.Spans, Span{
		From: ev.At, To: ev.At, FromSeq: ev.Seq, ToSeq: ev.Seq, Style: SpanLive, Label: s,
		Title: s + ": first seen (" + ev.Kind.String() + ")",
	})
}

// endSession closes session s's span; then is what replaced it.
func (b *laneBuilder) endSession(s string, ev Event, how, then string) {
	if s == "" {
		return
	}
	b.gone[s] = then
	if i, ok := b.live[s]; ok {
		closeSpan(&b.sessions, i, ev, how)
		b.sessions.Spans[i].Style = SpanGone
		delete(b.live, s)
	}
	// The cache's token was bound to s: from here on it holds a stale one.
	if b.cacheAt >= 0 && b.held == s && b.cache.Spans[b.cacheAt].Style == SpanLive {
		closeSpan(&b.cache, b.cacheAt, ev, s+" "+how)
		b.openCache(ev, SpanStale, s+"'s token, stale", "the cache still holds "+s+"'s token; "+s+" "+how)
	}
}

func (b *laneBuilder) openCache(ev Event, st SpanStyle, label, title string) {
	b.cacheAt = len(b.cache.Spans)
	b.cache.Spans = append(b.cache.Spans, Span{From: ev.At, To: ev.At, FromSeq: ev.Seq, ToSeq: ev.Seq, Style: st, Label: label, Title: title})
}

func (b *laneBuilder) cacheEvent(ev Event) {
	if b.cacheAt >= 0 {
		how := "replaced"
		if ev.Kind == KindCacheCleared {
			how = "cleared: " + ev.Reason
		}
		closeSpan(&b.cache, b.cacheAt, ev, how)
		b.cacheAt = -1
	}
	b.held = ""
	if ev.Kind == KindCacheCleared {
		return
	}
	label := tokenWords(ev.Token)
	st := SpanLive
	if ev.Token != nil {
		b.held = ev.Token.Session
		if _, gone := b.gone[b.held]; gone {
			st = SpanStale
		}
	}
	if ev.Stale {
		st = SpanStale
	}
	if st == SpanStale {
		label += ", stale"
	}
	title := "the cache holds " + label
	if ev.Fetch != 0 {
		title += fmt.Sprintf(" (from request #%d)", ev.Fetch)
	}
	b.openCache(ev, st, label, title)
}

func (b *laneBuilder) req(ev Event) *laneRequest {
	if i, ok := b.reqs[ev.Fetch]; ok {
		return &b.requests[i]
	}
	b.reqs[ev.Fetch] = len(b.requests)
	b.requests = append(b.requests, laneRequest{lane: Lane{
		Kind: LaneRequest, Fetch: ev.Fetch, Short: fmt.Sprintf("#%d", ev.Fetch),
		Spans: []Span{{From: ev.At, To: ev.At, FromSeq: ev.Seq, ToSeq: ev.Seq, Style: SpanPending, Open: true}},
	}})
	r := &b.requests[len(b.requests)-1]
	b.nameRequest(r)
	return r
}

func (b *laneBuilder) nameRequest(r *laneRequest) {
	name := fmt.Sprintf("request #%d", r.lane.Fetch)
	if r.call != "" {
		name += " for " + r.call
	}
	for _, j := range r.joined {
		name += " + " + j
	}
	if r.under != "" {
		name += " under " + r.under
	}
	r.lane.Name = name
	sp := &r.lane.Spans[0]
	sp.Label = r.what
	sp.Title = name
	if r.what != "" {
		sp.Title += " → " + r.what
	}
}

func (b *laneBuilder) request(ev Event) {
	r := b.req(ev)
	sp := &r.lane.Spans[0]
	end := func(st SpanStyle, what string) {
		sp.To, sp.ToSeq, sp.Open, sp.Style = ev.At, ev.Seq, false, st
		r.what, r.ended = what, true
	}
	switch ev.Kind {
	case KindFetchStarted:
		r.call, r.under = ev.Call, ev.Session
		if ev.Force {
			r.call += " (forced)"
		}
	case KindFetchJoined:
		r.joined = append(r.joined, ev.Call)
		r.lane.Ticks = append(r.lane.Ticks, Tick{At: ev.At, Seq: ev.Seq, Style: TickJoined, Label: ev.Call + " joins"})
	case KindFetchResolved:
		st, what := SpanLive, tokenWords(ev.Token)
		if ev.Stale {
			st, what = SpanStale, what+", stale"
		}
		end(st, what)
	case KindFetchFailed:
		r.lane.Ticks = append(r.lane.Ticks, Tick{At: ev.At, Seq: ev.Seq, Style: TickFailed})
		end(SpanFailed, "failed: "+ev.Reason)
	case KindFetchDiscarded:
		end(SpanDiscarded, "discarded: "+ev.Reason)
	case KindFetchRetry:
		r.lane.Ticks = append(r.lane.Ticks, Tick{At: ev.At, Seq: ev.Seq, Style: TickRetry, Label: "retry"})
	}
	b.nameRequest(r)
}

func (b *laneBuilder) served(ev Event) {
	st := TickServed
	if ev.Stale {
		st = TickServedStale
	}
	if ev.Fetch == 0 {
		label := ev.Call + " ← " + ev.Source
		b.calls.Ticks = append(b.calls.Ticks, Tick{At: ev.At, Seq: ev.Seq, Style: st, Label: label})
		return
	}
	r := b.req(ev)
	label := ev.Call + " served"
	if ev.Stale {
		label = ev.Call + " stale"
	}
	r.lane.Ticks = append(r.lane.Ticks, Tick{At: ev.At, Seq: ev.Seq, Style: st, Label: label})
}

func (b *laneBuilder) flickerEvent(ev Event) {
	switch ev.Reason {
	case "open":
		if b.flicker >= 0 {
			return
		}
		why := ev.Why
		if why == "" {
			why = strings.TrimPrefix(ev.Detail, "flicker: Better Auth says signed in, but ")
		}
		if why == "" {
			why = "the Convex side disagrees with Better Auth"
		}
		b.flicker = len(b.marks)
		b.marks = append(b.marks, Mark{Kind: MarkFlicker, At: ev.At, To: ev.At, Seq: ev.Seq, Open: true, Label: "flicker: Better Auth says signed in, but " + why})
	case "closed":
		if b.flicker < 0 {
			return
		}
		m := &b.marks[b.flicker]
		m.To, m.ToSeq, m.Open = ev.At, ev.Seq, false
		// The length by the event clock (the event's own text measures
		// the wall clock, which a replay does not repeat).
		d := ev.At.Sub(m.At).Round(time.Millisecond).String()
		if ev.At.Sub(m.At) < time.Millisecond {
			d = "under 1ms"
		}
		m.Label = fmt.Sprintf("flicker of %s: %s", d, strings.TrimPrefix(m.Label, "flicker: "))
		b.flicker = -1
	}
}

// consumer follows useConvexAuth's phase, like the TUI's Convex strip.
func (b *laneBuilder) consumer(ev Event) {
	s := b.state
	switch ev.Kind {
	case KindSessionObserved:
		s.known, s.signedIn = true, ev.Session != "" && ev.Session != "none"
	case KindSessionRotated, KindSessionRefreshed:
		s.known, s.signedIn = true, true
	case KindSessionEnded:
		s.known, s.signedIn = true, false
	case KindConsumerState:
		if ev.Convex != nil {
			s.loading, s.authed, s.failing = ev.Convex.Loading, ev.Convex.Authenticated, ev.Convex.Failing
		}
	default:
		return
	}
	old, hadOld := b.state.style()
	b.state = s
	st, ok := s.style()
	if !ok || (hadOld && st == old && b.phaseAt >= 0) {
		return
	}
	if b.phaseAt >= 0 {
		closeSpan(&b.convex, b.phaseAt, ev, "")
	}
	b.phaseAt = len(b.convex.Spans)
	b.convex.Spans = append(b.convex.Spans, Span{From: ev.At, To: ev.At, FromSeq: ev.Seq, ToSeq: ev.Seq, Style: st, Label: phaseLabel[st], Title: "useConvexAuth: " + phaseLabel[st]})
}

// finish runs what is still open to the last event.
func (b *laneBuilder) finish(at time.Time, seq uint64) {
	extend := func(s *Span, title string) {
		s.To, s.ToSeq, s.Open = at, seq, true
		if title != "" {
			s.Title += "; " + title
		}
	}
	for _, i := range b.live {
		extend(&b.sessions.Spans[i], "still current")
	}
	if b.cacheAt >= 0 {
		extend(&b.cache.Spans[b.cacheAt], "")
	}
	if b.phaseAt >= 0 {
		extend(&b.convex.Spans[b.phaseAt], "")
	}
	for i := range b.requests {
		r := &b.requests[i]
		if !r.ended {
			extend(&r.lane.Spans[0], "")
			r.what = "in flight"
			r.lane.Spans[0].Label = r.what
		}
	}
	if b.flicker >= 0 {
		m := &b.marks[b.flicker]
		m.To = at
		m.Label = "flicker still open: " + strings.TrimPrefix(m.Label, "flicker: ")
	}
	if !b.hasConvex {
		b.convex.Spans = nil
	}
}

// violationWords says what a violation was, in words.
func (b *laneBuilder) violationWords(ev Event) string {
	call := ev.Call
	if call == "" {
		call = "a call"
	}
	switch ev.Cause {
	case InvariantGoneSession:
		s := ""
		if ev.Token != nil {
			s = ev.Token.Session
		}
		if s == "" {
			break
		}
		now := b.gone[s]
		switch now {
		case "", "none":
			now = "signed out"
		}
		return fmt.Sprintf("stale token served to %s: bound to %s, which has ended (now %s)", call, s, now)
	case InvariantUnverified:
		problem := "not verified"
		if ev.Token != nil && ev.Token.Problem != "" {
			problem = ev.Token.Problem
		}
		return fmt.Sprintf("unverified token served to %s: %s", call, problem)
	case InvariantExpired:
		return "expired token served to " + call
	case InvariantLateOverwrite:
		return fmt.Sprintf("late overwrite: request #%d wrote the cache after a newer value", ev.Fetch)
	case InvariantPendingClobber:
		return fmt.Sprintf("pending slot clobbered: request #%d cleared the slot of request #%d, still in flight", ev.Fetch, ev.Owner)
	}
	if s := ev.Summary(); s != "" {
		return "violation " + ev.Cause + ": " + s
	}
	return "violation " + ev.Cause
}

// tokenWords names a token by its session: "S1's token", or "no token".
func tokenWords(t *TokenInfo) string {
	if t == nil {
		return "no token"
	}
	if t.Session == "" || t.Session == "none" {
		return "a token of no known session"
	}
	return t.Session + "'s token"
}

// firstWords is the first n words of s.
func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = f[:n]
	}
	return strings.Join(f, " ")
}
