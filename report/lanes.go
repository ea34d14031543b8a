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

// deviceLanes builds the lanes of one device. end is the right edge of
// the drawing area: what is still open at the end of the trace runs to it.
func deviceLanes(evs []placed, end float64) []*lane {
	findings := &lane{label: "Findings", note: "violations, flicker windows"}
	sessions := &lane{label: "Server sessions", note: "first seen → rotated or ended"}
	poller := &lane{label: "Session poller", note: "answers, failures"}
	requests := &lane{label: "fetchAccessToken calls", note: "each request and its callers"}
	cache := &lane{label: "Token cache", note: "whose token it holds"}
	consumer := &lane{label: "Convex client", note: "useConvexAuth; steps, queries"}

	var fp packer
	drawFindings(findings, &fp, evs, end)
	drawSessions(sessions, evs, end)
	drawPoller(poller, evs)
	drawRequests(requests, evs, end)
	drawCache(cache, evs, end)
	hasConsumer := drawConsumer(consumer, evs, end)
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

func drawFindings(l *lane, p *packer, evs []placed, end float64) {
	var open *placed
	var why string
	window := func(from placed, to float64, closing string) {
		label := "FLICKER window: " + why
		if closing != "" {
			label += "; " + closing
		}
		label = short(label)
		x0, x1 := from.x, math.Max(to, from.x+minBar)
		row := p.place(x0, math.Max(x1, x0+textWidth(label)+14))
		title := label
		l.add(row, shape{Kind: "rect", X: x0, Y: 13, W: x1 - x0, H: 5, Class: "flicker-bar", Title: title, Link: from.link})
		l.add(row, shape{Kind: "text", X: x0 + 2, Y: 10, Class: "flicker-text", Text: label, Title: title, Link: from.link})
		l.spans = append(l.spans, shape{Kind: "rect", X: x0, W: x1 - x0, Class: "flicker-band", Title: title})
	}
	for i := range evs {
		pe := evs[i]
		ev := pe.ev
		switch ev.Kind {
		case authstate.KindViolation:
			label := short(violationLabel(ev))
			row := p.place(pe.x-3, pe.x+textWidth(label)+14)
			l.add(row, shape{Kind: "rect", X: pe.x - 4, Y: 3, W: 8, H: 8, Class: "violation-mark", Title: label, Link: pe.link})
			l.add(row, shape{Kind: "text", X: pe.x + 7, Y: 11, Class: "violation-text", Text: label, Title: label, Link: pe.link})
			l.spans = append(l.spans, shape{Kind: "line", X: pe.x, X2: pe.x, Class: "violation-line", Title: label})
		case authstate.KindFlicker:
			switch ev.Reason {
			case "open":
				if open == nil {
					open = &evs[i]
					why = strings.TrimPrefix(text(ev.Detail), "flicker: ")
					if why == "" {
						why = "the Convex side disagrees with Better Auth"
					}
				}
			case "closed":
				if open != nil {
					window(*open, pe.x, text(ev.Detail))
					open = nil
				}
			}
		}
	}
	if open != nil {
		window(*open, end, "still open at the end of the trace")
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

func drawSessions(l *lane, evs []placed, end float64) {
	var all []*interval
	live := map[string]*interval{}
	closeAt := func(label string, x float64, how string) {
		if iv, ok := live[label]; ok {
			iv.x1 = x
			iv.title += "; " + how
			delete(live, label)
		}
	}
	for _, pe := range evs {
		ev := pe.ev
		switch ev.Kind {
		case authstate.KindSessionObserved, authstate.KindSessionRotated, authstate.KindSessionRefreshed:
			if ev.Kind == authstate.KindSessionRotated && ev.From != "" {
				closeAt(text(ev.From), pe.x, "rotated away to "+text(ev.Session))
			}
			s := text(ev.Session)
			if s == "" || s == "none" {
				continue
			}
			if _, ok := live[s]; !ok {
				iv := &interval{x0: pe.x, label: s, title: s + ": first seen (" + text(ev.Summary()) + ")", class: "session", link: pe.link}
				live[s] = iv
				all = append(all, iv)
			}
			if ev.Kind == authstate.KindSessionRefreshed {
				iv := live[s]
				iv.marks = append(iv.marks, shape{Kind: "line", X: pe.x, Y: 2, X2: pe.x, Y2: rowH - 2, Class: "refresh", Title: text(ev.Summary()), Link: pe.link})
			}
		case authstate.KindSessionEnded:
			closeAt(text(ev.From), pe.x, "ended")
		}
	}
	for _, iv := range all {
		if _, open := live[iv.label]; open {
			iv.x1 = end
			iv.title += "; still current at the end of the trace"
		} else {
			iv.label += " (gone)"
		}
	}
	placeIntervals(l, all)
}

func drawPoller(l *lane, evs []placed) {
	lastText := math.Inf(-1)
	for _, pe := range evs {
		ev := pe.ev
		var class, word string
		switch ev.Kind {
		case authstate.KindSessionObserved, authstate.KindSessionRefreshed:
			class = "poll"
		case authstate.KindSessionRotated:
			class, word = "poll", "→ "+text(ev.Session)
		case authstate.KindSessionEnded:
			class, word = "poll", "ended"
		case authstate.KindPollFailed:
			class, word = "poll-failed", "failed"
		case authstate.KindPollPending:
			class, word = "poll-pending", "skipped"
		default:
			continue
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

// request is one token request while its bar is built.
type request struct {
	id      int
	iv      *interval
	call    string
	under   string
	joined  []string
	outcome string
}

func drawRequests(l *lane, evs []placed, end float64) {
	byID := map[int]*request{}
	var order []*interval
	var reqs []*request
	get := func(pe placed) *request {
		id := pe.ev.Fetch
		if r, ok := byID[id]; ok {
			return r
		}
		r := &request{id: id, iv: &interval{x0: pe.x, x1: -1, class: "request", link: pe.link}}
		byID[id] = r
		order = append(order, r.iv)
		reqs = append(reqs, r)
		return r
	}
	var hits []placed
	for _, pe := range evs {
		ev := pe.ev
		if ev.Fetch == 0 {
			if ev.Kind == authstate.KindTokenServed {
				hits = append(hits, pe)
			}
			continue
		}
		switch ev.Kind {
		case authstate.KindFetchStarted:
			r := get(pe)
			r.call, r.under = text(ev.Call), text(ev.Session)
			if ev.Force {
				r.call += " (forced)"
			}
		case authstate.KindFetchJoined:
			r := get(pe)
			r.joined = append(r.joined, text(ev.Call))
			r.iv.marks = append(r.iv.marks, shape{Kind: "diamond", X: pe.x, Y: rowH / 2, Class: "joined", Title: text(ev.Summary()), Link: pe.link})
		case authstate.KindFetchResolved:
			r := get(pe)
			r.iv.x1 = pe.x
			r.outcome = "→ " + tokenWords(ev.Token)
			if ev.Stale {
				r.outcome += " (stale: " + text(ev.Reason) + ")"
			}
		case authstate.KindFetchFailed:
			r := get(pe)
			r.iv.x1 = pe.x
			r.iv.class = "request-failed"
			r.outcome = "→ failed: " + text(ev.Reason)
			r.iv.marks = append(r.iv.marks, shape{Kind: "cross", X: pe.x, Y: rowH / 2, Class: "request-failed-mark", Title: text(ev.Summary()), Link: pe.link})
		case authstate.KindFetchDiscarded:
			r := get(pe)
			r.iv.x1 = math.Max(r.iv.x1, pe.x)
			r.iv.class = "request-discarded"
			r.outcome = "→ discarded: " + text(ev.Reason)
		case authstate.KindFetchRetry:
			r := get(pe)
			r.iv.marks = append(r.iv.marks, shape{Kind: "line", X: pe.x, Y: 2, X2: pe.x, Y2: rowH - 2, Class: "retry", Title: text(ev.Summary()), Link: pe.link})
		case authstate.KindTokenServed:
			r := get(pe)
			class := "served"
			if ev.Stale {
				class = "served-stale"
			}
			r.iv.marks = append(r.iv.marks, shape{Kind: "circle", X: pe.x, Y: rowH / 2, Class: class, Title: servedWords(ev), Link: pe.link})
		}
	}
	for _, r := range reqs {
		if r.iv.x1 < 0 {
			r.iv.x1 = end
			r.outcome = "→ no answer by the end of the trace"
		}
		label := fmt.Sprintf("#%d", r.id)
		if r.call != "" {
			label += " " + r.call
		}
		for _, j := range r.joined {
			label += " + " + j + " (joined)"
		}
		if r.under != "" {
			label += " under " + r.under
		}
		label = short(label + " " + r.outcome)
		r.iv.label, r.iv.title = label, "token request "+label
	}
	placeIntervals(l, order)
	if len(hits) == 0 {
		return
	}
	row := l.rows
	lastText := math.Inf(-1)
	for _, pe := range hits {
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

func drawCache(l *lane, evs []placed, end float64) {
	var all []*interval
	var cur *interval
	held := "" // the session label of the token held, as the events spell it
	stop := func(x float64, how string) {
		if cur != nil {
			cur.x1 = x
			cur.title += "; " + how
			cur = nil
		}
	}
	for _, pe := range evs {
		ev := pe.ev
		switch ev.Kind {
		case authstate.KindCacheSet:
			stop(pe.x, "replaced")
			label := tokenWords(ev.Token)
			if ev.Fetch != 0 {
				label += fmt.Sprintf(" (from request #%d)", ev.Fetch)
			}
			class := "cache"
			if ev.Stale {
				label += " STALE"
				class = "cache-stale"
			}
			held = ""
			if ev.Token != nil {
				held = ev.Token.Session
			}
			cur = &interval{x0: pe.x, label: short(label), title: "the cache holds " + label + ": " + text(ev.Summary()), class: class, link: pe.link}
			all = append(all, cur)
		case authstate.KindCacheCleared:
			stop(pe.x, "cleared: "+text(ev.Reason))
			held = ""
		case authstate.KindSessionRotated, authstate.KindSessionEnded:
			// The session of the token held went away: from here on the
			// cache holds a stale token.
			if cur != nil && cur.class == "cache" && held != "" && ev.From == held {
				how := "rotated away"
				if ev.Kind == authstate.KindSessionEnded {
					how = "ended"
				}
				stop(pe.x, text(held)+" "+how)
				label := text(held) + "'s token STALE: " + text(held) + " has " + how
				cur = &interval{x0: pe.x, label: short(label), title: "the cache still holds " + label, class: "cache-stale", link: pe.link}
				all = append(all, cur)
			}
		}
	}
	if cur != nil {
		cur.x1 = end
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
	if len(all) == 0 {
		l.rows = 0
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

// phase is what the user of the app sees of the Convex side, like the
// TUI's Convex strip.
type phase uint8

const (
	phaseUnknown phase = iota
	phaseAuthed
	phaseSignedOut
	phaseLoading
	phaseFailing
)

var phaseWords = [...]string{"unknown", "authenticated", "signed out", "loading", "not authenticated or query failing"}
var phaseClass = [...]string{"ph-unknown", "ph-authed", "ph-signedout", "ph-loading", "ph-failing"}

type consumerState struct {
	known, signedIn, loading, authed, failing bool
}

func (s consumerState) phase() phase {
	switch {
	case !s.known:
		return phaseUnknown
	case !s.signedIn:
		return phaseSignedOut
	case s.loading:
		return phaseLoading
	case !s.authed || s.failing:
		return phaseFailing
	}
	return phaseAuthed
}

// drawConsumer draws useConvexAuth's phase as a strip (row 0) and the
// Convex client's steps and query results as ticks (row 1). It reports
// whether the device has a Convex client at all.
func drawConsumer(l *lane, evs []placed, end float64) bool {
	has := false
	for _, pe := range evs {
		switch pe.ev.Kind {
		case authstate.KindConsumerState, authstate.KindConvex, authstate.KindQueryResult:
			has = true
		}
	}
	if !has {
		return false
	}
	st := consumerState{loading: true}
	cur, from, fromLink := phaseUnknown, 0.0, ""
	seg := func(to float64) {
		if cur == phaseUnknown || to <= from {
			return
		}
		w := to - from
		words := "useConvexAuth: " + phaseWords[cur]
		l.add(0, shape{Kind: "rect", X: from, Y: 3, W: w, H: rowH - 6, Class: phaseClass[cur], Title: words, Link: fromLink})
		if label := fitLabel(phaseWords[cur], w-4); label != "" {
			l.add(0, shape{Kind: "text", X: from + 3, Y: 14, Class: "phase-text", Text: label, Title: words, Link: fromLink})
		}
	}
	for _, pe := range evs {
		ev := pe.ev
		s := st
		switch ev.Kind {
		case authstate.KindSessionObserved:
			s.known, s.signedIn = true, ev.Session != "" && ev.Session != "none"
		case authstate.KindSessionRotated, authstate.KindSessionRefreshed:
			s.known, s.signedIn = true, true
		case authstate.KindSessionEnded:
			s.known, s.signedIn = true, false
		case authstate.KindConsumerState:
			if ev.Convex != nil {
				s.loading, s.authed, s.failing = ev.Convex.Loading, ev.Convex.Authenticated, ev.Convex.Failing
			}
		case authstate.KindConvex:
			l.add(1, shape{Kind: "line", X: pe.x, Y: 5, X2: pe.x, Y2: rowH - 5, Class: "convex", Title: "convex: " + text(ev.Summary()), Link: pe.link})
		case authstate.KindQueryResult:
			class := "query-ok"
			if ev.Reason != "ok" {
				class = "query-error"
			}
			l.add(1, shape{Kind: "circle", X: pe.x, Y: rowH / 2, Class: class, Title: text(ev.Summary()), Link: pe.link})
		}
		st = s
		if p := s.phase(); p != cur {
			seg(pe.x)
			cur, from, fromLink = p, pe.x, pe.link
		}
	}
	seg(end)
	return true
}
