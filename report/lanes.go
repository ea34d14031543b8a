package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/authscope/authscope/authstate"
)

// This file draws the swimlanes: for each device, one lane per actor of
// the client stack, built from its events alone.

// Geometry of the drawing, in px.
const (
	labelWidth = 230.0 // the lane-name column, drawn apart so it stays put
	rowH       = 20.0  // one row of a lane
	barH       = 12.0  // a bar within its row
	laneGap    = 6.0   // between two lanes
	groupGap   = 22.0  // between two devices
	groupHead  = 22.0  // a device's title
	charW      = 6.6   // an estimate of one character of the 11 px monospace font
	labelMax   = 120   // characters of a label drawn in the timeline (the tooltip has all)
	minBar     = 4.0   // the narrowest bar
)

// shape is one element of the timeline SVG. Every string in it comes from
// text() and is escaped by the template.
type shape struct {
	Kind       string // rect, line, text, diamond, circle, cross
	X, Y, W, H float64
	X2, Y2     float64
	Class      string
	Text       string
	Title      string
	Link       string // the id of the event's table row, "" for none
}

// laneLabel is a lane's name in the fixed left column.
type laneLabel struct {
	Text  string
	Note  string
	Y, H  float64
	Group bool // a device's title rather than a lane
}

// drawing is the whole swimlane SVG.
type drawing struct {
	Width, Height float64
	LabelWidth    float64
	Labels        []laneLabel
	Shapes        []shape
	Cuts          int // idle gaps cut out
}

// item is a shape placed in a row of a lane, before the lane's y is known:
// Y and Y2 are relative to the row's top.
type item struct {
	row int
	s   shape
}

// lane is one actor's lane while it is built.
type lane struct {
	label, note string
	rows        int
	items       []item
	// spans are shapes that cross every lane of the group (flicker
	// windows, violation lines), with Y and H filled in later.
	spans []shape
}

func (l *lane) add(row int, s shape) {
	l.items = append(l.items, item{row, s})
	if row+1 > l.rows {
		l.rows = row + 1
	}
}

// packer puts intervals into the first row where they fit.
type packer struct{ ends []float64 }

func (p *packer) place(x0, x1 float64) int {
	for i, e := range p.ends {
		if e+4 <= x0 {
			p.ends[i] = x1
			return i
		}
	}
	p.ends = append(p.ends, x1)
	return len(p.ends) - 1
}

// textWidth estimates how wide a label is drawn.
func textWidth(s string) float64 { return float64(len([]rune(s))) * charW }

// short bounds a label drawn in the timeline.
func short(s string) string {
	r := []rune(s)
	if len(r) <= labelMax {
		return s
	}
	return string(r[:labelMax-1]) + "…"
}

// placed is one event of a device with where it is drawn.
type placed struct {
	ev   authstate.Event
	x    float64
	link string
}

// violationTitle names each invariant in a few words, for the label.
var violationTitle = map[string]string{
	authstate.InvariantGoneSession:    "stale token served",
	authstate.InvariantUnverified:     "unverified token served",
	authstate.InvariantExpired:        "expired token served",
	authstate.InvariantLateOverwrite:  "late overwrite of the cache",
	authstate.InvariantPendingClobber: "pending request slot clobbered",
}

// violationLabel is a violation in words: what kind, then what the
// checker said.
func violationLabel(ev authstate.Event) string {
	title, ok := violationTitle[ev.Cause]
	if !ok {
		title = "violation " + text(ev.Cause)
	}
	if s := text(ev.Summary()); s != "" {
		return "VIOLATION " + title + ": " + s
	}
	return "VIOLATION " + title
}

// deviceLanes builds the lanes of one device from authstate.LaneSet, the
// derivation the TUI's swimlane view uses too: LaneSet says which spans,
// ticks and findings there are; this file places them and puts them in
// the report's words, read from the events they start and end at. end is
// the right edge of the drawing area: what is still open at the end of
// the trace runs to it.
func deviceLanes(evs []placed, end float64) []*lane {
	findings := &lane{label: "Findings", note: "violations, flicker windows"}
	sessions := &lane{label: "Server sessions", note: "first seen → rotated or ended"}
	poller := &lane{label: "Session poller", note: "answers, failures"}
	requests := &lane{label: "fetchAccessToken calls", note: "each request and its callers"}
	cache := &lane{label: "Token cache", note: "whose token it holds"}
	consumer := &lane{label: "Convex client", note: "useConvexAuth; steps, queries"}

	// LaneSet addresses events by seq; a trace's seqs may repeat (quiet
	// events, two devices, a damaged file), so it is given positions.
	raw := make([]authstate.Event, len(evs))
	for i, pe := range evs {
		raw[i] = pe.ev
		raw[i].Seq = uint64(i + 1)
	}
	ls := authstate.LaneSet(raw)
	d := laneDrawing{evs: evs, end: end}

	var fp packer
	d.findings(findings, &fp, ls.Marks)
	hasConsumer := false
	for _, l := range ls.Lanes {
		switch l.Kind {
		case authstate.LaneSessions:
			d.sessions(sessions, l, ls)
		case authstate.LanePoller:
			d.poller(poller, l)
		case authstate.LaneConvex:
			hasConsumer = true
			d.consumer(consumer, l)
		case authstate.LaneCache:
			d.cache(cache, l)
		}
	}
	d.requests(requests, ls)
	if findings.rows == 0 {
		findings.add(0, shape{Kind: "text", X: labelPad, Y: 14, Class: "none", Text: "no violation and no flicker window in this trace"})
	}
	out := []*lane{findings, sessions, poller, requests, cache}
	if hasConsumer {
		out = append(out, consumer)
	}
	for _, l := range out {
		if l.rows == 0 {
			l.add(0, shape{Kind: "text", X: labelPad, Y: 14, Class: "none", Text: "no events"})
		}
	}
	return out
}

// labelPad is where a lane's "nothing here" text starts.
const labelPad = 8.0

// laneDrawing turns LaneSet positions (1-based indexes into evs) into x.
type laneDrawing struct {
	evs []placed
	end float64
}

func (d laneDrawing) at(seq uint64) placed {
	if seq == 0 || seq > uint64(len(d.evs)) {
		return placed{x: d.end}
	}
	return d.evs[seq-1]
}

// span is where a span starts and ends on the x axis.
func (d laneDrawing) span(sp authstate.Span) (from placed, x1 float64) {
	from = d.at(sp.FromSeq)
	x1 = d.end
	if !sp.Open {
		x1 = d.at(sp.ToSeq).x
	}
	return from, x1
}

func (d laneDrawing) findings(l *lane, p *packer, marks []authstate.Mark) {
	for _, mk := range marks {
		from := d.at(mk.Seq)
		switch mk.Kind {
		case authstate.MarkViolation:
			label := short(violationLabel(from.ev))
			row := p.place(from.x-3, from.x+textWidth(label)+14)
			l.add(row, shape{Kind: "rect", X: from.x - 4, Y: 3, W: 8, H: 8, Class: "violation-mark", Title: label, Link: from.link})
			l.add(row, shape{Kind: "text", X: from.x + 7, Y: 11, Class: "violation-text", Text: label, Title: label, Link: from.link})
			l.spans = append(l.spans, shape{Kind: "line", X: from.x, X2: from.x, Class: "violation-line", Title: label})
		case authstate.MarkFlicker:
			why := strings.TrimPrefix(text(from.ev.Detail), "flicker: ")
			if why == "" {
				why = "the Convex side disagrees with Better Auth"
			}
			label, to := "FLICKER window: "+why, d.end
			if mk.Open {
				label += "; still open at the end of the trace"
			} else {
				closing := d.at(mk.ToSeq)
				to = closing.x
				if c := text(closing.ev.Detail); c != "" {
					label += "; " + c
				}
			}
			label = short(label)
			x0, x1 := from.x, math.Max(to, from.x+minBar)
			row := p.place(x0, math.Max(x1, x0+textWidth(label)+14))
			l.add(row, shape{Kind: "rect", X: x0, Y: 13, W: x1 - x0, H: 5, Class: "flicker-bar", Title: label, Link: from.link})
			l.add(row, shape{Kind: "text", X: x0 + 2, Y: 10, Class: "flicker-text", Text: label, Title: label, Link: from.link})
			l.spans = append(l.spans, shape{Kind: "rect", X: x0, W: x1 - x0, Class: "flicker-band", Title: label})
		}
	}
}

// interval is a bar in a packed lane while it is built.
type interval struct {
	x0, x1 float64
	label  string
	title  string
	class  string
	link   string
	marks  []shape // markers on the bar (Y relative to the row)
}

func placeIntervals(l *lane, ivs []*interval) {
	var p packer
	for _, iv := range ivs {
		w := math.Max(iv.x1-iv.x0, minBar)
		right := math.Max(iv.x0+w, iv.x0+textWidth(iv.label)+8)
		for _, m := range iv.marks {
			right = math.Max(right, m.X+8)
		}
		row := p.place(iv.x0, right)
		l.add(row, shape{Kind: "rect", X: iv.x0, Y: (rowH - barH) / 2, W: w, H: barH, Class: iv.class, Title: iv.title, Link: iv.link})
		l.add(row, shape{Kind: "text", X: iv.x0 + 3, Y: 14, Class: "bar-text", Text: iv.label, Title: iv.title, Link: iv.link})
		for _, m := range iv.marks {
			l.add(row, m)
		}
	}
}

func (d laneDrawing) sessions(l *lane, sl authstate.Lane, ls authstate.Lanes) {
	var all []*interval
	byLabel := map[string]*interval{} // the latest interval of each session
	for _, sp := range sl.Spans {
		from, x1 := d.span(sp)
		s := text(sp.Label)
		iv := &interval{x0: from.x, x1: x1, label: s, title: s + ": first seen (" + text(from.ev.Summary()) + ")", class: "session", link: from.link}
		switch {
		case sp.Open:
			iv.title += "; still current at the end of the trace"
		default:
			iv.label += " (gone)"
			if closing := d.at(sp.ToSeq).ev; closing.Kind == authstate.KindSessionRotated {
				iv.title += "; rotated away to " + text(closing.Session)
			} else {
				iv.title += "; ended"
			}
		}
		byLabel[sp.Label] = iv
		all = append(all, iv)
	}
	// A sliding refresh is a tick on the poller's lane in LaneSet; the
	// report draws it on the session's bar.
	for _, pl := range ls.Lanes {
		if pl.Kind != authstate.LanePoller {
			continue
		}
		for _, t := range pl.Ticks {
			pe := d.at(t.Seq)
			if iv, ok := byLabel[pe.ev.Session]; ok && t.Style == authstate.TickRefresh {
				iv.marks = append(iv.marks, shape{Kind: "line", X: pe.x, Y: 2, X2: pe.x, Y2: rowH - 2, Class: "refresh", Title: text(pe.ev.Summary()), Link: pe.link})
			}
		}
	}
	placeIntervals(l, all)
}

func (d laneDrawing) poller(l *lane, pl authstate.Lane) {
	lastText := math.Inf(-1)
	for _, t := range pl.Ticks {
		pe := d.at(t.Seq)
		ev := pe.ev
		class, word := "poll", ""
		switch t.Style {
		case authstate.TickPollFailed:
			class, word = "poll-failed", "failed"
		case authstate.TickPollSkipped:
			class, word = "poll-pending", "skipped"
		case authstate.TickPoll:
			switch ev.Kind {
			case authstate.KindSessionRotated:
				word = "→ " + text(ev.Session)
			case authstate.KindSessionEnded:
				word = "ended"
			}
		}
		title := text(ev.Kind.String() + ": " + ev.Summary())
		if class == "poll-failed" {
			l.add(0, shape{Kind: "cross", X: pe.x, Y: rowH / 2, Class: class, Title: title, Link: pe.link})
		} else {
			l.add(0, shape{Kind: "line", X: pe.x, Y: 4, X2: pe.x, Y2: rowH - 4, Class: class, Title: title, Link: pe.link})
		}
		if word != "" && pe.x > lastText {
			l.add(0, shape{Kind: "text", X: pe.x + 3, Y: 14, Class: "tick-text", Text: word, Title: title, Link: pe.link})
			lastText = pe.x + textWidth(word) + 6
		}
	}
}

// requests draws each token request as a bar with its callers, packed
// into rows, then the calls served from the cache in a row of their own.
func (d laneDrawing) requests(l *lane, ls authstate.Lanes) {
	var order []*interval
	var hits []authstate.Tick
	for _, rl := range ls.Lanes {
		switch rl.Kind {
		case authstate.LaneCalls:
			hits = append(hits, rl.Ticks...)
			continue
		case authstate.LaneRequest:
		default:
			continue
		}
		sp := rl.Spans[0]
		from, x1 := d.span(sp)
		iv := &interval{x0: from.x, x1: x1, class: "request", link: from.link}
		label := fmt.Sprintf("#%d", rl.Fetch)
		if start := from.ev; start.Kind == authstate.KindFetchStarted {
			label += " " + text(start.Call)
			if start.Force {
				label += " (forced)"
			}
		}
		for _, t := range rl.Ticks {
			pe := d.at(t.Seq)
			switch t.Style {
			case authstate.TickJoined:
				label += " + " + text(pe.ev.Call) + " (joined)"
				iv.marks = append(iv.marks, shape{Kind: "diamond", X: pe.x, Y: rowH / 2, Class: "joined", Title: text(pe.ev.Summary()), Link: pe.link})
			case authstate.TickRetry:
				iv.marks = append(iv.marks, shape{Kind: "line", X: pe.x, Y: 2, X2: pe.x, Y2: rowH - 2, Class: "retry", Title: text(pe.ev.Summary()), Link: pe.link})
			case authstate.TickServed, authstate.TickServedStale:
				class := "served"
				if t.Style == authstate.TickServedStale {
					class = "served-stale"
				}
				iv.marks = append(iv.marks, shape{Kind: "circle", X: pe.x, Y: rowH / 2, Class: class, Title: servedWords(pe.ev), Link: pe.link})
			case authstate.TickFailed:
				iv.marks = append(iv.marks, shape{Kind: "cross", X: pe.x, Y: rowH / 2, Class: "request-failed-mark", Title: text(pe.ev.Summary()), Link: pe.link})
			}
		}
		if start := from.ev; start.Kind == authstate.KindFetchStarted && start.Session != "" {
			label += " under " + text(start.Session)
		}
		var outcome string
		if sp.Open {
			outcome = "→ no answer by the end of the trace"
		} else {
			closing := d.at(sp.ToSeq)
			ev := closing.ev
			switch sp.Style {
			case authstate.SpanFailed:
				iv.class = "request-failed"
				outcome = "→ failed: " + text(ev.Reason)
			case authstate.SpanDiscarded:
				iv.class = "request-discarded"
				outcome = "→ discarded: " + text(ev.Reason)
			default:
				outcome = "→ " + tokenWords(ev.Token)
				if ev.Stale {
					outcome += " (stale: " + text(ev.Reason) + ")"
				}
			}
		}
		label = short(label + " " + outcome)
		iv.label, iv.title = label, "token request "+label
		order = append(order, iv)
	}
	placeIntervals(l, order)
	if len(hits) == 0 {
		return
	}
	row := l.rows
	lastText := math.Inf(-1)
	for _, t := range hits {
		pe := d.at(t.Seq)
		class := "served"
		if pe.ev.Stale {
			class = "served-stale"
		}
		title := servedWords(pe.ev)
		l.add(row, shape{Kind: "circle", X: pe.x, Y: rowH / 2, Class: class, Title: title, Link: pe.link})
		word := text(pe.ev.Call) + " ← " + text(pe.ev.Source)
		if pe.x > lastText {
			l.add(row, shape{Kind: "text", X: pe.x + 6, Y: 14, Class: "tick-text", Text: word, Title: title, Link: pe.link})
			lastText = pe.x + textWidth(word) + 10
		}
	}
}

// tokenWords names a token by its session: "S1's token".
func tokenWords(t *authstate.TokenInfo) string {
	if t == nil {
		return "no token"
	}
	s := text(t.Session)
	if s == "" {
		s = "an unknown session"
	}
	w := s + "'s token"
	if t.Fingerprint != "" {
		w += " " + text(t.Fingerprint)
	}
	return w
}

// servedWords says what a call got.
func servedWords(ev authstate.Event) string {
	w := text(ev.Call) + " was served " + tokenWords(ev.Token)
	if ev.Source != "" {
		w += " from " + text(ev.Source)
	}
	if ev.Stale {
		w += "; STALE: " + text(ev.Reason)
	}
	return w
}

func (d laneDrawing) cache(l *lane, cl authstate.Lane) {
	var all []*interval
	for _, sp := range cl.Spans {
		from, x1 := d.span(sp)
		ev := from.ev
		var iv *interval
		if ev.Kind == authstate.KindCacheSet {
			label := tokenWords(ev.Token)
			if ev.Fetch != 0 {
				label += fmt.Sprintf(" (from request #%d)", ev.Fetch)
			}
			class := "cache"
			if ev.Stale || sp.Style == authstate.SpanStale {
				label += " STALE"
				class = "cache-stale"
			}
			iv = &interval{x0: from.x, label: short(label), title: "the cache holds " + label + ": " + text(ev.Summary()), class: class, link: from.link}
		} else {
			// The session of the token held went away: the same token,
			// stale from here on.
			held := text(ev.From)
			how := "rotated away"
			if ev.Kind == authstate.KindSessionEnded {
				how = "ended"
			}
			label := held + "'s token STALE: " + held + " has " + how
			iv = &interval{x0: from.x, label: short(label), title: "the cache still holds " + label, class: "cache-stale", link: from.link}
		}
		iv.x1 = x1
		if !sp.Open {
			closing := d.at(sp.ToSeq).ev
			switch closing.Kind {
			case authstate.KindCacheSet:
				iv.title += "; replaced"
			case authstate.KindCacheCleared:
				iv.title += "; cleared: " + text(closing.Reason)
			case authstate.KindSessionRotated:
				iv.title += "; " + text(closing.From) + " rotated away"
			case authstate.KindSessionEnded:
				iv.title += "; " + text(closing.From) + " ended"
			}
		}
		all = append(all, iv)
	}
	// The cache holds one token at a time: one row, labels cut where the
	// next value starts.
	for i, iv := range all {
		w := math.Max(iv.x1-iv.x0, minBar)
		l.add(0, shape{Kind: "rect", X: iv.x0, Y: (rowH - barH) / 2, W: w, H: barH, Class: iv.class, Title: iv.title, Link: iv.link})
		room := 1e6 // the last value's label may run past its bar
		if i+1 < len(all) {
			room = all[i+1].x0 - iv.x0
		}
		if label := fitLabel(iv.label, room-4); label != "" {
			l.add(0, shape{Kind: "text", X: iv.x0 + 3, Y: 14, Class: "bar-text", Text: label, Title: iv.title, Link: iv.link})
		}
	}
}

// fitLabel cuts a label to the room it has, or drops it when not even a
// few characters fit.
func fitLabel(s string, room float64) string {
	n := int(math.Min(room, 1e6) / charW)
	r := []rune(s)
	switch {
	case len(r) <= n:
		return s
	case n < 4:
		return ""
	}
	return string(r[:n-1]) + "…"
}

// phaseWords and phaseClass name and style useConvexAuth's phases.
var phaseWords = map[authstate.SpanStyle]string{
	authstate.SpanAuthed: "authenticated", authstate.SpanSignedOut: "signed out",
	authstate.SpanLoading: "loading", authstate.SpanFailing: "not authenticated or query failing",
}
var phaseClass = map[authstate.SpanStyle]string{
	authstate.SpanAuthed: "ph-authed", authstate.SpanSignedOut: "ph-signedout",
	authstate.SpanLoading: "ph-loading", authstate.SpanFailing: "ph-failing",
}

// consumer draws useConvexAuth's phase as a strip (row 0) and the Convex
// client's steps and query results as ticks (row 1).
func (d laneDrawing) consumer(l *lane, cl authstate.Lane) {
	for _, sp := range cl.Spans {
		from, x1 := d.span(sp)
		if x1 <= from.x {
			continue
		}
		w := x1 - from.x
		words := "useConvexAuth: " + phaseWords[sp.Style]
		l.add(0, shape{Kind: "rect", X: from.x, Y: 3, W: w, H: rowH - 6, Class: phaseClass[sp.Style], Title: words, Link: from.link})
		if label := fitLabel(phaseWords[sp.Style], w-4); label != "" {
			l.add(0, shape{Kind: "text", X: from.x + 3, Y: 14, Class: "phase-text", Text: label, Title: words, Link: from.link})
		}
	}
	for _, t := range cl.Ticks {
		pe := d.at(t.Seq)
		switch t.Style {
		case authstate.TickConvex:
			l.add(1, shape{Kind: "line", X: pe.x, Y: 5, X2: pe.x, Y2: rowH - 5, Class: "convex", Title: "convex: " + text(pe.ev.Summary()), Link: pe.link})
		case authstate.TickQueryOK, authstate.TickQueryError:
			class := "query-ok"
			if t.Style == authstate.TickQueryError {
				class = "query-error"
			}
			l.add(1, shape{Kind: "circle", X: pe.x, Y: rowH / 2, Class: class, Title: text(pe.ev.Summary()), Link: pe.link})
		}
	}
}
