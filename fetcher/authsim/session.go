package authsim

import "strings"

// resolveSession is Better Auth's getSession on the request's cookies (the
// cookie cache is off, as on the real test server). It returns the live
// session, if any; the session the after-hooks will see as
// ctx.context.session, which for an expired session is that expired session;
// and the Set-Cookie lines it produced.
func (c *call) resolveSession(disableRefresh bool) (live, seen *resolvedSession, cookies []string) {
	raw, st := verifySigned(c.s.secret, c.jar.get(cookieSessionToken))
	if st != signedValid {
		// No cookie, or a bad signature: null, and no cookie is touched.
		return nil, nil, nil
	}
	s := c.s
	now := s.nowMillis()
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.sessions[raw]
	var u *user
	if se != nil {
		u = s.users[se.userID]
	}
	if se == nil || u == nil {
		return nil, nil, c.deleteSessionCookies()
	}
	if se.expired(now) {
		// Better Auth sets ctx.context.session before it checks the expiry,
		// so the Convex plugin's after-hook still sees (and mints a JWT
		// for) the expired session. The row is deleted.
		seen = snapshot(se, u)
		s.deleteSessionLocked(se)
		return nil, seen, c.deleteSessionCookies()
	}
	_, dontRemember := verifySigned(s.secret, c.jar.get(cookieDontRemember))
	if dontRemember == signedValid || disableRefresh {
		rs := snapshot(se, u)
		return rs, rs, nil
	}
	if !se.expiresAt.Add(-sessionExpiresIn).Add(sessionUpdateAge).After(now) {
		// Sliding refresh: same id, same token, later expiry, cookie re-set.
		seen = snapshot(se, u)
		se.expiresAt = now.Add(sessionExpiresIn)
		se.updatedAt = now
		cookies = append(cookies, c.jar.setSigned(s.secret, cookieSessionToken, se.token, int(sessionExpiresIn.Seconds())))
		return snapshot(se, u), seen, cookies
	}
	rs := snapshot(se, u)
	return rs, rs, nil
}

func snapshot(se *session, u *user) *resolvedSession {
	sc, uc := *se, *u
	return &resolvedSession{session: &sc, user: &uc}
}

// deleteSessionCookies is Better Auth's deleteSessionCookie for a stateful
// server without account cookies: session_token, session_data, dont_remember.
func (c *call) deleteSessionCookies() []string {
	return []string{
		c.jar.expire(cookieSessionToken),
		c.jar.expire(cookieSessionData),
		c.jar.expire(cookieDontRemember),
	}
}

// queryFlag is z.coerce.boolean on a query parameter: present and non-empty.
func (c *call) queryFlag(name string) bool {
	vs, ok := c.query[name]
	if !ok || len(vs) == 0 {
		return false
	}
	return len(vs) > 1 || vs[0] != ""
}

// requireSession is Better Auth's sessionMiddleware (and its sensitive
// variant, the same here because the cookie cache is off). On success
// better-call copies the middleware's headers with Headers.set, so only the
// last Set-Cookie it produced survives; on failure the error carries all of
// them.
func (c *call) requireSession(fresh bool) (*resolvedSession, *apiError) {
	live, _, cookies := c.resolveSession(c.queryFlag("disableRefresh"))
	if live == nil {
		c.setCookies = append(c.setCookies, cookies...)
		return nil, errUnauthorized()
	}
	if fresh && c.s.nowMillis().Sub(live.session.createdAt) >= sessionFreshAge {
		c.setCookies = append(c.setCookies, cookies...)
		return nil, errSessionNotFresh()
	}
	if len(cookies) > 0 {
		c.addCookie(cookies[len(cookies)-1])
	}
	return live, nil
}

// setSessionCookie is Better Auth's setSessionCookie: the signed session
// token (a browser-session cookie when the user asked not to be remembered,
// with the dont_remember marker cookie). dontRemember nil means: keep what
// the request's dont_remember cookie says.
func (c *call) setSessionCookie(rs *resolvedSession, dontRemember *bool) {
	dr := false
	if dontRemember != nil {
		dr = *dontRemember
	} else {
		_, st := verifySigned(c.s.secret, c.jar.get(cookieDontRemember))
		dr = st == signedValid
	}
	maxAge := int(sessionExpiresIn.Seconds())
	if dr {
		maxAge = -1
	}
	c.addCookie(c.jar.setSigned(c.s.secret, cookieSessionToken, rs.session.token, maxAge))
	if dr {
		c.addCookie(c.jar.setSigned(c.s.secret, cookieDontRemember, "true", -1))
	}
	c.newSession = rs
}

// SessionFor is the id of the live session a request with this Cookie
// header would be answered with by get-session ("" for none), read
// without a request: nothing is refreshed, deleted or minted. A scenario
// run's referee asks it which session the client's cookies hold at the
// end.
func (s *Server) SessionFor(cookieHeader string) string {
	values := parseCookieHeader([]string{cookieHeader})
	value := values[cookieSessionToken]
	switch {
	case strings.HasPrefix(s.origin, "https://"):
		value = values[secureCookiePrefix+cookieSessionToken]
	case s.origin == "" && value == "":
		// The origin comes with each request: either name may be it.
		value = values[secureCookiePrefix+cookieSessionToken]
	}
	raw, st := verifySigned(s.secret, value)
	if st != signedValid {
		return ""
	}
	now := s.nowMillis()
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.sessions[raw]
	if se == nil || s.users[se.userID] == nil || se.expired(now) {
		return ""
	}
	return se.id
}
