package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
)

// Compare mode (Options.Columns): every device is a column, one client
// stack per variant against its own simulator. The columns are drawn side
// by side from their own folds; every action key goes to every column, in
// column order, and the next action waits until each column has settled,
// so the columns stay comparable step by step. One event log holds the
// events of every column, each row tagged with its column; d narrows it to
// one column.

// compareView is compare mode's own state.
type compareView struct {
	names []string
	// merged is the log of every column in arrival order: live, the
	// events as the view took them (live); in a replay, the trace's; panel
	// is the event window over it.
	merged mergedSource
	live   *mergedLog
	panel  eventPanel
	// col is the column the log is narrowed to (1-based); 0: every column.
	col int
	// settling: an action went to the columns and they have not all
	// settled yet; queue holds the keys pressed meanwhile.
	settling bool
	queue    []tea.KeyPressMsg
	// density is the last frame's density of the columns at size, and
	// spare the rows it left over: the next frame starts there, and tries
	// one roomier only when enough rows were spare, instead of drawing the
	// columns at every density each frame.
	density density
	size    [2]int
	spare   int
	// wait counts the frames before a roomier density is tried again,
	// after one did not fit.
	wait int
}

// roomierAfter is how many spare rows make the next frame try a roomier
// density; roomierEvery is how many frames go by before trying again
// after it did not fit.
const (
	roomierAfter = 4
	roomierEvery = 16
)

// settleWait bounds how long the next action waits for the columns to
// settle: a column whose server hangs must not stop the others.
const settleWait = 5 * time.Second

// maxQueuedKeys bounds the keys kept while the columns settle.
const maxQueuedKeys = 16

// mergedSource is a log of every column's events under seqs of its own,
// which knows the column of each.
type mergedSource interface {
	logSource
	colOf(seq uint64) (int, bool)
}

// newCompareView is compare mode on live devices: the merged log refers
// to the events in the devices' own logs, at most size of them.
func newCompareView(names []string, devs []*device, size int) *compareView {
	live := &mergedLog{devs: devs, refs: make([]logRef, 0, min(size, 1<<12)), size: size}
	return &compareView{names: names, panel: newEventPanel(), merged: live, live: live}
}

// log is the event window the keys and the log panel work on: the merged
// one, or the shown device's own when the log is narrowed to a column.
func (m *Model) log() *eventPanel {
	if c := m.cmp; c != nil && c.col == 0 {
		return &c.panel
	}
	return &m.device.events
}

// logSrc is where log reads its events.
func (m *Model) logSrc() logSource {
	if c := m.cmp; c != nil && c.col == 0 {
		return c.merged
	}
	return m.device.src
}

// columnName is device d's column name (its variant).
func (m *Model) columnName(d *device) string {
	if m.cmp == nil || d.num-1 >= len(m.cmp.names) {
		return fmt.Sprintf("device %d", d.num)
	}
	return m.cmp.names[d.num-1]
}

// rowDevice is the device an event row of the log came from.
func (m *Model) rowDevice(ev authstate.Event) *device {
	c := m.cmp
	if c == nil || c.col != 0 {
		return m.device
	}
	if col, ok := c.merged.colOf(ev.Seq); ok {
		return m.devs[col]
	}
	return m.device
}

// columnTag is the column an event row came from, padded so that the
// rows line up: the variant's name, shortened on narrow screens.
func (m *Model) columnTag(ev authstate.Event, wide bool) string {
	w := 0
	for _, n := range m.cmp.names {
		w = max(w, cellWidth(n))
	}
	w = min(w, 24)
	if !wide {
		w = min(w, 10)
	}
	return pad(short(safe(m.columnName(m.rowDevice(ev))), w), w) + " "
}

// columnActions are the keys that go to every column: server actions,
// fetches, holds, releases, latency and poll.
func (m *Model) columnActions() []key.Binding {
	k := &m.keys
	return []key.Binding{k.ChangePassword, k.Rotate, k.ForceFetch, k.Fetch, k.SignOut, k.SignIn,
		k.Hold, k.ReleaseOldest, k.ReleaseLatest, k.ReleaseAll, k.LatencyUp, k.LatencyDown, k.PollUp, k.PollDown}
}

// columnAction is the column action msg is, if it is one.
func (m *Model) columnAction(msg tea.KeyPressMsg) (key.Binding, bool) {
	for _, b := range m.columnActions() {
		if key.Matches(msg, b) {
			return b, true
		}
	}
	return key.Binding{}, false
}

// keyWords is what a key does, from its help ("hold tokens").
func (m *Model) keyWords(msg tea.KeyPressMsg) string {
	if b, ok := m.columnAction(msg); ok && b.Help().Desc != "" {
		return b.Help().Desc
	}
	return msg.String()
}

// compareKey takes the keys that work differently in compare mode; ok
// false passes the key on.
func (m *Model) compareKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	c := m.cmp
	k := &m.keys
	switch {
	case key.Matches(msg, k.Policy):
		m.setStatus("compare: each column keeps its variant (m switches policies outside compare mode)")
		return nil, true
	case key.Matches(msg, k.Device):
		m.nextLogColumn()
		return nil, true
	case key.Matches(msg, k.Focus):
		m.setStatus("compare: the fetches panels take no selection; d narrows the log to one column")
		return nil, true
	case key.Matches(msg, k.Lanes) && c.col == 0 && !m.lanes.on:
		m.setStatus("the swimlanes draw one column: d narrows the log to a column first")
		return nil, true
	}
	if _, ok := m.columnAction(msg); !ok {
		return nil, false
	}
	if c.settling {
		if len(c.queue) >= maxQueuedKeys {
			m.setStatus("compare: %d keys already wait for the columns to settle; key dropped", len(c.queue))
			return nil, true
		}
		c.queue = append(c.queue, msg)
		m.setStatus("compare: waiting for every column to settle; %d key(s) queued", len(c.queue))
		return nil, true
	}
	return m.broadcast(msg), true
}

// broadcast runs an action key on every column in order, then waits (in a
// command, not in Update) until each has settled.
func (m *Model) broadcast(msg tea.KeyPressMsg) tea.Cmd {
	shown := m.device
	var said []string
	for _, d := range m.devs {
		m.device = d
		n := m.statusN
		m.deviceAction(msg)
		if m.statusN != n && len(said) == 0 {
			said = append(said, strings.TrimPrefix(m.status, m.devicePrefix(d)))
		}
	}
	m.device = shown
	what := m.keyWords(msg)
	if len(said) > 0 && said[0] != "" {
		what = said[0]
	}
	m.setStatus("every column: %s", what)
	for _, d := range m.devs {
		// A transport key's own status comes with the engine's event;
		// let it replace this one.
		if d.asked.pending > 0 {
			d.asked.statusN = m.statusN
		}
	}
	m.cmp.settling = true
	return settleColumns(m.devs, settleWait)
}

// settledMsg says every column has settled after an action, or which did
// not within settleWait.
type settledMsg struct{ late []int }

// settleColumns waits until each column's engine has nothing left to do
// but wait (every call answered or held), one column after the other.
func settleColumns(devs []*device, wait time.Duration) tea.Cmd {
	type col struct {
		num int
		eng *authstate.Engine
		tr  Transport
	}
	cols := make([]col, 0, len(devs))
	for _, d := range devs {
		cols = append(cols, col{d.num, d.eng, d.tr})
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		var late []int
		for _, c := range cols {
			held := func() int { return 0 }
			if c.tr != nil {
				held = c.tr.Held
			}
			if err := c.eng.Settle(ctx, held, nil, nil); err != nil {
				late = append(late, c.num)
			}
		}
		return settledMsg{late: late}
	}
}

// settled takes a settledMsg: the next queued key goes.
func (m *Model) settled(msg settledMsg) tea.Cmd {
	c := m.cmp
	c.settling = false
	if len(msg.late) > 0 {
		var names []string
		for _, n := range msg.late {
			if n-1 < len(m.devs) {
				names = append(names, m.columnName(m.devs[n-1]))
			}
		}
		m.setStatus("compare: %s did not settle within %s; the next action goes all the same", strings.Join(names, ", "), humanDur(settleWait))
	}
	if len(c.queue) == 0 {
		return nil
	}
	next := c.queue[0]
	c.queue = c.queue[1:]
	return m.broadcast(next)
}

// nextLogColumn narrows the log to the next column, then back to all.
func (m *Model) nextLogColumn() {
	c := m.cmp
	c.col = (c.col + 1) % (len(m.devs) + 1)
	filter := m.log().filter
	if c.col == 0 {
		m.device = m.devs[0]
		if m.lanes.on {
			m.toggleLanes()
		}
	} else {
		m.device = m.devs[c.col-1]
	}
	m.log().setFilter(filter, m.logSrc())
	m.log().refresh(m.logSrc())
	m.input.SetValue(filter)
	if c.col == 0 {
		m.setStatus("event log: every column")
		return
	}
	m.setStatus("event log: column %s only (d: next)", m.columnName(m.device))
}

// ingestCompare adds a batch of one column's logged events to the merged
// log and its filter index.
func (m *Model) ingestCompare(d *device, evs []authstate.Event) {
	c := m.cmp
	for _, ev := range evs {
		if ev.Kind.Quiet() {
			continue
		}
		seq := c.live.add(d.num-1, ev.Seq)
		ev.Seq = seq
		c.panel.observe(ev)
	}
	if c.col == 0 && (!c.panel.paused || c.panel.rows == nil) {
		c.panel.refresh(c.merged)
	}
}

// logRef is one event of the merged log: its column and its seq there.
type logRef struct {
	col int32
	seq uint64
}

// mergedLog is the log of every column in the order the view took the
// events, as a logSource with seqs of its own. It keeps references and
// reads the events from the columns' logs; it holds no more than one
// column's log does, so what it refers to is still there.
type mergedLog struct {
	devs  []*device
	refs  []logRef // a ring once full
	start int
	size  int
	total uint64
}

func (l *mergedLog) add(col int, seq uint64) uint64 {
	r := logRef{col: int32(col), seq: seq}
	if len(l.refs) < l.size {
		l.refs = append(l.refs, r)
	} else {
		l.refs[l.start] = r
		l.start = (l.start + 1) % l.size
	}
	l.total++
	return l.total
}

func (l *mergedLog) Len() int      { return len(l.refs) }
func (l *mergedLog) Total() uint64 { return l.total }

func (l *mergedLog) ref(i int) logRef { return l.refs[(l.start+i)%len(l.refs)] }

// Slice reads events from..to-1 of the ring, oldest first, each under its
// merged seq; runs from one column are read at once.
func (l *mergedLog) Slice(from, to int) []authstate.Event {
	from, to = max(from, 0), min(to, len(l.refs))
	out := make([]authstate.Event, 0, max(to-from, 0))
	oldest := l.total - uint64(len(l.refs)) + 1
	for i := from; i < to; {
		r := l.ref(i)
		j := i + 1
		for j < to {
			n := l.ref(j)
			if n.col != r.col || n.seq != r.seq+uint64(j-i) {
				break
			}
			j++
		}
		if int(r.col) < len(l.devs) {
			evs := readSeqs(l.devs[r.col].src, r.seq, r.seq+uint64(j-i-1))
			for _, ev := range evs {
				ev.Seq = oldest + uint64(i) + (ev.Seq - r.seq)
				out = append(out, ev)
			}
		}
		i = j
	}
	return out
}

// colOf is the column of a merged seq, while the ring holds it.
func (l *mergedLog) colOf(seq uint64) (int, bool) {
	oldest := l.total - uint64(len(l.refs)) + 1
	if seq < oldest || seq > l.total || len(l.refs) == 0 {
		return 0, false
	}
	return int(l.ref(int(seq - oldest)).col), true
}

// compareFrame is frame for compare mode: the columns side by side and
// what they disagree on, then the shared event log.
func (m *Model) compareFrame(f frame, avail int) frame {
	w := m.width
	minRows := max(minEventRows, avail/4)
	diff := m.disagreements(w)
	room := avail - len(diff) - 1 - minRows
	var cols []string
	if w >= fullColumnsFrom {
		c := m.cmp
		d := roomy
		tried := false
		if c.size == [2]int{w, m.height} {
			d = c.density
			c.wait = max(c.wait-1, 0)
			if c.spare >= roomierAfter && d > roomy && c.wait == 0 {
				d--
				tried = true
			}
		} else {
			c.wait = 0
		}
		for ; ; d++ {
			cols = m.columnBlock(w, d)
			if len(cols) <= room || d == cramped {
				break
			}
			if tried {
				c.wait, tried = roomierEvery, false
			}
		}
		c.density, c.size, c.spare = d, [2]int{w, m.height}, room-len(cols)
	} else {
		cols = m.columnBlock(w, -1)
	}
	f.panels = append(cols, diff...)
	f.eventRows = max(avail-len(f.panels)-1, 0)
	f.eventY = len(f.top) + len(f.panels) + 1
	return f
}

// fullColumnsFrom is the width from which each column shows full panels;
// narrower screens get a summary per column.
const fullColumnsFrom = 140

// columnSep is drawn between two columns.
const columnSep = " │ "

// columnWidth is each column's width on a screen w wide.
func columnWidth(w, n int) int {
	return max((w-cellWidth(columnSep)*(n-1))/max(n, 1), 1)
}

// columnBlock draws every column at width w, side by side: at a density
// the panels, or with d < 0 a summary of each.
func (m *Model) columnBlock(w int, d density) []string {
	n := len(m.devs)
	cw := columnWidth(w, n)
	blocks := make([][]string, n)
	height := 0
	for i, dev := range m.devs {
		p := m.pane(dev)
		p.focused = false
		lines := []string{m.columnTitle(dev, cw)}
		if d < 0 {
			lines = append(lines, m.columnSummary(p, dev, cw)...)
		} else {
			lines = append(lines, p.sessionPanel(cw, d == cramped)...)
			lines = append(lines, p.tokenPanel(cw, d)...)
			lines = append(lines, p.consumerPanel(cw, d)...)
			lines = append(lines, p.fetchesPanel(cw, fetchRowsFor(d, m.height))...)
		}
		blocks[i] = lines
		height = max(height, len(lines))
	}
	sep := m.styles.Rule.Render(columnSep)
	out := make([]string, height)
	for row := range height {
		var b strings.Builder
		for i, lines := range blocks {
			if i > 0 {
				b.WriteString(sep)
			}
			cell := ""
			if row < len(lines) {
				cell = lines[row]
			}
			// Every panel line is fitted to cw already.
			b.WriteString(pad(cell, cw))
		}
		out[row] = b.String()
	}
	return out
}

// columnTitle names a column: its number and variant, and its counts.
func (m *Model) columnTitle(d *device, width int) string {
	st := m.styles
	head := st.App.Render(fmt.Sprintf(" %d %s ", d.num, safe(m.columnName(d))))
	var items []string
	narrow := width < 60
	if n := d.snap.ViolationCount; n > 0 {
		word := fmt.Sprintf("%d violation%s", n, plural(n, "", "s"))
		if narrow {
			word = fmt.Sprintf("%d viol.", n)
		}
		items = append(items, st.Bad.Render(word))
	}
	if d.snap.StaleServed > 0 {
		word := fmt.Sprintf("%d STALE served", d.snap.StaleServed)
		if narrow {
			word = fmt.Sprintf("%d STALE", d.snap.StaleServed)
		}
		items = append(items, st.Bad.Render(word))
	}
	if d.subClosed {
		items = append(items, st.Bad.Render("ENGINE STOPPED"))
	}
	return fit(head+" "+strings.Join(items, st.Dim.Render(" · ")), width)
}

// columnSummary is one column in a few lines, for narrow screens: the
// session, the token with its verdict, what the app sees of Convex, and
// the requests in flight.
func (m *Model) columnSummary(p pane, d *device, width int) []string {
	st := p.styles
	s := p.snap
	var session string
	switch {
	case !p.haveSnap || s.SessionPending:
		session = st.Dim.Render("waiting for get-session")
	case s.Session == nil:
		session = st.Warn.Render("signed out")
	default:
		session = st.Value.Render(safe(s.SessionLabel))
	}
	out := []string{fit(st.Label.Render("session ")+session, width)}
	tok, _ := p.shownToken()
	if tok == nil {
		out = append(out, fit(st.Label.Render("token ")+st.Dim.Render("none yet"), width))
	} else {
		verdict, ok := tokenVerdict(tok, s, p.serverNow())
		style := st.Good
		if !ok {
			style = st.Bad
		}
		word, _, _ := strings.Cut(verdict, ":")
		if ok {
			word = "ok"
		}
		out = append(out, fit(st.Label.Render("token ")+st.Value.Render(safe(s.Label(tok.SessionID))+" ")+style.Render(safe(word)), width))
	}
	if s.Convex.Enabled {
		fl := st.Good.Render("no flicker")
		if n := s.Flicker.Count; n > 0 {
			fl = st.Warn.Render(fmt.Sprintf("flicker %d (%s)", n, humanDur(p.flickerTotal())))
			if s.Flicker.Open {
				fl = st.Bad.Render(fmt.Sprintf("flicker %d OPEN", n))
			}
		}
		hook := p.hookWord(s.Convex)
		if width < 40 {
			hook = p.shortHookWord(s.Convex)
		}
		out = append(out, fit(st.Label.Render("Convex ")+hook+st.Dim.Render(" · ")+fl, width))
	}
	live := 0
	for _, r := range p.fetches.rows {
		if !r.done() {
			live++
		}
	}
	out = append(out, fit(st.Label.Render("fetches ")+st.Value.Render(fmt.Sprintf("%d in flight, %d held", live, len(s.Transport.Held))), width))
	return out
}

// disagreements says in words where the columns differ: stale tokens
// served, violations, flicker windows, what the app sees of Convex. When
// they agree on all of it, one line says so.
func (m *Model) disagreements(width int) []string {
	st := m.styles
	type measure struct {
		name string
		bad  func(d *device) bool
		val  func(d *device) string
	}
	measures := []measure{
		{"stale token served", func(d *device) bool { return d.snap.StaleServed > 0 }, func(d *device) string {
			if d.snap.StaleServed == 0 {
				return "no"
			}
			return fmt.Sprintf("YES ×%d", d.snap.StaleServed)
		}},
		{"violations", func(d *device) bool { return d.snap.ViolationCount > 0 }, func(d *device) string {
			return fmt.Sprint(d.snap.ViolationCount)
		}},
		{"flicker windows", func(d *device) bool { return d.snap.Flicker.Count > 0 }, func(d *device) string {
			if d.snap.Flicker.Open {
				return fmt.Sprintf("%d, one OPEN", d.snap.Flicker.Count)
			}
			return fmt.Sprint(d.snap.Flicker.Count)
		}},
	}
	var out []string
	var agreed []string
	for _, ms := range measures {
		vals := make([]string, len(m.devs))
		differ := false
		for i, d := range m.devs {
			vals[i] = ms.val(d)
			if vals[i] != vals[0] {
				differ = true
			}
		}
		if !differ {
			agreed = append(agreed, ms.name+" "+vals[0])
			continue
		}
		items := make([]string, len(m.devs))
		for i, d := range m.devs {
			style := st.Good
			if ms.bad(d) {
				style = st.Bad
			}
			items[i] = st.Value.Render(safe(m.columnName(d))+" ") + style.Render(vals[i])
		}
		line := st.Warn.Render("DIFFER ") + st.Label.Render(ms.name+": ") + strings.Join(items, st.Dim.Render(" · "))
		out = append(out, joinItems([]string{line}, "", width)...)
	}
	if len(agreed) > 0 {
		out = append(out, fit(st.Dim.Render("columns agree: "+strings.Join(agreed, " · ")), width))
	}
	return out
}
