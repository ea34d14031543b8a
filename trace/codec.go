package trace

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/authscope/authscope/authstate"
)

// Event lines are the bulk of a trace, so they are encoded and decoded by
// hand: encoding/json's reflection cost 5–10 µs a line, over the budget of
// recording (2 µs an event) and of opening 100k events (1 s). The bytes
// are the same as json.Marshal of eventRecord (a test checks it), and a
// line the fast decoder does not expect (an escape, an unknown key, a
// null) goes to encoding/json, which then has the last word.

// appendEvent appends the event record of ev (already redacted) to b.
func appendEvent(b []byte, device int, ev *authstate.Event) ([]byte, error) {
	return appendEventWith(b, device, ev, nil)
}

// appendEventWith is appendEvent with a way to know raw JSON already
// found plain (see plainJSON): plain, if set, reports it for a slice it
// has checked, and is otherwise asked nothing.
func appendEventWith(b []byte, device int, ev *authstate.Event, plain func([]byte) bool) ([]byte, error) {
	b = append(b, `{"type":"event"`...)
	if device != 0 {
		b = append(b, `,"device":`...)
		b = strconv.AppendInt(b, int64(device), 10)
	}
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, ev.Seq, 10)
	var err error
	if b, err = appendTimeField(b, `,"at":`, ev.At); err != nil {
		return b, err
	}
	b = append(b, `,"kind":`...)
	b = appendString(b, ev.Kind.String())
	b = appendStringField(b, `,"policy":`, ev.Policy)
	b = appendStringField(b, `,"session":`, ev.Session)
	b = appendStringField(b, `,"sessionId":`, ev.SessionID)
	b = appendStringField(b, `,"from":`, ev.From)
	if ev.Fetch != 0 {
		b = append(b, `,"fetch":`...)
		b = strconv.AppendInt(b, int64(ev.Fetch), 10)
	}
	if ev.Owner != 0 {
		b = append(b, `,"owner":`...)
		b = strconv.AppendInt(b, int64(ev.Owner), 10)
	}
	b = appendStringField(b, `,"call":`, ev.Call)
	if ev.Force {
		b = append(b, `,"force":true`...)
	}
	b = appendStringField(b, `,"cause":`, ev.Cause)
	if t := ev.Token; t != nil {
		b = append(b, `,"token":`...)
		if b, err = appendToken(b, t, plain); err != nil {
			return b, err
		}
	}
	if ev.Stale {
		b = append(b, `,"stale":true`...)
	}
	b = appendStringField(b, `,"source":`, ev.Source)
	b = appendStringField(b, `,"reason":`, ev.Reason)
	b = appendStringField(b, `,"detail":`, ev.Detail)
	if c := ev.Convex; c != nil {
		b = append(b, `,"convex":{"isLoading":`...)
		b = strconv.AppendBool(b, c.Loading)
		b = append(b, `,"isAuthenticated":`...)
		b = strconv.AppendBool(b, c.Authenticated)
		b = append(b, `,"queryFailing":`...)
		b = strconv.AppendBool(b, c.Failing)
		b = append(b, '}')
	}
	// The fields that feed the fold.
	if ev.Poll != 0 {
		b = append(b, `,"poll":`...)
		b = strconv.AppendInt(b, int64(ev.Poll), 10)
	}
	if o := ev.Observed; o != nil {
		b = append(b, `,"observed":{"id":`...)
		b = appendString(b, o.ID)
		b = appendStringField(b, `,"userId":`, o.UserID)
		b = appendStringField(b, `,"email":`, o.Email)
		if b, err = appendTimeField(b, `,"expiresAt":`, o.ExpiresAt); err != nil {
			return b, err
		}
		if b, err = appendTimeField(b, `,"createdAt":`, o.CreatedAt); err != nil {
			return b, err
		}
		b = append(b, '}')
	}
	if ev.Fetcher != 0 {
		b = append(b, `,"fetcher":`...)
		b = strconv.AppendInt(b, int64(ev.Fetcher), 10)
	}
	b = appendStringField(b, `,"effect":`, ev.Effect)
	b = appendStringField(b, `,"why":`, ev.Why)
	if ev.Elapsed != 0 {
		b = append(b, `,"elapsed":`...)
		b = strconv.AppendInt(b, int64(ev.Elapsed), 10)
	}
	if ev.Interval != 0 {
		b = append(b, `,"interval":`...)
		b = strconv.AppendInt(b, int64(ev.Interval), 10)
	}
	if ev.Client != nil {
		if b, err = appendJSONField(b, `,"client":`, ev.Client); err != nil {
			return b, err
		}
	}
	if ev.Transport != nil {
		if b, err = appendJSONField(b, `,"transport":`, ev.Transport); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendToken appends t as encoding/json writes a TokenInfo.
func appendToken(b []byte, t *authstate.TokenInfo, plain func([]byte) bool) ([]byte, error) {
	b = append(b, `{"fingerprint":`...)
	b = appendString(b, t.Fingerprint)
	b = append(b, `,"session":`...)
	b = appendString(b, t.Session)
	b = append(b, `,"sessionId":`...)
	b = appendString(b, t.SessionID)
	var err error
	if b, err = appendTimeField(b, `,"iat":`, t.IssuedAt); err != nil {
		return b, err
	}
	if b, err = appendTimeField(b, `,"exp":`, t.ExpiresAt); err != nil {
		return b, err
	}
	b = append(b, `,"verified":`...)
	b = strconv.AppendBool(b, t.Verified)
	b = appendStringField(b, `,"problem":`, t.Problem)
	b = appendStringField(b, `,"sub":`, t.Subject)
	b = appendStringField(b, `,"iss":`, t.Issuer)
	if len(t.Audience) > 0 {
		b = append(b, `,"aud":[`...)
		for i, a := range t.Audience {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, a)
		}
		b = append(b, ']')
	}
	if b, err = appendRawField(b, `,"header":`, t.Header, plain); err != nil {
		return b, err
	}
	if b, err = appendRawField(b, `,"claims":`, t.Claims, plain); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// appendRawField appends key and raw JSON as encoding/json writes a
// json.RawMessage (compact, HTML characters escaped); nothing when raw
// is empty. Raw JSON that is already so is copied as it is.
func appendRawField(b []byte, key string, raw json.RawMessage, plain func([]byte) bool) ([]byte, error) {
	if len(raw) == 0 {
		return b, nil
	}
	if (plain == nil || !plain(raw)) && !plainJSON(raw) {
		return appendJSONField(b, key, raw)
	}
	b = append(b, key...)
	return append(b, raw...), nil
}

// plainJSON reports whether raw is valid JSON that encoding/json would
// write unchanged: no space between tokens, no HTML characters, no U+2028
// or U+2029.
func plainJSON(raw []byte) bool {
	in := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '<' || c == '>' || c == '&':
			return false
		case c == 0xE2 && i+2 < len(raw) && raw[i+1] == 0x80 && (raw[i+2] == 0xA8 || raw[i+2] == 0xA9):
			return false
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return json.Valid(raw)
}

// appendJSONField appends key and v as encoding/json writes it.
func appendJSONField(b []byte, key string, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	b = append(b, key...)
	return append(b, j...), nil
}

// appendInput writes an input line as encoding/json would write an
// inputRecord: type, seq, at, device (when not 0), kind, input (when
// there is data). data must be compact JSON (the redactor's output is).
func appendInput(b []byte, seq uint64, at time.Time, device int, kind string, data json.RawMessage) ([]byte, error) {
	b = append(b, `{"type":"input","seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	var err error
	if b, err = appendTimeField(b, `,"at":`, at); err != nil {
		return b, err
	}
	if device != 0 {
		b = append(b, `,"device":`...)
		b = strconv.AppendInt(b, int64(device), 10)
	}
	b = append(b, `,"kind":`...)
	b = appendString(b, kind)
	if len(data) > 0 {
		b = append(b, `,"input":`...)
		b = append(b, data...)
	}
	return append(b, '}'), nil
}

func appendStringField(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

func appendTimeField(b []byte, key string, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y >= 10000 {
		return b, errors.New("time year outside of range [0,9999]")
	}
	b = append(b, key...)
	b = append(b, '"')
	b = appendRFC3339Nano(b, t)
	return append(b, '"'), nil
}

// appendRFC3339Nano is t.AppendFormat(b, time.RFC3339Nano) for a year in
// [0, 9999], without parsing the layout each time.
func appendRFC3339Nano(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	if ns := t.Nanosecond(); ns != 0 {
		b = append(b, '.')
		digits := 9
		for ns%10 == 0 {
			ns /= 10
			digits--
		}
		b = appendDigits(b, ns, digits)
	}
	_, off := t.Zone()
	if off == 0 {
		return append(b, 'Z')
	}
	zone := off / 60
	if zone < 0 {
		b = append(b, '-')
		zone = -zone
	} else {
		b = append(b, '+')
	}
	b = appendDigits(b, zone/60, 2)
	b = append(b, ':')
	return appendDigits(b, zone%60, 2)
}

// appendDigits appends v (≥ 0) in exactly n digits, zero-padded.
func appendDigits(b []byte, v, n int) []byte {
	var buf [9]byte
	for i := n - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, buf[:n]...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as encoding/json writes a string: HTML
// characters, U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// errSlow sends a line to encoding/json.
var errSlow = errors.New("not on the fast path")

// lexer reads the JSON of one event line.
type lexer struct {
	b []byte
	i int
	// in interns short strings (labels, policies, causes, reasons): a
	// trace repeats them on every line.
	in *interner
}

// interner hands out one copy of each short string it has seen, up to a
// bound, so that 100k events do not hold 100k copies of "v0.12".
type interner struct{ m map[string]string }

const (
	internMaxLen   = 96
	internMaxCount = 1 << 14
)

func (in *interner) get(b []byte) string {
	if in == nil || len(b) > internMaxLen {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if in.m == nil {
		in.m = make(map[string]string)
	}
	if len(in.m) < internMaxCount {
		in.m[s] = s
	}
	return s
}

func (l *lexer) ws() {
	for l.i < len(l.b) {
		switch l.b[l.i] {
		case ' ', '\t', '\n', '\r':
			l.i++
		default:
			return
		}
	}
}

func (l *lexer) byte(c byte) bool {
	l.ws()
	if l.i < len(l.b) && l.b[l.i] == c {
		l.i++
		return true
	}
	return false
}

// str reads a string without escapes, valid UTF-8 and no control
// characters; anything else is errSlow.
func (l *lexer) str() (string, error) {
	raw, err := l.rawStr()
	if err != nil {
		return "", err
	}
	return l.in.get(raw), nil
}

func (l *lexer) rawStr() ([]byte, error) {
	l.ws()
	if l.i >= len(l.b) || l.b[l.i] != '"' {
		return nil, errSlow
	}
	start := l.i + 1
	ascii := true
	for j := start; j < len(l.b); j++ {
		c := l.b[j]
		switch {
		case c == '"':
			l.i = j + 1
			s := l.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, errSlow
			}
			return s, nil
		case c == '\\' || c < 0x20:
			return nil, errSlow
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, errSlow
}

// rawObject reads a JSON object with no space in it and plain strings
// (no escapes) and returns a copy of its bytes; anything else is errSlow.
func (l *lexer) rawObject() (json.RawMessage, error) {
	l.ws()
	if l.i >= len(l.b) || l.b[l.i] != '{' {
		return nil, errSlow
	}
	start, depth, in := l.i, 0, false
	for j := start; j < len(l.b); j++ {
		c := l.b[j]
		switch {
		case in:
			if c == '"' {
				in = false
			} else if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
				return nil, errSlow
			}
		case c == '"':
			in = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				raw := l.b[start : j+1]
				if !plainJSON(raw) {
					return nil, errSlow
				}
				l.i = j + 1
				return append(json.RawMessage(nil), raw...), nil
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return nil, errSlow
		}
	}
	return nil, errSlow
}

// duration reads a time.Duration written as its nanoseconds.
func (l *lexer) duration() (int64, error) {
	neg := l.byte('-')
	v, err := l.uint()
	if err != nil || v > 1<<62 {
		return 0, errSlow
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

func (l *lexer) uint() (uint64, error) {
	l.ws()
	start := l.i
	for l.i < len(l.b) && l.b[l.i] >= '0' && l.b[l.i] <= '9' {
		l.i++
	}
	n := l.i - start
	if n == 0 || n > 18 || n > 1 && l.b[start] == '0' {
		return 0, errSlow
	}
	if l.i < len(l.b) && (l.b[l.i] == '.' || l.b[l.i] == 'e' || l.b[l.i] == 'E') {
		return 0, errSlow
	}
	v, err := strconv.ParseUint(string(l.b[start:l.i]), 10, 64)
	if err != nil {
		return 0, errSlow
	}
	return v, nil
}

func (l *lexer) int() (int, error) {
	neg := l.byte('-')
	v, err := l.uint()
	if err != nil || v > 1<<31 {
		return 0, errSlow
	}
	if neg {
		return -int(v), nil
	}
	return int(v), nil
}

func (l *lexer) bool() (bool, error) {
	l.ws()
	rest := l.b[l.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		l.i += 4
		return true, nil
	case len(rest) >= 5 && string(rest[:5]) == "false":
		l.i += 5
		return false, nil
	}
	return false, errSlow
}

func (l *lexer) time() (time.Time, error) {
	l.ws()
	start := l.i
	if _, err := l.rawStr(); err != nil {
		return time.Time{}, err
	}
	var t time.Time
	if err := t.UnmarshalJSON(l.b[start:l.i]); err != nil {
		return time.Time{}, errSlow
	}
	return t, nil
}

// object reads the members of an object, calling member for each key.
func (l *lexer) object(member func(key []byte) error) error {
	if !l.byte('{') {
		return errSlow
	}
	if l.byte('}') {
		return nil
	}
	for {
		key, err := l.rawStr()
		if err != nil {
			return err
		}
		if !l.byte(':') {
			return errSlow
		}
		if err := member(key); err != nil {
			return err
		}
		if l.byte(',') {
			continue
		}
		if l.byte('}') {
			return nil
		}
		return errSlow
	}
}

// decodeEvent reads an event line on the fast path, or says errSlow.
func decodeEvent(b []byte, ev *Event, in *interner) error {
	l := lexer{b: b, in: in}
	var err error
	str := func(dst *string) error {
		*dst, err = l.str()
		return err
	}
	err = l.object(func(key []byte) error {
		switch string(key) {
		case "type":
			s, err := l.str()
			if err != nil || s != TypeEvent {
				return errSlow
			}
			return nil
		case "device":
			ev.Device, err = l.int()
			return err
		case "seq":
			ev.Seq, err = l.uint()
			return err
		case "at":
			ev.At, err = l.time()
			return err
		case "kind":
			raw, err := l.rawStr()
			if err != nil {
				return err
			}
			k, ok := authstate.ParseKind(string(raw))
			if !ok {
				return errSlow
			}
			ev.Kind = k
			return nil
		case "policy":
			return str(&ev.Policy)
		case "session":
			return str(&ev.Session)
		case "sessionId":
			return str(&ev.SessionID)
		case "from":
			return str(&ev.From)
		case "fetch":
			ev.Fetch, err = l.int()
			return err
		case "owner":
			ev.Owner, err = l.int()
			return err
		case "call":
			return str(&ev.Call)
		case "force":
			ev.Force, err = l.bool()
			return err
		case "cause":
			return str(&ev.Cause)
		case "stale":
			ev.Stale, err = l.bool()
			return err
		case "source":
			return str(&ev.Source)
		case "reason":
			return str(&ev.Reason)
		case "detail":
			return str(&ev.Detail)
		case "poll":
			ev.Poll, err = l.int()
			return err
		case "observed":
			if ev.Observed == nil {
				ev.Observed = new(authstate.Session)
			}
			o := ev.Observed
			return l.object(func(key []byte) error {
				switch string(key) {
				case "id":
					return str(&o.ID)
				case "userId":
					return str(&o.UserID)
				case "email":
					return str(&o.Email)
				case "expiresAt":
					o.ExpiresAt, err = l.time()
					return err
				case "createdAt":
					o.CreatedAt, err = l.time()
					return err
				}
				return errSlow
			})
		case "fetcher":
			ev.Fetcher, err = l.int()
			return err
		case "effect":
			return str(&ev.Effect)
		case "why":
			return str(&ev.Why)
		case "elapsed":
			var n int64
			n, err = l.duration()
			ev.Elapsed = time.Duration(n)
			return err
		case "interval":
			var n int64
			n, err = l.duration()
			ev.Interval = time.Duration(n)
			return err
		case "token":
			if ev.Token == nil {
				ev.Token = new(authstate.TokenInfo)
			}
			t := ev.Token
			return l.object(func(key []byte) error {
				switch string(key) {
				case "fingerprint":
					return str(&t.Fingerprint)
				case "session":
					return str(&t.Session)
				case "sessionId":
					return str(&t.SessionID)
				case "iat":
					t.IssuedAt, err = l.time()
					return err
				case "exp":
					t.ExpiresAt, err = l.time()
					return err
				case "verified":
					t.Verified, err = l.bool()
					return err
				case "problem":
					return str(&t.Problem)
				case "sub":
					return str(&t.Subject)
				case "iss":
					return str(&t.Issuer)
				case "aud":
					if !l.byte('[') {
						return errSlow
					}
					t.Audience = t.Audience[:0]
					if l.byte(']') {
						return nil
					}
					for {
						a, err := l.str()
						if err != nil {
							return err
						}
						t.Audience = append(t.Audience, a)
						if l.byte(']') {
							return nil
						}
						if !l.byte(',') {
							return errSlow
						}
					}
				case "header":
					t.Header, err = l.rawObject()
					return err
				case "claims":
					t.Claims, err = l.rawObject()
					return err
				}
				return errSlow
			})
		case "convex":
			if ev.Convex == nil {
				ev.Convex = new(authstate.ConvexFlags)
			}
			c := ev.Convex
			return l.object(func(key []byte) error {
				switch string(key) {
				case "isLoading":
					c.Loading, err = l.bool()
				case "isAuthenticated":
					c.Authenticated, err = l.bool()
				case "queryFailing":
					c.Failing, err = l.bool()
				default:
					return errSlow
				}
				return err
			})
		}
		return errSlow
	})
	if err != nil {
		return err
	}
	l.ws()
	if l.i != len(l.b) {
		return errSlow
	}
	return nil
}
