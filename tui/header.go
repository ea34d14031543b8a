package tui

import (
	"fmt"
	"strings"
)

// headerLines are the target, policy, poll interval, token latency, hold
// state and live/paused, packed into as few lines as the width allows.
func (m *Model) headerLines(width int) []string {
	st := m.styles
	kv := func(k, v string) string { return st.Label.Render(k+" ") + st.Value.Render(safe(v)) }
	target := m.target()
	if m.opts.RealTarget {
		target += " (real server)"
	}
	items := []string{st.App.Render("authscope")}
	if len(m.devs) > 1 {
		items = append(items, st.Title.Render(fmt.Sprintf("device %d/%d", m.num, len(m.devs))))
	}
	items = append(items, kv("target", target))
	if m.opts.ConfigFile != "" {
		items = append(items, kv("config", m.mask.path(m.opts.ConfigFile)))
	}
	policy := m.snap.Policy
	if policy == "" {
		policy = "…"
	}
	items = append(items, kv("policy", policy))
	poll := "off"
	if m.snap.PollInterval > 0 {
		poll = humanDur(m.snap.PollInterval)
	}
	items = append(items, kv("poll", poll))
	if m.transport.ok {
		items = append(items, kv("token latency", humanDur(m.transport.latency)))
		items = append(items, m.holdItem())
	} else {
		items = append(items, st.Dim.Render("no transport controls"))
	}
	switch {
	case m.subClosed:
		items = append(items, st.Bad.Render("ENGINE STOPPED"))
	case m.events.paused:
		items = append(items, st.Warn.Render("PAUSED"))
	default:
		items = append(items, st.Good.Render("LIVE"))
	}
	items = append(items, kv("events", fmt.Sprint(m.received)))
	if n := m.snap.ViolationCount; n > 0 {
		items = append(items, st.Bad.Render(fmt.Sprintf("%d violation%s", n, plural(n, "", "s"))))
	}
	if m.dropped > 0 {
		items = append(items, st.Warn.Render(fmt.Sprintf("WARNING: %d events dropped (view behind)", m.dropped)))
	}
	for _, d := range m.devs {
		if d != m.device {
			style := st.Value
			if d.snap.Convex.Enabled {
				style = m.phaseStyle(d.timeline.cur.phase())
			}
			items = append(items, style.Render(safe(d.summary())))
		}
	}
	if m.opts.Demo {
		items = append(items, st.Warn.Render("DEMO"))
	}
	return joinItems(items, st.Dim.Render(" · "), width)
}

func (m *Model) holdItem() string {
	st := m.styles
	t := m.transport
	held := ""
	if t.held > 0 {
		held = fmt.Sprintf(" (%d held)", t.held)
	}
	switch t.holding {
	case "token":
		return st.Warn.Render("HOLDING token responses" + held)
	case "token_request":
		return st.Warn.Render("HOLDING token requests" + held)
	}
	if t.held > 0 {
		return st.Warn.Render("hold off" + held)
	}
	return st.Label.Render("hold ") + st.Value.Render("off")
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
