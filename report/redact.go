package report

import (
	"regexp"
	"strings"
)

// The trace is redacted where it is written; the report redacts again,
// because it is the file that leaves the machine (attached to a ticket)
// and a trace may come from an older or a hand-edited file. These
// patterns are deliberately broad: losing a harmless string costs less
// than leaking a session.
var (
	// A complete JWT: base64url header (always starting with `{"`, i.e.
	// "eyJ"), claims and a signature. The trace keeps a JWT's header and
	// claims without the signature; that form is left alone.
	jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)
	// A Cookie or Set-Cookie header: everything after the colon, to the
	// end of the line.
	cookieHeaderPattern = regexp.MustCompile(`(?i)\b((?:set-)?cookie)\s*:\s*[^\r\n]*`)
	// A Better Auth cookie, or any cookie whose name says session or
	// token, as name=value.
	cookiePairPattern = regexp.MustCompile(`(?i)((?:__Secure-|__Host-)?[A-Za-z0-9_.-]*(?:better-auth|session|token)[A-Za-z0-9_.-]*)=([^;\s"',&]+)`)
)

// Replacements, in words, so that a reader sees something was removed.
const (
	removedJWT    = "[JWT removed]"
	removedCookie = "[removed]"
)

// redact removes every complete JWT and cookie-looking value from s.
func redact(s string) string {
	if s == "" {
		return s
	}
	if strings.Contains(s, "eyJ") {
		s = jwtPattern.ReplaceAllString(s, removedJWT)
	}
	if strings.Contains(s, "=") || strings.Contains(strings.ToLower(s), "cookie") {
		s = cookieHeaderPattern.ReplaceAllString(s, "${1}: "+removedCookie)
		s = cookiePairPattern.ReplaceAllString(s, "${1}="+removedCookie)
	}
	return s
}

// maxText bounds one string in the report: a trace line can be long (a
// query error quoting a whole response), and the report must stay
// readable and small.
const maxText = 500

// text is every string of the trace on its way into the report:
// redacted and bounded. The template escapes it.
func text(s string) string {
	s = redact(s)
	if len(s) > maxText {
		cut := maxText
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// utf8Start reports whether b begins a UTF-8 sequence (so that a cut
// there leaves whole characters).
func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
