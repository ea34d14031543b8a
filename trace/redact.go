package trace

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/authscope/authscope/authstate"
)

// Options say how a Writer redacts what it writes.
type Options struct {
	// Demo also masks emails and session and user ids, as the TUI's
	// --demo does on screen.
	Demo bool
	// Secrets keeps raw JWTs (--record-secrets). Passwords, session
	// tokens and cookie values are redacted all the same.
	Secrets bool
	// Scrub lists values that must never be written, wherever they appear
	// (the password and the session cookie the program was given). Values
	// shorter than 4 bytes are ignored.
	Scrub []string
}

// Redacted is what replaces a secret value.
const Redacted = "[redacted]"

// demoMask is what the TUI shows for a masked id in demo mode.
const demoMask = "••••••"

// SecretsWarning is the header's warning when raw JWTs were kept.
const SecretsWarning = "this trace holds raw JWTs (--record-secrets): anyone who has it can use them until they expire; do not share it"

// redactor applies Options to strings, events and input data. It is not
// safe for concurrent use: the Writer holds it under its lock.
type redactor struct {
	opts  Options
	scrub []string
	// ids are the session and user ids seen in demo mode: they are masked
	// wherever they appear in text too.
	ids map[string]bool
	// done remembers what short strings became: events repeat their
	// labels, causes and details, and a lookup is cheaper than a scan.
	done map[string]string
	// raw remembers what decoded JWT headers and claims became (not in
	// demo mode): every event about a token carries them again.
	raw map[string]json.RawMessage
	// plainRaw holds the results of rawJSON that are plain JSON (see
	// plainJSON), by their first byte and length.
	plainRaw map[rawKey]bool
}

type rawKey struct {
	p *byte
	n int
}

// plain reports whether raw is a result of rawJSON known to be plain.
func (r *redactor) plain(raw []byte) bool {
	return len(raw) > 0 && r.plainRaw[rawKey{&raw[0], len(raw)}]
}

const (
	doneMaxLen   = 256
	doneMaxCount = 8192
)

func newRedactor(o Options) *redactor {
	r := &redactor{opts: o}
	for _, s := range o.Scrub {
		if len(s) >= 4 {
			r.scrub = append(r.scrub, s)
		}
	}
	if o.Demo {
		r.ids = make(map[string]bool)
	}
	return r
}

// Redact applies the default rules (no demo, no raw JWTs) to one string:
// cookie values, session tokens, passwords and bearer tokens are replaced
// by [redacted], a JWT by its header and claims and its fingerprint.
func Redact(s string) string { return newRedactor(Options{}).str(s) }

// RedactWith applies o to one string.
func RedactWith(s string, o Options) string { return newRedactor(o).str(s) }

// MaxString bounds a string a Writer writes: a longer one keeps its
// first MaxString bytes and says how much was cut, so that every line
// stays well under the reader's MaxLine.
const MaxString = 16 << 10

// cutSlack lets a string that was cut once (its note makes it a little
// longer than MaxString) pass unchanged when it is written again.
const cutSlack = 64

// cut shortens s to MaxString bytes (at a rune boundary) and says so.
func cut(s string) string {
	if len(s) <= MaxString+cutSlack {
		return s
	}
	n := MaxString
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf("… (%d bytes cut)", len(s)-n)
}

// str redacts one string.
func (r *redactor) str(s string) string {
	if s == "" {
		return s
	}
	if len(s) > MaxString+cutSlack {
		// Redact first: a cut must not leave half a secret behind.
		return cut(r.scan(s))
	}
	if len(s) > doneMaxLen {
		return r.scan(s) // not memoised
	}
	if v, ok := r.done[s]; ok {
		return v
	}
	v := r.scan(s)
	if r.done == nil {
		r.done = make(map[string]string)
	}
	if len(r.done) < doneMaxCount {
		r.done[s] = v
	}
	return v
}

// scan redacts one string, without the memo.
func (r *redactor) scan(s string) string {
	for _, v := range r.scrub {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	if mayHavePairs(s) {
		s = redactPairs(s)
	}
	if !r.opts.Secrets && strings.IndexByte(s, '.') >= 0 && (strings.Contains(s, "ey") || strings.Contains(s, "ew")) {
		s = r.jwts(s)
	}
	if r.opts.Demo {
		if strings.IndexByte(s, '@') >= 0 {
			s = maskEmails(s)
		}
		for id := range r.ids {
			if strings.Contains(s, id) {
				s = strings.ReplaceAll(s, id, demoMask)
			}
		}
	}
	return s
}

// id masks a session or user id in demo mode and remembers it, so that it
// is masked in text as well.
func (r *redactor) id(s string) string {
	if s == "" {
		return s
	}
	if r.opts.Demo {
		if len(s) >= 4 && !r.ids[s] {
			r.ids[s] = true
			clear(r.done) // a string seen before may hold the new id
		}
		return demoMask
	}
	return r.str(s)
}

// event returns a redacted copy of ev.
func (r *redactor) event(ev authstate.Event) authstate.Event {
	ev.SessionID = r.id(ev.SessionID)
	ev.Session = r.str(ev.Session)
	ev.From = r.str(ev.From)
	ev.Call = r.str(ev.Call)
	ev.Cause = r.str(ev.Cause)
	ev.Source = r.str(ev.Source)
	ev.Reason = r.str(ev.Reason)
	ev.Detail = r.str(ev.Detail)
	ev.Policy = r.str(ev.Policy)
	ev.Token = r.token(ev.Token)
	ev.Effect = r.str(ev.Effect)
	ev.Why = r.str(ev.Why)
	if ev.Observed != nil {
		o := *ev.Observed
		o.ID = r.id(o.ID)
		o.UserID = r.id(o.UserID)
		o.Email = r.str(o.Email)
		ev.Observed = &o
	}
	if ev.Client != nil {
		c := *ev.Client
		c.AuthState = r.str(c.AuthState)
		c.Socket = r.str(c.Socket)
		c.Auth = r.token(c.Auth)
		if c.LastResult != nil {
			q := *c.LastResult
			q.AuthError, q.Error, q.Value = r.str(q.AuthError), r.str(q.Error), r.str(q.Value)
			c.LastResult = &q
		}
		ev.Client = &c
	}
	return ev
}

// token redacts what an event says about a token: its decoded header and
// claims go through the same rules as an input's data.
func (r *redactor) token(in *authstate.TokenInfo) *authstate.TokenInfo {
	if in == nil {
		return nil
	}
	t := *in
	t.SessionID = r.id(t.SessionID)
	t.Session = r.str(t.Session)
	t.Fingerprint = r.str(t.Fingerprint)
	t.Problem = r.str(t.Problem)
	t.Subject = r.id(t.Subject)
	t.Issuer = r.str(t.Issuer)
	if len(t.Audience) > 0 {
		aud := make([]string, len(t.Audience))
		for i, a := range t.Audience {
			aud[i] = r.str(a)
		}
		t.Audience = aud
	}
	t.Header = r.rawJSON(t.Header)
	t.Claims = r.rawJSON(t.Claims)
	return &t
}

// rawJSON redacts b like an input's data, and keeps b as it was (its key
// order, its spacing) when redaction changed nothing.
func (r *redactor) rawJSON(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return b
	}
	if !r.opts.Demo {
		if red, ok := r.raw[string(b)]; ok {
			return red
		}
	}
	red := r.redactRaw(b)
	if !r.opts.Demo && len(b) <= rawMemoMaxLen {
		if r.raw == nil || len(r.raw) >= rawMemoMax {
			r.raw = make(map[string]json.RawMessage)
			r.plainRaw = make(map[rawKey]bool)
		}
		r.raw[string(b)] = red
		if len(red) > 0 && plainJSON(red) {
			r.plainRaw[rawKey{&red[0], len(red)}] = true
		}
	}
	return red
}

// Bounds of the memo of rawJSON.
const (
	rawMemoMax    = 1024
	rawMemoMaxLen = 4096
)

func (r *redactor) redactRaw(b json.RawMessage) json.RawMessage {
	red := r.data(b)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) == nil {
		if same, err := json.Marshal(v); err == nil && bytes.Equal(same, red) {
			return b
		}
	}
	return red
}

// secretKey says whether a JSON key names a value that is always
// redacted: a password, a cookie, a session token, a secret.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"password", "cookie", "secret", "authorization", "session_token", "sessiontoken", "session-token"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// idKey says whether a JSON key holds an id masked in demo mode.
func idKey(k string) bool {
	switch strings.ToLower(k) {
	case "id", "sessionid", "session_id", "userid", "user_id", "sub", "subject":
		return true
	}
	return false
}

// data redacts an input's JSON: secret keys lose their values, strings
// are redacted, and the field jwt is a JWT like any other. Data that is
// not JSON is kept as a (redacted) JSON string, so the line stays valid.
func (r *redactor) data(b []byte) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if r.plainData(b) {
		return b
	}
	return r.fullData(b)
}

// fullData is data's full redaction: decoded, every value redacted by
// its key and its text, encoded again.
func (r *redactor) fullData(b []byte) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		out, _ := json.Marshal(r.str(string(b)))
		return out
	}
	v = r.value("", v)
	out, err := json.Marshal(v)
	if err != nil {
		out, _ = json.Marshal(Redacted)
	}
	if len(out) > MaxInput {
		out, _ = json.Marshal(map[string]string{"cut": fmt.Sprintf("input data of %d bytes not kept (over %d)", len(out), MaxInput)})
	}
	return out
}

// plainWords are the words whose presence in input data sends it through
// the full redaction: the names of secret keys and pairs.
var plainWords = []string{"password", "cookie", "secret", "authorization", "token", "bearer", "session_data"}

// plainData says whether b can be written as it is: one line of valid
// JSON, short, without escapes (so its strings read as they are written),
// naming no secret, and unchanged by the string rules as a whole (no JWT,
// no value to scrub). Most inputs are (timers, completions without a
// token, holds, fetch calls); the full redaction decodes and encodes the
// data, which costs ten times more.
func (r *redactor) plainData(b []byte) bool {
	if r.opts.Demo || len(b) > MaxString || bytes.ContainsAny(b, "\\\r\n") {
		return false
	}
	s := string(b)
	for _, w := range plainWords {
		if containsFold(s, w) {
			return false
		}
	}
	return json.Valid(b) && r.scan(s) == s
}

// MaxInput bounds an input's data as written (see MaxString).
const MaxInput = 256 << 10

func (r *redactor) value(key string, v any) any {
	switch x := v.(type) {
	case string:
		switch {
		case secretKey(key):
			return Redacted
		case containsFold(key, "token") && r.jwts(x) == x:
			// A token that is not a JWT (a session token, a refresh
			// token) is a secret.
			return Redacted
		case idKey(key):
			return r.id(x)
		case strings.EqualFold(key, "email") && r.opts.Demo:
			return maskEmail(x)
		}
		return r.str(x)
	case map[string]any:
		for k, e := range x {
			if secretKey(k) && e != nil {
				x[k] = Redacted
				continue
			}
			x[k] = r.value(k, e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = r.value(key, e)
		}
		return x
	}
	return v
}

// cookieNames are cookie and parameter names whose values are secrets
// wherever they appear as name=value.
var secretNames = []string{"session_token", "session_data", "convex_jwt", "password", "token", "secret", "cookie"}

// pairWords are the words without which redactPairs has nothing to do.
var pairWords = []string{"cookie", "token", "password", "secret", "bearer", "authorization", "session_data", "jwt"}

// mayHavePairs is a cheap test, without allocating, for whether
// redactPairs could change s.
func mayHavePairs(s string) bool {
	if strings.IndexByte(s, '=') < 0 && strings.IndexByte(s, ':') < 0 {
		return containsFold(s, "bearer ")
	}
	// One pass: a word can only start at one of its first letters.
	for i := 0; i < len(s); i++ {
		switch s[i] | 0x20 {
		case 'c', 't', 'p', 's', 'b', 'a', 'j':
			for _, w := range pairWords {
				if s[i]|0x20 == w[0] && hasFoldPrefix(s[i:], w) {
					return true
				}
			}
		}
	}
	return false
}

// containsFold reports whether s contains word (lower-case ASCII),
// ignoring ASCII case.
func containsFold(s, word string) bool {
	first := word[0]
	for i := 0; i+len(word) <= len(s); i++ {
		if s[i]|0x20 != first {
			continue
		}
		j := 1
		for j < len(word) && lowerASCII(s[i+j]) == word[j] {
			j++
		}
		if j == len(word) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// redactPairs replaces the values of secret name=value pairs, of Cookie
// and Set-Cookie headers, of "password": … and of bearer credentials.
func redactPairs(s string) string {
	var b strings.Builder
	last := 0 // s[:last] is in b
	replace := func(from, to int, with string) {
		b.WriteString(s[last:from])
		b.WriteString(with)
		last = to
	}
	i := 0
	for i < len(s) {
		// A Cookie or Set-Cookie header: every value up to the end of
		// the line.
		if (s[i]|0x20 == 'c' || s[i]|0x20 == 's') && (hasFoldPrefix(s[i:], "cookie:") || hasFoldPrefix(s[i:], "set-cookie:")) {
			j := i + strings.IndexByte(s[i:], ':') + 1
			end := j + lineEnd(s[j:])
			if red := redactCookieList(s[j:end]); red != s[j:end] {
				replace(j, end, red)
			}
			i = end
			continue
		}
		if s[i]|0x20 == 'b' && hasFoldPrefix(s[i:], "bearer ") && (i == 0 || !isWord(s[i-1])) {
			j := i + len("bearer ")
			end := j
			for end < len(s) && !isSpace(s[end]) && s[end] != '"' && s[end] != ',' {
				end++
			}
			if end > j && s[j:end] != Redacted {
				replace(j, end, Redacted)
			}
			i = end
			continue
		}
		// name=value or name: value or "name":"value" where name is secret.
		if isWord(s[i]) && (i == 0 || !isWord(s[i-1])) {
			j := i
			for j < len(s) && (isWord(s[j]) || s[j] == '.' || s[j] == '-') {
				j++
			}
			name := s[i:j]
			if isSecretName(name) {
				k := j
				jsonKey := i > 0 && s[i-1] == '"' && k < len(s) && s[k] == '"'
				if jsonKey {
					k++
				}
				// name=value always; name: value for a JSON key or a
				// password ("cache set to S1's token: …" is plain text).
				colonOK := jsonKey || containsFold(name, "password") || containsFold(name, "secret") || containsFold(name, "session_token")
				if k < len(s) && (s[k] == '=' || s[k] == ':' && colonOK) {
					k++
					for k < len(s) && s[k] == ' ' {
						k++
					}
					quoted := k < len(s) && s[k] == '"'
					if quoted {
						k++
					}
					end := k
					for end < len(s) && !valueEnd(s[end], quoted) {
						end++
					}
					if end > k && s[k:end] != Redacted {
						replace(k, end, Redacted)
						i = end
						continue
					}
				}
			}
			i = j
			continue
		}
		i++
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isSecretName(name string) bool {
	for _, w := range secretNames {
		if containsFold(name, w) {
			return true
		}
	}
	return false
}

// redactCookieList redacts the values of "a=1; b=2" (a Cookie header) or
// of a Set-Cookie header, keeping names and attributes readable.
func redactCookieList(s string) string {
	parts := strings.Split(s, ";")
	for i, p := range parts {
		name, _, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "path", "domain", "expires", "max-age", "samesite":
			continue
		}
		parts[i] = name + "=" + Redacted
	}
	return strings.Join(parts, ";")
}

func lineEnd(s string) int {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return i
	}
	return len(s)
}

func valueEnd(c byte, quoted bool) bool {
	if quoted {
		return c == '"'
	}
	return isSpace(c) || c == ';' || c == ',' || c == '&' || c == '"' || c == '}' || c == ')'
}

func hasFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func isWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isB64URL(c byte) bool { return isWord(c) || c == '-' }

// jwts replaces every complete JWT in s (three non-empty base64url parts,
// the first a JSON object) by RedactJWT of it.
func (r *redactor) jwts(s string) string {
	var b strings.Builder
	last := 0
	i := 0
	for i < len(s) {
		if !isB64URL(s[i]) {
			i++
			continue
		}
		// A run of base64url characters and dots.
		j := i
		for j < len(s) && (isB64URL(s[j]) || s[j] == '.') {
			j++
		}
		run := s[i:j]
		if strings.Count(run, ".") >= 2 {
			parts := strings.Split(run, ".")
			off := i
			for k := 0; k+2 < len(parts); k++ {
				if parts[k+1] != "" && parts[k+2] != "" {
					// The header may be glued to what comes before it
					// ("xeyJhbGc…"): it starts at the first place whose
					// rest decodes to a JSON object.
					if p := headerStart(parts[k]); p >= 0 {
						tok := parts[k][p:] + "." + parts[k+1] + "." + parts[k+2]
						from := off + p
						b.WriteString(s[last:from])
						b.WriteString(r.jwt(tok))
						last = from + len(tok)
						off = last + 1
						k += 2
						continue
					}
				}
				off += len(parts[k]) + 1
			}
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// headerStart is where a JWT header starts in part, or -1.
func headerStart(part string) int {
	for p := 0; p+4 <= len(part); p++ {
		if part[p] == 'e' && jsonObjectPart(part[p:]) {
			return p
		}
	}
	return -1
}

// jsonObjectPart says whether a base64url part decodes to the start of a
// JSON object with a key: a JWT's header does.
func jsonObjectPart(p string) bool {
	if len(p) < 4 || p[0] != 'e' {
		return false
	}
	head := p
	if len(head) > 8 {
		head = head[:8]
	}
	dec, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil || len(dec) < 2 || dec[0] != '{' {
		return false
	}
	// {"alg":…} (or a space first): so a header starts with "ey" or "ew".
	switch dec[1] {
	case '"', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// ContainsJWT reports whether s holds a complete JWT (three base64url
// parts, the first a JSON object): the check a test makes of every file
// the suite writes.
func ContainsJWT(s string) bool {
	r := redactor{}
	return r.jwts(s) != s
}

// RedactJWT is how a trace writes a JWT: its header and claims, the
// signature removed, and its fingerprint (the engine's
// authstate.Token.Fingerprint).
func RedactJWT(tok string) string {
	return newRedactor(Options{}).jwt(tok)
}

func (r *redactor) jwt(tok string) string {
	fp := (&authstate.Token{Raw: tok}).Fingerprint()
	head, rest, _ := strings.Cut(tok, ".")
	claims, _, _ := strings.Cut(rest, ".")
	if r.opts.Demo {
		claims = r.demoClaims(claims)
	}
	return head + "." + claims + "." + SignatureRemoved + fp + ")"
}

// SignatureRemoved starts what replaces a JWT's signature in a trace; the
// fingerprint and ")" follow.
const SignatureRemoved = "(signature removed; fingerprint "

// demoClaims masks ids and emails in a JWT's claims.
func (r *redactor) demoClaims(claims string) string {
	raw, err := base64.RawURLEncoding.DecodeString(claims)
	if err != nil {
		return "(claims masked: demo)"
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return "(claims masked: demo)"
	}
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			continue
		}
		switch {
		case idKey(k) || strings.EqualFold(k, "iss") || strings.EqualFold(k, "aud"):
			m[k] = r.id(s)
		default:
			m[k] = r.str(s)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return "(claims masked: demo)"
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

// maskEmails masks every email address in s as the TUI does: the first
// letter of the local part stays.
func maskEmails(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		start := i
		for start > last && isEmailLocal(s[start-1]) {
			start--
		}
		end := i + 1
		for end < len(s) && (isWord(s[end]) || s[end] == '-' || s[end] == '.') {
			end++
		}
		for end > i+1 && s[end-1] == '.' {
			end--
		}
		if start == i || end == i+1 || !strings.Contains(s[i+1:end], ".") {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(maskEmail(s[start:end]))
		last = end
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isEmailLocal(c byte) bool {
	return isWord(c) || c == '.' || c == '+' || c == '-' || c == '%'
}

func maskEmail(s string) string {
	local, _, ok := strings.Cut(s, "@")
	if !ok || local == "" {
		return "•••"
	}
	return string([]rune(local)[:1]) + "•••@•••"
}
