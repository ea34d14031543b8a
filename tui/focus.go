package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/internal/termtext"
)

// focus is the panel the selection keys (↑ ↓ enter y) drive.
type focus int

const (
	focusEvents  focus = iota // the event log
	focusFetches              // the fetches panel
)

func (f focus) String() string {
	if f == focusFetches {
		return "fetches"
	}
	return "events"
}

// setFocus moves the focus. While the fetches panel has it, finished
// requests stay in the table, so that the row being read does not go.
func (m *Model) setFocus(f focus) {
	m.focus = f
	for _, d := range m.devs {
		d.fetches.keep = f == focusFetches && d == m.device
	}
	if f == focusFetches {
		if _, ok := m.fetches.selected(); !ok {
			m.fetches.move(0)
		}
	}
}

// toggleFocus is the focus key: the event log ↔ the fetches panel.
func (m *Model) toggleFocus() {
	if m.focus == focusFetches {
		m.setFocus(focusEvents)
		m.setStatus("focus on the event log")
		return
	}
	m.setFocus(focusFetches)
	m.setStatus("fetches: ↑/↓ select, enter opens one in full; finished ones stay until tab")
}

// openFetchDetail opens the selected request: its fields and outcome in
// full, then the event that ended it with its token.
func (m *Model) openFetchDetail() {
	r, ok := m.fetches.selected()
	if !ok {
		m.setStatus("no request selected")
		return
	}
	row := *r
	d := detailView{fetch: &row, ev: row.last}
	if row.last.Token != nil {
		d.raw, _ = m.feed.rawToken(m.device, row.last.Token.Fingerprint)
	}
	m.detail = d
	m.mode = modeDetail
}

// copyFetch copies the selected request's row in full.
func (m *Model) copyFetch(r *fetchRow) tea.Cmd {
	line, _ := fetchLine(r, m.now, true)
	m.setStatus("copied request #%d to the clipboard over OSC 52", r.id)
	m.logger.Info("copy", "what", "fetch", "id", r.id)
	return tea.SetClipboard(line)
}

// fetchDetailLines are the detail view's lines for a request, before the
// event that ended it.
func (m *Model) fetchDetailLines(r *fetchRow, width int) []string {
	st := m.styles
	kv := func(k, v string) string {
		if v == "" {
			return ""
		}
		return st.Label.Render(k+" ") + st.Value.Render(safe(v))
	}
	kind := "plain"
	if r.force {
		kind = "forced"
	}
	session := r.session
	if session == "" {
		session = "none"
	}
	var out []string
	out = append(out, joinItems([]string{
		kv("request", fmt.Sprintf("#%d", r.id)), kv("kind", kind), kv("sent under", session),
		kv("started", r.started.Format("15:04:05.000")), kv("attempts", fmt.Sprint(r.attempts)),
	}, st.Dim.Render(" · "), width)...)
	out = append(out, m.wrapField("cause", r.cause, width)...)
	outcome := r.outcome
	switch {
	case outcome == "":
		outcome = r.state
	case r.bad:
		outcome = "✗ " + outcome
	default:
		outcome = "✓ " + outcome
	}
	out = append(out, m.wrapField("outcome", outcome, width)...)
	if r.last.Seq != 0 {
		out = append(out, title(st, "Event", fmt.Sprintf("#%d, which ended it", r.last.Seq), width))
	}
	return out
}

// wrapField is "key value" with the value wrapped under itself.
func (m *Model) wrapField(k, v string, width int) []string {
	st := m.styles
	if v == "" {
		return nil
	}
	var out []string
	for i, l := range wrap(termtext.Text(v), max(width-len(k)-1, 10)) {
		if i == 0 {
			out = append(out, st.Label.Render(k+" ")+st.Value.Render(l))
		} else {
			out = append(out, strings.Repeat(" ", len(k)+1)+st.Value.Render(l))
		}
	}
	return out
}

// fetchKey runs a selection key on the fetches panel; it reports false
// for the keys that do the same whatever has the focus.
func (m *Model) fetchKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := &m.keys
	switch {
	case key.Matches(msg, k.Up):
		m.fetches.move(-1)
	case key.Matches(msg, k.Down):
		m.fetches.move(+1)
	case key.Matches(msg, k.PageUp), key.Matches(msg, k.Home):
		m.fetches.move(-maxFetchRows)
	case key.Matches(msg, k.PageDown), key.Matches(msg, k.End):
		m.fetches.move(+maxFetchRows)
	case key.Matches(msg, k.Detail):
		m.openFetchDetail()
	case key.Matches(msg, k.Copy):
		r, ok := m.fetches.selected()
		if !ok {
			m.setStatus("no request selected")
			return nil, true
		}
		return m.copyFetch(r), true
	case key.Matches(msg, k.Back):
		m.setFocus(focusEvents)
		m.setStatus("focus on the event log")
	default:
		return nil, false
	}
	return nil, true
}
