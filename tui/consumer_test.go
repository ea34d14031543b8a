package tui

import (
	"image/color"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
)

// stripOf returns the timeline cells on a screen: the compact line ends
// with the short legend, the full one starts with "timeline".
func stripOf(t *testing.T, screen string) string {
	t.Helper()
	for _, l := range strings.Split(screen, "\n") {
		if cells, _, ok := strings.Cut(l, " █ authenticated  ░ loading"); ok && !strings.HasPrefix(l, "█ authenticated") {
			return cells
		}
		if rest, ok := strings.CutPrefix(l, "timeline "); ok {
			_, cells, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
			return cells
		}
	}
	t.Fatalf("no timeline strip on the screen:\n%s", screen)
	return ""
}

func policy(name string) rigOption {
	return func(c *authstate.Config, o *Options) { c.Policy = name }
}

// TestConsumerPanelShowsTheFlicker: after p, under every policy, the
// Convex panel counts a flicker window with its length and reason, the
// strip shows a cell that is not authenticated, and it ends authenticated.
func TestConsumerPanelShowsTheFlicker(t *testing.T) {
	for _, p := range authstate.PolicyNames() {
		t.Run(p, func(t *testing.T) {
			r := newRig(t, consumer, policy(p))
			r.clock.Advance(2 * time.Second)
			r.m.Update(tickMsg{})
			sc := r.screen()
			mustContain(t, sc, "── Convex authenticated · query ok", "Convex flicker none")
			if s := strings.TrimSpace(stripOf(t, sc)); strings.Trim(s, "█░") != "" {
				t.Fatalf("before p the strip shows %q", s)
			}
			r.rotateHeld("p", 300*time.Millisecond)
			r.clock.Advance(time.Second)
			r.m.Update(tickMsg{})
			sc = r.screen()
			mustContain(t, sc, "── Convex authenticated · query ok", "Convex flicker: 1 window, total 310ms", "last 310ms: the query fails")
			cells := stripOf(t, sc)
			if !strings.ContainsAny(cells, "✗░") {
				t.Fatalf("the strip shows no flicker after p: %q", cells)
			}
			if !strings.HasSuffix(cells, "█") {
				t.Fatalf("the strip does not end authenticated: %q", cells)
			}
			s := r.eng.Snapshot()
			if !s.Convex.IsAuthenticated || s.Flicker.Count != 1 {
				t.Fatalf("engine: authenticated %v, %d flicker windows", s.Convex.IsAuthenticated, s.Flicker.Count)
			}
			// On a big screen: each window with its start, length and reason.
			r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
			sc = r.screen()
			mustContain(t, sc, "#1 03:04:07.000   310ms  the query fails: error: Unauthenticated",
				"Better Auth says signed in, Convex disagrees")
			if cells := stripOf(t, sc); !strings.Contains(cells, "✗░") {
				t.Fatalf("250 ms cells: the query failing, then loading while the token was held: %q", cells)
			}
		})
	}
}

func TestConsumerPanelInFull(t *testing.T) {
	r := consumerStoryRig(t)
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	mustContain(t, r.screen(),
		"── Convex client model (convex-js 1.45) · PR #83 off: a fetcher swap calls clearAuth()",
		"useConvexAuth authenticated · isLoading false · isAuthenticated true · isRefreshing false",
		"auth manager waitingForScheduledRefetch · configVersion 6 · identity v8 · socket ready · holds S3's token",
		"query auth:getAuthUser: ok · ran 2 times with no identity",
		"Convex flicker: 2 windows, total 1.0s",
		"#2 03:04:10.610   400ms  the query fails",
		"#1 03:04:08.000   610ms  the query fails",
		"timeline 250ms/cell",
		"█ authenticated  ░ loading  ✗ failing (query fails or Convex not authenticated while Better Auth says signed in)  _ signed out",
	)
}

func TestConsumerPanelWhileHeld(t *testing.T) {
	// The flicker is open while the new token is held: the panel says so.
	r := newRig(t, consumer)
	r.clock.Advance(time.Second)
	r.press("h")
	r.press("p")
	r.settle()
	r.clock.Advance(450 * time.Millisecond)
	r.m.Update(tickMsg{})
	sc := r.screen()
	mustContain(t, sc, "── Convex loading · query FAILS: error: Unauthenticated", "Convex flicker: 1 window, total 460ms, one OPEN now")
	// The newest cell holds the failing query, then the loading.
	if cells := stripOf(t, sc); !strings.HasSuffix(cells, "✗") {
		t.Fatalf("the strip does not end in the flicker: %q", cells)
	}
	// Under the three-line explanation of the flicker, the machine's state
	// needs a few more rows.
	r.m.Update(tea.WindowSizeMsg{Width: 80, Height: 28})
	mustContain(t, r.screen(), "socket paused")
}

func TestConsumerPanelPR83(t *testing.T) {
	r := newRig(t, consumer, func(c *authstate.Config, o *Options) { c.Consumer.PR83 = true })
	r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	mustContain(t, r.screen(), "PR #83 on: no clearAuth() on a fetcher swap")
}

func TestConsumerPanelOffWithoutTheModel(t *testing.T) {
	r := newRig(t)
	for _, sz := range [][2]int{{80, 24}, {140, 45}} {
		r.m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		if sc := r.screen(); strings.Contains(sc, "Convex") || strings.Contains(sc, "authenticated") {
			t.Fatalf("the Convex panel shows with the model off:\n%s", sc)
		}
	}
}

// On a real target without a Convex deployment the panel stays, as one
// line saying what to pass, whole at 80 columns.
func TestConsumerPanelSaysWhatTurnsItOn(t *testing.T) {
	const hint = "off: --convex-url https://<name>.convex.cloud (or config convex.url)"
	r := newRig(t, realTarget, func(c *authstate.Config, o *Options) { o.ConvexOff = hint })
	for _, sz := range [][2]int{{80, 24}, {140, 45}} {
		r.m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		mustContain(t, r.screen(), "── Convex "+hint)
	}
}

// TestThemeChangesColoursOnly: a fixed light or dark theme renders the
// same text in other colours, and ignores the terminal's background.
func TestThemeChangesColoursOnly(t *testing.T) {
	render := func(theme string) (*rig, string) {
		r := consumerStoryRig(t, withColor, func(c *authstate.Config, o *Options) { o.Theme = theme })
		return r, r.m.View().Content
	}
	dr, dark := render(ThemeDark)
	lr, light := render(ThemeLight)
	_, auto := render(ThemeAuto)
	if dark == light {
		t.Fatal("light and dark render the same colours")
	}
	if auto != dark {
		t.Fatal("auto does not start dark before the terminal answers")
	}
	if stripContent(dark) != stripContent(light) {
		t.Fatal("the theme changed the text")
	}
	if lr.m.isDark || !dr.m.isDark {
		t.Fatal("theme not applied")
	}
	lr.m.Update(tea.BackgroundColorMsg{Color: color.Black})
	if lr.m.isDark || lr.m.View().Content != light {
		t.Fatal("a fixed light theme followed the terminal's dark background")
	}
	if ValidateTheme("purple") == nil || ValidateTheme("") != nil || ValidateTheme(ThemeLight) != nil {
		t.Fatal("ValidateTheme")
	}
	bad := newRig(t, func(c *authstate.Config, o *Options) { o.Theme = "purple" })
	mustContain(t, bad.screen(), `theme auto in use: theme "purple"`)
	if !bad.m.detectTheme() {
		t.Fatal("a bad theme does not fall back to auto")
	}
}
