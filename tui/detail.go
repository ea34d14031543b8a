package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/internal/termtext"
)

// detailView is one event opened with enter: every field, and the raw JWT
// of its token when the engine still has it.
type detailView struct {
	// fetch is the request opened from the fetches panel (nil for an
	// event); ev is then the event that ended it, zero if none.
	fetch  *fetchRow
	ev     authstate.Event
	raw    string // the raw JWT, "" if none or forgotten
	offset int    // first line shown
}

func (m *Model) openDetail() {
	ev, ok := m.log().selected()
	if !ok {
		m.setStatus("no event selected")
		return
	}
	d := detailView{ev: ev}
	if ev.Token != nil {
		d.raw, _ = m.feed.rawToken(m.rowDevice(ev), ev.Token.Fingerprint)
	}
	m.detail = d
	m.mode = modeDetail
}

func (m *Model) detailKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Back), key.Matches(msg, k.Detail):
		m.mode = modeNormal
	case key.Matches(msg, k.Copy):
		if m.detail.raw != "" && m.mask.on {
			// The clipboard is not masked: copy what the screen shows.
			cmd := m.copyEvent(m.detail.ev)
			m.setStatus("demo mode: sent event #%d, not its raw JWT, to the clipboard over OSC 52%s", m.detail.ev.Seq, osc52Note)
			return cmd
		}
		if m.detail.raw != "" {
			m.setStatus("sent the raw JWT (%d bytes) to the clipboard over OSC 52%s", len(m.detail.raw), osc52Note)
			m.logger.Info("copy", "what", "raw JWT", "fingerprint", m.detail.ev.Token.Fingerprint)
			return tea.SetClipboard(m.detail.raw)
		}
		if m.detail.fetch != nil {
			return m.copyFetch(m.detail.fetch)
		}
		return m.copyEvent(m.detail.ev)
	default:
		m.scrollKey(msg, &m.detail.offset, m.detailLines, false)
	}
	return nil
}

// osc52Note follows every copy: the program cannot know whether the
// terminal took the text, and tmux ignores OSC 52 by default.
const osc52Note = " (the terminal must allow OSC 52; tmux: set -g set-clipboard on)"

func (m *Model) copySelected() tea.Cmd {
	ev, ok := m.log().selected()
	if !ok {
		m.setStatus("no event selected")
		return nil
	}
	return m.copyEvent(ev)
}

func (m *Model) copyEvent(ev authstate.Event) tea.Cmd {
	line := eventLine(ev)
	m.setStatus("sent event #%d to the clipboard over OSC 52%s", ev.Seq, osc52Note)
	m.logger.Info("copy", "what", "event", "seq", ev.Seq)
	return tea.SetClipboard(line)
}

// eventLine is the one-line form of an event that y copies.
func eventLine(ev authstate.Event) string {
	return fmt.Sprintf("%s %s %s", ev.At.Format("15:04:05.000"), ev.Kind, eventText(ev))
}

// eventText is an event's detail with anything colour would otherwise say
// spelled out.
func eventText(ev authstate.Event) string {
	s := ev.Summary()
	if ev.Stale && !strings.Contains(s, "stale") {
		s += " [STALE"
		if ev.Reason != "" {
			s += ": " + ev.Reason
		}
		s += "]"
	}
	return s
}

// detailLines renders the detail view's text (before scrolling): the
// event's fields packed into lines, then its token and the raw JWT.
func (m *Model) detailLines(width int) []string {
	ev := m.detail.ev
	st := m.styles
	wide := width >= 100
	kv := func(k, v string) string {
		if v == "" {
			return ""
		}
		return st.Label.Render(k+" ") + st.Value.Render(safe(v))
	}
	num := func(n int) string {
		if n == 0 {
			return ""
		}
		return fmt.Sprintf("#%d", n)
	}
	sep := st.Dim.Render(" · ")
	var out []string
	if f := m.detail.fetch; f != nil {
		out = m.fetchDetailLines(f, width)
		if ev.Seq == 0 {
			return out
		}
	}
	group := func(items ...string) { out = append(out, joinItems(items, sep, width)...) }
	text := func(k, v string) {
		if v == "" {
			return
		}
		for i, l := range wrap(termtext.Text(v), max(width-len(k)-1, 10)) {
			if i == 0 {
				out = append(out, st.Label.Render(k+" ")+st.Value.Render(l))
			} else {
				out = append(out, strings.Repeat(" ", len(k)+1)+st.Value.Render(l))
			}
		}
	}
	forced := ""
	if ev.Kind == authstate.KindFetchStarted || ev.Force {
		forced = fmt.Sprint(ev.Force)
	}
	stale := ""
	if ev.Stale {
		stale = st.Bad.Render("STALE")
	}
	group(kv("seq", fmt.Sprint(ev.Seq)), kv("at", ev.At.Format("2006-01-02 15:04:05.000 MST")), kv("kind", ev.Kind.String()), kv("policy", ev.Policy))
	group(kv("session", ev.Session), kv("session id", m.mask.id(ev.SessionID)), kv("from", ev.From), kv("request", num(ev.Fetch)), kv("owner", num(ev.Owner)),
		kv("call", ev.Call), kv("forced", forced), kv("source", ev.Source), stale)
	text("cause", ev.Cause)
	if ev.Reason != ev.Detail {
		// A violation says the same thing in both.
		text("reason", ev.Reason)
	}
	text("detail", ev.Detail)
	if xp, ok := m.explain.explained(ev); ok {
		out = append(out, title(st, "Why", "", width))
		for _, p := range xp.more {
			for _, l := range wrap(termtext.Text(p), width) {
				out = append(out, st.Value.Render(l))
			}
		}
	}
	if t := ev.Token; t != nil {
		sig := st.Good.Render("signature verified")
		if !t.Verified {
			sig = st.Bad.Render("signature NOT verified: " + safe(orDash(t.Problem)))
		}
		out = append(out, title(st, "Token", safe(t.Fingerprint), width))
		group(kv("sessionId", t.Session+" "+m.mask.id(t.SessionID)), sig)
		group(kv("iat", clock(t.IssuedAt, wide)+" ("+relTime(t.IssuedAt, m.now)+")"), kv("exp", clock(t.ExpiresAt, wide)+" ("+relTime(t.ExpiresAt, m.now)+")"))
		out = append(out, title(st, "Raw JWT", "", width))
		switch {
		case m.detail.raw == "":
			out = append(out, st.Dim.Render("(no longer held by the engine: it keeps the most recent tokens only)"))
		case m.mask.on:
			out = append(out, m.mask.jwt(m.detail.raw))
		default:
			out = append(out, hardWrap(safe(m.detail.raw), width)...)
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// detailPanel is the detail view cut to height rows.
func (m *Model) detailPanel(width, height int) []string {
	head := "event #" + fmt.Sprint(m.detail.ev.Seq)
	hint := "esc/enter back · y copies the event"
	if f := m.detail.fetch; f != nil {
		head = fmt.Sprintf("request #%d", f.id)
		hint = "esc/enter back · y copies the request"
	}
	if m.detail.raw != "" && !m.mask.on {
		hint = "esc/enter back · y copies the raw JWT"
	}
	out := []string{title(m.styles, "Detail", head+" · "+hint, width)}
	body := m.detailLines(width)
	rows := max(height-1, 0)
	off := min(m.detail.offset, max(len(body)-rows, 0))
	end := min(off+rows, len(body))
	return append(out, body[off:end]...)
}
