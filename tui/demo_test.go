package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
)

// Under --demo, y in the detail view of an event with a token copies the
// event line (what the screen shows), never the raw JWT.
func TestDemoCopyNeverPutsTheJWTOnTheClipboard(t *testing.T) {
	r := storyRig(t, demo)
	r.press("/")
	for _, c := range "token_served" {
		r.press(string(c))
	}
	r.press("enter")
	r.press("enter")
	if r.m.mode != modeDetail || r.m.detail.raw == "" {
		t.Fatal("no detail view of an event with its raw JWT")
	}
	cmd := r.press("y")
	if cmd == nil {
		t.Fatal("y copied nothing")
	}
	got := fmt.Sprint(cmd())
	if strings.Contains(got, r.m.detail.raw) || strings.Contains(got, "eyJ") || got != eventLine(r.m.detail.ev) {
		t.Fatalf("y copied %q, want the event line and no JWT", got)
	}
	mustContain(t, r.screen(), "demo mode: sent event #", "not its raw JWT", "must allow OSC 52")
}

// Under --demo the issuer claim (a deployment's URL), a real target's URL
// (header, window title, the confirmation question) and the config file's
// directory are masked.
func TestDemoMasksURLs(t *testing.T) {
	r := storyRig(t, demo, realTarget, func(c *authstate.Config, o *Options) {
		o.ConfigFile = "/home/alice/acme/authscope.yaml"
	})
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	screen := r.screen()
	for _, leak := range []string{"127.0.0.1:3210", "auth.example.com", "/home/alice"} {
		if strings.Contains(screen, leak) {
			t.Errorf("demo mode shows %q:\n%s", leak, screen)
		}
	}
	mustContain(t, screen, "iss http://•••", "target https://•••/api/auth", "config •••/authscope.yaml")
	if title := r.m.View().WindowTitle; strings.Contains(title, "auth.example.com") {
		t.Errorf("window title %q", title)
	}
	r.press("p")
	if r.m.mode != modeConfirm || strings.Contains(r.screen(), "auth.example.com") {
		t.Fatalf("the confirmation shows the target:\n%s", r.screen())
	}
}
