package tui

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/authscope/authscope/authstate"
)

func stripView(m *Model) string { return ansi.Strip(m.View().Content) }

func stripContent(s string) string { return ansi.Strip(s) }

// lastEvent is the newest event of kind k in the engine log.
func lastEvent(e *authstate.Engine, k authstate.Kind) (authstate.Event, bool) {
	all := e.Log().All()
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Kind == k {
			return all[i], true
		}
	}
	return authstate.Event{}, false
}

func countKind(e *authstate.Engine, k authstate.Kind) int {
	n := 0
	for _, ev := range e.Log().All() {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

func mustContain(t *testing.T, screen string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(screen, w) {
			t.Fatalf("screen lacks %q:\n%s", w, screen)
		}
	}
}

func TestKeyChangePasswordWithSignal(t *testing.T) {
	r := newRig(t)
	mustContain(t, r.screen(), "S1")
	if cmd := r.press("p"); cmd != nil {
		t.Fatalf("p returned a command on the simulator: %T", cmd())
	}
	r.settle()
	s := r.eng.Snapshot()
	if s.SessionLabel != "S2" || r.b.changes != 1 {
		t.Fatalf("after p: session %s, %d password changes; want S2 after 1", s.SessionLabel, r.b.changes)
	}
	if _, ok := lastEvent(r.eng, authstate.KindSessionRotated); !ok {
		t.Fatal("no session_rotated event: the signal did not make the client observe")
	}
	mustContain(t, r.screen(), "S2", "session rotated S1 → S2")
}

func TestKeyRotateSilently(t *testing.T) {
	r := newRig(t)
	before := r.b.sessionID()
	r.press("r")
	r.settle()
	if r.b.sessionID() == before || r.b.changes != 1 {
		t.Fatal("r did not change the password on the server")
	}
	if s := r.eng.Snapshot(); s.SessionLabel != "S1" {
		t.Fatalf("the client noticed the silent rotation at once (session %s); it must wait for its next poll", s.SessionLabel)
	}
	mustContain(t, r.screen(), "polling is off")
	// The next poll finds the new session.
	r.eng.Observe("poll")
	r.settle()
	if s := r.eng.Snapshot(); s.SessionLabel != "S2" {
		t.Fatalf("after a poll: session %s, want S2", s.SessionLabel)
	}
}

func TestRealTargetAsksBeforeChangingThePassword(t *testing.T) {
	for _, k := range []string{"p", "r"} {
		t.Run(k, func(t *testing.T) {
			r := newRig(t, realTarget)
			r.press(k)
			if r.m.mode != modeConfirm {
				t.Fatalf("%s on a real target: mode %s, want confirm", k, r.m.mode)
			}
			mustContain(t, r.screen(), "https://auth.example.com/api/auth", "y yes, do it", "n/esc cancel")
			// Keys other than y/n do nothing while the question is open.
			r.press("f")
			r.press("n")
			r.settle()
			if r.b.changes != 0 || r.b.tokens != 0 {
				t.Fatalf("cancelled: %d password changes, %d token requests; want none", r.b.changes, r.b.tokens)
			}
			mustContain(t, r.screen(), "cancelled: nothing was sent")
			r.press(k)
			r.press("esc")
			if r.m.mode != modeNormal || r.b.changes != 0 {
				t.Fatal("esc did not cancel")
			}
			r.press(k)
			r.press("y")
			r.settle()
			if r.b.changes != 1 {
				t.Fatalf("confirmed: %d password changes, want 1", r.b.changes)
			}
			want := "S2"
			if k == "r" {
				want = "S1" // no signal: the client has not noticed
			}
			if s := r.eng.Snapshot(); s.SessionLabel != want {
				t.Fatalf("after %s y: client session %s, want %s", k, s.SessionLabel, want)
			}
		})
	}
}

func TestKeyFetches(t *testing.T) {
	r := newRig(t)
	r.press("f")
	r.settle()
	ev, ok := lastEvent(r.eng, authstate.KindFetchStarted)
	if !ok || !ev.Force || ev.Cause != "key f" {
		t.Fatalf("f: fetch_started %+v, want a forced fetch caused by key f", ev)
	}
	r.press("t")
	r.settle()
	// A plain fetch with a good cached token is served from the cache.
	served, _ := lastEvent(r.eng, authstate.KindTokenServed)
	if served.Force || served.Source != "cache" {
		t.Fatalf("t: token_served %+v, want a plain call served from the cache", served)
	}
	if r.b.tokens != 1 {
		t.Fatalf("%d token requests, want 1", r.b.tokens)
	}
	mustContain(t, r.screen(), "#1", "forced", "key f", "resolved: token for S1", "matches the current session")
}

func TestKeySignOutAndIn(t *testing.T) {
	r := newRig(t)
	r.press("o")
	r.settle()
	if s := r.eng.Snapshot(); s.Session != nil {
		t.Fatal("o: still signed in")
	}
	mustContain(t, r.screen(), "signed out")
	r.press("i")
	r.settle()
	if s := r.eng.Snapshot(); s.Session == nil || s.SessionLabel != "S2" {
		t.Fatalf("i: session %+v, want S2", s.SessionLabel)
	}
}

func TestKeyPolicyCycles(t *testing.T) {
	r := newRig(t)
	for _, want := range []string{"hardened", "v0.12", "pr329"} {
		r.press("m")
		r.settle()
		if got := r.eng.Snapshot().Policy; got != want {
			t.Fatalf("m: policy %s, want %s", got, want)
		}
		mustContain(t, r.screen(), "policy "+want)
	}
}

func TestKeyHoldAndRelease(t *testing.T) {
	r := newRig(t)
	r.press("h")
	r.settle()
	if r.b.Holding() != "token" {
		t.Fatal("h did not hold token responses")
	}
	for range 3 {
		r.press("f")
		r.settle()
	}
	if r.b.Held() != 3 {
		t.Fatalf("%d held, want 3", r.b.Held())
	}
	mustContain(t, r.screen(), "HOLDING token responses (3 held)", "3 in flight")
	r.press("H")
	r.settle()
	r.press("L")
	r.settle()
	if r.b.Held() != 1 {
		t.Fatalf("after H and L: %d held, want 1", r.b.Held())
	}
	// Request #2 is the one left: H took #1 (oldest), L took #3 (latest).
	if fs := r.eng.Snapshot().InFlight; len(fs) != 1 || fs[0].ID != 2 {
		t.Fatalf("in flight after H, L: %+v; want request #2", fs)
	}
	r.press("h")
	r.settle()
	if r.b.Holding() != "none" {
		t.Fatal("second h did not stop holding")
	}
	mustContain(t, r.screen(), "stopped holding; 1 still held")
	r.press("R")
	r.settle()
	if r.b.Held() != 0 || len(r.eng.Snapshot().InFlight) != 0 {
		t.Fatal("R did not release everything")
	}
	r.press("R")
	r.settle()
	mustContain(t, r.screen(), "nothing held to release")
}

func TestKeyLatency(t *testing.T) {
	r := newRig(t)
	// Keys pressed before the engine applied the last one count from
	// what they asked, not from what the header shows yet.
	r.press("+")
	r.press("+")
	r.settle()
	if got := r.b.Latency("token"); got != 200*time.Millisecond {
		t.Fatalf("latency %s after ++, want 200ms", got)
	}
	mustContain(t, r.screen(), "token latency 200ms")
	for range 3 {
		r.press("-")
	}
	r.settle()
	if got := r.b.Latency("token"); got != 0 {
		t.Fatalf("latency %s, want it floored at 0", got)
	}
	mustContain(t, r.screen(), "token latency 0ms")
	for range 60 {
		r.press("+")
	}
	r.settle()
	if got := r.b.Latency("token"); got != 5*time.Second {
		t.Fatalf("latency %s, want it capped at 5s", got)
	}
	mustContain(t, r.screen(), "token latency 5s")
}

func TestKeyPollInterval(t *testing.T) {
	r := newRig(t)
	steps := []struct {
		key  string
		want time.Duration
	}{{"]", 500 * time.Millisecond}, {"]", time.Second}, {"]", 2 * time.Second}, {"[", time.Second}, {"[", 500 * time.Millisecond}, {"[", 0}, {"[", 0}}
	for _, s := range steps {
		r.press(s.key)
		r.settle()
		if got := r.eng.Snapshot().PollInterval; got != s.want {
			t.Fatalf("%s: poll %s, want %s", s.key, got, s.want)
		}
	}
	mustContain(t, r.screen(), "poll off")
	for range 10 {
		r.press("]")
	}
	r.settle()
	if got := r.eng.Snapshot().PollInterval; got != time.Minute {
		t.Fatalf("poll %s, want it capped at 60s", got)
	}
	mustContain(t, r.screen(), "poll 1m", "session poll every 1m")
	if sc := r.screen(); strings.Contains(sc, "1m00s") {
		t.Fatalf("the poll interval shows as 1m00s:\n%s", sc)
	}
	r.press("[")
	mustContain(t, r.screen(), "poll 30s", "session poll every 30s")
	for range 10 {
		r.press("[")
	}
	r.press("]")
	mustContain(t, r.screen(), "poll 500ms", "session poll every 500ms")
}

func TestKeyPauseFreezesTheLog(t *testing.T) {
	r := newRig(t)
	r.press("space")
	if !r.m.events.paused {
		t.Fatal("space did not pause")
	}
	frozen := r.m.events.rows
	before := r.m.Received()
	r.press("f")
	r.settle()
	if r.m.Received() <= before {
		t.Fatal("events stopped being received while paused")
	}
	if fmt.Sprint(r.m.events.rows) != fmt.Sprint(frozen) {
		t.Fatal("the log view moved while paused")
	}
	sc := r.screen()
	newEvents := r.m.Received() - before
	// The log says paused and how much is waiting; "held" is the word of
	// the token hold (h), so the log does not use it.
	mustContain(t, sc, "PAUSED", fmt.Sprintf("paused, %d new", newEvents))
	if strings.Contains(sc, "fetch_started") {
		t.Fatalf("a new event shows while paused:\n%s", sc)
	}
	r.press("space")
	sc = r.screen()
	mustContain(t, sc, "LIVE", "fetch_started", fmt.Sprintf("── Events %d · following", r.m.Received()))
	if strings.Contains(sc, "held") {
		t.Fatalf("the screen says held with nothing held:\n%s", sc)
	}
}

func TestKeyFilter(t *testing.T) {
	r := newRig(t)
	r.press("f")
	r.settle()
	r.press("/")
	if r.m.mode != modeFilter {
		t.Fatal("/ did not open the filter")
	}
	for _, c := range "fetch_res" {
		r.press(string(c))
	}
	// q is text while typing a filter.
	if r.m.events.count != 1 || r.m.events.rows[0].Kind != authstate.KindFetchResolved {
		t.Fatalf("filter resolved: %d rows %+v", r.m.events.count, r.m.events.rows)
	}
	r.press("enter")
	if r.m.mode != modeNormal || r.m.events.filter != "fetch_res" {
		t.Fatal("enter did not keep the filter")
	}
	// New events are indexed as they come.
	r.press("f")
	r.settle()
	if r.m.events.count != 2 {
		t.Fatalf("%d matches after a second fetch, want 2", r.m.events.count)
	}
	mustContain(t, r.screen(), `filter "fetch_res": 2 matches`)
	// By kind, with q typed as text.
	r.press("/")
	r.press("esc")
	if r.m.events.filter != "" || r.m.events.count <= 2 {
		t.Fatal("esc did not clear the filter")
	}
	r.press("/")
	for _, c := range "req" {
		r.press(string(c))
	}
	if r.m.mode != modeFilter {
		t.Fatal("q quit or left the filter input")
	}
	r.press("enter")
	r.press("esc")
	if r.m.events.filter != "" {
		t.Fatal("esc in the log did not clear the filter")
	}
}

func TestKeyDetailAndRawJWT(t *testing.T) {
	r := newRig(t)
	r.press("f")
	r.settle()
	// The newest event is the served token; open it.
	r.press("enter")
	if r.m.mode != modeDetail {
		t.Fatal("enter did not open the detail")
	}
	raw, _ := r.eng.RawToken(r.m.detail.ev.Token.Fingerprint)
	if raw == "" || r.m.detail.raw != raw {
		t.Fatal("the detail has no raw JWT")
	}
	mustContain(t, r.screen(), "token_served", "raw JWT", raw[:60], "signature verified")
	cmd := r.press("y")
	if cmd == nil || fmt.Sprint(cmd()) != raw {
		t.Fatal("y in the detail did not copy the raw JWT")
	}
	r.press("enter")
	if r.m.mode != modeNormal {
		t.Fatal("enter did not close the detail")
	}
	r.press("enter")
	r.press("esc")
	if r.m.mode != modeNormal {
		t.Fatal("esc did not close the detail")
	}
}

func TestKeyCopyEvent(t *testing.T) {
	r := newRig(t)
	cmd := r.press("y")
	ev, _ := r.m.events.selected()
	if cmd == nil {
		t.Fatal("y returned no command")
	}
	got := fmt.Sprint(cmd())
	if got != eventLine(ev) || !strings.Contains(got, "provider mounted") {
		t.Fatalf("y copied %q", got)
	}
	// The program cannot know whether the terminal took the text.
	sc := r.screen()
	mustContain(t, sc, "sent event #", "over OSC 52", "the terminal must allow OSC 52", "tmux: set -g set-clipboard on")
	if strings.Contains(sc, "copied") {
		t.Fatalf("y claims the text was copied:\n%s", sc)
	}
}

func TestKeyScrolling(t *testing.T) {
	r := newRig(t)
	for range 10 {
		r.press("f")
		r.settle()
	}
	p := &r.m.events
	newest := r.eng.Log().Total()
	if !p.follow || p.sel != newest {
		t.Fatalf("not following the tail: sel %d, newest %d", p.sel, newest)
	}
	r.press("up")
	if p.follow || p.sel != newest-1 {
		t.Fatalf("up: follow %v sel %d", p.follow, p.sel)
	}
	// New events do not move a scrolled view.
	top := p.top
	r.press("t")
	r.settle()
	if p.top != top || p.sel != newest-1 {
		t.Fatal("the view moved while scrolled up")
	}
	mustContain(t, r.screen(), "(end follows)")
	r.press("down")
	if p.sel != newest {
		t.Fatalf("down: sel %d, want %d", p.sel, newest)
	}
	r.press("home")
	if p.sel != 1 || p.top != 1 {
		t.Fatalf("home: sel %d top %d", p.sel, p.top)
	}
	r.press("pgdown")
	if p.sel != uint64(p.height) {
		t.Fatalf("pgdown: sel %d, want %d", p.sel, p.height)
	}
	r.press("pgup")
	if p.sel != 1 {
		t.Fatalf("pgup: sel %d", p.sel)
	}
	r.press("end")
	if !p.follow || p.sel != r.eng.Log().Total() {
		t.Fatal("end did not resume following")
	}
}

func TestKeyHelpAndQuit(t *testing.T) {
	r := newRig(t)
	r.press("?")
	if r.m.mode != modeHelp {
		t.Fatal("? did not open the help page")
	}
	mustContain(t, r.screen(), "release oldest", "poll slower", "follow tail")
	r.press("?")
	if r.m.mode != modeNormal {
		t.Fatal("? did not close the help page")
	}
	r.press("?")
	r.press("esc")
	if r.m.mode != modeNormal {
		t.Fatal("esc did not close the help page")
	}
	for _, k := range []string{"q", "ctrl+c"} {
		cmd := r.press(k)
		if cmd == nil {
			t.Fatalf("%s: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Fatalf("%s did not quit", k)
		}
	}
	// ctrl+c quits from every mode.
	r.press("/")
	if _, ok := r.press("ctrl+c")().(tea.QuitMsg); !ok {
		t.Fatal("ctrl+c did not quit from the filter")
	}
}

func TestNoTransport(t *testing.T) {
	r := newRig(t, func(c *authstate.Config, o *Options) { o.Transport = nil })
	for _, k := range []string{"h", "H", "+"} {
		r.press(k)
		mustContain(t, r.screen(), "no transport controls")
	}
}

func TestDroppedEventsWarn(t *testing.T) {
	r := newRig(t, func(c *authstate.Config, o *Options) { o.SubscribeBuffer = 1 })
	r.pump()
	for range 3 {
		r.press("f")
		r.eng.Settle(t.Context(), r.b.Held, r.b.notify, r.clock)
	}
	r.pump()
	if r.m.Dropped() == 0 {
		t.Fatal("a one-event buffer dropped nothing")
	}
	mustContain(t, r.screen(), "events dropped")
}

func TestKeyDeviceSwitches(t *testing.T) {
	r := newRigN(t, 2)
	d1, d2 := r.devs[0], r.devs[1]
	// Each engine labels the sessions it sees: device 2's own session is
	// its S1 too, with another id.
	mustContain(t, r.screen(), "device 1/2", "device 2: S1")
	if d1.b.sessionID() == d2.b.sessionID() {
		t.Fatal("the devices share a session")
	}
	r.press("d")
	if r.m.num != 2 {
		t.Fatalf("d: showing device %d, want 2", r.m.num)
	}
	mustContain(t, r.screen(), "device 2/2", "device 1: S1", d2.b.sessionID()[:5])
	// The keys drive the shown device only.
	r.press("f")
	r.settle()
	if d2.b.tokens != 1 || d1.b.tokens != 0 {
		t.Fatalf("f on device 2: %d token requests on device 1, %d on device 2; want 0 and 1", d1.b.tokens, d2.b.tokens)
	}
	mustContain(t, r.screen(), "key f", "resolved: token for S1")
	// Each device keeps its own log position and filter.
	r.press("/")
	r.press("f")
	r.press("enter")
	r.press("d")
	if r.m.num != 1 || r.m.events.filter != "" || r.m.input.Value() != "" {
		t.Fatalf("back on device 1: device %d, filter %q, input %q", r.m.num, r.m.events.filter, r.m.input.Value())
	}
	r.press("d")
	if r.m.events.filter != "f" || r.m.input.Value() != "f" {
		t.Fatalf("device 2 lost its filter: %q", r.m.events.filter)
	}
	// d is text while typing a filter.
	r.press("/")
	r.press("d")
	if r.m.num != 2 || r.m.input.Value() != "fd" {
		t.Fatalf("d in the filter input: device %d, input %q", r.m.num, r.m.input.Value())
	}
	r.press("esc")
	// The other device's events keep arriving while it is not shown.
	before := r.m.devs[0].received
	d1.eng.Fetch("", true, "test")
	r.settle()
	if r.m.devs[0].received <= before {
		t.Fatal("device 1's events stopped while device 2 is shown")
	}
	r.press("?")
	mustContain(t, r.screen(), "d switch device")
}

func TestKeyDeviceWithOneDevice(t *testing.T) {
	r := newRig(t)
	r.press("d")
	if r.m.num != 1 {
		t.Fatal("d moved off the only device")
	}
	sc := r.screen()
	mustContain(t, sc, "one device: start with --devices 2")
	if strings.Contains(sc, "device 1/1") || strings.Contains(sc, "switch device") {
		t.Fatalf("one device shows device chrome:\n%s", sc)
	}
}

func TestActionFailureReplacesTheStatus(t *testing.T) {
	r := newRig(t)
	r.b.mu.Lock()
	r.b.cookie = "gone" // the server no longer knows the client
	r.b.mu.Unlock()
	r.press("p")
	r.settle()
	mustContain(t, r.screen(), "» change-password (revokeOtherSessions) failed: HTTP 401")
}

func TestValidateKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys map[string][]string
		want string // "" for valid
	}{
		{"nil", nil, ""},
		{"rebind one", map[string][]string{"password": {"P"}}, ""},
		{"swap two", map[string][]string{"password": {"t"}, "fetch": {"p"}}, ""},
		{"several keys", map[string][]string{"quit": {"q", "ctrl+q"}, "device": {"ctrl+n", "D"}}, ""},
		{"unknown name", map[string][]string{"pasword": {"p"}}, `unknown binding "pasword"`},
		{"empty list", map[string][]string{"fetch": {}}, `binding "fetch" has no keys`},
		{"blank key", map[string][]string{"fetch": {""}}, `binding "fetch": "" is not a key name`},
		{"space written as a space", map[string][]string{"pause": {" "}}, `write space as "space"`},
		{"ctrl+c elsewhere", map[string][]string{"help": {"ctrl+c"}}, `binding "help": ctrl+c always quits`},
		{"taken by a default", map[string][]string{"fetch": {"p"}}, `binding "fetch": "p" is already bound to password`},
		{"taken by a fixed key", map[string][]string{"sign_in": {"k"}}, `binding "sign_in": "k" is already bound to up`},
		{"two overrides clash", map[string][]string{"fetch": {"x"}, "sign_in": {"x"}}, `binding "sign_in": "x" is already bound to fetch`},
		{"quit answers the question", map[string][]string{"quit": {"n"}}, `"n" answers the y/n question`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateKeys(tc.keys)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestKeysOverride(t *testing.T) {
	r := newRig(t, func(c *authstate.Config, o *Options) {
		o.Keys = map[string][]string{"forced_fetch": {"x"}, "fetch": {"f"}, "quit": {"ctrl+q"}}
	})
	r.press("x")
	r.settle()
	if ev, _ := lastEvent(r.eng, authstate.KindFetchStarted); !ev.Force || ev.Cause != "key f" {
		t.Fatalf("x: %+v, want the forced fetch", ev)
	}
	before := countKind(r.eng, authstate.KindTokenServed)
	r.press("f")
	r.settle()
	if ev, _ := lastEvent(r.eng, authstate.KindTokenServed); ev.Force || countKind(r.eng, authstate.KindTokenServed) != before+1 {
		t.Fatalf("f rebound to fetch: %+v", ev)
	}
	// The help names the keys as configured.
	mustContain(t, r.screen(), "x forced fetch", "f fetch")
	r.press("?")
	mustContain(t, r.screen(), "ctrl+q quit")
	r.press("?")
	if cmd := r.press("q"); cmd != nil {
		t.Fatal("q still quits after quit was rebound")
	}
	for _, mode := range []string{"normal", "filter"} {
		if mode == "filter" {
			r.press("/")
		}
		msg := tea.KeyPressMsg{Code: 'q', Mod: tea.ModCtrl}
		_, cmd := r.m.Update(msg)
		if cmd == nil {
			t.Fatalf("ctrl+q in %s mode: no command", mode)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Fatalf("ctrl+q did not quit in %s mode", mode)
		}
	}
	// ctrl+c still quits.
	if _, ok := r.press("ctrl+c")().(tea.QuitMsg); !ok {
		t.Fatal("ctrl+c did not quit")
	}
}

func TestBadKeysFallBackToDefaults(t *testing.T) {
	r := newRig(t, func(c *authstate.Config, o *Options) { o.Keys = map[string][]string{"nope": {"x"}} })
	mustContain(t, r.screen(), `default keys in use: keys: unknown binding "nope"`)
	r.press("p")
	r.settle()
	if r.eng.Snapshot().SessionLabel != "S2" {
		t.Fatal("the default keys do not work after a bad keymap")
	}
}

func TestKeyNamesDocumentEveryBinding(t *testing.T) {
	want := []string{"password", "rotate", "forced_fetch", "fetch", "sign_out", "sign_in", "policy", "hold",
		"release_oldest", "release_latest", "release_all", "latency_up", "latency_down", "poll_down", "poll_up",
		"pause", "lanes", "focus", "filter", "detail", "copy", "help", "quit", "device", "reset"}
	defaults := DefaultKeys()
	if len(defaults) != len(want) {
		t.Fatalf("%d bindings, want %d", len(defaults), len(want))
	}
	lines := strings.Join(KeyNames(), "\n")
	km, err := newKeyMap(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range want {
		keys, ok := defaults[n]
		if !ok {
			t.Fatalf("no binding %q", n)
		}
		if !strings.Contains(lines, n+": "+strings.Join(keys, ", ")+" — ") {
			t.Fatalf("KeyNames lacks %q with its defaults:\n%s", n, lines)
		}
		// Every default, rebound to itself, is a valid override, and
		// the keymap holds exactly those keys.
		if err := ValidateKeys(map[string][]string{n: keys}); err != nil {
			t.Fatal(err)
		}
		for _, b := range bindings {
			if b.name == n && fmt.Sprint(b.field(&km).Keys()) != fmt.Sprint(keys) {
				t.Fatalf("%s: keymap has %v, defaults say %v", n, b.field(&km).Keys(), keys)
			}
		}
	}
	// DefaultKeys is a copy.
	defaults["quit"][0] = "x"
	if DefaultKeys()["quit"][0] != "q" {
		t.Fatal("DefaultKeys shares its slices")
	}
}

// TestFilterNegationAndKindPrefix: "!word" excludes, "kind:prefix"
// matches the start of the kind only, and words separated by spaces must
// all hold.
func TestFilterNegationAndKindPrefix(t *testing.T) {
	r := newRig(t)
	r.press("f")
	r.settle()
	r.press("p")
	r.settle()
	r.press("f")
	r.settle()
	typeFilter := func(s string) []authstate.Event {
		t.Helper()
		r.press("/")
		r.m.input.SetValue("")
		r.m.events.setFilter("", r.m.src)
		for _, c := range s {
			r.press(string(c))
		}
		r.press("enter")
		var got []authstate.Event
		for _, ev := range r.eng.Log().All() {
			if slices.Contains(r.m.events.matches, ev.Seq) {
				got = append(got, ev)
			}
		}
		if len(got) != r.m.events.count {
			t.Fatalf("%q: %d matches indexed, %d counted", s, len(got), r.m.events.count)
		}
		return got
	}
	kinds := func(evs []authstate.Event) map[authstate.Kind]int {
		out := map[authstate.Kind]int{}
		for _, ev := range evs {
			out[ev.Kind]++
		}
		return out
	}
	total := len(r.eng.Log().All())

	// A kind prefix: fetch_started and nothing that merely mentions it.
	got := kinds(typeFilter("kind:fetch_st"))
	if got[authstate.KindFetchStarted] != 2 || len(got) != 1 {
		t.Fatalf("kind:fetch_st matched %v", got)
	}
	// kind: is a prefix, not a substring: "kind:started" matches nothing.
	if n := len(typeFilter("kind:started")); n != 0 {
		t.Fatalf("kind:started matched %d events", n)
	}
	mustContain(t, r.screen(), "no event matches the filter")
	// Negation: everything but the fetch events.
	not := typeFilter("!kind:fetch")
	for _, ev := range not {
		if strings.HasPrefix(ev.Kind.String(), "fetch") {
			t.Fatalf("!kind:fetch kept %s", ev.Kind)
		}
	}
	fetches := typeFilter("kind:fetch")
	if len(not)+len(fetches) != total || len(not) == 0 {
		t.Fatalf("!kind:fetch %d + kind:fetch %d != %d events", len(not), len(fetches), total)
	}
	// Words combine with AND: the request sent under S2 only.
	both := kinds(typeFilter("kind:fetch_started key"))
	got = kinds(typeFilter("kind:fetch_started key !s1"))
	if both[authstate.KindFetchStarted] != 2 || got[authstate.KindFetchStarted] != 1 || len(got) != 1 {
		t.Fatalf("kind:fetch_started key → %v; with !forced → %v", both, got)
	}
	mustContain(t, r.screen(), `filter "kind:fetch_started key !s1": 1 match`, "request #2 sent under S2")
}

// TestReadmeKeyTableNamesEveryDefault: the README's key table names every
// default key of every binding, so that rebinding a default in keys.go
// without the README fails here.
func TestReadmeKeyTableNamesEveryDefault(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "| key | action |")
	if !ok {
		t.Fatal("README has no key table")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	firstCells := map[string]bool{}
	for _, row := range strings.Split(table, "\n") {
		cells := strings.Split(row, "|")
		if len(cells) < 3 {
			continue
		}
		for _, f := range strings.Split(cells[1], "`") {
			firstCells[strings.TrimSpace(f)] = true
		}
	}
	for _, bd := range bindings {
		for _, k := range bd.keys {
			if !firstCells[k] {
				t.Errorf("the README's key table does not name %q (%s)", k, bd.name)
			}
		}
	}
}

// The transport keys post their input and return: Update never waits on
// the engine. With the engine's loop held up, each key returns at once;
// what it did shows (status line and header) once the loop has applied
// it and the events are in.
func TestTransportKeysDoNotWaitForTheLoop(t *testing.T) {
	const block = "test: hold the loop"
	blocked, unblock := make(chan struct{}), make(chan struct{})
	r := newRig(t, func(c *authstate.Config, o *Options) {
		c.OnInput = func(_ time.Time, in authstate.Input) {
			if ob, ok := in.(authstate.Observe); ok && ob.Cause == block {
				close(blocked)
				<-unblock
			}
		}
	})
	defer func() {
		select {
		case <-unblock:
		default:
			close(unblock)
		}
	}()
	r.press("h")
	r.settle()
	for range 2 {
		r.press("f")
		r.settle()
	}
	mustContain(t, r.screen(), "HOLDING token responses (2 held)")

	r.eng.Observe(block)
	<-blocked
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, k := range []string{"H", "+", "+", "h"} {
			r.m.Update(keyMsg(k))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // a safety net: Update should take microseconds
		close(unblock)
		<-done
		t.Fatal("a transport key waited for the engine's loop")
	}
	if r.b.Held() != 2 || r.b.Holding() != "token" {
		t.Fatal("the keys reached the transport while the loop was held up")
	}
	close(unblock)
	r.settle()
	if r.b.Held() != 1 || r.b.Holding() != "none" || r.b.Latency("token") != 200*time.Millisecond {
		t.Fatalf("after H + + h: %d held, holding %s, latency %s", r.b.Held(), r.b.Holding(), r.b.Latency("token"))
	}
	mustContain(t, r.screen(), "token latency 200ms", "hold off (1 held)", "stopped holding; 1 still held (H/L/R release)")
}

// Once the stream has lost events, the panels show the engine's own
// snapshot; it is read in a command, so Update does not wait for a busy
// loop either.
func TestDroppedEventsSnapshotDoesNotWaitForTheLoop(t *testing.T) {
	const block = "test: hold the loop"
	blocked, unblock := make(chan struct{}), make(chan struct{})
	r := newRig(t, func(c *authstate.Config, o *Options) {
		o.SubscribeBuffer = 1
		c.OnInput = func(_ time.Time, in authstate.Input) {
			if ob, ok := in.(authstate.Observe); ok && ob.Cause == block {
				close(blocked)
				<-unblock
			}
		}
	})
	defer func() {
		select {
		case <-unblock:
		default:
			close(unblock)
		}
	}()
	for range 3 {
		r.press("f")
		r.eng.Settle(t.Context(), r.b.Held, r.b.notify, r.clock)
	}
	// The rig drops the commands Update returns: forget the reads they
	// would have made.
	r.m.devs[0].reading = false

	r.eng.Observe(block)
	<-blocked
	done := make(chan tea.Cmd)
	go func() {
		_, cmd := r.m.Update(tickMsg{})
		done <- cmd
	}()
	var read tea.Cmd
	select {
	case read = <-done:
	case <-time.After(10 * time.Second): // a safety net: Update should take microseconds
		close(unblock)
		<-done
		t.Fatal("Update waited for the engine's loop to read a snapshot")
	}
	if read == nil {
		t.Fatal("events were dropped, and Update asked for no snapshot of the engine")
	}
	close(unblock)
	r.m.Update(read())
	if got, want := r.m.snap.TokenRequests, r.eng.Snapshot().TokenRequests; got != want || want != 3 {
		t.Fatalf("the panels say %d token requests, the engine %d (want 3)", got, want)
	}
	mustContain(t, r.screen(), "events dropped")
}
