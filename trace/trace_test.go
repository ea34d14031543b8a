package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/internal/secretscan"
)

// A trace written by Writer reads back with the same header and the same
// events, in order, with their devices; redaction leaves an engine's
// events (which hold no secret) as they were.
func TestWriteReadRoundTrip(t *testing.T) {
	evs := recordedEvents(t)
	var buf bytes.Buffer
	h := testHeader()
	h.Devices = 2
	h.Options = map[string]string{"poll": "2s"}
	w := NewWriter(&buf, h, Options{})
	in := []byte(`{"action":"change_password","revokeOthers":true}`)
	if err := w.Input(1, start, 1, "action", in); err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if err := w.Event(1, ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, ev := range evs[:3] {
		if err := w.Event(2, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := w.Lines(), 2+len(evs)+3; got != want {
		t.Fatalf("Lines() = %d, want %d", got, want)
	}
	tr := mustRead(t, buf.Bytes())
	if len(tr.Problems) > 0 {
		t.Fatalf("problems: %v", tr.Problems)
	}
	want := h
	want.Type, want.Version = TypeHeader, Version
	if !reflect.DeepEqual(tr.Header, want) {
		t.Fatalf("header read back as\n%+v\nwritten\n%+v", tr.Header, want)
	}
	if len(tr.Entries) != 1+len(evs)+3 {
		t.Fatalf("%d entries", len(tr.Entries))
	}
	first := tr.Entries[0]
	if first.Input == nil || first.Line != 2 || first.Input.Kind != "action" || string(first.Input.Data) != `{"action":"change_password","revokeOthers":true}` || !first.Input.At.Equal(start) {
		t.Fatalf("input read back as %+v", first.Input)
	}
	all := tr.Events()
	sameEvents(t, all[:len(evs)], evs, 1)
	sameEvents(t, all[len(evs):], evs[:3], 2)
	// json.Marshal of an Event is its line, device included.
	if b, err := json.Marshal(all[len(all)-1]); err != nil || string(b) != lines(buf.String())[len(lines(buf.String()))-1] {
		t.Fatalf("json.Marshal(Event) = %s, %v", b, err)
	}
	// Line numbers count from the header.
	if tr.Entries[5].Line != 7 {
		t.Fatalf("entry 5 is on line %d", tr.Entries[5].Line)
	}
	// The event lines say device 2 only for device 2, and carry the type.
	lines := lines(buf.String())
	if strings.Contains(lines[2], `"device"`) || !strings.HasPrefix(lines[2], `{"type":"event",`) || !strings.Contains(lines[len(lines)-1], `"device":2`) {
		t.Fatalf("event lines:\n%s\n%s", lines[2], lines[len(lines)-1])
	}
}

// The rule: a trace never holds a password, a session token or a
// cookie value; a JWT is its header and claims without the signature,
// plus its fingerprint.
func TestRedactionKeepsSecretsOutOfTheFile(t *testing.T) {
	jwt, jh, jc, sig := testJWT(t)
	const (
		password = "correct-horse-battery-staple"
		session  = "Qm9vQm9vU2Vzc2lvblRva2Vu.c2lnbmF0dXJlLXBhcnQ"
		cookieV  = "cookie-value-7c1e9b2d4f"
		opaque   = "opaque-bearer-5566778899"
	)
	fp := (&authstate.Token{Raw: jwt}).Fingerprint()
	evs := []authstate.Event{
		{Seq: 1, At: start, Kind: authstate.KindNote, Detail: "sign in with password=" + password + " failed"},
		{Seq: 2, At: start, Kind: authstate.KindNote, Detail: "Set-Cookie: better-auth.session_token=" + session + "; Path=/; HttpOnly"},
		{Seq: 3, At: start, Kind: authstate.KindNote, Reason: "Cookie: better-auth.session_token=" + session + "; other=" + cookieV},
		{Seq: 4, At: start, Kind: authstate.KindFetchResolved, Detail: "got token " + jwt + " for S1", Token: &authstate.TokenInfo{Fingerprint: fp, Session: "S1", Problem: "Bearer " + jwt}},
		{Seq: 5, At: start, Kind: authstate.KindActionFailed, Detail: `server said {"password":"` + password + `","token":"` + session + `"}`},
		{Seq: 6, At: start, Kind: authstate.KindNote, Detail: "authorization: Bearer " + opaque},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, testHeader(), Options{Scrub: []string{password}})
	for _, ev := range evs {
		w.Event(1, ev)
	}
	w.Input(7, start, 1, "sign_in", []byte(`{"email":"alice@example.com","password":"`+password+`"}`))
	w.Input(8, start, 1, "fetch_done", []byte(`{"jwt":"`+jwt+`","cookie":"better-auth.session_token=`+session+`","sessionToken":"`+session+`"}`))
	w.Input(9, start, 2, "note", []byte(`{"text":"the user typed `+password+` somewhere"}`))
	w.Input(10, start, 1, "raw", []byte(`not json: token=`+session))
	w.Input(11, start, 1, "refresh", []byte(`{"refreshToken":"`+opaque+`","tokenCount":3}`))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	file := buf.String()
	for name, secret := range map[string]string{"password": password, "session token": session, "cookie value": cookieV, "JWT signature": sig, "complete JWT": jwt, "opaque bearer token": opaque} {
		if strings.Contains(file, secret) {
			t.Errorf("the trace holds the %s:\n%s", name, file)
		}
	}
	if fs := secretscan.Data("trace", buf.Bytes(), []secretscan.Secret{{Name: "the password", Value: password}, {Name: "the session token", Value: session}, {Name: "the cookie value", Value: cookieV}, {Name: "the bearer token", Value: opaque}}); len(fs) > 0 {
		t.Errorf("secretscan: %v", fs)
	}
	if ContainsJWT(file) || !ContainsJWT("Authorization: Bearer "+jwt) {
		t.Errorf("ContainsJWT: the file %v, the JWT %v", ContainsJWT(file), ContainsJWT(jwt))
	}
	for _, keep := range []string{jh + "." + jc + "." + SignatureRemoved + fp + ")", "S1", "better-auth.session_token=" + Redacted, "Path=/"} {
		if !strings.Contains(file, keep) {
			t.Errorf("the trace lost %q:\n%s", keep, file)
		}
	}
	tr := mustRead(t, buf.Bytes())
	if len(tr.Problems) > 0 || len(tr.Entries) != 11 {
		t.Fatalf("read back: %d entries, problems %v", len(tr.Entries), tr.Problems)
	}
	var data map[string]string
	if err := json.Unmarshal(tr.Entries[7].Input.Data, &data); err != nil {
		t.Fatal(err)
	}
	if data["jwt"] != jh+"."+jc+"."+SignatureRemoved+fp+")" || data["sessionToken"] != Redacted || data["cookie"] != Redacted {
		t.Fatalf("input data read back as %v", data)
	}
}

// --record-secrets keeps raw JWTs, says so in the header, and still
// never writes a password or a cookie value; --demo masks emails and ids
// too, inside the JWT's claims as well.
func TestRedactionSecretsAndDemo(t *testing.T) {
	jwt, _, jc, sig := testJWT(t)
	const password = "correct-horse-battery-staple"
	ev := authstate.Event{Seq: 1, At: start, Kind: authstate.KindNote, SessionID: "sess_9d8e7f6a", Detail: "token " + jwt + " for alice@example.com, session sess_9d8e7f6a; cookie=abcdef123456", Token: &authstate.TokenInfo{SessionID: "sess_9d8e7f6a"}}

	file := string(writeTrace(t, testHeader(), Options{Secrets: true, Scrub: []string{password}}, []authstate.Event{ev, {Seq: 2, At: start, Kind: authstate.KindNote, Detail: "password " + password}}))
	if !strings.Contains(file, jwt) || strings.Contains(file, password) || strings.Contains(file, "abcdef123456") {
		t.Fatalf("secrets trace:\n%s", file)
	}
	tr := mustRead(t, []byte(file))
	if !tr.Header.Secrets || tr.Header.Warning == "" {
		t.Fatalf("header %+v", tr.Header)
	}

	real := testHeader()
	real.Target = Target{Kind: "url", Host: "auth.acme-corp.example:443"}
	file = string(writeTrace(t, real, Options{Demo: true}, []authstate.Event{ev}))
	for _, hidden := range []string{"alice@example.com", "sess_9d8e7f6a", "user_7f3a9c", sig, jc, "acme-corp"} {
		if strings.Contains(file, hidden) {
			t.Errorf("demo trace holds %q:\n%s", hidden, file)
		}
	}
	tr = mustRead(t, []byte(file))
	if !tr.Header.Demo || !strings.Contains(tr.Entries[0].Event.Detail, "a•••@•••") || tr.Entries[0].Event.SessionID != demoMask || tr.Entries[0].Event.Token.SessionID != demoMask {
		t.Fatalf("demo event read back as %+v", tr.Entries[0].Event)
	}
}

// Ordinary text is left alone: no false JWTs in versions or dotted
// names, no redaction of words that merely mention a token.
func TestRedactLeavesOrdinaryTextAlone(t *testing.T) {
	for _, s := range []string{
		"cache set to S1's token: initial token (SSR)",
		"better-auth 1.6.34 with @convex-dev/better-auth 0.12.5",
		"request #2 returned a token for S2",
		"fetchToken threw (boom): nothing catches it",
		"a.b.c and eyJ.x.y",
		"token bound to an ended session",
	} {
		if got := Redact(s); got != s {
			t.Errorf("Redact(%q) = %q", s, got)
		}
	}
	jwt, _, _, _ := testJWT(t)
	once := Redact("x " + jwt + " y")
	if twice := Redact(once); twice != once {
		t.Fatalf("redaction is not stable: %q then %q", once, twice)
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(b []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(b), nil
}

// A write error is never lost: the record that met it, every later one
// and Close return it.
func TestWriterKeepsTheFirstError(t *testing.T) {
	w := NewWriter(&failWriter{}, testHeader(), Options{})
	var err error
	for i := range 2000 { // more than the buffer holds
		if err = w.Event(1, authstate.Event{Seq: uint64(i + 1), At: start, Kind: authstate.KindNote, Detail: strings.Repeat("x", 100)}); err != nil {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Event: %v", err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Close: %v", err)
	}
	// A small trace fails at Close, when the buffer is flushed.
	w = NewWriter(&failWriter{}, testHeader(), Options{})
	if err := w.Event(1, authstate.Event{Seq: 1, At: start, Kind: authstate.KindNote}); err != nil {
		t.Fatalf("buffered Event: %v", err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close lost the write error")
	}
	if err := w.Event(1, authstate.Event{Seq: 2, At: start, Kind: authstate.KindNote}); err == nil {
		t.Fatal("Event after a failed Close: no error")
	}
	w = NewWriter(&bytes.Buffer{}, testHeader(), Options{})
	w.Close()
	if err := w.Event(1, authstate.Event{Seq: 1, At: start, Kind: authstate.KindNote}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Event after Close: %v", err)
	}
}

// Devices record through one Writer at once: every line is whole and each
// device's events keep their order.
func TestWriterConcurrentDevices(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, testHeader(), Options{})
	const per = 500
	var wg sync.WaitGroup
	for d := 1; d <= 3; d++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= per; i++ {
				w.Event(d, authstate.Event{Seq: uint64(i), At: start, Kind: authstate.KindNote, Detail: fmt.Sprintf("device %d event %d", d, i)})
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tr := mustRead(t, buf.Bytes())
	if len(tr.Problems) > 0 || len(tr.Entries) != 3*per {
		t.Fatalf("%d entries, problems %v", len(tr.Entries), tr.Problems)
	}
	next := map[int]uint64{1: 1, 2: 1, 3: 1}
	for _, ev := range tr.Events() {
		d := ev.DeviceNumber()
		if ev.Seq != next[d] || ev.Detail != fmt.Sprintf("device %d event %d", d, ev.Seq) {
			t.Fatalf("device %d: event %d (%q), want %d", d, ev.Seq, ev.Detail, next[d])
		}
		next[d]++
	}
}

// Seeking: the index finds the violations and flicker windows, and the
// events before any entry, without a scan.
func TestIndexSeeks(t *testing.T) {
	var evs []authstate.Event
	at := start
	for i := 1; i <= 100; i++ {
		ev := authstate.Event{Seq: uint64(i), At: at, Kind: authstate.KindNote}
		switch i {
		case 10, 50:
			ev.Kind = authstate.KindViolation
		case 30:
			ev.Kind, ev.Reason = authstate.KindFlicker, "open"
		case 31:
			ev.Kind, ev.Reason = authstate.KindFlicker, "closed"
		}
		evs = append(evs, ev)
		at = at.Add(time.Second)
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, testHeader(), Options{})
	w.Input(1, start, 1, "action", []byte(`{}`)) // entry 0 is an input
	for _, ev := range evs {
		w.Event(1, ev)
	}
	w.Close()
	tr := mustRead(t, buf.Bytes())
	if got := tr.Violations(); !reflect.DeepEqual(got, []int{10, 50}) {
		t.Fatalf("violations at entries %v", got)
	}
	if got := tr.Flickers(); !reflect.DeepEqual(got, []int{30}) {
		t.Fatalf("flickers at entries %v", got)
	}
	for _, c := range []struct{ from, next, prev int }{{0, 10, -1}, {10, 30, -1}, {11, 30, 10}, {30, 50, 10}, {50, -1, 30}, {100, -1, 50}} {
		if n, p := tr.NextMark(c.from), tr.PrevMark(c.from); n != c.next || p != c.prev {
			t.Errorf("from entry %d: next %d prev %d, want %d %d", c.from, n, p, c.next, c.prev)
		}
	}
	before := tr.EventsBefore(11)
	if len(before) != 10 || before[9].Kind != authstate.KindViolation || tr.EventCount(101) != 100 {
		t.Fatalf("EventsBefore(11): %d events", len(before))
	}
	if i := tr.EntryAt(start.Add(41500 * time.Millisecond)); i != 43 {
		t.Fatalf("EntryAt(+41.5s) = %d, want 43 (event 43, at +42s)", i)
	}
	// A Trace built by hand is indexed on first use.
	hand := &Trace{Entries: tr.Entries}
	if got := hand.Violations(); !reflect.DeepEqual(got, []int{10, 50}) || len(hand.EventsBefore(200)) != 100 {
		t.Fatalf("hand-built trace: violations %v", got)
	}
}

// FuzzRedact: no complete JWT survives redaction, and redacting twice
// changes nothing more.
func FuzzRedact(f *testing.F) {
	jwt, _, _, _ := testJWT(f)
	for _, s := range []string{jwt, "x" + jwt + ".more", "Cookie: a=b; better-auth.session_token=" + jwt, "Bearer " + jwt, `{"password":"pw","token":"t"}`, "alice@example.com " + jwt} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, demo bool) {
		o := Options{Demo: demo}
		once := RedactWith(s, o)
		if ContainsJWT(once) {
			t.Fatalf("a JWT survived: %q -> %q", s, once)
		}
		if twice := RedactWith(once, o); twice != once && !demo {
			t.Fatalf("not stable: %q -> %q -> %q", s, once, twice)
		}
	})
}

func lines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

// Every line a Writer writes can be read back: a huge string is cut (and
// says so), huge input data is replaced by a note, and nothing of a
// secret at the cut is left.
func TestWriterCutsHugeStrings(t *testing.T) {
	jwt, _, _, sig := testJWT(t)
	huge := strings.Repeat("\x01é", MaxString) + " " + jwt
	nearCut := strings.Repeat("x", MaxString-20) + " " + jwt
	var buf bytes.Buffer
	w := NewWriter(&buf, testHeader(), Options{})
	w.Event(1, authstate.Event{Seq: 1, At: start, Kind: authstate.KindNote, Detail: huge, Reason: nearCut})
	many, _ := json.Marshal(map[string][]string{"parts": slices.Repeat([]string{strings.Repeat("a", 10<<10)}, 40)})
	w.Input(2, start, 1, "big", many)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), sig) {
		t.Fatal("the signature of a JWT at the cut was written")
	}
	tr := mustRead(t, buf.Bytes())
	if len(tr.Problems) > 0 || len(tr.Entries) != 2 {
		t.Fatalf("%d entries, problems %v", len(tr.Entries), tr.Problems)
	}
	ev := tr.Entries[0].Event
	if len(ev.Detail) > MaxString+40 || !strings.HasSuffix(ev.Detail, "bytes cut)") || !utf8.ValidString(ev.Detail) {
		t.Fatalf("detail of %d bytes ends %q", len(ev.Detail), ev.Detail[len(ev.Detail)-30:])
	}
	if !strings.Contains(string(tr.Entries[1].Input.Data), "not kept") {
		t.Fatalf("input data %.80s", tr.Entries[1].Input.Data)
	}
	if again := RedactWith(ev.Detail, Options{}); again != ev.Detail {
		t.Fatal("a cut string is cut again when written again")
	}
}

// Input data that the writer keeps as it is (the fast path) is exactly
// what the full redaction would write; data holding a secret, a JWT, an
// escape or a line break takes the full path.
func TestPlainInputDataIsWhatRedactionWrites(t *testing.T) {
	jwt, _, _, _ := testJWT(t)
	var plain, full [][]byte
	for _, in := range []authstate.Input{
		authstate.FetchCall{Name: "call3", Cause: "key t", Seq: 3}, authstate.PollTick{Timer: 4}, authstate.Hold{What: "none"},
		authstate.DoAction{Action: authstate.ActionSignOut, Signal: true}, authstate.Advance{By: time.Minute},
		authstate.InjectFault{Endpoint: "get-session", Status: 503},
		authstate.SessionPolled{Call: 2, Poll: 1, Session: &authstate.Session{ID: "s1", UserID: "u1", Email: "a@example.com", ExpiresAt: start, CreatedAt: start}},
	} {
		_, data, err := authstate.EncodeInput(in)
		if err != nil {
			t.Fatal(err)
		}
		plain = append(plain, data)
	}
	full = append(full,
		[]byte(`{"note":"got `+jwt+`"}`), []byte(`{"password":"x"}`), []byte(`{"a":"b\u0041"}`), []byte("{\"a\":\n1}"),
		[]byte(`{"a":"correct-horse-battery"}`), []byte(`{"sessionToken":"abc"}`), []byte(`{"a":"Bearer abc"}`), []byte(`not json`))
	r := newRedactor(Options{Scrub: []string{"correct-horse-battery"}})
	for _, b := range plain {
		if !r.plainData(b) {
			t.Errorf("%s takes the full path", b)
		}
		var got, want any
		json.Unmarshal(r.data(b), &got)
		json.Unmarshal(r.fullData(b), &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: kept as %v, the full redaction writes %v", b, got, want)
		}
	}
	for _, b := range full {
		if r.plainData(b) {
			t.Errorf("%s is kept as it is", b)
		}
	}
	if demo := newRedactor(Options{Demo: true}); demo.plainData(plain[0]) {
		t.Error("demo data is kept as it is")
	}
}

// Under --demo an input's session is masked like an event's: its id, user
// id and email.
func TestDemoMasksInputs(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, testHeader(), Options{Demo: true})
	kind, data, err := authstate.EncodeInput(authstate.SessionPolled{Call: 1, Poll: 1, Session: &authstate.Session{ID: "sess-8f2a61", UserID: "user-77c1d0", Email: "alice@example.com", ExpiresAt: start, CreatedAt: start}})
	if err != nil {
		t.Fatal(err)
	}
	w.Input(1, start, 1, kind, data)
	w.Close()
	for _, secret := range []string{"sess-8f2a61", "user-77c1d0", "alice@example.com"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the demo trace holds %q:\n%s", secret, buf.String())
		}
	}
	if !strings.Contains(buf.String(), "a•••@•••") {
		t.Errorf("no masked email:\n%s", buf.String())
	}
}
