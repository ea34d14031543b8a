package fetcher

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"strings"
	"time"

	"github.com/authscope/authscope/internal/memo"
)

// Token errors, matched with errors.Is. Every error from DecodeJWT and
// Verify wraps exactly one of them; Reason gives the short human version.
var (
	ErrTokenMalformed      = errors.New("token malformed")
	ErrAlgorithmNotAllowed = errors.New("algorithm not allowed")
	ErrUnknownKey          = errors.New("unknown signing key")
	ErrKeyInvalid          = errors.New("signing key unusable")
	ErrSignatureInvalid    = errors.New("signature invalid")
	ErrTokenExpired        = errors.New("token expired")
	ErrTokenNotYetValid    = errors.New("token not yet valid")
	ErrIssuerMismatch      = errors.New("issuer mismatch")
	ErrAudienceMismatch    = errors.New("audience mismatch")
	ErrMissingClaim        = errors.New("missing claim")
)

// tokenError carries the sentinel (kind), a short human reason and an
// optional underlying cause.
type tokenError struct {
	kind   error
	reason string
	cause  error
}

func (e *tokenError) Error() string { return "fetcher: jwt: " + e.reason }

func (e *tokenError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

func tokenErr(kind error, format string, args ...any) error {
	return &tokenError{kind: kind, reason: fmt.Sprintf(format, args...)}
}

func malformed(format string, args ...any) error {
	return &tokenError{kind: ErrTokenMalformed, reason: "malformed: " + fmt.Sprintf(format, args...)}
}

// Reason gives a short human reason for err, for a status line: "expired 3m
// ago", "signature invalid", "unknown kid abc", "HTTP 401 UNAUTHORIZED",
// "timed out". It returns "" for nil.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var te *tokenError
	if errors.As(err, &te) {
		return te.reason
	}
	var he *HTTPError
	if errors.As(err, &he) {
		s := fmt.Sprintf("HTTP %d", he.Status)
		if he.Code != "" {
			s += " " + he.Code
		}
		return s
	}
	var ne *NetError
	if errors.As(err, &ne) {
		if ne.Timeout() {
			return "timed out"
		}
		if errors.Is(ne, ErrInjected) {
			return "network error (injected)"
		}
		return "network error"
	}
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		return "response too large"
	case errors.Is(err, ErrBadResponse):
		return "bad response"
	}
	return err.Error()
}

// Header is a JWT's JOSE header.
type Header struct {
	Alg, Kid, Typ string
}

// Claims are the claims the Convex plugin puts in its JWTs. Raw holds every
// claim as decoded (numbers as json.Number).
type Claims struct {
	SessionID string
	Subject   string
	Issuer    string
	Audience  []string
	IssuedAt  time.Time
	ExpiresAt time.Time
	NotBefore time.Time
	Name      string
	Email     string
	Raw       map[string]any
}

// Token is a decoded JWT. Raw is the compact form: a bearer credential, so
// String, GoString and LogValue show the claims and never the signature.
type Token struct {
	Raw    string
	Header Header
	Claims Claims

	// signingInput (header.payload) and signature are what Verify checks,
	// kept from the one decode.
	signingInput string
	signature    []byte
}

func (t *Token) String() string {
	if t == nil {
		return "<nil>"
	}
	return fmt.Sprintf("JWT{alg:%s kid:%s sub:%s sessionId:%s iat:%s exp:%s sig:%s}",
		t.Header.Alg, t.Header.Kid, t.Claims.Subject, t.Claims.SessionID,
		fmtTime(t.Claims.IssuedAt), fmtTime(t.Claims.ExpiresAt), Redacted)
}

// GoString keeps %#v from printing the signature.
func (t *Token) GoString() string { return "fetcher." + t.String() }

// LogValue implements slog.LogValuer without the signature.
func (t *Token) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(
		slog.String("alg", t.Header.Alg),
		slog.String("kid", t.Header.Kid),
		slog.String("sub", t.Claims.Subject),
		slog.String("sessionId", t.Claims.SessionID),
		slog.Time("iat", t.Claims.IssuedAt),
		slog.Time("exp", t.Claims.ExpiresAt),
	)
}

// Redacted returns the compact form with the signature replaced, safe to log.
func (t *Token) Redacted() string {
	if t == nil {
		return ""
	}
	return redactJWT(t.Raw)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// DecodeJWT splits and decodes a compact JWT without checking its signature.
// Surrounding white space is ignored. Errors wrap ErrTokenMalformed and say
// what is wrong (segment count, base64, JSON, a claim of the wrong type).
//
// A token decoded before is not parsed again (a run decodes the same few
// tokens over and over): the result is a copy of the first, with a copy of
// its Claims.Raw map (values nested in it are shared).
func DecodeJWT(raw string) (*Token, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, malformed("empty token")
	}
	if t, ok := decoded.Get(raw); ok {
		return t.copy(), nil
	}
	t, err := decodeJWT(raw)
	if err != nil {
		return nil, err
	}
	if len(raw) <= maxRememberedToken {
		decoded.Put(raw, t.copy())
	}
	return t, nil
}

// copy is t with a map of claims of its own (values nested in it are
// shared).
func (t *Token) copy() *Token {
	c := *t
	c.Claims.Raw = maps.Clone(t.Claims.Raw)
	return &c
}

// decoded remembers the tokens DecodeJWT decoded well, by their text (at
// most 1024; then it starts over).
var decoded = memo.New[string, *Token](1024)

// maxRememberedToken bounds the tokens decoded remembers: real ones are
// well under a kilobyte.
const maxRememberedToken = 8 << 10

func decodeJWT(raw string) (*Token, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, malformed("%d segments, want 3 (header.payload.signature)", len(parts))
	}
	hb, err := decodeSegment(parts[0])
	if err != nil {
		return nil, malformed("header is not base64url: %v", err)
	}
	pb, err := decodeSegment(parts[1])
	if err != nil {
		return nil, malformed("payload is not base64url: %v", err)
	}
	sig, err := decodeSegment(parts[2])
	if err != nil {
		return nil, malformed("signature is not base64url: %v", err)
	}
	hdr, err := decodeObject(hb)
	if err != nil {
		return nil, malformed("header is not a JSON object: %v", err)
	}
	payload, err := decodeObject(pb)
	if err != nil {
		return nil, malformed("payload is not a JSON object: %v", err)
	}

	t := &Token{Raw: raw, Claims: Claims{Raw: payload}, signingInput: raw[:len(parts[0])+1+len(parts[1])], signature: sig}
	for _, f := range []struct {
		name string
		dst  *string
		src  map[string]any
		what string
	}{
		{"alg", &t.Header.Alg, hdr, "header"},
		{"kid", &t.Header.Kid, hdr, "header"},
		{"typ", &t.Header.Typ, hdr, "header"},
		{"sub", &t.Claims.Subject, payload, "claim"},
		{"iss", &t.Claims.Issuer, payload, "claim"},
		{"sessionId", &t.Claims.SessionID, payload, "claim"},
		{"name", &t.Claims.Name, payload, "claim"},
		{"email", &t.Claims.Email, payload, "claim"},
	} {
		v, ok := f.src[f.name]
		if !ok || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return nil, malformed("%s %s is %s, want a string", f.what, f.name, jsonKind(v))
		}
		*f.dst = s
	}
	if t.Header.Alg == "" {
		return nil, malformed("header has no alg")
	}
	if t.Claims.Audience, err = audience(payload["aud"]); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"iat", &t.Claims.IssuedAt}, {"exp", &t.Claims.ExpiresAt}, {"nbf", &t.Claims.NotBefore}} {
		if *f.dst, err = numericDate(f.name, payload[f.name]); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func decodeSegment(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("bad byte at offset %d", int64(ce))
		}
		return nil, err
	}
	return b, nil
}

func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("null")
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("trailing data")
	}
	return m, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return "null"
	}
}

func audience(v any) ([]string, error) {
	switch a := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{a}, nil
	case []any:
		out := make([]string, 0, len(a))
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				return nil, malformed("claim aud holds %s, want strings", jsonKind(e))
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, malformed("claim aud is %s, want a string or an array", jsonKind(v))
	}
}

// maxNumericDate keeps dates within what time.Time and jwt.NumericDate handle
// sanely (about year 5138).
const maxNumericDate = 1e11

func numericDate(name string, v any) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, malformed("claim %s is %s, want seconds since the epoch", name, jsonKind(v))
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxNumericDate {
		return time.Time{}, malformed("claim %s = %s is out of range", name, truncateRunes(n.String(), 30))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}
