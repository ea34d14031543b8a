package tui

import (
	"time"

	"charm.land/lipgloss/v2"

	"github.com/authscope/authscope/authstate"
)

// pane is what a panel draws from: one device's folded state, and what
// every panel shares (styles, masking, the view's clock). The session,
// token, Convex and fetches panels are methods of pane and read nothing
// else, so the same panels draw the shown device on the normal screen or
// several devices side by side, each in its own column.
type pane struct {
	styles Styles
	mask   masker
	now    time.Time
	// convexOff is the one line the Convex panel shows when the client
	// model is off (Options.ConvexOff).
	convexOff string

	// snap is the device's folded state; haveSnap: it has one yet.
	snap     authstate.Snapshot
	haveSnap bool
	// fetches and timeline are the device's request table and the
	// Convex timeline strip, folded from the same events.
	fetches  *fetchTable
	timeline *timeline
	// focused: the fetches panel has the selection keys.
	focused bool
}

// pane is d's state with the model's shared context, for its panels.
func (m *Model) pane(d *device) pane {
	return pane{
		styles:    m.styles,
		mask:      m.mask,
		now:       m.now,
		convexOff: m.opts.ConvexOff,
		snap:      d.snap,
		haveSnap:  d.haveSnap,
		fetches:   &d.fetches,
		timeline:  &d.timeline,
		focused:   m.focus == focusFetches && d == m.device,
	}
}

// phase is the colour of a phase, repeating what its glyph says.
func (st Styles) phase(p phase) lipgloss.Style {
	switch p {
	case phaseAuthed:
		return st.Good
	case phaseLoading:
		return st.Warn
	case phaseFailing:
		return st.Bad
	case phaseSignedOut:
		return st.Dim
	}
	return st.Value
}
