package tui

import (
	"image/color"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
)

func withColor(c *authstate.Config, o *Options) { o.NoColor = false }

func TestColoursFollowTheBackgroundAndNoColor(t *testing.T) {
	r := storyRig(t, withColor)
	dark := r.m.View().Content
	if !strings.Contains(dark, "\x1b[") {
		t.Fatal("no styling at all with colour on")
	}
	r.m.Update(tea.BackgroundColorMsg{Color: color.White})
	if r.m.isDark {
		t.Fatal("a white background was taken for a dark one")
	}
	light := r.m.View().Content
	if light == dark {
		t.Fatal("the styles were not rebuilt for a light background")
	}
	if stripContent(light) != stripContent(dark) {
		t.Fatal("the background changed the text, not only its colours")
	}

	plain := storyRig(t) // NoColor, as NO_COLOR sets it
	for _, s := range []string{plain.m.View().Content, func() string {
		plain.m.Update(tea.BackgroundColorMsg{Color: color.White})
		return plain.m.View().Content
	}()} {
		for _, sgr := range []string{"[38;", "[48;", ";38;", ";48;", "[3", "[9"} {
			if strings.Contains(s, "\x1b"+sgr) {
				t.Fatalf("NO_COLOR output carries a colour sequence %q", sgr)
			}
		}
	}
}

func TestDemoMasksIDsEmailsAndJWTs(t *testing.T) {
	r := storyRig(t, demo)
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	screens := []string{r.screen()}
	r.press("/")
	for _, c := range "token_served" {
		r.press(string(c))
	}
	r.press("enter")
	r.press("enter")
	if r.m.mode != modeDetail {
		t.Fatal("no detail")
	}
	screens = append(screens, r.screen())
	for _, sc := range screens {
		for _, secret := range []string{"alice@example.com", "AbCdEfGh", "user01XyZ", "eyJhbGci", "c2lnbmF0dXJl"} {
			if strings.Contains(sc, secret) {
				t.Fatalf("demo mode shows %q:\n%s", secret, sc)
			}
		}
	}
	if !strings.Contains(screens[0], "a•••@•••") || !strings.Contains(screens[1], "masked: demo mode") {
		t.Fatalf("demo mode does not say what it masked:\n%s", screens[1])
	}
	// Labels and fingerprints stay readable.
	mustContain(t, screens[0], "S1", "S2", "3222aa2e")
}

func TestBridgeBatchesAndSeesTheEngineStop(t *testing.T) {
	r := newRig(t)
	for i := range 50 {
		r.eng.SetPolicy(authstate.PolicyNames()[i%3])
	}
	r.eng.Settle(t.Context(), nil, nil, r.clock)
	msg := r.m.listen(r.m.device)().(eventsMsg)
	if len(msg.events) != 100 || msg.closed {
		t.Fatalf("one wait returned %d events (closed %v), want all 100 waiting", len(msg.events), msg.closed)
	}
	_, cmd := r.m.Update(msg)
	if cmd == nil {
		t.Fatal("the bridge was not issued again after a batch")
	}
	r.eng.Stop()
	msg = cmd().(eventsMsg)
	if !msg.closed {
		t.Fatal("the bridge did not notice the engine stopped")
	}
	if _, cmd := r.m.Update(msg); cmd != nil {
		t.Fatal("the bridge was issued again on a closed stream")
	}
	mustContain(t, r.screen(), "ENGINE STOPPED")
	r.press("p")
	mustContain(t, r.screen(), "the engine has stopped; nothing was sent")
}

func TestBatchCap(t *testing.T) {
	r := newRig(t, logSize(20_000))
	for i := range batchCap {
		r.eng.SetPolicy(authstate.PolicyNames()[i%3])
	}
	r.eng.Settle(t.Context(), nil, nil, r.clock)
	msg := r.m.listen(r.m.device)().(eventsMsg)
	if len(msg.events) != batchCap {
		t.Fatalf("a batch of %d, want the cap %d", len(msg.events), batchCap)
	}
}

func TestFinishedFetchesStayThreeSeconds(t *testing.T) {
	r := newRig(t)
	r.press("f")
	r.settle()
	mustContain(t, r.screen(), "#1", "resolved: token for S1")
	r.clock.Advance(2900 * time.Millisecond)
	r.m.Update(tickMsg{})
	mustContain(t, r.screen(), "resolved: token for S1")
	r.clock.Advance(200 * time.Millisecond)
	r.m.Update(tickMsg{})
	if sc := r.screen(); strings.Contains(sc, "resolved: token for S1") {
		t.Fatalf("a finished fetch is still listed after 3s:\n%s", sc)
	}
}

func TestStaleFetchIsSaidInWords(t *testing.T) {
	// v0.12's fetch ignores rotation; a request sent under S1 and released
	// after the rotation resolves with S1's token, which is stale.
	r := newRig(t, func(c *authstate.Config, o *Options) { c.Policy = "v0.12" })
	r.press("h")
	r.press("f")
	r.settle()
	r.press("p")
	r.settle()
	r.press("R")
	r.settle()
	sc := r.screen()
	mustContain(t, sc, "STALE")
	ev, ok := lastEvent(r.eng, authstate.KindFetchResolved)
	if !ok || !ev.Stale {
		t.Fatalf("fetch_resolved %+v, want a stale one", ev)
	}
}

func TestFilterIndexFollowsTheRing(t *testing.T) {
	r := newRig(t, logSize(64))
	r.m.events.setFilter("policy", r.m.src)
	for i := range 100 {
		r.eng.SetPolicy(authstate.PolicyNames()[i%3])
	}
	r.settle()
	p := &r.m.events
	if len(p.matches) == 0 || p.matches[0] < p.first {
		t.Fatalf("matches start at %d, the ring at %d", p.matches[0], p.first)
	}
	// 100 policy_changed + 100 cache_cleared ("provider remounted" does not
	// match), the ring keeps 64: half of them are policy changes.
	if p.count != 32 {
		t.Fatalf("%d matches in a ring of 64, want 32", p.count)
	}
	for _, ev := range p.rows {
		if ev.Kind != authstate.KindPolicyChanged {
			t.Fatalf("row %s does not match the filter", ev.Kind)
		}
	}
}

func TestInitAsksForBackgroundAndListens(t *testing.T) {
	r := newRig(t)
	if r.m.Init() == nil {
		t.Fatal("Init returned no command")
	}
}
