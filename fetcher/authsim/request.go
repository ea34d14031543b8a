package authsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// apiError is the body of a Better Auth error: {"message","code"}. Errors
// built with APIError.fromStatus carry no code.
type apiError struct {
	status  int
	Message string `json:"message"`
	Code    string `json:"code,omitempty"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.Code, e.Message) }

func newAPIError(status int, code, message string) *apiError {
	return &apiError{status: status, Code: code, Message: message}
}

// Better Auth's BASE_ERROR_CODES used here.
var (
	errInvalidEmailOrPassword = func() *apiError {
		return newAPIError(401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
	}
	errInvalidEmail      = func() *apiError { return newAPIError(400, "INVALID_EMAIL", "Invalid email") }
	errInvalidPassword   = func() *apiError { return newAPIError(400, "INVALID_PASSWORD", "Invalid password") }
	errPasswordTooShort  = func() *apiError { return newAPIError(400, "PASSWORD_TOO_SHORT", "Password too short") }
	errPasswordTooLong   = func() *apiError { return newAPIError(400, "PASSWORD_TOO_LONG", "Password too long") }
	errUserAlreadyExists = func() *apiError {
		return newAPIError(422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.")
	}
	errUnauthorized    = func() *apiError { return newAPIError(401, "UNAUTHORIZED", "Unauthorized") }
	errSessionNotFresh = func() *apiError { return newAPIError(403, "SESSION_NOT_FRESH", "Session is not fresh") }
	errMissingOrigin   = func() *apiError {
		return newAPIError(403, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin")
	}
	errInvalidOrigin  = func() *apiError { return newAPIError(403, "INVALID_ORIGIN", "Invalid origin") }
	errCrossSiteLogin = func() *apiError {
		return newAPIError(403, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED", "Cross-site navigation login blocked. This request appears to be a CSRF attack.")
	}
	errGetSessionPost = func() *apiError {
		return newAPIError(405, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED", "POST method requires deferSessionRefresh to be enabled in session config")
	}
	errInvalidJSON  = func() *apiError { return newAPIError(400, "BAD_REQUEST", "Invalid JSON in request body") }
	errBodyTooLarge = func() *apiError { return newAPIError(413, "PAYLOAD_TOO_LARGE", "Request body too large") }
)

// call is one Better Auth request in flight: what came in and what will go out.
type call struct {
	s      *Server
	r      *http.Request
	origin string
	jar    *cookieJar
	query  url.Values

	body        any  // the decoded body; nil with bodyPresent=false is JS undefined
	bodyPresent bool // a body was decoded (it may be JSON null)

	setCookies []string
	headers    http.Header

	// seenSession is Better Auth's ctx.context.session as the after-hooks see
	// it; newSession is ctx.context.newSession.
	seenSession *resolvedSession
	newSession  *resolvedSession
}

type resolvedSession struct {
	session *session
	user    *user
}

func (c *call) addCookie(line string) { c.setCookies = append(c.setCookies, line) }

// writeJSON sends a JSON body with the collected headers and cookies.
func (c *call) writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	for k, vs := range c.headers {
		for _, x := range vs {
			h.Add(k, x)
		}
	}
	for _, line := range c.setCookies {
		h.Add("Set-Cookie", line)
	}
	h.Set("Content-Type", "application/json")
	b, err := marshalJS(v)
	if err != nil {
		b = []byte(`{"message":"Internal Server Error","code":"INTERNAL_SERVER_ERROR"}`)
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// marshalJS encodes like JSON.stringify: compact, no HTML escaping, no
// trailing newline.
func marshalJS(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func (c *call) writeError(w http.ResponseWriter, e *apiError) { c.writeJSON(w, e.status, e) }

func (c *call) setHeader(k, v string) {
	if c.headers == nil {
		c.headers = http.Header{}
	}
	c.headers.Set(k, v)
}

var jsonContentType = regexp.MustCompile(`(?i)^application/([a-z0-9.+-]*\+)?json`)

// readBody mirrors better-call's getBody behind Node's request adapter: no
// Content-Type or an empty body means "no body"; a Content-Type outside the
// endpoint's allowed media types is 415; JSON that does not parse is 400.
func (c *call) readBody(allowForm bool) *apiError {
	r := c.r
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" || r.ContentLength == 0 {
		return nil
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errBodyTooLarge()
		}
		return errInvalidJSON()
	}
	allowed := []string{"application/json"}
	if allowForm {
		allowed = []string{"application/x-www-form-urlencoded", "application/json"}
	}
	lower := strings.ToLower(ct)
	base := strings.TrimSpace(strings.SplitN(lower, ";", 2)[0])
	ok := false
	for _, a := range allowed {
		if base == a || strings.Contains(base, a) {
			ok = true
		}
	}
	if !ok {
		return newAPIError(415, "UNSUPPORTED_MEDIA_TYPE",
			fmt.Sprintf("Content-Type %q is not allowed. Allowed types: %s", ct, strings.Join(allowed, ", ")))
	}
	switch {
	case jsonContentType.MatchString(lower):
		if len(raw) == 0 {
			// Request.json() on an empty body is a SyntaxError.
			return errInvalidJSON()
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return errInvalidJSON()
		}
		if dec.More() {
			return errInvalidJSON()
		}
		if _, err := dec.Token(); err != io.EOF {
			return errInvalidJSON()
		}
		c.body, c.bodyPresent = v, true
	case strings.Contains(lower, "application/x-www-form-urlencoded"):
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			vals = url.Values{}
		}
		m := map[string]any{}
		for k, vs := range vals {
			if len(vs) > 0 {
				m[k] = vs[len(vs)-1]
			}
		}
		c.body, c.bodyPresent = m, true
	}
	return nil
}

// bodyField reads body.<key> like JavaScript's optional chaining would.
func (c *call) bodyField(key string) (any, bool) {
	m, ok := c.body.(map[string]any)
	if !ok {
		return nil, false
	}
	v, ok := m[key]
	return v, ok
}

// checkOrigin is Better Auth's originCheckMiddleware, which runs on every
// route for methods other than GET, OPTIONS and HEAD, before the endpoint
// itself: the CSRF rule, then the callback URLs in the body.
func (c *call) checkOrigin() *apiError {
	switch c.r.Method {
	case http.MethodGet, http.MethodOptions, http.MethodHead:
		return nil
	}
	if e := c.validateOrigin(false); e != nil {
		return e
	}
	cb, _ := c.bodyField("callbackURL")
	if !truthy(cb) {
		if q := c.query.Get("callbackURL"); q != "" {
			cb = q
		}
	}
	checks := []struct {
		v           any
		label, code string
	}{
		{cb, "callbackURL", "INVALID_CALLBACK_URL"},
		{field(c, "redirectTo"), "redirectURL", "INVALID_REDIRECT_URL"},
		{field(c, "errorCallbackURL"), "errorCallbackURL", "INVALID_ERROR_CALLBACK_URL"},
		{field(c, "newUserCallbackURL"), "newUserCallbackURL", "INVALID_NEW_USER_CALLBACK_URL"},
	}
	for _, ck := range checks {
		if !truthy(ck.v) {
			continue
		}
		str, ok := ck.v.(string)
		if !ok {
			return &apiError{status: 400, Message: "Invalid " + ck.label + ": expected a string"}
		}
		if !c.trustedURL(str, true) {
			return newAPIError(403, ck.code, "Invalid "+ck.label)
		}
	}
	return nil
}

func field(c *call, key string) any {
	v, _ := c.bodyField(key)
	return v
}

// validateOrigin is Better Auth's CSRF rule: a request that carries a Cookie
// header (or, with force, any request) must name a trusted Origin (or
// Referer).
func (c *call) validateOrigin(force bool) *apiError {
	if !force && !c.jar.present {
		return nil
	}
	o := c.r.Header.Get("Origin")
	if o == "" {
		o = c.r.Header.Get("Referer")
	}
	if o == "" || o == "null" {
		return errMissingOrigin()
	}
	if !c.trustedURL(o, false) {
		return errInvalidOrigin()
	}
	return nil
}

// formCSRF is Better Auth's formCsrfMiddleware on sign-in and sign-up.
func (c *call) formCSRF() *apiError {
	if c.jar.present {
		return c.validateOrigin(false)
	}
	site := c.r.Header.Get("Sec-Fetch-Site")
	mode := c.r.Header.Get("Sec-Fetch-Mode")
	dest := c.r.Header.Get("Sec-Fetch-Dest")
	if strings.TrimSpace(site) != "" || strings.TrimSpace(mode) != "" || strings.TrimSpace(dest) != "" {
		if site == "cross-site" && mode == "navigate" {
			return errCrossSiteLogin()
		}
		return c.validateOrigin(true)
	}
	if c.r.Header.Get("Origin") != "" || c.r.Header.Get("Referer") != "" {
		return c.validateOrigin(true)
	}
	return nil
}

var relativePath = regexp.MustCompile(`^/[\w\-.+/@]*(?:\?[\w\-.+/=&%@]*)?$`)

// trustedURL is matchesOriginPattern against each trusted origin: the
// server's own, then Options.TrustedOrigins.
func (c *call) trustedURL(u string, allowRelative bool) bool {
	if strings.HasPrefix(u, "/") {
		if !allowRelative {
			return false
		}
		lower := strings.ToLower(u)
		return relativePath.MatchString(u) && !strings.HasPrefix(u, "//") &&
			!strings.HasPrefix(u, `/\`) && !strings.HasPrefix(lower, "/%2f") && !strings.HasPrefix(lower, "/%5c")
	}
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme == "" {
		return false
	}
	switch strings.ToLower(pu.Scheme) {
	case "http", "https":
		o, ok := urlOrigin(u)
		return ok && slices.Contains(c.trustedOrigins(), o)
	default:
		for _, t := range c.trustedOrigins() {
			if strings.HasPrefix(u, t) {
				return true
			}
		}
		return false
	}
}

func (c *call) trustedOrigins() []string { return append([]string{c.origin}, c.s.trusted...) }

// urlOrigin is the WHATWG URL origin of an http(s) URL: lower-case scheme and
// host, default port dropped.
func urlOrigin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, true
	}
	return scheme + "://" + host, true
}

// truthy is JavaScript truthiness for decoded JSON values.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case json.Number:
		f, err := x.Float64()
		return err != nil || f != 0
	default:
		return true
	}
}

// clientIP is what Better Auth stores as ipAddress: the first
// X-Forwarded-For address, else "" (a production server on loopback).
func clientIP(r *http.Request) string {
	xff := r.Header.Get("X-Forwarded-For")
	if xff == "" {
		return ""
	}
	first := strings.TrimSpace(strings.Split(xff, ",")[0])
	if ip := net.ParseIP(first); ip != nil {
		return ip.String()
	}
	return ""
}

// isoTime is JavaScript's Date.prototype.toISOString.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
