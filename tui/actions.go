package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
)

// pendingAction is a server action waiting for y/n.
type pendingAction struct {
	action   authstate.Action
	signal   bool
	question string
	done     string // status once sent
}

// handleKey runs one key press in the current mode.
func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	if msg.String() == "ctrl+c" {
		return m.quit()
	}
	switch m.mode {
	case modeConfirm:
		switch {
		case key.Matches(msg, k.Confirm):
			m.mode = modeNormal
			m.run(m.confirm)
		case key.Matches(msg, k.Cancel):
			m.mode = modeNormal
			m.setStatus("cancelled: nothing was sent")
		case key.Matches(msg, k.Quit):
			return m.quit()
		}
		return nil
	case modeFilter:
		switch {
		case key.Matches(msg, k.Back):
			m.input.SetValue("")
			m.input.Blur()
			m.log().setFilter("", m.logSrc())
			m.log().refresh(m.logSrc())
			m.mode = modeNormal
			return nil
		case key.Matches(msg, k.Accept):
			m.input.Blur()
			m.mode = modeNormal
			return nil
		case key.Matches(msg, k.Quit):
			// Only keys that type no text quit here (see forMode).
			return m.quit()
		}
		return m.updateInput(msg)
	case modeDetail:
		return m.detailKey(msg)
	case modeHelp:
		return m.helpPageKey(msg)
	}
	if cmd, ok := m.feed.key(m, msg); ok {
		return cmd
	}
	if m.focus == focusFetches {
		if cmd, ok := m.fetchKey(msg); ok {
			return cmd
		}
	}
	if m.cmp != nil {
		if cmd, ok := m.compareKey(msg); ok {
			return cmd
		}
	}
	if m.deviceAction(msg) {
		return nil
	}

	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.mode = modeHelp
		m.helpPage.offset = 0
	case key.Matches(msg, k.Policy):
		m.nextPolicy()
	case key.Matches(msg, k.Device):
		m.nextDevice()
	case key.Matches(msg, k.Reset):
		m.resetCounters()
	case key.Matches(msg, k.Pause):
		m.log().togglePause(m.logSrc())
		if m.log().paused {
			m.setStatus("event log paused: events are still recorded; space resumes")
		} else {
			m.setStatus("event log live")
		}
	case key.Matches(msg, k.Lanes):
		m.toggleLanes()
	case key.Matches(msg, k.Filter):
		m.mode = modeFilter
		m.input.SetValue(m.log().filter)
		m.input.CursorEnd()
		return m.input.Focus()
	case key.Matches(msg, k.Focus):
		m.toggleFocus()
	case key.Matches(msg, k.Back):
		if m.log().needle != "" {
			m.input.SetValue("")
			m.log().setFilter("", m.logSrc())
			m.log().refresh(m.logSrc())
			m.setStatus("filter cleared")
		}
	case key.Matches(msg, k.Detail):
		m.openDetail()
	case key.Matches(msg, k.Copy):
		return m.copySelected()
	case key.Matches(msg, k.Up):
		m.log().move(-1, m.logSrc())
	case key.Matches(msg, k.Down):
		m.log().move(+1, m.logSrc())
	case key.Matches(msg, k.PageUp):
		m.log().move(-max(m.log().height-1, 1), m.logSrc())
	case key.Matches(msg, k.PageDown):
		m.log().move(+max(m.log().height-1, 1), m.logSrc())
	case key.Matches(msg, k.Home):
		m.log().home(m.logSrc())
	case key.Matches(msg, k.End):
		m.log().followTail(m.logSrc())
	}
	return nil
}

// deviceAction runs a key that acts on the shown device: server actions,
// fetches, holds, releases, latency and poll. It reports false for any
// other key.
func (m *Model) deviceAction(msg tea.KeyPressMsg) bool {
	k := &m.keys
	switch {
	case key.Matches(msg, k.ChangePassword):
		m.ask(pendingAction{
			action: authstate.ActionChangePassword, signal: true,
			question: "Change the password on " + m.target() + " with revokeOtherSessions? Every other session of this user is signed out.",
			done:     "change-password (revokeOtherSessions) sent; the session signal follows",
		})
	case key.Matches(msg, k.Rotate):
		done := "rotated on the server without a session signal: the client notices at its next poll"
		if m.haveSnap && m.snap.PollInterval == 0 {
			done = "rotated on the server without a session signal: polling is off, so the client will not notice ([ / ] sets the poll)"
		}
		m.ask(pendingAction{
			action: authstate.ActionChangePassword, signal: false,
			question: "Rotate the session on " + m.target() + " silently (change-password, revokeOtherSessions, no session signal)?",
			done:     done,
		})
	case key.Matches(msg, k.ForceFetch):
		name := m.eng.Fetch("", true, "key f")
		m.logger.Info("key", "key", "f", "call", name)
		m.setStatus("%s: forced fetchAccessToken", name)
	case key.Matches(msg, k.Fetch):
		name := m.eng.Fetch("", false, "key t")
		m.logger.Info("key", "key", "t", "call", name)
		m.setStatus("%s: fetchAccessToken", name)
	case key.Matches(msg, k.SignOut):
		m.run(pendingAction{action: authstate.ActionSignOut, signal: true, done: "sign-out sent; the session signal follows"})
	case key.Matches(msg, k.SignIn):
		m.run(pendingAction{action: authstate.ActionSignIn, signal: true, done: "sign-in sent; the session signal follows"})
	case key.Matches(msg, k.Hold):
		m.toggleHold()
	case key.Matches(msg, k.ReleaseOldest):
		m.release("oldest")
	case key.Matches(msg, k.ReleaseLatest):
		m.release("latest")
	case key.Matches(msg, k.ReleaseAll):
		m.release("all")
	case key.Matches(msg, k.LatencyUp):
		m.stepLatency(+latencyStep)
	case key.Matches(msg, k.LatencyDown):
		m.stepLatency(-latencyStep)
	case key.Matches(msg, k.PollUp):
		m.stepPoll(+1)
	case key.Matches(msg, k.PollDown):
		m.stepPoll(-1)
	default:
		return false
	}
	return true
}

func (m *Model) quit() tea.Cmd {
	m.logger.Info("quit", "received", m.received, "dropped", m.dropped)
	return tea.Quit
}

// ask runs a server action, after a y/n question when the target is real:
// changing the password there is not undone by quitting.
func (m *Model) ask(a pendingAction) {
	if m.opts.RealTarget {
		if len(m.devs) > 1 {
			a.question = fmt.Sprintf("Device %d: %s", m.num, a.question)
		}
		m.confirm = a
		m.mode = modeConfirm
		return
	}
	m.run(a)
}

func (m *Model) run(a pendingAction) {
	if m.subClosed {
		m.setStatus("the engine has stopped; nothing was sent")
		return
	}
	m.eng.Do(a.action, a.signal)
	m.logger.Info("action", "device", m.num, "action", a.action.String(), "signal", a.signal)
	m.setStatus("%s%s", m.devicePrefix(m.device), a.done)
}

// nextDevice shows the next device and points the keys at it. The filter
// and scroll position are each device's own.
func (m *Model) nextDevice() {
	if len(m.devs) == 1 {
		m.setStatus("one device: start with --devices 2 for a second client with its own session")
		return
	}
	m.device = m.devs[m.num%len(m.devs)]
	m.setFocus(m.focus)
	m.input.SetValue(m.log().filter)
	m.log().refresh(m.logSrc())
	m.logger.Info("device", "device", m.num)
	m.setStatus("device %d/%d: the panels show it and the keys drive it; the other device keeps running", m.num, len(m.devs))
}

func (m *Model) nextPolicy() {
	names := authstate.PolicyNames()
	cur := m.snap.Policy
	next := names[0]
	if i := slices.Index(names, cur); i >= 0 {
		next = names[(i+1)%len(names)]
	}
	if err := m.eng.SetPolicy(next); err != nil {
		m.setStatus("policy: %v", err)
		return
	}
	// Show the new policy at once; the snapshot confirms it on the next
	// refresh.
	m.snap.Policy = next
	m.logger.Info("policy", "from", cur, "to", next)
	m.setStatus("policy %s → %s: provider remounted with an empty cache", cur, next)
}

// resetCounters clears every device's violation count, flicker windows
// and timeline. The engines mark the point in their logs; each device's
// timeline restarts when that mark arrives (see ingest).
func (m *Model) resetCounters() {
	for _, d := range m.devs {
		d.eng.ResetCounters()
	}
	m.logger.Info("counters reset")
	m.setStatus("counters reset: violations, flicker windows and the timeline count from here (marked in the log)")
}

func (m *Model) noTransport() bool {
	if m.tr == nil {
		m.setStatus("no transport controls for this target")
		return true
	}
	if m.subClosed {
		m.setStatus("the engine has stopped; nothing was sent")
		return true
	}
	return false
}

// The transport keys reach the transport through the engine (its Hold,
// Release and SetLatency inputs), so the event log, and a recording, say
// what was held and released. They post the input and return: the engine's
// transport event, when the loop has applied it, sets the status line
// (transportStatus) and the header's hold and latency (the fold).

// transportAsk is what the transport keys asked for and the engine has not
// applied yet: the next h or +/- starts from there, not from the fold.
type transportAsk struct {
	pending int // inputs sent whose transport event has not arrived
	// statusN is the model's statusN when the last of them was sent.
	statusN uint64
	holding string
	latency time.Duration
}

// holding and latency are what the transport will be once the engine
// has applied every input the keys sent.
func (d *device) wantHolding() string {
	if d.asked.pending > 0 && d.asked.holding != "" {
		return d.asked.holding
	}
	return d.snap.Transport.Holding
}

func (d *device) wantLatency() time.Duration {
	if d.asked.pending > 0 {
		return d.asked.latency
	}
	return d.snap.Transport.Latency
}

// send posts a transport input without waiting.
func (m *Model) send(in authstate.Input) {
	m.asked.pending++
	m.asked.statusN = m.statusN
	m.eng.Send(in)
}

func (m *Model) toggleHold() {
	if m.noTransport() {
		return
	}
	want := "token"
	if h := m.wantHolding(); h != "" && h != "none" {
		want = "none"
	}
	lat := m.wantLatency()
	m.send(authstate.Hold{What: want})
	m.asked.holding, m.asked.latency = want, lat
	m.logger.Info("hold", "what", want)
}

func (m *Model) release(which string) {
	if m.noTransport() {
		return
	}
	hold, lat := m.wantHolding(), m.wantLatency()
	m.send(authstate.Release{Which: which})
	m.asked.holding, m.asked.latency = hold, lat
	m.logger.Info("release", "which", which)
}

func (m *Model) stepLatency(d time.Duration) {
	if m.noTransport() {
		return
	}
	hold := m.wantHolding()
	v := min(max(m.wantLatency()+d, 0), latencyMax)
	m.send(authstate.SetLatency{Endpoint: "token", Latency: v})
	m.asked.holding, m.asked.latency = hold, v
	m.logger.Info("latency", "endpoint", "token", "latency", v)
}

// transportStatus is the status line for a transport event: what the key
// that sent the control did, once the engine applied it.
func transportStatus(ev authstate.Event) string {
	if ev.Reason != "" {
		// The control failed: the detail says so.
		return ev.Cause + ": " + ev.Summary()
	}
	t := authstate.TransportState{}
	if ev.Transport != nil {
		t = *ev.Transport
	}
	switch ev.Cause {
	case "hold":
		switch {
		case t.Holding == "token":
			return "holding token responses: requests reach the server, answers wait (H/L/R release)"
		case t.Holding == "token_request":
			return "holding token requests: they wait before reaching the server (H/L/R release)"
		case strings.Contains(ev.Detail, "still held"):
			return ev.Detail + " (H/L/R release)"
		}
		return "stopped holding"
	case "release":
		if strings.HasSuffix(ev.Detail, "nothing held") {
			return "nothing held to release"
		}
	case "latency":
		if strings.HasPrefix(ev.Detail, "token ") {
			return "token latency " + humanDur(t.Latency)
		}
	}
	return ev.Summary()
}

// stepPoll moves the poll interval to the next step up or down (0 is off).
func (m *Model) stepPoll(dir int) {
	cur := m.snap.PollInterval
	next := time.Duration(0)
	if dir > 0 {
		next = pollSteps[len(pollSteps)-1]
		for _, s := range pollSteps {
			if s > cur {
				next = s
				break
			}
		}
	} else {
		for _, s := range pollSteps {
			if s < cur {
				next = s
			}
		}
	}
	m.eng.SetPollInterval(next)
	m.snap.PollInterval = next
	m.logger.Info("poll", "interval", next)
	if next == 0 {
		m.setStatus("session polling off")
	} else {
		m.setStatus("session poll every %s", humanDur(next))
	}
}

func (m *Model) updateInput(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	before := m.input.Value()
	m.input, cmd = m.input.Update(msg)
	if v := m.input.Value(); v != before {
		m.log().setFilter(v, m.logSrc())
		m.log().refresh(m.logSrc())
	}
	return cmd
}
