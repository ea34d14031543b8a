package authsim

import (
	"net/http"
	"strings"
)

// route is one Better Auth endpoint.
type route struct {
	methods   []string
	allowForm bool // sign-in and sign-up also take form bodies
	handle    func(c *call) (any, *apiError)
}

// authRoutes are the Better Auth endpoints the simulator serves, by path
// under BasePath.
var authRoutes = map[string]route{
	"/sign-up/email":         {methods: []string{http.MethodPost}, allowForm: true, handle: (*call).signUp},
	"/sign-in/email":         {methods: []string{http.MethodPost}, allowForm: true, handle: (*call).signIn},
	"/sign-out":              {methods: []string{http.MethodPost}, handle: (*call).signOut},
	"/get-session":           {methods: []string{http.MethodGet, http.MethodPost}, handle: (*call).getSession},
	"/change-password":       {methods: []string{http.MethodPost}, handle: (*call).changePassword},
	"/list-sessions":         {methods: []string{http.MethodGet}, handle: (*call).listSessions},
	"/revoke-session":        {methods: []string{http.MethodPost}, handle: (*call).revokeSession},
	"/revoke-sessions":       {methods: []string{http.MethodPost}, handle: (*call).revokeSessions},
	"/revoke-other-sessions": {methods: []string{http.MethodPost}, handle: (*call).revokeOtherSessions},
	"/convex/token":          {methods: []string{http.MethodGet}, handle: (*call).convexToken},
	"/convex/jwks":           {methods: []string{http.MethodGet}, handle: (*call).convexJWKS},
	"/convex/.well-known/openid-configuration": {methods: []string{http.MethodGet}, handle: (*call).openIDConfiguration},
	"/ok": {methods: []string{http.MethodGet}, handle: func(*call) (any, *apiError) { return map[string]bool{"ok": true}, nil }},
}

// serveAuth answers a request under BasePath. The order of the steps is the
// real server's: route lookup (404, no body), body parsing (415/400), the
// origin check router middleware (403, no hooks), the Convex plugin's bearer
// before-hook, the endpoint (validation, its middlewares, its handler), and
// the Convex plugin's after-hooks, which run on errors too.
func (s *Server) serveAuth(w http.ResponseWriter, r *http.Request, sub string) {
	rt, ok := authRoutes[sub]
	if !ok || strings.Contains(sub, "//") || !methodAllowed(rt.methods, r.Method) {
		notFound(w)
		return
	}
	origin := s.requestOrigin(r)
	c := &call{s: s, r: r, origin: origin, jar: newCookieJar(r, origin), query: r.URL.Query()}
	if e := c.readBody(rt.allowForm); e != nil {
		c.writeError(w, e)
		return
	}
	if e := c.checkOrigin(); e != nil {
		c.writeError(w, e)
		return
	}
	c.bearerHook()
	out, e := rt.handle(c)
	c.afterHooks(sub)
	if e != nil {
		c.writeError(w, e)
		return
	}
	c.writeJSON(w, http.StatusOK, out)
}

func methodAllowed(methods []string, m string) bool {
	for _, x := range methods {
		if x == m {
			return true
		}
	}
	return false
}

// bearerHook is the bearer plugin's before-hook, which the Convex plugin
// includes: a signed session token in "Authorization: Bearer …" stands in for
// the session cookie.
func (c *call) bearerHook() {
	h := c.r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return
	}
	tok := strings.TrimSpace(h[7:])
	if tok == "" {
		return
	}
	var signed string
	if strings.Contains(tok, ".") {
		signed = tok
		if strings.Contains(tok, "%") {
			signed = tryDecode(tok)
		}
	} else {
		signed = tok + "." + cookieSignature(c.s.secret, tok)
	}
	if _, st := verifySigned(c.s.secret, signed); st != signedValid {
		return
	}
	if c.jar.overrides == nil {
		c.jar.overrides = map[string]string{}
	}
	c.jar.overrides[c.jar.name(cookieSessionToken)] = signed
}

// afterHooks are the Convex plugin's after-hooks: refresh the convex_jwt
// cookie after sign-in, sign-up and a get-session that found a session;
// clear it after sign-out and a get-session that found none.
// /change-password and /revoke-* are not in either list.
func (c *call) afterHooks(sub string) {
	switch {
	case strings.HasPrefix(sub, "/sign-in"), strings.HasPrefix(sub, "/sign-up"),
		strings.HasPrefix(sub, "/get-session") && c.seenSession != nil:
		rs := c.seenSession
		if rs == nil {
			rs = c.newSession
		}
		if rs == nil {
			return // the plugin's token call answers 401 and the hook swallows it
		}
		if tok, err := c.s.mint(rs, c.origin); err == nil {
			c.addCookie(c.jar.set(cookieConvexJWT, tok, int(c.s.ttl.Seconds())))
		}
	}
	if strings.HasPrefix(sub, "/sign-out") || strings.HasPrefix(sub, "/get-session") && c.seenSession == nil {
		c.addCookie(c.jar.expire(cookieConvexJWT))
	}
}

// userJSON is Better Auth's user output, in the real server's key order
// (internal/realserver/OBSERVED.md §2.3). The in-memory adapter leaves an unset image undefined,
// so there is no image key (not null).
type userJSON struct {
	Name          string `json:"name"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"emailVerified"`
	CreatedAt     string `json:"createdAt"`
	UpdatedAt     string `json:"updatedAt"`
	ID            string `json:"id"`
}

func toUserJSON(u *user) userJSON {
	return userJSON{
		ID: u.id, Name: u.name, Email: u.email, EmailVerified: u.emailVerified,
		CreatedAt: isoTime(u.createdAt), UpdatedAt: isoTime(u.updatedAt),
	}
}

// sessionJSON is Better Auth's session output, in the real server's key
// order; ipAddress and userAgent are "" when unknown, never null.
type sessionJSON struct {
	ExpiresAt string `json:"expiresAt"`
	Token     string `json:"token"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	IPAddress string `json:"ipAddress"`
	UserAgent string `json:"userAgent"`
	UserID    string `json:"userId"`
	ID        string `json:"id"`
}

func toSessionJSON(se *session) sessionJSON {
	return sessionJSON{
		ID: se.id, Token: se.token, UserID: se.userID,
		ExpiresAt: isoTime(se.expiresAt), CreatedAt: isoTime(se.createdAt), UpdatedAt: isoTime(se.updatedAt),
		IPAddress: se.ipAddress, UserAgent: se.userAgent,
	}
}

func (c *call) signUp() (any, *apiError) {
	if e := c.validateBody(signUpRules, true); e != nil {
		return nil, e
	}
	if e := c.formCSRF(); e != nil {
		return nil, e
	}
	email, password := c.str("email"), c.str("password")
	if !validEmail(email) {
		return nil, errInvalidEmail()
	}
	if password == "" {
		return nil, errInvalidPassword()
	}
	if n := jsLen(password); n < minPasswordLength {
		return nil, errPasswordTooShort()
	} else if n > maxPasswordLength {
		return nil, errPasswordTooLong()
	}
	rememberMe, given := c.boolField("rememberMe")
	dontRemember := given && !rememberMe
	s := c.s
	s.mu.Lock()
	u, err := s.createUserLocked(c.str("name"), email, password)
	if err != nil {
		s.mu.Unlock()
		return nil, errUserAlreadyExists()
	}
	se := s.createSessionLocked(u.id, dontRemember, clientIP(c.r), c.r.UserAgent())
	rs := snapshot(se, u)
	s.mu.Unlock()
	c.setSessionCookie(rs, &dontRemember)
	return struct {
		Token string   `json:"token"`
		User  userJSON `json:"user"`
	}{rs.session.token, toUserJSON(rs.user)}, nil
}

type signInJSON struct {
	Redirect bool     `json:"redirect"`
	Token    string   `json:"token"`
	URL      *string  `json:"url,omitempty"`
	User     userJSON `json:"user"`
}

func (c *call) signIn() (any, *apiError) {
	if e := c.validateBody(signInRules, false); e != nil {
		return nil, e
	}
	if e := c.formCSRF(); e != nil {
		return nil, e
	}
	email, password := c.str("email"), c.str("password")
	if !validEmail(email) {
		return nil, errInvalidEmail()
	}
	rememberMe, given := c.boolField("rememberMe")
	dontRemember := given && !rememberMe
	s := c.s
	s.mu.Lock()
	u := s.byEmail[strings.ToLower(email)]
	if u == nil || !u.checkPassword(password) {
		s.mu.Unlock()
		return nil, errInvalidEmailOrPassword()
	}
	se := s.createSessionLocked(u.id, dontRemember, clientIP(c.r), c.r.UserAgent())
	rs := snapshot(se, u)
	s.mu.Unlock()
	c.setSessionCookie(rs, &dontRemember)
	out := signInJSON{Token: rs.session.token, User: toUserJSON(rs.user)}
	if cb, ok := c.bodyField("callbackURL"); ok {
		cbs, _ := cb.(string)
		out.URL = &cbs
		out.Redirect = cbs != ""
		if cbs != "" {
			c.setHeader("Location", cbs)
		}
	}
	return out, nil
}

func (c *call) signOut() (any, *apiError) {
	if raw, st := verifySigned(c.s.secret, c.jar.get(cookieSessionToken)); st == signedValid {
		c.s.mu.Lock()
		c.s.deleteSessionLocked(c.s.sessions[raw])
		c.s.mu.Unlock()
	}
	c.setCookies = append(c.setCookies, c.deleteSessionCookies()...)
	return map[string]bool{"success": true}, nil
}

func (c *call) getSession() (any, *apiError) {
	// Set first: the real server sends them with the 405 too.
	c.setHeader("Cache-Control", "no-store")
	c.setHeader("Pragma", "no-cache")
	if c.r.Method == http.MethodPost {
		return nil, errGetSessionPost()
	}
	live, seen, cookies := c.resolveSession(c.queryFlag("disableRefresh"))
	c.seenSession = seen
	c.setCookies = append(c.setCookies, cookies...)
	if live == nil {
		return nil, nil // JSON null
	}
	return struct {
		Session sessionJSON `json:"session"`
		User    userJSON    `json:"user"`
	}{toSessionJSON(live.session), toUserJSON(live.user)}, nil
}

func (c *call) changePassword() (any, *apiError) {
	if e := c.validateBody(changePasswordRules, false); e != nil {
		return nil, e
	}
	rs, e := c.requireSession(false)
	if e != nil {
		return nil, e
	}
	newPassword := c.str("newPassword")
	if n := jsLen(newPassword); n < minPasswordLength {
		return nil, errPasswordTooShort()
	} else if n > maxPasswordLength {
		return nil, errPasswordTooLong()
	}
	s := c.s
	s.mu.Lock()
	u := s.users[rs.user.id]
	if u == nil {
		s.mu.Unlock()
		return nil, newAPIError(400, "CREDENTIAL_ACCOUNT_NOT_FOUND", "Credential account not found")
	}
	if !u.checkPassword(c.str("currentPassword")) {
		s.mu.Unlock()
		return nil, errInvalidPassword()
	}
	u.setPassword(c.s.ids, newPassword)
	var fresh *resolvedSession
	if revoke, _ := c.boolField("revokeOtherSessions"); revoke {
		if s.preserve {
			// better-auth PR #9345 (deleteOtherSessions): every other
			// session of the user goes, expired or not; the caller keeps
			// its session and its cookie, and the answer's token is null.
			for _, se := range s.userSessionsLocked(u.id) {
				if se.token != rs.session.token {
					s.deleteSessionLocked(se)
				}
			}
		} else {
			// Better Auth 1.6 deletes every session of the user, the
			// caller's included, and opens a new one for the caller: a
			// rotation.
			s.deleteUserSessionsLocked(u.id)
			fresh = snapshot(s.createSessionLocked(u.id, false, clientIP(c.r), c.r.UserAgent()), u)
		}
	}
	s.mu.Unlock()
	out := struct {
		Token *string  `json:"token"`
		User  userJSON `json:"user"`
	}{User: toUserJSON(rs.user)}
	if fresh != nil {
		c.setSessionCookie(fresh, nil)
		out.Token = &fresh.session.token
	}
	return out, nil
}

func (c *call) listSessions() (any, *apiError) {
	rs, e := c.requireSession(true)
	if e != nil {
		return nil, e
	}
	now := c.s.nowMillis()
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	out := []sessionJSON{}
	for _, se := range c.s.userSessionsLocked(rs.user.id) {
		if se.expiresAt.After(now) {
			out = append(out, toSessionJSON(se))
		}
	}
	return out, nil
}

func (c *call) revokeSession() (any, *apiError) {
	if e := c.validateBody(revokeSessionRules, false); e != nil {
		return nil, e
	}
	rs, e := c.requireSession(false)
	if e != nil {
		return nil, e
	}
	tok := c.str("token")
	c.s.mu.Lock()
	if se := c.s.sessions[tok]; se != nil && se.userID == rs.user.id {
		c.s.deleteSessionLocked(se)
	}
	c.s.mu.Unlock()
	return map[string]bool{"status": true}, nil
}

func (c *call) revokeSessions() (any, *apiError) {
	rs, e := c.requireSession(false)
	if e != nil {
		return nil, e
	}
	c.s.mu.Lock()
	c.s.deleteUserSessionsLocked(rs.user.id)
	c.s.mu.Unlock()
	return map[string]bool{"status": true}, nil
}

func (c *call) revokeOtherSessions() (any, *apiError) {
	rs, e := c.requireSession(false)
	if e != nil {
		return nil, e
	}
	now := c.s.nowMillis()
	c.s.mu.Lock()
	for _, se := range c.s.userSessionsLocked(rs.user.id) {
		if se.expiresAt.After(now) && se.token != rs.session.token {
			c.s.deleteSessionLocked(se)
		}
	}
	c.s.mu.Unlock()
	return map[string]bool{"status": true}, nil
}

func (c *call) convexToken() (any, *apiError) {
	rs, e := c.requireSession(false)
	if e != nil {
		return nil, e
	}
	tok, err := c.s.mint(rs, c.origin)
	if err != nil {
		return nil, newAPIError(500, "INTERNAL_SERVER_ERROR", "Internal Server Error")
	}
	c.addCookie(c.jar.set(cookieConvexJWT, tok, int(c.s.ttl.Seconds())))
	return map[string]string{"token": tok}, nil
}

func (c *call) convexJWKS() (any, *apiError) {
	return map[string][]jwkJSON{"keys": {c.s.key.jwk()}}, nil
}
