package tui

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
)

// inject is what a hostile server or token puts in its strings: set the
// clipboard (OSC 52), set the window title, clear the screen, blink in
// red, a C1 CSI, BEL, and a bidi override.
const inject = "\x1b]52;c;cHduZWQ=\x07\x1b]2;owned\x1b\\\x1b[2J\x1b[5;31m\u009b31m\a\u202e"

// injected are the pieces of inject a terminal would act on.
var injected = []string{"\x1b]52", "\x1b]2;", "\x1b[2J", "\x1b[5;31m", "\u009b", "\a", "\u202e"}

// hostileBackend is the fake server with every string it returns made
// hostile: session id, user id and email; the token's claims; query
// results and errors.
type hostileBackend struct{ *fakeBackend }

func (h hostileBackend) GetSession(ctx context.Context) (*authstate.Session, error) {
	s, err := h.fakeBackend.GetSession(ctx)
	if s != nil {
		s.ID += inject
		s.UserID += inject
		s.Email = "alice" + inject + "@example.com"
	}
	return s, err
}

func (h hostileBackend) FetchToken(ctx context.Context) (*authstate.Token, error) {
	t, err := h.fakeBackend.FetchToken(ctx)
	if t != nil {
		t.SessionID += inject
		t.Subject += inject
		t.Issuer = "http://evil.example" + inject
		t.Audience = []string{"convex" + inject}
		t.Verified, t.Problem = false, "kid "+inject+" unknown"
	}
	if err != nil {
		err = errors.New(err.Error() + inject)
	}
	return t, err
}

func (h hostileBackend) Query(ctx context.Context, path string, t *authstate.Token) (authstate.QueryResult, error) {
	r, err := h.fakeBackend.Query(ctx, path, t)
	r.Value += inject
	if r.Error != "" {
		r.Error += inject
	}
	return r, err
}

// hostile makes the device's backend hostile; put it after consumer.
func hostile(c *authstate.Config, o *Options) {
	fb := c.Backend.(*fakeBackend)
	c.Backend = hostileBackend{fb}
	if c.Consumer != nil {
		c.Consumer.Backend = hostileBackend{fb}
	}
	o.Target = "sim" + inject
	o.ConfigFile = "/tmp/authscope.yaml" + inject
	o.Notice = "notice" + inject
}

func assertNoInjection(t *testing.T, where, content string) {
	t.Helper()
	for _, bad := range injected {
		if strings.Contains(content, bad) {
			t.Errorf("%s: the view passes %q from the server to the terminal", where, bad)
		}
	}
}

// Every string from the server reaches the terminal escaped: the header,
// the session, token and Convex panels, the event log, the detail view
// and the status line.
func TestViewEscapesServerStrings(t *testing.T) {
	r := newRig(t, consumer, hostile)
	// Wide enough for the header to show the long hostile target and
	// config path rather than drop them.
	r.m.Update(tea.WindowSizeMsg{Width: 400, Height: 50})
	assertNoInjection(t, "first frame (header, notice)", r.m.View().Content)
	r.press("f")
	r.settle()
	r.b.mu.Lock()
	r.b.failNext = errors.New("boom")
	r.b.mu.Unlock()
	r.press("f")
	r.settle()
	r.m.Update(tickMsg{})
	screen := r.m.View().Content
	assertNoInjection(t, "panels", screen)
	mustContain(t, stripContent(screen), `\x1b]52;c;`, "evil.example", "config /tmp/authscope.yaml")

	// Every event, opened in the detail view.
	r.press("home")
	opened, kinds := 0, map[string]bool{}
	for {
		r.press("enter")
		if r.m.mode != modeDetail {
			t.Fatal("enter opened no detail")
		}
		opened++
		kinds[r.m.detail.ev.Kind.String()] = true
		assertNoInjection(t, "detail of event "+r.m.detail.ev.Kind.String(), r.m.View().Content)
		r.press("esc")
		before := r.m.events.position()
		r.press("down")
		if r.m.events.position() == before {
			break
		}
	}
	if opened < 20 || !kinds["token_served"] || !kinds["fetch_failed"] {
		t.Fatalf("opened %d events (%v); want every one, token_served and fetch_failed among them", opened, kinds)
	}
	r.press("/")
	for _, c := range "evil" {
		r.press(string(c))
	}
	assertNoInjection(t, "filter", r.m.View().Content)
}

// The header names the config file the settings came from, and a notice
// (a warning about how the TUI was started) stays on the status line until
// the first key.
func TestHeaderNamesTheConfigFile(t *testing.T) {
	r := newRig(t, func(c *authstate.Config, o *Options) {
		o.ConfigFile = "/home/me/project/authscope.yaml"
		o.Notice = "warning: --password is visible to other users in the process list (ps)"
	})
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	screen := r.screen()
	mustContain(t, screen, "config /home/me/project/authscope.yaml", "» warning: --password is visible")
	r.press("t")
	if strings.Contains(r.screen(), "--password is visible") {
		t.Fatal("the notice outlived the first key")
	}
	plain := newRig(t)
	if strings.Contains(plain.screen(), "config ") {
		t.Fatal("a header without a config file names one")
	}
}

// Key names come from the config file and are drawn in the help: one that
// holds a control character is refused.
func TestKeyNamesWithControlsRefused(t *testing.T) {
	for _, k := range []string{"\x1b]2;owned\a", "x\u009b", "\u202ey"} {
		err := ValidateKeys(map[string][]string{"fetch": {k}})
		if err == nil || !strings.Contains(err.Error(), "is not a key name") {
			t.Errorf("key %q: %v", k, err)
		}
		if err != nil {
			assertNoInjection(t, "the error", err.Error())
		}
	}
}

// The explanations on the status line and in the detail view quote what
// events said (a session label, a flicker's detail, a failure reason), and
// the fetches panel and a request's detail quote its cause and outcome:
// all of it reaches the terminal escaped.
func TestExplanationsAndFetchRowsEscaped(t *testing.T) {
	r := newRig(t, consumer)
	r.m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	r.settle()
	d := r.m.device
	at := r.m.now
	evs := []authstate.Event{
		{Seq: 9001, At: at, Kind: authstate.KindFetchStarted, Fetch: 901, Cause: "setAuth" + inject, Session: "S9" + inject},
		{Seq: 9002, At: at, Kind: authstate.KindFetchFailed, Fetch: 901, Reason: "HTTP 500" + inject},
		{Seq: 9003, At: at, Kind: authstate.KindFlicker, Reason: "open", Policy: "v0.12", Detail: "flicker: Better Auth says signed in, but " + inject},
		{Seq: 9004, At: at, Kind: authstate.KindViolation, Cause: authstate.InvariantGoneSession, Policy: "v0.12", Token: &authstate.TokenInfo{Session: "S1" + inject}},
		{Seq: 9005, At: at, Kind: authstate.KindViolation, Cause: "unknown" + inject, Policy: "v0.12", Detail: inject},
	}
	for _, ev := range evs {
		r.m.ingest(d, []authstate.Event{ev})
		r.m.Update(tickMsg{}) // the view is drawn on a message
		if ev.Kind == authstate.KindViolation && !strings.Contains(r.m.status, inject) {
			t.Fatalf("event %s: status %q does not quote the event (the test checks nothing)", ev.Kind, r.m.status)
		}
		screen := r.m.View().Content
		assertNoInjection(t, "status after "+ev.Kind.String(), screen)
		if ev.Kind == authstate.KindViolation && !strings.Contains(stripContent(screen), `\x1b]52`) {
			t.Fatalf("event %s: the status line does not show it escaped:\n%s", ev.Kind, stripContent(screen))
		}
	}
	for _, ev := range evs[2:4] {
		xp, ok := d.explain.explained(ev)
		if !ok || len(xp.more) == 0 {
			t.Fatalf("%s has no long explanation", ev.Kind)
		}
		r.m.detail.ev, r.m.detail.fetch, r.m.mode = ev, nil, modeDetail
		lines := strings.Join(r.m.detailLines(200), "\n")
		assertNoInjection(t, "detail of "+ev.Kind.String(), lines)
		mustContain(t, lines, `\x1b]52`)
	}
	r.m.mode = modeNormal
	row := d.fetches.row(901)
	line, _ := fetchLine(row, r.m.now, true)
	assertNoInjection(t, "fetch row", line)
	mustContain(t, line, `\x1b]52`)
	lines := strings.Join(r.m.fetchDetailLines(row, 200), "\n")
	assertNoInjection(t, "fetch detail", lines)
	mustContain(t, lines, `\x1b]52`)
}
