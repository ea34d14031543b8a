package tui

import (
	tea "charm.land/bubbletea/v2"
)

// wheelRows is how far one wheel notch moves the event log.
const wheelRows = 3

// mouseWheel scrolls what is under the pointer: the detail view, the
// fetches panel's selection, or else the event log.
func (m *Model) mouseWheel(msg tea.MouseWheelMsg) {
	mouse := msg.Mouse()
	dir := 0
	switch mouse.Button {
	case tea.MouseWheelUp:
		dir = -1
	case tea.MouseWheelDown:
		dir = +1
	default:
		return
	}
	switch {
	case m.mode == modeDetail:
		m.scrollBy(&m.detail.offset, dir*wheelRows, m.detailLines)
	case m.mode != modeNormal && m.mode != modeFilter:
	case m.overFetches(mouse.Y):
		m.setFocus(focusFetches)
		m.fetches.move(dir)
	default:
		m.log().move(dir*wheelRows, m.logSrc())
	}
}

// mouseClick selects the event or request row under the pointer and gives
// its panel the focus; a click on the row already selected opens it.
func (m *Model) mouseClick(msg tea.MouseClickMsg) {
	mouse := msg.Mouse()
	if mouse.Button != tea.MouseLeft || m.mode != modeNormal {
		return
	}
	f := m.chrome
	if m.overFetches(mouse.Y) {
		id := f.fetchIDs[mouse.Y-f.fetchY]
		again := m.focus == focusFetches && m.fetches.sel == id
		m.setFocus(focusFetches)
		m.fetches.sel = id
		if again {
			m.openFetchDetail()
		}
		return
	}
	i := mouse.Y - f.eventY
	if m.lanes.on {
		// The rows under the pointer are lanes, not events.
		return
	}
	if i < 0 || i >= min(len(m.log().rows), f.eventRows) {
		return
	}
	seq := m.log().rows[i].Seq
	again := m.focus == focusEvents && m.log().sel == seq
	m.setFocus(focusEvents)
	m.log().selectSeq(seq, m.logSrc())
	if again {
		m.openDetail()
	}
}

// overFetches reports whether screen line y is one of the fetch rows.
func (m *Model) overFetches(y int) bool {
	f := m.chrome
	return len(f.fetchIDs) > 0 && y >= f.fetchY && y < f.fetchY+len(f.fetchIDs)
}
