package tui

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/authscope/authscope/authstate"
)

// The swimlane view: the event log panel drawn as one row per actor of
// the client stack (authstate.LaneSet, the lanes the HTML report draws
// too), time running left to right with the newest event at the right
// edge, violations and flicker windows marked on the axis and listed in
// words under it, and the event log's cursor as a highlighted column. It
// reads only the events the log panel reads (its logSource), so it draws
// the same live and in replay. Like the report, every event takes one
// column and the time between two events adds room on a logarithmic
// scale: a race that happens at one instant of a virtual clock still
// reads, and an idle minute does not push it off the screen.

const (
	// lanesLookback is how many events before the window are folded
	// too, so that a session or a request that started before the left
	// edge is drawn from the edge.
	lanesLookback = 400
	// lanesCut is the idle time above which a gap is drawn cut (┊).
	lanesCut = 2 * time.Second
	// lanesWide is the width from which the lanes have full names.
	lanesWide = 110
)

// lanesView is the swimlane view's state: on or off, and the lines last
// drawn with what they were drawn from.
type lanesView struct {
	on    bool
	key   lanesKey
	lines []string
	// density is the panels' density in the last frame, at size
	// densityW×densityH: with the lanes on, frame starts one step
	// roomier than it instead of trying every density each frame.
	density            density
	densityW, densityH int
}

// startDensity is the density frame tries first with the lanes on: one
// roomier than the last frame's at the same size, else from.
func (v *lanesView) startDensity(from density, w, h int) density {
	if v.densityW != w || v.densityH != h {
		return from
	}
	return max(from, v.density-1)
}

// noteDensity remembers the density a frame settled on.
func (v *lanesView) noteDensity(d density, w, h int) {
	v.density, v.densityW, v.densityH = d, w, h
}

// lanesKey is everything a drawing depends on.
type lanesKey struct {
	dev                    int
	total, end, sel, first uint64
	width, rows            int
	dark, follow           bool
}

// toggleLanes switches the event log panel between the log and the lanes.
func (m *Model) toggleLanes() {
	m.lanes.on = !m.lanes.on
	m.lanes.lines = nil
	if m.lanes.on {
		m.setStatus("swimlanes: ↑/↓ move the ▲ column; %s for the log", m.keys.Lanes.Help().Key)
	} else {
		m.setStatus("event log")
	}
}

// layoutLanes redraws the lanes when what they show changed. It runs in
// Update (layout), so View only copies the lines.
func (m *Model) layoutLanes(width, rows int) {
	p := m.log()
	k := lanesKey{dev: m.num, total: m.logSrc().Total(), end: p.end, sel: p.sel, first: p.first,
		width: width, rows: rows, dark: m.isDark, follow: p.follow}
	if m.lanes.lines != nil && k == m.lanes.key && m.mode != modeFilter {
		return
	}
	m.lanes.key = k
	m.lanes.lines = m.drawLanes(width, rows)
}

// lanesPanel is the event log panel in lanes mode.
func (m *Model) lanesPanel(width, rows int) []string {
	if m.lanes.lines == nil || m.lanes.key.width != width || m.lanes.key.rows != rows {
		// Not laid out for this size yet (a View before any Update).
		return m.drawLanes(width, rows)
	}
	return m.lanes.lines
}

// cell classes: what a cell of the drawing stands for, for its style.
type lanesClass uint8

const (
	lcPlain lanesClass = iota
	lcGood
	lcBad
	lcWarn
	lcDim
	lcText
)

type lanesCell struct {
	r rune
	c lanesClass
}

// lanesGrid is one row of the drawing area.
type lanesGrid []lanesCell

func newLanesGrid(n int) lanesGrid {
	g := make(lanesGrid, n)
	for i := range g {
		g[i] = lanesCell{' ', lcPlain}
	}
	return g
}

// fill draws r over [x0, x1].
func (g lanesGrid) fill(x0, x1 int, r rune, c lanesClass) {
	for x := max(x0, 0); x <= x1 && x < len(g); x++ {
		g[x] = lanesCell{r, c}
	}
}

// text writes s from x, cut at the grid's edge or at limit (exclusive).
func (g lanesGrid) text(x, limit int, s string, c lanesClass) {
	for _, r := range s {
		if x >= limit || x >= len(g) {
			return
		}
		if x >= 0 {
			g[x] = lanesCell{r, c}
		}
		x++
	}
}

// blankRun is how many blank cells start at x.
func (g lanesGrid) blankRun(x int) int {
	n := 0
	for ; x+n < len(g) && g[x+n].r == ' '; n++ {
	}
	return n
}

// spanGlyph draws each span style; the glyphs read without colour.
func spanGlyph(s authstate.SpanStyle) (rune, lanesClass) {
	switch s {
	case authstate.SpanLive, authstate.SpanAuthed:
		return '█', lcGood
	case authstate.SpanGone:
		return '▓', lcDim
	case authstate.SpanStale:
		return '▒', lcBad
	case authstate.SpanFailed:
		return '×', lcBad
	case authstate.SpanDiscarded:
		return '┄', lcWarn
	case authstate.SpanPending:
		return '═', lcWarn
	case authstate.SpanLoading:
		return '░', lcWarn
	case authstate.SpanFailing:
		return '✗', lcBad
	case authstate.SpanSignedOut:
		return '_', lcDim
	}
	return '?', lcPlain
}

func tickGlyph(s authstate.TickStyle) (rune, lanesClass) {
	switch s {
	case authstate.TickPoll:
		return '│', lcPlain
	case authstate.TickPollFailed:
		return '×', lcBad
	case authstate.TickPollSkipped:
		return '·', lcDim
	case authstate.TickRefresh:
		return '↻', lcPlain
	case authstate.TickJoined:
		return '◆', lcWarn
	case authstate.TickServed:
		return '●', lcGood
	case authstate.TickServedStale:
		return '!', lcBad
	case authstate.TickRetry:
		return '↺', lcWarn
	case authstate.TickFailed:
		return '×', lcBad
	}
	return 0, lcPlain
}

// lanesLegend names the glyphs, for the help page and a tall screen.
const lanesLegend = "█ live · ▓ ended · ▒ stale · ═ in flight · × failed · ┄ discarded · ░ loading · ✗ failing · _ signed out · │ poll · ● served · ! served stale · ◆ joined · ↺ retry"

// lanesAxis places a window of events on the x axis.
type lanesAxis struct {
	evs   []authstate.Event // everything read, oldest first
	xs    []int             // x of each event; -1 left of the window
	start int               // index of the first event in the window
	cuts  []int             // x of each cut gap
	cols  int
}

// gapCols is the room the time between two events adds: 0 under 1 ms,
// then one column per 10× (1 ms … 1 s), capped at 3.
func gapCols(d time.Duration) int {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 1 {
		return 0
	}
	return min(int(math.Log10(ms)+1), 3)
}

// placeEvents lays evs out right to left from the last one at the right
// edge, until the columns run out.
func placeEvents(evs []authstate.Event, cols int) lanesAxis {
	a := lanesAxis{evs: evs, xs: make([]int, len(evs)), cols: cols, start: len(evs)}
	x := cols - 1
	for i := len(evs) - 1; i >= 0; i-- {
		if x < 0 {
			for j := 0; j <= i; j++ {
				a.xs[j] = -1
			}
			break
		}
		a.xs[i], a.start = x, i
		if i > 0 {
			d := evs[i].At.Sub(evs[i-1].At)
			step := 1 + gapCols(d)
			if d > lanesCut {
				a.cuts = append(a.cuts, x-2)
			}
			x -= step
		}
	}
	return a
}

// x is where event seq is drawn: -1 left of the window, cols right of it.
func (a lanesAxis) x(seq uint64) int {
	i := sort.Search(len(a.evs), func(k int) bool { return a.evs[k].Seq >= seq })
	if i == len(a.evs) {
		return a.cols
	}
	if i < a.start {
		return -1
	}
	return a.xs[i]
}

// firstSeq is the oldest seq in the window.
func (a lanesAxis) firstSeq() uint64 {
	if a.start >= len(a.evs) {
		return 0
	}
	return a.evs[a.start].Seq
}

// drawLanes draws the panel: a title, the lanes, the axis with the marks
// and the cursor, the selected event, and the findings in words.
func (m *Model) drawLanes(width, rows int) []string {
	st := m.styles
	p := m.log()
	head := func(extra string) []string {
		return []string{title(st, "Lanes", extra, width)}
	}
	if rows <= 0 {
		return head("")[:min(1, max(rows+1, 0))]
	}
	end := p.end
	if end == 0 || end < p.first {
		return append(head(""), st.Dim.Render("no events yet"))
	}
	wide := width >= lanesWide
	labelW := 7
	if wide {
		labelW = 24
	}
	cols := max(width-labelW-1, 8)
	sel := p.sel
	if sel == 0 || sel > end {
		sel = end
	}

	// The window ends at the newest event in view, unless the cursor is
	// further back than the window reaches.
	var ax lanesAxis
	winEnd := end
	for attempt := range 3 {
		from := uint64(1)
		if back := uint64(cols + lanesLookback); winEnd > back {
			from = winEnd - back + 1
		}
		ax = placeEvents(readSeqs(m.logSrc(), from, winEnd), cols)
		if len(ax.evs) == 0 || sel >= ax.firstSeq() {
			break
		}
		if attempt == 0 {
			winEnd = min(end, sel+uint64(cols/3))
		} else {
			winEnd = sel
		}
	}
	if len(ax.evs) == 0 {
		return append(head(""), st.Dim.Render("the events in view are no longer held"))
	}
	ls := authstate.LaneSet(ax.evs)
	first, last := ax.evs[ax.start], ax.evs[len(ax.evs)-1]
	extra := fmt.Sprintf("%s → %s · %d events", first.At.Format("15:04:05.000"), last.At.Format("15:04:05.000"), len(ax.evs)-ax.start)
	if winEnd < end {
		extra += fmt.Sprintf(" · scrolled back, %d newer", end-winEnd)
	} else if where := p.position(); strings.Contains(where, " · ") {
		extra += where[strings.Index(where, " · "):]
	}
	if m.mode == modeFilter {
		extra = m.input.View() + st.Dim.Render("  enter apply · esc clear")
	}
	out := head(extra)
	selX := ax.x(sel)
	winFirst := ax.firstSeq()

	// The findings in view, oldest first.
	var marks []authstate.Mark
	for _, mk := range ls.Marks {
		if mk.Seq >= winFirst || mk.Open || mk.ToSeq >= winFirst {
			marks = append(marks, mk)
		}
	}

	budget := rows
	selLine := 1
	findLines := max(1, min(len(marks), 3))
	if wide {
		findLines = max(1, min(len(marks), 6))
	}
	legend := wide && budget >= 16
	fixed := 1 + selLine + findLines // axis, selected, findings
	if legend {
		fixed++
	}
	laneRows := m.laneRows(ls, ax, wide, max(budget-fixed, 0))
	for _, lr := range laneRows {
		out = append(out, m.renderLaneRow(lr.label, labelW, lr.grid, selX))
	}
	if len(out)-1 >= budget {
		return out[:budget+1]
	}

	// The axis: marks, cuts and the cursor.
	axis := newLanesGrid(cols)
	axis.fill(max(ax.xs[ax.start], 0), cols-1, '─', lcDim)
	for _, c := range ax.cuts {
		axis.fill(c, c, '┊', lcDim)
	}
	for _, mk := range marks {
		x0 := ax.x(mk.Seq)
		switch mk.Kind {
		case authstate.MarkFlicker:
			x1 := cols - 1
			if !mk.Open {
				x1 = ax.x(mk.ToSeq)
			}
			axis.fill(max(x0, 0), min(x1, cols-1), '░', lcWarn)
		case authstate.MarkViolation:
			if x0 >= 0 && x0 < cols {
				axis.fill(x0, x0, '✗', lcBad)
			}
		}
	}
	if selX >= 0 && selX < cols && axis[selX].r != '✗' {
		axis[selX] = lanesCell{'▲', lcText}
	}
	axisLabel := "time →"
	if !wide {
		axisLabel = "time→"
	}
	out = append(out, m.renderLaneRow(axisLabel, labelW, axis, -1))

	// The selected event, since the log's rows are not on screen.
	if ev, ok := eventAt(ax.evs, sel); ok {
		line := fmt.Sprintf("▲ %d %s %s %s", ev.Seq, ev.At.Format("15:04:05.000"), ev.Kind, safe(eventText(ev)))
		out = append(out, st.Value.Render(fit(line, width)))
	} else {
		out = append(out, st.Dim.Render(fit(fmt.Sprintf("▲ event %d is no longer held", sel), width)))
	}

	// The findings in words, the newest last.
	room := min(findLines, budget-(len(out)-1))
	if legend {
		room = min(room, budget-(len(out)-1)-1)
	}
	switch {
	case room <= 0:
	case len(marks) == 0:
		out = append(out, st.Dim.Render(fit("no violation and no flicker window in view", width)))
	default:
		// The findings up to the cursor, the newest of them last: moving
		// the cursor onto a mark brings its words on screen.
		upto := len(marks)
		for upto > 1 && marks[upto-1].Seq > sel {
			upto--
		}
		shown := marks[max(upto-room, 0):upto]
		var notes []string
		if hidden := upto - len(shown); hidden > 0 && len(shown) > 1 {
			shown = shown[1:]
			hidden++
			out = append(out, st.Dim.Render(fmt.Sprintf("… %d earlier finding%s in view", hidden, plural(hidden, "", "s"))))
			room--
		}
		if later := len(marks) - upto; later > 0 {
			if len(shown) >= room && len(shown) > 1 {
				shown = shown[1:]
			}
			if len(shown) < room {
				notes = append(notes, st.Dim.Render(fmt.Sprintf("… %d later finding%s in view", later, plural(later, "", "s"))))
			}
		}
		for _, mk := range shown {
			out = append(out, m.markLine(mk, width))
		}
		out = append(out, notes...)
	}
	if legend && len(out)-1 < budget {
		out = append(out, st.Dim.Render(fit(lanesLegend, width)))
	}
	return out
}

// eventAt finds event seq in evs.
func eventAt(evs []authstate.Event, seq uint64) (authstate.Event, bool) {
	i := sort.Search(len(evs), func(k int) bool { return evs[k].Seq >= seq })
	if i < len(evs) && evs[i].Seq == seq {
		return evs[i], true
	}
	return authstate.Event{}, false
}

// markLine is one finding in words: "✗ 14 stale token served to …" or
// "░ 27–49 flicker of 400ms: …".
func (m *Model) markLine(mk authstate.Mark, width int) string {
	st := m.styles
	if mk.Kind == authstate.MarkViolation {
		return st.Bad.Render(fit(fmt.Sprintf("✗ %d %s", mk.Seq, safe(mk.Label)), width))
	}
	to := ""
	if !mk.Open {
		to = fmt.Sprint(mk.ToSeq)
	}
	return st.Warn.Render(fit(fmt.Sprintf("░ %d–%s %s", mk.Seq, to, safe(mk.Label)), width))
}

// laneRow is one row of the drawing with its name.
type laneRow struct {
	label string
	grid  lanesGrid
}

// laneRows draws the lanes into at most n rows: one per actor and, when
// there is room, one per request in view; otherwise the requests share
// rows, and with too few rows the lanes of least use go first.
func (m *Model) laneRows(ls authstate.Lanes, ax lanesAxis, wide bool, n int) []laneRow {
	if n <= 0 {
		return nil
	}
	winFirst := ax.firstSeq()
	var fixed []authstate.Lane
	var reqs []authstate.Lane
	for _, l := range ls.Lanes {
		if l.Kind != authstate.LaneRequest {
			fixed = append(fixed, l)
			continue
		}
		sp := l.Spans[0]
		if sp.Open || sp.ToSeq >= winFirst {
			reqs = append(reqs, l)
		}
	}
	name := func(l authstate.Lane) string {
		if !wide {
			return l.Short
		}
		if l.Kind == authstate.LaneRequest {
			return strings.TrimPrefix(l.Name, "request ")
		}
		return l.Name
	}
	// Which actor lanes fit, in the order they go when rows are short.
	keep := map[authstate.LaneKind]bool{}
	for _, l := range fixed {
		keep[l.Kind] = true
	}
	reqRows := len(reqs)
	packed := m.packRequests(reqs, ax)
	need := func() int {
		k := 0
		for _, v := range keep {
			if v {
				k++
			}
		}
		return k + reqRows
	}
	if need() > n {
		reqRows = len(packed)
	}
	for _, drop := range []authstate.LaneKind{authstate.LaneCalls, authstate.LanePoller, authstate.LaneConvex, authstate.LaneCache} {
		if need() <= n {
			break
		}
		keep[drop] = false
	}
	if need() > n {
		reqRows = max(n-need()+reqRows, 0)
	}

	var out []laneRow
	for _, l := range fixed {
		if l.Kind == authstate.LaneCache && reqRows > 0 {
			out = append(out, m.requestRows(reqs, packed, reqRows, ax, wide, name)...)
			reqRows = 0
		}
		if !keep[l.Kind] {
			continue
		}
		g := newLanesGrid(ax.cols)
		drawLane(g, l, ax, "")
		out = append(out, laneRow{name(l), g})
	}
	if reqRows > 0 {
		out = append(out, m.requestRows(reqs, packed, reqRows, ax, wide, name)...)
	}
	return out[:min(len(out), n)]
}

// requestRows draws the requests in view: one row each when they all
// fit in rows, else packed.
func (m *Model) requestRows(reqs []authstate.Lane, packed [][]authstate.Lane, rows int, ax lanesAxis, wide bool, name func(authstate.Lane) string) []laneRow {
	var out []laneRow
	if rows >= len(reqs) {
		for _, l := range reqs {
			g := newLanesGrid(ax.cols)
			drawLane(g, l, ax, "")
			out = append(out, laneRow{name(l), g})
		}
		return out
	}
	// The newest rows are the ones kept.
	packed = packed[max(len(packed)-rows, 0):]
	for i, row := range packed {
		g := newLanesGrid(ax.cols)
		for _, l := range row {
			drawLane(g, l, ax, l.Short)
		}
		label := "reqs"
		if wide {
			label = "token requests"
		}
		if i > 0 {
			label = ""
		}
		out = append(out, laneRow{label, g})
	}
	return out
}

// packRequests puts requests into shared rows where they do not overlap
// (with room for their labels), first fit.
func (m *Model) packRequests(reqs []authstate.Lane, ax lanesAxis) [][]authstate.Lane {
	var rows [][]authstate.Lane
	var ends []int
	for _, l := range reqs {
		sp := l.Spans[0]
		x0 := max(ax.x(sp.FromSeq), 0)
		x1 := ax.cols - 1
		if !sp.Open {
			x1 = min(ax.x(sp.ToSeq), ax.cols-1)
		}
		for _, t := range l.Ticks {
			x1 = max(x1, min(ax.x(t.Seq), ax.cols-1))
		}
		x1 = max(x1, x0+len([]rune(l.Short))+1)
		placed := false
		for i, e := range ends {
			if e < x0 {
				rows[i] = append(rows[i], l)
				ends[i] = x1
				placed = true
				break
			}
		}
		if !placed {
			rows = append(rows, []authstate.Lane{l})
			ends = append(ends, x1)
		}
	}
	return rows
}

// drawLane fills each span, draws the ticks over them, then writes each
// span's label inside it where a stretch of its bar is free of ticks, or
// just after it when the cells there are blank, and each tick's label
// after it where the cells are blank. prefix (packed request rows) goes
// before the span labels.
func drawLane(g lanesGrid, l authstate.Lane, ax lanesAxis, prefix string) {
	type pending struct {
		x0, x1 int
		glyph  rune
		label  string
	}
	var labels []pending
	for _, sp := range l.Spans {
		x0, x1 := ax.x(sp.FromSeq), ax.cols-1
		if !sp.Open {
			x1 = ax.x(sp.ToSeq)
		}
		if x1 < 0 || x0 >= ax.cols {
			continue
		}
		x0 = max(x0, 0)
		x1 = min(x1, ax.cols-1)
		r, c := spanGlyph(sp.Style)
		g.fill(x0, x1, r, c)
		label := sp.Label
		if sp.Style == authstate.SpanGone {
			label += " ended"
		}
		if prefix != "" {
			label = strings.TrimSpace(prefix + " " + label)
		}
		labels = append(labels, pending{x0, x1, r, safe(label)})
	}
	for _, t := range l.Ticks {
		x := ax.x(t.Seq)
		if r, c := tickGlyph(t.Style); r != 0 && x >= 0 && x < ax.cols {
			g[x] = lanesCell{r, c}
		}
	}
	for _, l := range labels {
		n := len([]rune(l.label))
		// The longest stretch of the bar's own glyph inside it.
		best, bestAt := 0, 0
		for x := l.x0 + 1; x < l.x1; {
			k := 0
			for x+k < l.x1 && g[x+k].r == l.glyph {
				k++
			}
			if k > best {
				best, bestAt = k, x
			}
			x += max(k, 1)
		}
		switch {
		case best >= n+2:
			g.text(bestAt, bestAt+n+2, " "+l.label+" ", lcText)
		case g.blankRun(l.x1+1) >= n+2:
			g.text(l.x1+2, len(g), l.label, lcText)
		case best >= 5:
			g.text(bestAt, bestAt+best, " "+string([]rune(l.label)[:best-3])+"… ", lcText)
		}
	}
	for _, t := range l.Ticks {
		x := ax.x(t.Seq)
		if x < 0 || x >= ax.cols || t.Label == "" {
			continue
		}
		label := safe(t.Label)
		if g.blankRun(x+1) >= len([]rune(label))+2 {
			g.text(x+1, len(g), label, lcText)
		}
	}
}

// renderLaneRow renders a row: its name in the label column, then the
// cells, styled by runs, with the cursor's column reversed.
func (m *Model) renderLaneRow(label string, labelW int, g lanesGrid, selX int) string {
	st := m.styles
	var b strings.Builder
	b.WriteString(st.Label.Render(pad(fit(safe(label), labelW), labelW)))
	b.WriteByte(' ')
	style := func(c lanesClass) lipgloss.Style {
		switch c {
		case lcGood:
			return st.Good
		case lcBad:
			return st.Bad
		case lcWarn:
			return st.Warn
		case lcDim:
			return st.Dim
		case lcText:
			return st.Value
		}
		return st.Value
	}
	var run strings.Builder
	cur := lanesClass(255)
	flush := func() {
		if run.Len() > 0 {
			b.WriteString(style(cur).Render(run.String()))
			run.Reset()
		}
	}
	for x, c := range g {
		if x == selX {
			flush()
			r := c.r
			if r == ' ' {
				r = '│'
			}
			b.WriteString(st.Selected.Render(string(r)))
			cur = 255
			continue
		}
		if c.c != cur {
			flush()
			cur = c.c
		}
		run.WriteRune(c.r)
	}
	flush()
	return b.String()
}
