package authstate

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorded is what OnInput and OnEvent saw, in the order they saw it.
type recorded struct {
	mu      sync.Mutex
	entries []recEntry
}

type recEntry struct {
	at time.Time
	in Input  // nil for an event
	ev *Event // nil for an input
}

func (r *recorded) hook(cfg *Config) {
	cfg.OnInput = func(at time.Time, in Input) {
		r.mu.Lock()
		r.entries = append(r.entries, recEntry{at: at, in: in})
		r.mu.Unlock()
	}
	cfg.OnEvent = func(ev Event) {
		r.mu.Lock()
		r.entries = append(r.entries, recEntry{at: ev.At, ev: &ev})
		r.mu.Unlock()
	}
}

func (r *recorded) all() []recEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recEntry(nil), r.entries...)
}

// Inputs reach OnInput in the order they were sent, each before the events
// it causes, at the engine time the events then carry.
func TestInputsAppliedInOrderBeforeTheirEvents(t *testing.T) {
	var rec recorded
	h := startHarness(t, func(b *fakeBackend) Config {
		cfg := Config{Policy: "pr329"}
		rec.hook(&cfg)
		return cfg
	})
	h.e.Observe("first")
	h.e.Fetch("a", true, "test")
	h.e.RerunQuery("nothing to rerun")
	h.e.SetPollInterval(0)
	h.e.Do(ActionChangePassword, true)
	h.settle()
	h.fetch("b", false)

	got := rec.all()
	if len(got) == 0 || got[0].in != (Start{}) {
		t.Fatalf("the first thing reported is %+v, want the Start input", got[0])
	}
	var driver []Input
	var last Input
	var lastAt time.Time
	for i, en := range got {
		if en.in != nil {
			switch en.in.(type) {
			case Observe, FetchCall, RerunQuery, SetPollInterval, DoAction:
				driver = append(driver, en.in)
			}
			last, lastAt = en.in, en.at
			continue
		}
		ev := en.ev
		if !ev.At.Equal(lastAt) {
			t.Errorf("entry %d: event %s at %s, but its input %T was applied at %s", i, ev.Kind, ev.At, last, lastAt)
		}
		// Each event follows the input that caused it.
		var ok bool
		switch {
		case ev.Kind == KindFetchStarted && ev.Call == "a":
			_, ok = last.(FetchCall)
			ok = ok && last.(FetchCall).Name == "a"
		case ev.Kind == KindFetchResolved:
			tf, isTF := last.(TokenFetched)
			ok = isTF && tf.Fetch == ev.Fetch && tf.Token != nil && tf.Token.Fingerprint() == ev.Token.Fingerprint
		case ev.Kind == KindAction && strings.HasSuffix(ev.Detail, " sent"):
			_, ok = last.(DoAction)
		case ev.Kind == KindAction && strings.HasSuffix(ev.Detail, " done"):
			_, ok = last.(ActionDone)
		case ev.Kind == KindSessionRotated:
			sp, isSP := last.(SessionPolled)
			ok = isSP && sp.Session != nil && sp.Session.ID == ev.SessionID
		default:
			ok = true
		}
		if !ok {
			t.Errorf("entry %d: event %s (%s) follows input %#v", i, ev.Kind, ev.Detail, last)
		}
	}
	want := []Input{
		Observe{Cause: "first"},
		FetchCall{Name: "a", Force: true, Cause: "test", Seq: 1},
		RerunQuery{Reason: "nothing to rerun"},
		SetPollInterval{Interval: 0},
		DoAction{Action: ActionChangePassword, Signal: true},
		FetchCall{Name: "b", Cause: "test", Seq: 2},
	}
	if !reflect.DeepEqual(driver, want) {
		t.Errorf("driver inputs in the order applied:\n got %#v\nwant %#v", driver, want)
	}
	// The session signal after the action is a timer input, applied once
	// its delay has passed.
	var signal, done time.Time
	for _, en := range got {
		switch en.in.(type) {
		case ActionDone:
			done = en.at
		case SignalDue:
			signal = en.at
		}
	}
	if signal.IsZero() || signal.Sub(done) != DefaultSignalDelay {
		t.Errorf("signal due at %s, action done at %s: want %s between them", signal, done, DefaultSignalDelay)
	}
	if h.sessionOf("b") != "S2" {
		t.Errorf("call b has %s's token, want S2's after the rotation", h.sessionOf("b"))
	}
}

// Fetch returns at once, with the call's name, however busy the loop is:
// the TUI calls it from Update.
func TestFetchDoesNotWaitForTheLoop(t *testing.T) {
	h := newHarness(t, "pr329", false)
	entered, gate := make(chan struct{}), make(chan struct{})
	readDone := make(chan error, 1)
	go func() { readDone <- h.e.read(func() { close(entered); <-gate }) }()
	<-entered
	// More than the mailbox used to hold: none of them may wait.
	const n = 300
	names := make(chan []string, 1)
	go func() {
		var got []string
		for range n {
			got = append(got, h.e.Fetch("", false, "test"))
		}
		names <- got
	}()
	var got []string
	select {
	case got = <-names:
	case <-time.After(10 * time.Second):
		close(gate)
		t.Fatal("Fetch waited for a busy loop")
	}
	if got[0] != "call1" || got[n-1] != fmt.Sprintf("call%d", n) {
		t.Fatalf("names %s … %s, want call1 … call%d", got[0], got[n-1], n)
	}
	close(gate)
	if err := <-readDone; err != nil {
		t.Fatal(err)
	}
	h.settle()
	for _, name := range []string{got[0], got[n-1]} {
		if c := h.call(name); c.Token == nil {
			t.Errorf("call %s returned no token", name)
		}
	}
}

// controlled is a fake backend with transport controls: its Hold holds
// token responses, Release lets them go, InjectFault fails the next token
// request.
type controlled struct {
	*fakeBackend
	latency map[string]time.Duration
}

func (c *controlled) Hold(what string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch what {
	case "token":
		c.hold = true
	case "none":
		c.hold = false
	default:
		return fmt.Errorf("cannot hold %q", what)
	}
	return nil
}

func (c *controlled) Release(which string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.held)
	var picked []chan struct{}
	switch {
	case n == 0:
	case which == "all":
		picked, c.held = c.held, nil
	case which == "oldest":
		picked, c.held = c.held[:1], c.held[1:]
	case which == "latest":
		picked, c.held = c.held[n-1:], c.held[:n-1]
	}
	for _, g := range picked {
		close(g)
	}
	return len(picked)
}

// HeldList names the held responses by the token request they answer.
func (c *controlled) HeldList() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for i := range c.held {
		out = append(out, fmt.Sprintf("token response %d", i+1))
	}
	return out
}

func (c *controlled) InjectFault(endpoint string, status int, network bool) error {
	if endpoint != "token" {
		return fmt.Errorf("no faults for %s", endpoint)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if network {
		c.failNext = append(c.failNext, netErr{})
	} else {
		c.failNext = append(c.failNext, statusErr(status))
	}
	return nil
}

func (c *controlled) SetLatency(endpoint string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latency[endpoint] = d
}

func controlledHarness(t *testing.T, rec *recorded) (*harness, *controlled) {
	t.Helper()
	clock := NewFakeClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	b := newFakeBackend(clock)
	b.newSession()
	cb := &controlled{fakeBackend: b, latency: map[string]time.Duration{}}
	cfg := Config{Policy: "pr329"}
	if rec != nil {
		rec.hook(&cfg)
	}
	return startOn(t, b, cb, cfg), cb
}

// The hold mode, the token latency and what is held reach a viewer as
// events (the fold check compares them after every message), so a view
// of the transport reads no transport. HeldChanged says what is held; it
// is quiet: the log does not show it.
func TestTransportStateIsFolded(t *testing.T) {
	h, cb := controlledHarness(t, nil)
	if got := h.e.Snapshot().Transport; !reflect.DeepEqual(got, TransportState{Holding: "none"}) {
		t.Fatalf("at the start: %+v", got)
	}
	h.e.Send(Hold{What: "token"})
	h.e.Send(SetLatency{Endpoint: "token", Latency: 300 * time.Millisecond})
	h.e.Fetch("a", true, "test")
	h.e.Fetch("b", true, "test")
	h.settle()
	h.e.Send(HeldChanged{Items: cb.HeldList()})
	h.settle()
	want := TransportState{Holding: "token", Latency: 300 * time.Millisecond, Held: []string{"token response 1", "token response 2"}}
	if got := h.e.Snapshot().Transport; !reflect.DeepEqual(got, want) {
		t.Fatalf("holding two: %+v, want %+v", got, want)
	}
	h.e.Send(Hold{What: "none"})
	h.e.Send(Release{Which: "all"})
	h.e.Send(HeldChanged{})
	h.settle()
	want = TransportState{Holding: "none", Latency: 300 * time.Millisecond}
	if got := h.e.Snapshot().Transport; !reflect.DeepEqual(got, want) {
		t.Fatalf("after releasing: %+v, want %+v", got, want)
	}
	for _, ev := range h.e.Log().All() {
		if ev.Kind == KindHeldChanged {
			t.Errorf("held_changed in the log: %+v", ev)
		}
	}
	if _, evs := h.e.FoldChecked(); evs == 0 {
		t.Error("the fold check saw no events")
	}
}

func transportDetails(h *harness) []string {
	var out []string
	for _, ev := range h.e.Log().All() {
		if ev.Kind == KindTransport {
			out = append(out, ev.Detail)
		}
	}
	return out
}

// Holds, releases, faults and latency go through the engine, which applies
// them to its backend and says in an event what happened.
func TestTransportControlsAreEvents(t *testing.T) {
	h, cb := controlledHarness(t, nil)
	if err := h.e.Hold("token"); err != nil {
		t.Fatal(err)
	}
	h.e.Fetch("a", true, "test")
	h.e.Fetch("b", true, "test")
	h.settle()
	if n := cb.Held(); n != 2 {
		t.Fatalf("%d held, want both token responses", n)
	}
	if n := h.e.Release("oldest"); n != 1 {
		t.Fatalf("released %d, want 1", n)
	}
	h.settle()
	if err := h.e.Hold("none"); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Hold("everything"); err == nil || !strings.Contains(err.Error(), `cannot hold "everything"`) {
		t.Fatalf("holding everything: %v", err)
	}
	if n := h.e.Release("all"); n != 1 {
		t.Fatalf("released %d, want the one left", n)
	}
	h.settle()
	if n := h.e.Release("all"); n != 0 {
		t.Fatalf("released %d with nothing held", n)
	}
	if err := h.e.InjectFault("token", 500, false); err != nil {
		t.Fatal(err)
	}
	h.fetch("c", true)
	if c := h.call("c"); c.Token != nil {
		t.Errorf("call c got a token through an injected 500")
	}
	if err := h.e.InjectFault("get-session", 0, true); err == nil {
		t.Error("the fake has no get-session faults, and the engine did not say so")
	}
	if err := h.e.SetLatency("token", 200*time.Millisecond); err != nil || cb.latency["token"] != 200*time.Millisecond {
		t.Fatalf("latency: %v, %v", err, cb.latency)
	}
	h.e.SetLatency("token", 0)
	want := []string{
		"holding token responses: requests reach the server, answers wait",
		"released 1 held (oldest): token response 1",
		"stopped holding; 1 still held",
		`hold failed: cannot hold "everything"`,
		"released 1 held (all): token response 1",
		"release all: nothing held",
		"next token request fails with 500",
		"fault not injected: no faults for get-session",
		"token latency 200ms",
		"token latency off",
	}
	if got := transportDetails(h); !reflect.DeepEqual(got, want) {
		t.Errorf("transport events:\n got %q\nwant %q", got, want)
	}
}

// An engine whose backend has no controls says so, to the caller and in
// the log.
func TestTransportControlsWithoutControls(t *testing.T) {
	h := newHarness(t, "pr329", false)
	if err := h.e.Hold("token"); err != ErrNoControls {
		t.Errorf("Hold = %v, want ErrNoControls", err)
	}
	if n := h.e.Release("all"); n != 0 {
		t.Errorf("Release = %d", n)
	}
	want := []string{
		"hold token not applied: no transport controls for this target",
		"release all not applied: no transport controls for this target",
	}
	if got := transportDetails(h); !reflect.DeepEqual(got, want) {
		t.Errorf("transport events:\n got %q\nwant %q", got, want)
	}
}

// Advance moves a FakeClock on the loop: each timer that falls due is an
// input of its own, applied at its due time, after the Advance.
func TestAdvanceFiresTimersAsInputs(t *testing.T) {
	var rec recorded
	h := startHarness(t, func(b *fakeBackend) Config {
		cfg := Config{Policy: "pr329", PollInterval: 2 * time.Second}
		rec.hook(&cfg)
		return cfg
	})
	start := h.clock.Now()
	h.e.Advance(5 * time.Second)
	h.settle()
	if got := h.clock.Now().Sub(start); got != 5*time.Second {
		t.Fatalf("the clock moved %s, want 5s", got)
	}
	var ticks []time.Duration
	advanced := false
	for _, en := range rec.all() {
		switch in := en.in.(type) {
		case Advance:
			if in.By != 5*time.Second || !en.at.Equal(start) {
				t.Errorf("advance %s at %s, want 5s at the start", in.By, en.at)
			}
			advanced = true
		case PollTick:
			if !advanced {
				t.Errorf("poll tick at %s before the advance", en.at)
			}
			ticks = append(ticks, en.at.Sub(start))
		}
	}
	if want := []time.Duration{2 * time.Second, 4 * time.Second}; !reflect.DeepEqual(ticks, want) {
		t.Errorf("poll ticks at %v after the start, want %v", ticks, want)
	}
}

// Every input type has a stable lower_snake kind, and the codec table
// cannot miss one: the test reads the package's source for every type with
// an isInput method.
func TestEveryInputHasAKind(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Recv == nil || fn.Name.Name != "isInput" {
					continue
				}
				if id, ok := fn.Recv.List[0].Type.(*ast.Ident); ok {
					types = append(types, id.Name)
				}
			}
		}
	}
	if len(types) < 20 {
		t.Fatalf("found only %d input types: %v", len(types), types)
	}
	byName := map[string]string{}
	for typ, kind := range kindOfInput {
		byName[typ.Name()] = kind
	}
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	seen := map[string]bool{}
	for _, name := range types {
		kind, ok := byName[name]
		if !ok {
			t.Errorf("input type %s has no kind in inputKinds", name)
			continue
		}
		if !snake.MatchString(kind) {
			t.Errorf("kind %q of %s is not lower_snake", kind, name)
		}
		seen[kind] = true
	}
	if len(inputKinds) != len(types) || len(kindOfInput) != len(types) || len(inputOfKind) != len(types) {
		t.Errorf("%d input types, %d table rows, %d types and %d kinds in the maps: a kind or a type is listed twice", len(types), len(inputKinds), len(kindOfInput), len(inputOfKind))
	}
}

// Every input survives the codec unchanged.
func TestInputCodecRoundTrip(t *testing.T) {
	for _, k := range inputKinds {
		kind, data, err := EncodeInput(k.example)
		if err != nil {
			t.Errorf("%s: %v", k.kind, err)
			continue
		}
		if kind != k.kind {
			t.Errorf("%T encoded as kind %q, want %q", k.example, kind, k.kind)
		}
		back, err := DecodeInput(kind, data)
		if err != nil {
			t.Errorf("%s: decode %s: %v", kind, data, err)
			continue
		}
		if !reflect.DeepEqual(back, k.example) {
			t.Errorf("%s: round trip changed it:\n got %#v\nwant %#v\njson %s", kind, back, k.example, data)
		}
		// Every field is set in the examples, so every field is written.
		var obj map[string]any
		if err := json.Unmarshal(data, &obj); err != nil {
			t.Fatal(err)
		}
		if n := len(reflect.VisibleFields(reflect.TypeOf(k.example))) - unexported(reflect.TypeOf(k.example)); len(obj) != n {
			t.Errorf("%s: %d fields written, the type has %d: %s", kind, len(obj), n, data)
		}
	}
}

// A token is written with its public facts and the raw JWT in "jwt"; with
// the signature cut off, it reads back with the recorded fingerprint.
func TestInputCodecTokenFacts(t *testing.T) {
	tok := exampleToken()
	_, data, err := EncodeInput(TokenFetched{Call: 1, Fetch: 1, Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		Token map[string]any `json:"token"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"fingerprint", "session_id", "iat", "exp", "verified", "problem", "jwt"} {
		if _, ok := w.Token[f]; !ok {
			t.Errorf("token written without %q: %s", f, data)
		}
	}
	if w.Token["jwt"] != tok.Raw || w.Token["fingerprint"] != tok.Fingerprint() {
		t.Errorf("token written as %v", w.Token)
	}
	redacted := strings.Replace(string(data), tok.Raw, tok.Raw[:strings.LastIndex(tok.Raw, ".")+1], 1)
	in, err := DecodeInput("token_fetch_done", []byte(redacted))
	if err != nil {
		t.Fatal(err)
	}
	back := in.(TokenFetched).Token
	if back.Fingerprint() != tok.Fingerprint() || strings.Count(back.Raw, ".") != 2 || strings.HasSuffix(back.Raw, "c2ln") {
		t.Errorf("redacted token read back as %q, fingerprint %s (want %s)", back.Raw, back.Fingerprint(), tok.Fingerprint())
	}
}

// Bad data is an error, never a panic.
func TestDecodeInputRejectsBadData(t *testing.T) {
	for _, tc := range []struct{ kind, data string }{
		{"teleport", `{}`},
		{"fetch", `{"name": 3}`},
		{"action", `{"action": "dance"}`},
		{"token_fetch_done", `{"token": "x"}`},
		{"session_poll_done", `[`},
		{"advance", ``},
	} {
		if in, err := DecodeInput(tc.kind, []byte(tc.data)); err == nil {
			t.Errorf("DecodeInput(%s, %s) = %#v, want an error", tc.kind, tc.data, in)
		}
	}
	if _, _, err := EncodeInput(nil); err == nil {
		t.Error("EncodeInput(nil) gave no error")
	}
}

type bogusInput struct{}

func (bogusInput) isInput() {}

// The engine has a case for every input. Completions and timers it does
// not wait for (as the examples are) are ignored, and it goes on working.
func TestEveryInputIsApplied(t *testing.T) {
	h, _ := controlledHarness(t, nil)
	for _, k := range inputKinds {
		h.e.Send(k.example)
		h.settle()
	}
	h.e.Send(bogusInput{})
	h.settle()
	var unknown []string
	for _, ev := range h.e.Log().All() {
		if ev.Reason == "unknown input" {
			unknown = append(unknown, ev.Detail)
		}
	}
	if want := []string{"input authstate.bogusInput is not one the engine knows: ignored"}; !reflect.DeepEqual(unknown, want) {
		t.Errorf("inputs the engine did not know: %q, want only the bogus one", unknown)
	}
	if p := h.e.Snapshot().Policy; p != "hardened" {
		t.Errorf("policy %s after SetPolicy hardened", p)
	}
	h.e.Hold("none")
	h.e.Release("all")
	h.fetch("after", false)
	if c := h.call("after"); c.Token == nil {
		t.Errorf("the engine no longer fetches tokens: %+v", c)
	}
}

func unexported(t reflect.Type) int {
	n := 0
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() {
			n++
		}
	}
	return n
}
