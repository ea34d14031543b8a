package authsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/internal/realserver"
)

// TestParity sends one request sequence to the real server (better-auth
// 1.6.34 + @convex-dev/better-auth 0.12.5 under Node) and to the simulator,
// each with its own cookie jars and its own origin, and checks that they
// answer alike: statuses, JSON shapes (key sets and types, recursively),
// error codes and messages, the Set-Cookie lines (names, order, set or
// cleared, value format, attributes), the caching headers, and the JWT
// header and claims (names and types, exp − iat).
//
// It is skipped when node or npm is missing (see realserver.Start).
func TestParity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Better Auth server under Node")
	}
	for _, alg := range []string{AlgEdDSA, AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			real := realserver.Start(t, realserver.Options{Alg: alg})
			_, simTS := startSim(t, Options{Alg: alg})
			email := fmt.Sprintf("parity-%s-%d@example.com", strings.ToLower(alg), time.Now().UnixNano())
			want := runParitySequence(t, real.URL, email)
			got := runParitySequence(t, simTS.URL, email)
			if len(want) != len(got) {
				t.Fatalf("real server gave %d observations, simulator %d", len(want), len(got))
			}
			for i := range want {
				for _, d := range want[i].diff(got[i]) {
					t.Errorf("step %q: %s", want[i].step, d)
				}
			}
		})
	}
}

// observation is what a step's answer looked like, without the values that
// legitimately differ between two servers (ids, tokens, times, signatures).
type observation struct {
	step        string
	status      int
	contentType string
	cacheHdrs   string // cache-control and pragma
	location    string
	emptyBody   bool
	shape       string // recursive key sets and JSON types
	errCode     string // "code" of an error body
	errMessage  string // "message" of an error body
	cookies     []string
	jwts        []string // the shape of every JWT seen (body token, convex_jwt cookie)
}

func (o observation) diff(p observation) []string {
	var out []string
	add := func(what string, want, got any) {
		if fmt.Sprint(want) != fmt.Sprint(got) {
			out = append(out, fmt.Sprintf("%s: real %v, simulator %v", what, want, got))
		}
	}
	add("status", o.status, p.status)
	add("content-type", o.contentType, p.contentType)
	add("cache headers", o.cacheHdrs, p.cacheHdrs)
	add("Location", o.location, p.location)
	add("empty body", o.emptyBody, p.emptyBody)
	add("JSON shape", o.shape, p.shape)
	add("error code", o.errCode, p.errCode)
	add("error message", o.errMessage, p.errMessage)
	add("Set-Cookie", strings.Join(o.cookies, " | "), strings.Join(p.cookies, " | "))
	add("JWTs", strings.Join(o.jwts, " | "), strings.Join(p.jwts, " | "))
	return out
}

// paritySession is one device: a cookie jar that behaves like a browser's.
type paritySession struct {
	jar *cookiejar.Jar
}

type parityStep struct {
	name   string
	device string // "" = a fresh jar that is thrown away
	method string
	path   string // under /api/auth unless it starts with "/api/" or is absolute
	body   string // raw JSON; "" = no body
	// contentType overrides application/json for a body.
	contentType string
	// origin: "self" (the server's own origin, the default), "none", or a literal value.
	origin string
	// cookie, when set, replaces the jar: a literal Cookie header built from
	// a saved value (see saveAs).
	cookie string
	// saveAs records the device's session_token cookie value before the step.
	saveAs string
}

func runParitySequence(t *testing.T, base, email string) []observation {
	t.Helper()
	const password = "password123"
	creds := fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)
	steps := []parityStep{
		{name: "sign-up", device: "A", method: "POST", path: "/sign-up/email", body: fmt.Sprintf(`{"email":%q,"password":%q,"name":"Parity"}`, email, password)},
		{name: "sign-up duplicate", method: "POST", path: "/sign-up/email", body: fmt.Sprintf(`{"email":%q,"password":%q,"name":"Parity"}`, email, password)},
		{name: "sign-up short password", method: "POST", path: "/sign-up/email", body: `{"email":"short@example.com","password":"short","name":"S"}`},
		{name: "get-session", device: "A", method: "GET", path: "/get-session"},
		{name: "convex/token", device: "A", method: "GET", path: "/convex/token"},
		{name: "convex/jwks", method: "GET", path: "/convex/jwks"},
		{name: "openid-configuration", method: "GET", path: "/convex/.well-known/openid-configuration"},
		{name: "get-session without cookie", method: "GET", path: "/get-session"},
		{name: "convex/token without cookie", method: "GET", path: "/convex/token"},
		{name: "sign-in without Origin or cookie (device B)", device: "B", method: "POST", path: "/sign-in/email", body: creds, origin: "none"},
		{name: "change-password without Origin", device: "A", method: "POST", path: "/change-password", origin: "none",
			body: fmt.Sprintf(`{"currentPassword":%q,"newPassword":%q,"revokeOtherSessions":true}`, password, password)},
		{name: "change-password with a foreign Origin", device: "A", method: "POST", path: "/change-password", origin: "http://evil.example",
			body: fmt.Sprintf(`{"currentPassword":%q,"newPassword":%q,"revokeOtherSessions":true}`, password, password)},
		{name: "change-password with Origin null", device: "A", method: "POST", path: "/change-password", origin: "null",
			body: fmt.Sprintf(`{"currentPassword":%q,"newPassword":%q,"revokeOtherSessions":true}`, password, password)},
		{name: "change-password with a wrong password", device: "A", method: "POST", path: "/change-password",
			body: fmt.Sprintf(`{"currentPassword":"wrong-password","newPassword":%q,"revokeOtherSessions":true}`, password)},
		{name: "change-password with a short new password", device: "A", method: "POST", path: "/change-password",
			body: fmt.Sprintf(`{"currentPassword":%q,"newPassword":"short"}`, password)},
		{name: "change-password without revokeOtherSessions", device: "A", method: "POST", path: "/change-password",
			body: fmt.Sprintf(`{"currentPassword":%q,"newPassword":%q}`, password, password)},
		{name: "list-sessions", device: "A", method: "GET", path: "/list-sessions"},
		{name: "rotation (revokeOtherSessions, same password)", device: "A", method: "POST", path: "/change-password", saveAs: "A-before-rotation",
			body: fmt.Sprintf(`{"currentPassword":%q,"newPassword":%q,"revokeOtherSessions":true}`, password, password)},
		{name: "get-session after rotation", device: "A", method: "GET", path: "/get-session"},
		{name: "get-session on the other device after rotation", device: "B", method: "GET", path: "/get-session"},
		{name: "convex/token with the pre-rotation cookie", method: "GET", path: "/convex/token", cookie: "A-before-rotation"},
		{name: "get-session with the pre-rotation cookie", method: "GET", path: "/get-session", cookie: "A-before-rotation"},
		{name: "sign-in with a wrong password", method: "POST", path: "/sign-in/email", body: fmt.Sprintf(`{"email":%q,"password":"wrong-password"}`, email)},
		{name: "sign-in with a foreign Origin and no cookie", method: "POST", path: "/sign-in/email", body: creds, origin: "http://evil.example"},
		{name: "sign-in with bad JSON", method: "POST", path: "/sign-in/email", body: `{"email":`},
		{name: "sign-in without a password", method: "POST", path: "/sign-in/email", body: fmt.Sprintf(`{"email":%q}`, email)},
		{name: "sign-in rememberMe false (device F)", device: "F", method: "POST", path: "/sign-in/email",
			body: fmt.Sprintf(`{"email":%q,"password":%q,"rememberMe":false}`, email, password)},
		{name: "rotation of a dont-remember session", device: "F", method: "POST", path: "/change-password",
			body: fmt.Sprintf(`{"currentPassword":%q,"newPassword":%q,"revokeOtherSessions":true}`, password, password)},
		{name: "sign-in with a text/plain body", method: "POST", path: "/sign-in/email", body: creds, contentType: "text/plain"},
		{name: "sign-up with a null body", method: "POST", path: "/sign-up/email", body: "null"},
		{name: "sign-in with a form body (device G)", device: "G", method: "POST", path: "/sign-in/email",
			body: url.Values{"email": {email}, "password": {password}}.Encode(), contentType: "application/x-www-form-urlencoded"},
		{name: "sign-in with a relative callbackURL", method: "POST", path: "/sign-in/email",
			body: fmt.Sprintf(`{"email":%q,"password":%q,"callbackURL":"/dashboard"}`, email, password)},
		{name: "sign-in with a foreign callbackURL", method: "POST", path: "/sign-in/email",
			body: fmt.Sprintf(`{"email":%q,"password":%q,"callbackURL":"http://evil.example/x"}`, email, password)},
		{name: "list-sessions without cookie", method: "GET", path: "/list-sessions"},
		{name: "change-password with Origin and no cookie", method: "POST", path: "/change-password",
			body: fmt.Sprintf(`{"currentPassword":%q,"newPassword":%q}`, password, password)},
		{name: "revoke-session without a token (device G)", device: "G", method: "POST", path: "/revoke-session", body: `{}`},
		{name: "revoke-other-sessions (device G)", device: "G", method: "POST", path: "/revoke-other-sessions", body: `{}`},
		{name: "list-sessions after revoke-other-sessions (device G)", device: "G", method: "GET", path: "/list-sessions"},
		{name: "revoke-sessions (device G)", device: "G", method: "POST", path: "/revoke-sessions", body: `{}`},
		{name: "get-session after revoke-sessions (device G)", device: "G", method: "GET", path: "/get-session"},
		{name: "sign-out", device: "A", method: "POST", path: "/sign-out", saveAs: "A-before-sign-out"},
		{name: "get-session after sign-out", device: "A", method: "GET", path: "/get-session"},
		{name: "convex/token after sign-out", device: "A", method: "GET", path: "/convex/token"},
		{name: "convex/token with the signed-out cookie", method: "GET", path: "/convex/token", cookie: "A-before-sign-out"},
		{name: "sign-out without cookie or Origin", method: "POST", path: "/sign-out", origin: "none"},
		{name: "get-session by POST", method: "POST", path: "/get-session"},
		{name: "unknown path", method: "GET", path: "/nope"},
		{name: "GET on a POST endpoint", method: "GET", path: "/sign-out"},
		{name: "OPTIONS preflight", method: "OPTIONS", path: "/sign-in/email"},
	}

	devices := map[string]*paritySession{}
	saved := map[string]string{}
	client := &http.Client{Timeout: 30 * time.Second}
	var out []observation
	for _, st := range steps {
		dev := devices[st.device]
		if dev == nil {
			jar, err := cookiejar.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			dev = &paritySession{jar: jar}
			if st.device != "" {
				devices[st.device] = dev
			}
		}
		u, err := url.Parse(base + "/api/auth" + st.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.saveAs != "" {
			for _, c := range dev.jar.Cookies(u) {
				if c.Name == cookieSessionToken {
					saved[st.saveAs] = c.Value
				}
			}
			if saved[st.saveAs] == "" {
				t.Fatalf("%s: step %q: device %s has no session cookie to save", base, st.name, st.device)
			}
		}
		var body io.Reader
		if st.body != "" {
			body = strings.NewReader(st.body)
		}
		req, err := http.NewRequest(st.method, u.String(), body)
		if err != nil {
			t.Fatal(err)
		}
		if st.body != "" {
			ct := st.contentType
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
		}
		switch st.origin {
		case "", "self":
			req.Header.Set("Origin", base)
		case "none":
		default:
			req.Header.Set("Origin", st.origin)
		}
		hc := *client
		if st.cookie != "" {
			req.Header.Set("Cookie", cookieSessionToken+"="+saved[st.cookie])
		} else {
			hc.Jar = dev.jar
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: step %q: %v", base, st.name, err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: step %q: reading body: %v", base, st.name, err)
		}
		out = append(out, observe(t, st.name, base, resp, raw))
	}
	return out
}

func observe(t *testing.T, step, base string, resp *http.Response, raw []byte) observation {
	t.Helper()
	o := observation{
		step:        step,
		status:      resp.StatusCode,
		contentType: resp.Header.Get("Content-Type"),
		cacheHdrs:   "cache-control=" + resp.Header.Get("Cache-Control") + " pragma=" + resp.Header.Get("Pragma"),
		emptyBody:   len(raw) == 0,
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		o.location = strings.Replace(loc, base, "{URL}", 1)
	}
	if len(raw) > 0 {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			o.shape = "not JSON"
		} else {
			o.shape = jsonShape(v)
			if m, ok := v.(map[string]any); ok && resp.StatusCode >= 400 {
				o.errCode, _ = m["code"].(string)
				o.errMessage, _ = m["message"].(string)
			}
			if m, ok := v.(map[string]any); ok {
				if tok, ok := m["token"].(string); ok && strings.Count(tok, ".") == 2 {
					o.jwts = append(o.jwts, "body: "+jwtShape(tok))
				}
			}
		}
	}
	for _, line := range resp.Header.Values("Set-Cookie") {
		o.cookies = append(o.cookies, cookieShape(line))
		name, rest, _ := strings.Cut(line, "=")
		if name == cookieConvexJWT {
			val, _, _ := strings.Cut(rest, ";")
			if val != "" {
				o.jwts = append(o.jwts, "cookie: "+jwtShape(val))
			}
		}
	}
	return o
}

var (
	signedValueRE = regexp.MustCompile(`^[A-Za-z0-9]+\.[A-Za-z0-9+/]{43}=$`)
	jwtValueRE    = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
)

// cookieShape renders a Set-Cookie line with its value replaced by its kind.
func cookieShape(line string) string {
	nv, attrs, _ := strings.Cut(line, ";")
	name, val, _ := strings.Cut(nv, "=")
	kind := "other"
	decoded, err := url.QueryUnescape(val)
	switch {
	case val == "":
		kind = "<empty>"
	case jwtValueRE.MatchString(val):
		kind = "<jwt>"
	case err == nil && signedValueRE.MatchString(decoded) && encodeURIComponent(decoded) == val:
		switch raw := decoded[:strings.LastIndexByte(decoded, '.')]; {
		case raw == "true":
			kind = "<signed \"true\">"
		case len(raw) == 32:
			kind = "<signed 32-char token>"
		default:
			kind = "<signed>"
		}
	}
	return name + "=" + kind + ";" + attrs
}

// jwtShape describes a JWT by its header and claim names and types, plus
// exp − iat.
func jwtShape(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "not a JWT"
	}
	var hdr, claims map[string]any
	if err := decodeJWTPart(parts[0], &hdr); err != nil {
		return "bad header"
	}
	if err := decodeJWTPart(parts[1], &claims); err != nil {
		return "bad payload"
	}
	life := "?"
	exp, ok1 := claims["exp"].(float64)
	iat, ok2 := claims["iat"].(float64)
	if ok1 && ok2 {
		life = fmt.Sprint(exp - iat)
	}
	return fmt.Sprintf("header %s alg=%v claims %s aud=%v exp-iat=%s", jsonShape(hdr), hdr["alg"], jsonShape(claims), claims["aud"], life)
}

func decodeJWTPart(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// jsonShape renders the key sets and JSON types of a value, recursively.
func jsonShape(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = jsonShape(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		ks := make([]string, 0, len(x))
		for k := range x {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		parts := make([]string, len(ks))
		for i, k := range ks {
			parts[i] = k + ":" + jsonShape(x[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprintf("%T", v)
}
