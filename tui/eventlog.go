package tui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/authscope/authscope/authstate"
)

// logSource is what the events panel reads: the engine's bounded ring log.
// Events are addressed by Seq: the engine logs every event it emits, so the
// ring holds seqs Total-Len+1 … Total.
type logSource interface {
	Len() int
	Total() uint64
	Slice(from, to int) []authstate.Event
}

// readSeqs copies the events with seq in [from, to] that the ring still
// holds. The engine may append between Total and Slice; when that moved a
// full ring under us, read again.
func readSeqs(src logSource, from, to uint64) []authstate.Event {
	var evs []authstate.Event
	for range 3 {
		total := src.Total()
		n := uint64(src.Len())
		oldest := total - n + 1
		lo, hi := max(from, oldest), min(to, total)
		if lo > hi {
			return nil
		}
		evs = src.Slice(int(lo-oldest), int(hi-oldest)+1)
		if len(evs) == 0 || evs[0].Seq == lo {
			return evs
		}
	}
	kept := evs[:0]
	for _, ev := range evs {
		if ev.Seq >= from && ev.Seq <= to {
			kept = append(kept, ev)
		}
	}
	return kept
}

// eventPanel is the scrolling event log. It renders only the rows it shows:
// Update copies that window out of the ring (refresh), and the filter keeps
// an index of matching seqs that grows with each event instead of rescanning
// the log.
type eventPanel struct {
	height int // rows available
	follow bool
	paused bool
	// pauseSeq is the newest seq shown while paused: the view freezes
	// there while the log keeps growing.
	pauseSeq uint64
	// newSincePause is how many events arrived after pauseSeq (as of the
	// last refresh).
	newSincePause uint64
	sel, top      uint64 // seqs of the selected and the top row (0: none yet)

	filter  string       // as typed
	needle  string       // lower-cased filter
	terms   []filterTerm // the needle parsed
	matches []uint64     // seqs of matching events, ascending
	indexed uint64       // every seq up to this one has been tested

	rows       []authstate.Event // the visible window, oldest first
	count      int               // rows in the current view (all events or the matches)
	selIndex   int               // position of the selected row in that view
	first, end uint64            // oldest seq held, newest seq in view
}

func newEventPanel() eventPanel { return eventPanel{follow: true} }

// observe keeps the filter index up to date with one new event.
func (p *eventPanel) observe(ev authstate.Event) {
	if p.needle == "" || ev.Seq <= p.indexed {
		return
	}
	if matchEvent(ev, p.terms) {
		p.matches = append(p.matches, ev.Seq)
	}
	p.indexed = ev.Seq
}

// filterTerm is one space-separated word of the filter: text the event's
// kind or text contains, or with "kind:" a prefix of its kind; a leading
// "!" negates it.
type filterTerm struct {
	not    bool
	kind   bool
	needle string // lower case
}

// parseFilter splits a filter (already lower case) into terms that must
// all hold. A term with nothing left to match ("!", "kind:") is ignored.
func parseFilter(needle string) []filterTerm {
	var out []filterTerm
	for _, w := range strings.Fields(needle) {
		t := filterTerm{}
		if rest, ok := strings.CutPrefix(w, "!"); ok {
			t.not, w = true, rest
		}
		if rest, ok := strings.CutPrefix(w, "kind:"); ok {
			t.kind, w = true, rest
		}
		if w == "" {
			continue
		}
		t.needle = w
		out = append(out, t)
	}
	return out
}

// matchEvent reports whether the event passes every term.
func matchEvent(ev authstate.Event, terms []filterTerm) bool {
	for _, t := range terms {
		if t.matches(ev) == t.not {
			return false
		}
	}
	return true
}

func (t filterTerm) matches(ev authstate.Event) bool {
	kind := ev.Kind.String()
	if t.kind {
		return strings.HasPrefix(kind, t.needle)
	}
	if strings.Contains(kind, t.needle) {
		return true
	}
	for _, s := range [...]string{ev.Detail, ev.Reason, ev.Cause, ev.Session, ev.Call} {
		if s != "" && strings.Contains(strings.ToLower(s), t.needle) {
			return true
		}
	}
	return false
}

// setFilter replaces the filter and rebuilds its index with one pass over
// the log (once per change, not per frame).
func (p *eventPanel) setFilter(text string, src logSource) {
	needle := strings.ToLower(strings.TrimSpace(text))
	p.filter = text
	if needle == p.needle {
		return
	}
	p.needle = needle
	p.terms = parseFilter(needle)
	p.matches = nil
	p.indexed = 0
	p.follow = true
	if needle == "" {
		return
	}
	total := src.Total()
	const chunk = 4096
	for from := total - uint64(src.Len()) + 1; from <= total; from += chunk {
		for _, ev := range readSeqs(src, from, min(from+chunk-1, total)) {
			if matchEvent(ev, p.terms) {
				p.matches = append(p.matches, ev.Seq)
			}
		}
	}
	p.indexed = total
}

// view is the list the panel scrolls through: every held event up to end,
// or the matching ones.
type view struct {
	filtered bool
	first    uint64
	n        int
	matches  []uint64
}

func (v view) seq(i int) uint64 {
	if v.filtered {
		return v.matches[i]
	}
	return v.first + uint64(i)
}

// index is the position of the last row whose seq is at most seq (0 if none).
func (v view) index(seq uint64) int {
	var i int
	if v.filtered {
		i = sort.Search(len(v.matches), func(k int) bool { return v.matches[k] > seq }) - 1
	} else if seq >= v.first {
		i = int(seq - v.first)
	}
	return min(max(i, 0), v.n-1)
}

func (p *eventPanel) view(src logSource) view {
	total := src.Total()
	p.first = total - uint64(src.Len()) + 1
	p.end = total
	p.newSincePause = 0
	if p.paused {
		p.end = min(p.pauseSeq, total)
		p.newSincePause = total - p.end
	}
	if p.needle == "" {
		n := 0
		if p.end >= p.first {
			n = int(p.end - p.first + 1)
		}
		return view{first: p.first, n: n}
	}
	// Forget matches that fell out of the ring.
	drop := sort.Search(len(p.matches), func(k int) bool { return p.matches[k] >= p.first })
	p.matches = p.matches[drop:]
	n := sort.Search(len(p.matches), func(k int) bool { return p.matches[k] > p.end })
	return view{filtered: true, first: p.first, n: n, matches: p.matches[:n]}
}

// refresh recomputes the visible window. With follow on, the newest row is
// selected; otherwise the selection is kept in view.
func (p *eventPanel) refresh(src logSource) {
	v := p.view(src)
	p.count = v.n
	if v.n == 0 {
		p.rows, p.sel, p.top, p.selIndex = nil, 0, 0, 0
		return
	}
	h := max(p.height, 1)
	selI := v.n - 1
	if !p.follow && p.sel != 0 {
		selI = v.index(p.sel)
	}
	topI := 0
	if p.top != 0 {
		topI = v.index(p.top)
	}
	if p.follow {
		topI = max(0, v.n-h)
	} else {
		if selI < topI {
			topI = selI
		}
		if selI >= topI+h {
			topI = selI - h + 1
		}
		topI = min(max(topI, 0), max(0, v.n-h))
	}
	p.sel, p.top, p.selIndex = v.seq(selI), v.seq(topI), selI
	last := min(topI+h, v.n) - 1
	if !v.filtered {
		p.rows = readSeqs(src, v.seq(topI), v.seq(last))
		return
	}
	p.rows = make([]authstate.Event, 0, last-topI+1)
	for i := topI; i <= last; i++ {
		s := v.seq(i)
		p.rows = append(p.rows, readSeqs(src, s, s)...)
	}
}

// move shifts the selection by delta rows and stops following.
func (p *eventPanel) move(delta int, src logSource) {
	v := p.view(src)
	if v.n == 0 {
		return
	}
	i := v.n - 1
	if !p.follow && p.sel != 0 {
		i = v.index(p.sel)
	}
	i = min(max(i+delta, 0), v.n-1)
	p.follow = false
	p.sel = v.seq(i)
	p.refresh(src)
}

// selectSeq selects the event seq (a row on screen) and stops following.
func (p *eventPanel) selectSeq(seq uint64, src logSource) {
	p.follow = false
	p.sel = seq
	p.refresh(src)
}

func (p *eventPanel) home(src logSource) {
	v := p.view(src)
	if v.n == 0 {
		return
	}
	p.follow = false
	p.sel, p.top = v.seq(0), v.seq(0)
	p.refresh(src)
}

func (p *eventPanel) followTail(src logSource) {
	p.follow = true
	p.refresh(src)
}

// togglePause freezes the view on what it shows now, or thaws it.
func (p *eventPanel) togglePause(src logSource) {
	p.paused = !p.paused
	if p.paused {
		p.pauseSeq = p.end
	}
	p.refresh(src)
}

// selected is the event under the cursor, if it is on screen.
func (p *eventPanel) selected() (authstate.Event, bool) {
	for _, ev := range p.rows {
		if ev.Seq == p.sel {
			return ev, true
		}
	}
	return authstate.Event{}, false
}

// position says where the view is, for the panel title.
func (p *eventPanel) position() string {
	var parts []string
	if p.needle != "" {
		parts = append(parts, fmt.Sprintf("filter %q: %d match", p.filter, p.count)+plural(p.count, "", "es"))
	} else {
		parts = append(parts, fmt.Sprint(p.count))
	}
	switch {
	case p.paused:
		// "paused", not "held": holding is what h does to token responses.
		parts = append(parts, fmt.Sprintf("paused, %d new", p.newSincePause))
	case p.follow:
		parts = append(parts, "following")
	case p.count > 0:
		parts = append(parts, fmt.Sprintf("row %d/%d (end follows)", p.selIndex+1, p.count))
	}
	return strings.Join(parts, " · ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// eventsPanel renders the title and the visible rows.
func (m *Model) eventsPanel(width, rows int) []string {
	if m.lanes.on {
		return m.lanesPanel(width, rows)
	}
	st := m.styles
	extra := m.log().position()
	if m.mode == modeFilter {
		extra = m.input.View() + st.Dim.Render("  enter apply · esc clear")
	}
	out := []string{title(st, "Events", extra, width)}
	if rows <= 0 {
		return out[:min(len(out), max(rows+1, 0))]
	}
	if len(m.log().rows) == 0 {
		msg := "no events yet"
		if m.log().needle != "" {
			msg = "no event matches the filter"
		}
		return append(out, st.Dim.Render(msg))
	}
	wide := width >= 110
	for _, ev := range m.log().rows[:min(len(m.log().rows), rows)] {
		out = append(out, m.eventRow(ev, width, wide, ev.Seq == m.log().sel && m.focus == focusEvents))
	}
	return out
}

// eventRow is one line of the log: time, kind and detail, plus the seq and
// session on wide screens. The selected row is marked with › as well as
// shown in reverse.
func (m *Model) eventRow(ev authstate.Event, width int, wide, selected bool) string {
	st := m.styles
	ts := ev.At.Format("15:04:05.000")
	kind := pad(ev.Kind.String(), 17)
	text := safe(eventText(ev))
	mark := "  "
	if selected {
		mark = "› "
	}
	lead := ""
	if wide {
		// A label from a trace is text from a file.
		session := safe(ev.Session)
		if session == "" {
			session = "-"
		}
		lead = fmt.Sprintf("%7d %-4s ", ev.Seq, session)
	}
	if m.cmp != nil {
		lead = m.columnTag(ev, wide) + lead
	}
	if selected {
		return st.Selected.Render(pad(fit(mark+lead+ts+" "+kind+" "+text, width), width))
	}
	ks := st.Kind
	switch ev.Kind {
	case authstate.KindFetchFailed, authstate.KindActionFailed, authstate.KindPollFailed, authstate.KindViolation:
		ks = st.Bad
	case authstate.KindFetchDiscarded, authstate.KindSessionEnded, authstate.KindSessionRotated, authstate.KindPollPending:
		ks = st.Warn
	}
	if ev.Stale {
		ks = st.Bad
	}
	return fit(mark+st.Dim.Render(lead)+st.Time.Render(ts)+" "+ks.Render(kind)+" "+st.Value.Render(text), width)
}
