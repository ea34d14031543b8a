package tui

import (
	"strings"
	"time"

	"github.com/authscope/authscope/authstate"
)

// shownToken is the token the panel is about: the cached one, else the
// last one served, and which of the two it is.
func (p pane) shownToken() (*authstate.Token, string) {
	switch {
	case p.snap.Cache != nil:
		return p.snap.Cache, "cached"
	case p.snap.LastServed != nil:
		return p.snap.LastServed, "last served (the cache is empty)"
	}
	return nil, ""
}

// serverNow is the view's estimate of the server's clock: the engine's
// estimated skew applied to the view's time, so countdowns keep moving.
func (p pane) serverNow() time.Time {
	if !p.haveSnap || p.snap.Now.IsZero() {
		return p.now
	}
	return p.now.Add(p.snap.ServerNow.Sub(p.snap.Now))
}

// tokenVerdict says in words whether t may be used now: bound to the
// current session and not expired, or why not.
func tokenVerdict(t *authstate.Token, s authstate.Snapshot, serverNow time.Time) (string, bool) {
	label := s.Label(t.SessionID)
	switch {
	case s.SessionPending:
		return "the session has not been observed yet", true
	case s.Session == nil:
		return "STALE: bound to " + label + ", but the client has no session", false
	case t.SessionID != s.Session.ID:
		return "STALE: bound to " + label + ", current session is " + s.SessionLabel, false
	case t.ExpiredAt(serverNow, 0):
		return "EXPIRED: " + relTime(t.ExpiresAt, serverNow), false
	}
	return "matches the current session", true
}

// tokenPanel shows the decoded claims of the shown token with readable
// times, an expiry countdown, the signature check, and whether it is stale.
func (p pane) tokenPanel(width int, d density) []string {
	compact := d == cramped
	st := p.styles
	kv := func(k, v string) string { return st.Label.Render(k+" ") + st.Value.Render(safe(v)) }
	sep := st.Dim.Render(" · ")
	tok, which := p.shownToken()
	if tok == nil {
		if compact {
			return []string{fit(st.Title.Render("Token ")+st.Dim.Render("none yet (f fetches one)"), width)}
		}
		return []string{title(st, "Token", "", width), st.Dim.Render("no token yet: f or t fetches one"), ""}
	}
	wide := width >= 110
	now := p.serverNow()
	verdict, ok := tokenVerdict(tok, p.snap, now)
	vs := st.Good.Render(safe(verdict))
	if !ok {
		vs = st.Bad.Render(safe(verdict))
	}
	sig := st.Good.Render("signature verified")
	if !tok.Verified {
		sig = st.Bad.Render("signature NOT verified: " + safe(orDash(tok.Problem)))
	}
	idW := 12
	if wide {
		idW = 40
	}
	claim := kv("sessionId", p.snap.Label(tok.SessionID)+" "+short(p.mask.id(tok.SessionID), idW))
	expiry := kv("exp", clock(tok.ExpiresAt, wide)+" ("+countdown(tok.ExpiresAt, now)+")")
	if compact {
		short, _, _ := strings.Cut(which, " (")
		return []string{
			fit(st.Title.Render("Token ")+st.Dim.Render(short+": ")+vs+sep+claim, width),
			fit(expiry+sep+sig, width),
		}
	}
	out := []string{title(st, "Token", which+" · "+safe(tok.Fingerprint()), width)}
	groups := [][]string{
		{claim, vs},
		{kv("iat", clock(tok.IssuedAt, wide)+" ("+relTime(tok.IssuedAt, now)+")"), expiry, sig},
	}
	if d == roomy {
		groups = append(groups, []string{kv("sub", short(p.mask.id(tok.Subject), idW)), kv("iss", orDash(p.mask.url(tok.Issuer))), kv("aud", orDash(strings.Join(tok.Audience, ", ")))})
	}
	for _, group := range groups {
		out = append(out, joinItems(group, sep, width)...)
	}
	return out
}

// countdown is the time left before exp, or how long ago it passed.
func countdown(exp, now time.Time) string {
	if exp.IsZero() {
		return "no exp"
	}
	if d := exp.Sub(now); d > 0 {
		return "expires in " + humanDur(d)
	}
	return "EXPIRED " + humanDur(now.Sub(exp)) + " ago"
}
