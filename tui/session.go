package tui

import (
	"fmt"
	"strings"
	"time"
)

// sessionPanel shows the session the client believes in: its label and id,
// the user, expiry, age, and the last poll with its result.
func (p pane) sessionPanel(width int, compact bool) []string {
	st := p.styles
	s := p.snap
	kv := func(k, v string) string { return st.Label.Render(k+" ") + st.Value.Render(safe(v)) }
	var who, when []string
	switch {
	case !p.haveSnap || s.SessionPending:
		who = []string{st.Dim.Render("waiting for the first get-session")}
	case s.Session == nil:
		who = []string{st.Warn.Render("signed out"), st.Dim.Render("(no session; i signs in)")}
	default:
		se := s.Session
		idW := 12
		if width >= 110 {
			idW = 40
		}
		who = []string{
			st.Title.Render(safe(s.SessionLabel)),
			kv("id", short(p.mask.id(se.ID), idW)),
			kv("user", p.mask.email(se.Email)),
		}
		if width >= 110 {
			who = append(who, kv("user id", p.mask.id(se.UserID)))
		}
		when = []string{kv("expires", clock(se.ExpiresAt, width >= 110)+" ("+relTime(se.ExpiresAt, p.now)+")")}
		if !se.CreatedAt.IsZero() {
			when = append(when, kv("age", humanDur(p.now.Sub(se.CreatedAt))))
		}
	}
	if p.haveSnap && !s.LastPoll.IsZero() {
		res := s.LastPollResult
		style := st.Value
		if strings.HasPrefix(res, "failed") {
			res = "FAILED: " + strings.TrimPrefix(res, "failed: ")
			style = st.Bad
		}
		when = append(when, st.Label.Render("last poll ")+st.Value.Render(relTime(s.LastPoll, p.now)+": ")+style.Render(safe(res)))
	}
	if inFlight := p.pollInFlight(); inFlight != "" {
		// What the poller is waiting for comes first: it is the news.
		if n := len(when); n > 0 && !s.LastPoll.IsZero() {
			when[n-1] = inFlight + st.Dim.Render(" · ") + when[n-1]
		} else {
			when = append(when, inFlight)
		}
		if !compact {
			when = append([]string{when[len(when)-1]}, when[:len(when)-1]...)
		}
	}
	sep := st.Dim.Render(" · ")
	if compact {
		// The poll result first: it is what changes.
		if n := len(when); n > 0 && len(who) > 1 {
			who = append([]string{who[0], when[n-1]}, who[1:]...)
			when = when[:n-1]
		}
		line := st.Title.Render("Session ") + strings.Join(append(who, when...), sep)
		return []string{fit(line, width)}
	}
	out := []string{title(st, "Session", "", width), fit(strings.Join(who, sep), width)}
	if len(when) > 0 {
		out = append(out, fit(strings.Join(when, sep), width))
	} else {
		out = append(out, "")
	}
	return out
}

// pollInFlight says that a get-session has not answered yet, and for how
// long: a server that hangs shows here before the poll times out.
func (p pane) pollInFlight() string {
	s := p.snap
	if !p.haveSnap || s.PollInFlight == 0 {
		return ""
	}
	d := p.now.Sub(s.PollStarted)
	style := p.styles.Dim
	if d >= time.Second {
		style = p.styles.Warn
	}
	return style.Render(fmt.Sprintf("poll #%d in flight %s", s.PollInFlight, humanDur(max(d, 0))))
}
