package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// frame is the screen minus the event rows: every other panel already
// rendered, and how many event rows fit between them.
type frame struct {
	top       []string // header and status
	panels    []string // session, token, fetches
	bottom    []string // help or the confirmation question
	eventRows int
	detail    bool
	// Where rows are on screen, for the mouse: the fetch rows from line
	// fetchY (ids in order), the event rows from line eventY.
	fetchY, eventY int
	fetchIDs       []int
}

// compactBelow is the body height under which panels drop their titles.
const compactBelow = 16

// minEventRows is how many event rows a layout must leave before the
// panels give up detail for them; on taller screens the log keeps a
// quarter of the body.
const minEventRows = 3

// density is how much detail the panels above the event log show. frame
// tries them in order until the log keeps enough rows.
type density int

const (
	roomy   density = iota // every panel in full
	snug                   // the Convex panel in four lines, the token without sub/iss/aud
	tight                  // the Convex panel in three lines, two fetch rows
	cramped                // one-line session and Convex, two-line token, one fetch row
)

// frame renders everything but the event rows for the current size and
// state, shrinking the panels on short screens so the log keeps some rows.
func (m *Model) frame() frame {
	w, h := m.width, m.height
	f := frame{top: append(m.headerLines(w), m.statusLines(w)...), bottom: m.bottomLines(w)}
	if h < 12 {
		// A tiny terminal gets one header line; the rest goes to the log.
		f.top = f.top[:1]
	}
	avail := h - len(f.top) - len(f.bottom)
	if m.mode == modeDetail || m.mode == modeHelp {
		f.detail = true
		f.eventRows = max(avail, 0)
		return f
	}
	if m.cmp != nil {
		return m.compareFrame(f, avail)
	}
	d := roomy
	if avail < compactBelow {
		d = cramped
	}
	minRows := max(minEventRows, avail/4)
	if m.lanes.on {
		// The lanes need rows more than the panels need detail; start
		// one density roomier than the last frame's rather than trying
		// every one each frame (lanes.go).
		minRows = max(minRows, avail/2)
		d = m.lanes.startDensity(d, w, h)
	}
	for ; ; d++ {
		f.panels = m.panels(w, h, d)
		if avail-len(f.panels)-1 >= minRows || d == cramped {
			break
		}
	}
	m.lanes.noteDensity(d, w, h)
	f.eventRows = max(avail-len(f.panels)-1, 0)
	if len(m.fetches.rows) > 0 {
		shown := m.fetches.window(fetchRowsFor(d, h))
		f.fetchY = len(f.top) + len(f.panels) - len(shown)
		for _, r := range shown {
			f.fetchIDs = append(f.fetchIDs, r.id)
		}
	}
	f.eventY = len(f.top) + len(f.panels) + 1
	return f
}

// fetchRowsFor is how many fetch rows the panel shows at a density on a
// screen h lines tall.
func fetchRowsFor(d density, h int) int {
	switch {
	case d == cramped:
		return 1
	case d == tight:
		return 2
	case h < 30:
		return 3
	}
	return 8
}

// panels renders the session, token, Convex and fetches panels at one
// density.
func (m *Model) panels(w, h int, d density) []string {
	maxFetch := fetchRowsFor(d, h)
	p := m.pane(m.device)
	var out []string
	out = append(out, p.sessionPanel(w, d == cramped)...)
	out = append(out, p.tokenPanel(w, d)...)
	out = append(out, p.consumerPanel(w, d)...)
	return append(out, p.fetchesPanel(w, maxFetch)...)
}

// layout renders the panels around the event log and sizes the event
// window to the room left; it runs at the end of every Update, so View
// only has to draw the visible event rows into the frame.
func (m *Model) layout() {
	m.help.SetWidth(m.width)
	m.input.SetWidth(max(m.width/3, 10))
	if m.focus == focusFetches {
		if _, ok := m.fetches.selected(); !ok {
			m.fetches.move(0)
		}
	}
	m.chrome = m.frame()
	if m.chrome.detail {
		return
	}
	if m.chrome.eventRows != m.log().height {
		m.log().height = m.chrome.eventRows
		m.log().refresh(m.logSrc())
	}
	if m.lanes.on {
		m.layoutLanes(m.width, m.chrome.eventRows)
	}
}

// View renders the screen from the model. It reads nothing but the model.
func (m *Model) View() tea.View {
	f := m.chrome
	lines := make([]string, 0, m.height)
	lines = append(lines, f.top...)
	if f.detail && m.mode == modeHelp {
		lines = append(lines, m.helpPanel(m.width, f.eventRows)...)
	} else if f.detail {
		lines = append(lines, m.detailPanel(m.width, f.eventRows)...)
	} else {
		lines = append(lines, f.panels...)
		lines = append(lines, m.eventsPanel(m.width, f.eventRows)...)
	}
	for len(lines) < m.height-len(f.bottom) {
		lines = append(lines, "")
	}
	lines = append(lines, f.bottom...)
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	if m.mode == modeConfirm {
		// Over the panels, where the eye is, not on the bottom line.
		lines = overlay(lines, m.confirmBox(m.width), m.width)
	}
	for i, l := range lines {
		lines[i] = fit(l, m.width)
	}
	v := tea.NewView(strings.Join(lines, "\n"))
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "authscope · " + safe(m.target())
	return v
}

// bottomLines are the help (a pending question is a box over the panels:
// see confirmBox).
func (m *Model) bottomLines(width int) []string {
	return m.helpLines()
}

// helpKey is what the help text depends on.
type helpKey struct {
	width   int
	mode    mode
	showAll bool
	isDark  bool
}

// helpLines renders the help from the keymap, once per change of width,
// mode or background rather than once per frame.
func (m *Model) helpLines() []string {
	k := helpKey{m.width, m.mode, m.help.ShowAll, m.isDark}
	if m.helpCache.lines == nil || m.helpCache.key != k {
		m.helpCache.key = k
		m.helpCache.lines = strings.Split(m.help.View(m.keys), "\n")
	}
	return m.helpCache.lines
}
