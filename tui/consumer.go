package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/authscope/authscope/authstate"
)

// consumerPanel shows the Convex client model: useConvexAuth, the
// AuthenticationManager, the socket, the subscribed query, the flicker
// windows and the timeline strip. It says in words that a flicker is the
// Convex side disagreeing with Better Auth. When the model is off, the one
// line of Options.ConvexOff, or nil.
func (p pane) consumerPanel(width int, d density) []string {
	c := p.snap.Convex
	if p.haveSnap && !c.Enabled && p.convexOff != "" {
		return []string{convexTitle(p.styles, []string{p.styles.Dim.Render(safe(p.convexOff))}, width)}
	}
	if !p.haveSnap || !c.Enabled {
		return nil
	}
	st := p.styles
	sep := st.Dim.Render(" · ")
	wide := width >= 110
	kv := func(k, v string) string { return st.Label.Render(k+" ") + st.Value.Render(safe(v)) }
	hook := p.hookWord(c)
	query := p.queryWord(c)
	machine := []string{
		kv("auth manager", amStateName(c.AuthState, wide)),
		kv("configVersion", fmt.Sprint(c.ConfigVersion)),
		kv("identity", fmt.Sprintf("v%d", c.IdentityVersion)),
	}
	flicker := p.flickerSummary(width)

	switch d {
	case cramped:
		// One line: what the app sees, then as much strip as fits.
		fs := p.snap.Flicker
		short := fmt.Sprintf("flicker %d, total %s", fs.Count, humanDur(p.flickerTotal()))
		return []string{p.strip(width, st.Title.Render("Convex ")+hook+sep+st.Value.Render(short)+" ", "")}
	case snug, tight:
		// The flicker and the strip first; the machine's state if there
		// is room for it.
		out := []string{convexTitle(st, []string{hook, st.Label.Render("query ") + query}, width), fit(flicker, width)}
		if d == snug {
			out = append(out, fit(strings.Join(append(machine, p.socketWord(c.Socket)), sep), width))
		}
		return append(out, p.strip(width, "", p.legend(false)))
	}

	pr83 := "PR #83 off: a fetcher swap calls clearAuth()"
	if c.PR83 {
		pr83 = "PR #83 on: no clearAuth() on a fetcher swap"
	}
	out := []string{title(st, "Convex", "client model (convex-js 1.45) · "+pr83, width)}
	bools := fmt.Sprintf("isLoading %v · isAuthenticated %v · isRefreshing %v", c.IsLoading, c.IsAuthenticated, c.IsRefreshing)
	out = append(out, joinItems([]string{st.Label.Render("useConvexAuth ") + hook, st.Dim.Render(bools)}, sep, width)...)
	holds := "holds no token"
	if c.Auth != nil {
		holds = safe("holds " + p.snap.Label(c.Auth.SessionID) + "'s token " + c.Auth.Fingerprint())
	}
	out = append(out, joinItems(append(machine, p.socketWord(c.Socket), st.Dim.Render(holds)), sep, width)...)
	queryItems := []string{st.Label.Render("query "+safe(c.Query)+": ") + query}
	if c.AnonymousQueries > 0 {
		queryItems = append(queryItems, st.Warn.Render(fmt.Sprintf("ran %d time%s with no identity", c.AnonymousQueries, plural(c.AnonymousQueries, "", "s"))))
	}
	out = append(out, joinItems(queryItems, sep, width)...)
	out = append(out, fit(flicker, width))
	out = append(out, p.flickerWindows(width, 3)...)
	scale := scaleFor(width - stripLabelWidth)
	out = append(out, p.strip(width, st.Label.Render(pad(fmt.Sprintf("timeline %s/cell", humanDur(scale)), stripLabelWidth)), ""))
	legend := p.legend(true)
	if cellWidth(legend) > width {
		legend = p.legend(false)
	}
	return append(out, fit(legend, width))
}

// stripLabelWidth is the width of the strip's label in the full panel.
const stripLabelWidth = len("timeline 250ms/cell ")

// convexTitle is a panel title whose words carry their own styles.
func convexTitle(st Styles, items []string, width int) string {
	head := st.Title.Render("── Convex ") + strings.Join(items, st.Dim.Render(" · ")) + " "
	if rest := width - cellWidth(head); rest > 0 {
		head += st.Rule.Render(strings.Repeat("─", rest))
	}
	return fit(head, width)
}

// hookWord is useConvexAuth() in a word.
func (p pane) hookWord(c authstate.ConvexState) string {
	st := p.styles
	switch {
	case c.IsLoading:
		return st.Warn.Render("loading")
	case c.IsAuthenticated && c.IsRefreshing:
		return st.Good.Render("authenticated (refreshing)")
	case c.IsAuthenticated:
		return st.Good.Render("authenticated")
	}
	if p.snap.Session == nil {
		return st.Dim.Render("not authenticated (signed out)")
	}
	return st.Bad.Render("NOT authenticated")
}

// shortHookWord is hookWord in a few letters, for a narrow column.
func (p pane) shortHookWord(c authstate.ConvexState) string {
	st := p.styles
	switch {
	case c.IsLoading:
		return st.Warn.Render("loading")
	case c.IsAuthenticated:
		return st.Good.Render("authed")
	case p.snap.Session == nil:
		return st.Dim.Render("signed out")
	}
	return st.Bad.Render("NOT authed")
}

// queryWord is the subscribed query's last result.
func (p pane) queryWord(c authstate.ConvexState) string {
	st := p.styles
	switch r := c.LastResult; {
	case r == nil:
		return st.Dim.Render("not run yet")
	case r.OK():
		return st.Good.Render("ok")
	default:
		return st.Bad.Render("FAILS: " + safe(r.String()))
	}
}

func (p pane) socketWord(s string) string {
	st := p.styles
	style := st.Value
	switch s {
	case "paused", "disconnected":
		style = st.Warn
	case "stopped":
		style = st.Bad
	}
	return st.Label.Render("socket ") + style.Render(s)
}

// amStateName is the AuthenticationManager's state: convex-js's own name
// on wide screens, a shorter one on narrow ones.
func amStateName(s string, wide bool) string {
	if wide {
		return s
	}
	switch s {
	case "waitingForServerConfirmationOfCachedToken":
		return "confirming cached token"
	case "waitingForServerConfirmationOfFreshToken":
		return "confirming fresh token"
	case "waitingForScheduledRefetch":
		return "refetch scheduled"
	}
	return s
}

// windowDuration is how long a flicker window lasted, on the engine's
// clock (which is the view's clock in the TUI, and a fixed one in tests);
// an open window lasts until now.
func windowDuration(w authstate.FlickerWindow, now time.Time) time.Duration {
	switch {
	case w.Start.IsZero():
		return w.Duration
	case w.End.IsZero():
		return max(now.Sub(w.Start), 0)
	}
	return w.End.Sub(w.Start)
}

// flickerSummary is the count and the total, with the latest window's
// length and reason when there is one.
func (p pane) flickerSummary(width int) string {
	st := p.styles
	fs := p.snap.Flicker
	if fs.Count == 0 || len(fs.Windows) == 0 {
		return st.Label.Render("Convex flicker ") + st.Good.Render("none") + st.Dim.Render(" (Convex agrees with Better Auth)")
	}
	style := st.Warn
	head := fmt.Sprintf("Convex flicker: %d window%s, total %s", fs.Count, plural(fs.Count, "", "s"), humanDur(p.flickerTotal()))
	if fs.Open {
		style = st.Bad
		head += ", one OPEN now"
	}
	last := fs.Windows[len(fs.Windows)-1]
	tail := fmt.Sprintf("last %s: %s", humanDur(windowDuration(last, p.now)), last.Why)
	if width >= 110 {
		tail = "Better Auth says signed in, Convex disagrees; " + tail
	}
	return style.Render(head) + st.Dim.Render(" · ") + st.Value.Render(tail)
}

// flickerTotal is the time spent in flicker windows (those the engine
// still remembers).
func (p pane) flickerTotal() time.Duration {
	var total time.Duration
	for _, w := range p.snap.Flicker.Windows {
		total += windowDuration(w, p.now)
	}
	return total
}

// flickerWindows lists the most recent windows, newest first.
func (p pane) flickerWindows(width, n int) []string {
	st := p.styles
	ws := p.snap.Flicker.Windows
	var out []string
	for i := len(ws) - 1; i >= 0 && len(out) < n; i-- {
		w := ws[i]
		state := ""
		if w.End.IsZero() {
			state = " (open)"
		}
		line := fmt.Sprintf("  #%d %s %7s%s  %s", i+1+p.snap.Flicker.Count-len(ws), w.Start.Format("15:04:05.000"), humanDur(windowDuration(w, p.now)), state, w.Why)
		out = append(out, fit(st.Value.Render(safe(line)), width))
	}
	return out
}

// legend names every glyph of the strip in words; the long form also says
// what failing means.
func (p pane) legend(long bool) string {
	parts := make([]string, 0, 4)
	for _, ph := range []phase{phaseAuthed, phaseLoading, phaseFailing, phaseSignedOut} {
		word := ph.String()
		if long && ph == phaseFailing {
			word = "failing (query fails or Convex not authenticated while Better Auth says signed in)"
		}
		parts = append(parts, p.styles.phase(ph).Render(ph.glyph())+" "+p.styles.Value.Render(word))
	}
	return strings.Join(parts, "  ")
}

// strip renders one line of width cells: prefix, the timeline of the
// shown device, then suffix (a legend). How much time a cell stands for
// depends on how many fit (scaleFor).
func (p pane) strip(width int, prefix, suffix string) string {
	n := width - cellWidth(prefix)
	if suffix != "" {
		n -= cellWidth(suffix) + 1
	}
	if n < 8 {
		// Too narrow for both: the cells matter more than the legend.
		suffix = ""
		n = width - cellWidth(prefix)
	}
	n = max(n, 0)
	scale := scaleFor(n)
	cells := p.timeline.cells(n, scale, p.now)
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; i < n; {
		j := i
		for j < n && cells[j] == cells[i] {
			j++
		}
		b.WriteString(p.styles.phase(cells[i]).Render(strings.Repeat(cells[i].glyph(), j-i)))
		i = j
	}
	if suffix != "" {
		b.WriteString(" " + suffix)
	}
	return fit(b.String(), width)
}
