package tui

import (
	tea "charm.land/bubbletea/v2"
)

// source is where the model's devices get their events, and what the
// keys may do there. The root model does not know which one it has: live
// engines (liveSource), each device's fold fed by its engine's Stream,
// or a recorded trace under a playhead (*replayer), each device's fold
// fed the recorded events. Either way a device is a fold plus the panels'
// history, and every panel draws from that.
type source interface {
	// start returns the commands that begin feeding the devices (Init).
	start(m *Model) []tea.Cmd
	// key takes a key press in normal mode before the key map does; ok
	// false passes it on.
	key(m *Model, msg tea.KeyPressMsg) (cmd tea.Cmd, ok bool)
	// message handles a message of the source's own; ok false: not one.
	message(m *Model, msg tea.Msg) (cmd tea.Cmd, ok bool)
	// header adds the source's state to the header: LIVE, PAUSED or
	// ENGINE STOPPED; REPLAY with the position and the recorded time.
	header(m *Model, add func(prio int, full, short string))
	// rawToken is the raw JWT with this fingerprint, when the source
	// still has it (a trace holds none).
	rawToken(d *device, fingerprint string) (string, bool)
	// glossary is the source's section of the help page, if any.
	glossary() []glossarySection
}

// liveSource feeds each device from its engine.
type liveSource struct{}

func (liveSource) start(m *Model) []tea.Cmd {
	var cmds []tea.Cmd
	for _, d := range m.devs {
		cmds = append(cmds, m.listen(d))
	}
	return cmds
}

func (liveSource) key(*Model, tea.KeyPressMsg) (tea.Cmd, bool) { return nil, false }
func (liveSource) message(*Model, tea.Msg) (tea.Cmd, bool)     { return nil, false }
func (liveSource) glossary() []glossarySection                 { return nil }

func (liveSource) header(m *Model, add func(prio int, full, short string)) {
	st := m.styles
	switch {
	case m.subClosed:
		add(0, st.Bad.Render("ENGINE STOPPED"), st.Bad.Render("STOPPED"))
	case m.log().paused:
		add(1, st.Warn.Render("PAUSED"), "")
	default:
		add(2, st.Good.Render("LIVE"), "")
	}
}

func (liveSource) rawToken(d *device, fingerprint string) (string, bool) {
	return d.eng.RawToken(fingerprint)
}
