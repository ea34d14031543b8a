package authsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Cookie names, as Better Auth's cookie factory builds them with the default
// "better-auth" prefix; on an https origin each gets the "__Secure-" prefix.
const (
	cookieSessionToken = "better-auth.session_token"
	cookieSessionData  = "better-auth.session_data"
	cookieDontRemember = "better-auth.dont_remember"
	cookieConvexJWT    = "better-auth.convex_jwt"
	secureCookiePrefix = "__Secure-"
)

// cookieAttrs are the attributes of one Set-Cookie.
type cookieAttrs struct {
	maxAge int // seconds; -1 means no Max-Age (a browser-session cookie)
	secure bool
}

// serializeCookie renders a Set-Cookie value exactly as better-call does:
// name=value; Max-Age=N; Path=/; HttpOnly[; Secure]; SameSite=Lax.
func serializeCookie(name, encodedValue string, a cookieAttrs) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(encodedValue)
	if a.maxAge >= 0 {
		b.WriteString("; Max-Age=")
		b.WriteString(strconv.Itoa(a.maxAge))
	}
	b.WriteString("; Path=/; HttpOnly")
	if a.secure {
		b.WriteString("; Secure")
	}
	b.WriteString("; SameSite=Lax")
	return b.String()
}

// signValue is better-call's signCookieValue: URL-encode of
// "<value>.<standard base64 HMAC-SHA256(secret, value)>".
func signValue(secret []byte, value string) string {
	return encodeURIComponent(value + "." + cookieSignature(secret, value))
}

func cookieSignature(secret []byte, value string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(value))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// signedState is what reading a signed cookie found.
type signedState int

const (
	signedAbsent  signedState = iota // no cookie, or not shaped like a signed value
	signedInvalid                    // shaped right, wrong signature
	signedValid
)

// verifySigned mirrors better-call's getSignedCookie on an already decoded
// cookie value: split at the last ".", require a 44-character signature that
// ends in "=", then check the HMAC.
func verifySigned(secret []byte, value string) (string, signedState) {
	if value == "" {
		return "", signedAbsent
	}
	i := strings.LastIndexByte(value, '.')
	if i < 1 {
		return "", signedAbsent
	}
	raw, sig := value[:i], value[i+1:]
	if len(sig) != 44 || !strings.HasSuffix(sig, "=") {
		return "", signedAbsent
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return "", signedInvalid
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(raw))
	if !hmac.Equal(got, m.Sum(nil)) {
		return "", signedInvalid
	}
	return raw, signedValid
}

// parseCookieHeader mirrors better-call's parseCookies: pairs split on ";",
// names and values trimmed, surrounding quotes dropped, values URI-decoded
// when possible, and the first occurrence of a name wins.
func parseCookieHeader(headers []string) map[string]string {
	out := map[string]string{}
	for _, h := range headers {
		for _, part := range strings.Split(h, ";") {
			eq := strings.IndexByte(part, '=')
			if eq < 0 {
				continue
			}
			name := strings.TrimSpace(part[:eq])
			if _, seen := out[name]; seen || name == "" {
				continue
			}
			val := strings.TrimSpace(part[eq+1:])
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			}
			out[name] = tryDecode(val)
		}
	}
	return out
}

func tryDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	d, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return d
}

// encodeURIComponent is JavaScript's: everything but A–Z a–z 0–9 - _ . ! ~ * ' ( )
// is percent-encoded as UTF-8.
func encodeURIComponent(s string) string {
	const hexdig = "0123456789ABCDEF"
	i := 0
	for i < len(s) && uriUnreserved(s[i]) {
		i++
	}
	if i == len(s) {
		return s // nothing to escape: a token, a signed cookie value
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if uriUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&15])
	}
	return b.String()
}

// uriUnreserved reports whether encodeURIComponent leaves c as it is.
func uriUnreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		strings.IndexByte("-_.!~*'()", c) >= 0
}

// cookieJar is the cookie view of one request: the names this origin uses and
// what the request carried.
type cookieJar struct {
	secure    bool
	prefix    string
	present   bool // a Cookie header was sent (even an empty one)
	values    map[string]string
	overrides map[string]string // set by the bearer hook
}

func newCookieJar(r *http.Request, origin string) *cookieJar {
	secure := strings.HasPrefix(origin, "https://")
	j := &cookieJar{secure: secure, values: parseCookieHeader(r.Header.Values("Cookie"))}
	_, j.present = r.Header["Cookie"]
	if secure {
		j.prefix = secureCookiePrefix
	}
	return j
}

func (j *cookieJar) name(base string) string { return j.prefix + base }

func (j *cookieJar) get(base string) string {
	if v, ok := j.overrides[j.name(base)]; ok {
		return v
	}
	return j.values[j.name(base)]
}

// set renders a Set-Cookie for a plain (URI-encoded) value.
func (j *cookieJar) set(base, value string, maxAge int) string {
	return serializeCookie(j.name(base), encodeURIComponent(value), cookieAttrs{maxAge: maxAge, secure: j.secure})
}

// setSigned renders a Set-Cookie for a signed value.
func (j *cookieJar) setSigned(secret []byte, base, value string, maxAge int) string {
	return serializeCookie(j.name(base), signValue(secret, value), cookieAttrs{maxAge: maxAge, secure: j.secure})
}

// expire renders a Set-Cookie that deletes a cookie (empty value, Max-Age=0).
func (j *cookieJar) expire(base string) string {
	return serializeCookie(j.name(base), "", cookieAttrs{maxAge: 0, secure: j.secure})
}
