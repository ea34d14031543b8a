package tui

import (
	"fmt"
	"path/filepath"
	"strings"
)

// headerItem is one part of the header: its full and short forms and how
// much it matters (0 stays whatever the width; higher goes first).
type headerItem struct {
	full, short string
	prio        int
}

// headerLines is the header in one line: target, policy, poll interval,
// hold state, live/paused, violations and the rest. When the width is
// short, every part first takes its short form, then the least important
// parts go, so the header never wraps.
func (m *Model) headerLines(width int) []string {
	st := m.styles
	kv := func(k, v string) string { return st.Label.Render(k+" ") + st.Value.Render(safe(v)) }
	var items []headerItem
	add := func(prio int, full, short string) {
		if short == "" {
			short = full
		}
		items = append(items, headerItem{full: full, short: short, prio: prio})
	}
	add(0, st.App.Render("authscope"), "")
	if m.cmp != nil {
		add(0, st.Title.Render(fmt.Sprintf("compare %d columns", len(m.devs))), st.Title.Render(fmt.Sprintf("%d cols", len(m.devs))))
		if m.cmp.col > 0 {
			add(1, kv("log", m.columnName(m.device)), "")
		}
	} else if len(m.devs) > 1 {
		add(0, st.Title.Render(fmt.Sprintf("device %d/%d", m.num, len(m.devs))), st.Title.Render(fmt.Sprintf("dev %d/%d", m.num, len(m.devs))))
	}
	target, bare := m.target(), m.target()
	if i := strings.Index(bare, "://"); i >= 0 {
		bare = bare[i+3:]
	}
	targetPrio := 4
	if m.opts.RealTarget {
		// Keys change the password there: keep saying where.
		target += " (real server)"
		bare += " (real)"
		targetPrio = 2
	}
	add(targetPrio, kv("target", target), st.Value.Render(safe(bare)))
	if m.opts.ConfigFile != "" {
		cfg := m.mask.path(m.opts.ConfigFile)
		add(4, kv("config", cfg), kv("config", filepath.Base(cfg)))
	}
	policy := m.snap.Policy
	if policy == "" {
		policy = "…"
	}
	if m.cmp == nil {
		add(0, kv("policy", policy), "")
	}
	poll := "off"
	if m.snap.PollInterval > 0 {
		poll = humanDur(m.snap.PollInterval)
	}
	add(3, kv("poll", poll), "")
	if m.transport.ok {
		latPrio := 5
		if m.transport.latency > 0 {
			latPrio = 4
		}
		add(latPrio, kv("token latency", humanDur(m.transport.latency)), kv("lat", humanDur(m.transport.latency)))
		full, short, prio := m.holdItem()
		add(prio, full, short)
		if m.cmp != nil && !m.columnsAgreeOnTransport() {
			// The header shows the current column's; holds mirror, so
			// they differ only where a column's transport refused one.
			add(0, st.Warn.Render("the columns' holds or latencies differ"), st.Warn.Render("holds differ"))
		}
	} else {
		add(5, st.Dim.Render("no transport controls"), st.Dim.Render("no transport"))
	}
	m.feed.header(m, add)
	received := m.received
	if m.cmp != nil {
		received = m.Received()
	}
	add(6, kv("events", fmt.Sprint(received)), kv("ev", fmt.Sprint(received)))
	if n := m.snap.ViolationCount; n > 0 && m.cmp == nil {
		add(0, st.Bad.Render(fmt.Sprintf("%d violation%s", n, plural(n, "", "s"))), st.Bad.Render(fmt.Sprintf("%d viol.", n)))
	}
	if m.dropped > 0 {
		add(0, st.Warn.Render(fmt.Sprintf("WARNING: %d events dropped (view behind)", m.dropped)), st.Warn.Render(fmt.Sprintf("%d dropped", m.dropped)))
	}
	for _, d := range m.devs {
		if d != m.device && m.cmp == nil {
			style := st.Value
			if d.snap.Convex.Enabled {
				style = st.phase(d.timeline.cur.phase())
			}
			sum := safe(d.summary())
			add(1, style.Render(sum), style.Render(strings.Replace(sum, "device ", "dev ", 1)))
		}
	}
	if m.opts.Demo {
		add(0, st.Warn.Render("DEMO"), "")
	}
	return []string{fitHeader(items, st.Dim.Render(" · "), width)}
}

// fitHeader joins items with sep in one line of at most width cells. The
// least important parts give way first: each priority level, from the
// highest number down, takes its short form, then goes; the prio-0 parts
// are shortened but never dropped, and cut only if even they do not fit.
func fitHeader(items []headerItem, sep string, width int) string {
	maxPrio := 0
	for _, it := range items {
		maxPrio = max(maxPrio, it.prio)
	}
	// Parts with prio > keep are dropped, parts with prio >= shortFrom
	// are short.
	join := func(keep, shortFrom int) string {
		var parts []string
		for _, it := range items {
			switch {
			case it.prio > keep:
			case it.prio >= shortFrom:
				parts = append(parts, it.short)
			default:
				parts = append(parts, it.full)
			}
		}
		return strings.Join(parts, sep)
	}
	s := join(maxPrio, maxPrio+1)
	for p := maxPrio; p >= 0 && cellWidth(s) > width; p-- {
		if s = join(p, p); cellWidth(s) <= width || p == 0 {
			break
		}
		s = join(p-1, p)
	}
	return fit(s, width)
}

// holdItem is the hold state, in full and short, with its priority: a
// hold in force matters more than "hold off".
func (m *Model) holdItem() (full, short string, prio int) {
	st := m.styles
	t := m.transport
	held, heldShort := "", ""
	if t.held > 0 {
		held = fmt.Sprintf(" (%d held)", t.held)
		heldShort = fmt.Sprintf(" (%d)", t.held)
	}
	switch t.holding {
	case "token":
		return st.Warn.Render("HOLDING token responses" + held), st.Warn.Render("HOLD tokens" + heldShort), 1
	case "token_request":
		return st.Warn.Render("HOLDING token requests" + held), st.Warn.Render("HOLD requests" + heldShort), 1
	}
	if t.held > 0 {
		return st.Warn.Render("hold off" + held), st.Warn.Render("held" + heldShort), 1
	}
	return st.Label.Render("hold ") + st.Value.Render("off"), "", 5
}

// maxStatusLines bounds the status: an explanation of a flicker or a
// violation is one sentence, which takes up to three lines at 80 columns.
const maxStatusLines = 3

// statusLines are the result of the last key or the explanation of the
// last flicker or violation, wrapped to at most maxStatusLines; or a hint.
func (m *Model) statusLines(width int) []string {
	if m.status == "" {
		return []string{fit(m.styles.Dim.Render("ready · p change password · r rotate silently · f forced fetch · ? help"), width)}
	}
	lines := wrap("» "+safe(m.status), width)
	if len(lines) > maxStatusLines {
		lines = lines[:maxStatusLines]
		lines[maxStatusLines-1] = strings.TrimRight(lines[maxStatusLines-1], " ") + "…"
	}
	for i, l := range lines {
		lines[i] = fit(m.styles.Status.Render(l), width)
	}
	return lines
}

// columnsAgreeOnTransport reports whether every column's transport holds
// the same kind of item and is as slow. How many items each holds may
// differ: each policy makes its own requests.
func (m *Model) columnsAgreeOnTransport() bool {
	a := m.devs[0].transport
	for _, d := range m.devs[1:] {
		b := d.transport
		if b.ok != a.ok || b.holding != a.holding || b.latency != a.latency {
			return false
		}
	}
	return true
}
