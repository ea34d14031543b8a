package fetcher

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/authscope/authscope/internal/termtext"
)

// Redacted replaces every secret value in strings, logs and error excerpts.
const Redacted = "[redacted]"

const (
	excerptRunes   = 200      // runes kept in HTTPError.Body and error details
	redactScanSize = 64 << 10 // bytes of a body examined for secrets
)

var (
	// Three base64url segments: a JWT (or JWS). Its signature must not leak,
	// and the payload names the user, so the whole thing goes.
	jwtPattern = regexp.MustCompile(`[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)
	// key=value or "key": "value" pairs whose key looks secret, for bodies that
	// are not valid JSON (HTML error pages, truncated JSON, form echoes).
	secretPairPattern = regexp.MustCompile(`(?i)("?[a-z0-9_.-]*(?:token|password|secret|cookie|authorization)[a-z0-9_.-]*"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^\s,;&}"]+)`)
)

// isSecretKey reports whether a JSON object key or header name carries a secret.
func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"token", "password", "secret", "cookie", "authorization"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// excerpt returns a short, printable, redacted rendering of a response body,
// safe to put in an error or a log.
func excerpt(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	var s string
	if len(body) <= redactScanSize && json.Valid(body) {
		s = redactJSON(body)
	} else {
		scan := body
		if len(scan) > redactScanSize {
			scan = scan[:redactScanSize]
		}
		s = redactText(string(scan))
	}
	return truncateRunes(printable(s), excerptRunes)
}

func redactText(s string) string {
	s = jwtPattern.ReplaceAllString(s, Redacted)
	return secretPairPattern.ReplaceAllString(s, `${1}"`+Redacted+`"`)
}

func redactJSON(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return redactText(string(body))
	}
	out, err := json.Marshal(redactValue(v))
	if err != nil {
		return redactText(string(body))
	}
	return string(out)
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e != nil && isSecretKey(k) {
				x[k] = Redacted
				continue
			}
			x[k] = redactValue(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = redactValue(e)
		}
		return x
	case string:
		return jwtPattern.ReplaceAllString(x, Redacted)
	default:
		return v
	}
}

// printable escapes control characters (see termtext), so a garbage body
// cannot act on a terminal through an error message.
func printable(s string) string { return termtext.Line(s) }

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// redactJWT keeps a token's header and payload (useful when debugging) and
// drops its signature.
func redactJWT(raw string) string {
	i := strings.LastIndexByte(raw, '.')
	if i < 0 {
		return Redacted
	}
	return raw[:i+1] + Redacted
}
