package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
)

// helpPage is the page ? opens: every key, then a glossary of every
// symbol and term on the screen. It scrolls like the detail view.
type helpPage struct {
	offset int // first line shown
}

// term is one glossary entry.
type term struct {
	name, text string
}

// glossarySection is a titled group of terms.
type glossarySection struct {
	title string
	terms []term
}

// timelineTerms name the strip's cells; they follow phase.glyph.
var timelineTerms = []term{
	{phaseAuthed.glyph() + " authenticated", "useConvexAuth says authenticated and the subscribed query answers."},
	{phaseLoading.glyph() + " loading", "Better Auth says signed in; useConvexAuth is still loading (isLoading true)."},
	{phaseFailing.glyph() + " failing", "Better Auth says signed in, but Convex is not authenticated or the subscribed query fails: what an app shows as \"Unauthenticated\"."},
	{phaseSignedOut.glyph() + " signed out", "Better Auth has no session."},
	{"(blank)", "nothing known yet, or older than the history kept. Each cell shows the worst state seen during its span, so a blip shorter than a cell still shows."},
}

// glossary explains the words the panels and the log use.
var glossary = []glossarySection{
	{"Sessions and tokens", []term{
		{"S1, S2, …", "sessions, labelled in the order the client first saw them; a password change with revokeOtherSessions moves the client from one to the next."},
		{"STALE", "a token bound to a session other than the current one, or past its exp."},
		{"session signal", "Better Auth's client refetches the session 10 ms after sign-in, sign-out or change-password (better-auth ≥ 1.6.5). r changes the password without it: the client notices at its next poll."},
		{"forced / plain", "fetchAccessToken({forceRefreshToken: true / false}); a forced call skips the cache."},
		{"pending slot", "the provider's one token request in flight (pendingTokenRef). A plain call while it is taken joins that request instead of sending its own."},
		{"joined", "a call that shared a request already in flight: it gets that request's token, whatever session the request was sent under."},
		{"policy", "the provider's token-cache behaviour. v0.12: @convex-dev/better-auth 0.11–0.12.5 as released; pr329: with PR #329; hardened: authscope's own answer. m switches it live."},
		{"the provider's effects", "what ConvexBetterAuthProvider runs when the session changes: a new fetchAccessToken identity when the session id changes (which makes Convex call setAuth again), and the logout effect that empties the cache when signed out."},
		{"hold", "the client transport keeps token responses (or requests) until you release them: H oldest, L latest, R all."},
	}},
	{"Convex client", []term{
		{"auth manager", "convex-js's AuthenticationManager: noAuth, waitingForServerConfirmationOfCachedToken / FreshToken, initialRefetch, waitingForScheduledRefetch, notRefetching."},
		{"configVersion", "the auth manager's counter, bumped by setConfig and by every token fetch; a token that comes back after it moved is outdated and dropped."},
		{"identity version", "how many identities (a token, or none) the client has sent the deployment; queries answer under the latest."},
		{"clearAuth", "the client sends Authenticate None and every query re-runs with no identity. ConvexProviderWithAuth's effect cleanup calls it whenever fetchAccessToken changes (convex-js #82)."},
		{"PR #83", "a draft convex-js change: the cleanup skips clearAuth on a mere fetcher swap. The Convex panel's title says whether the model runs with it."},
		{"PR #329", "the get-convex/better-auth fix the pr329 policy models: cache read through a ref, dropped when the session id changes, and late requests ignored."},
		{"PR #9345", "a better-auth change that keeps the caller's session on a password change, so its id never changes."},
		{"socket ready", "connected; identities and queries are sent."},
		{"socket paused", "setAuth waits for a token; messages wait until it resumes."},
		{"socket stopped", "closed by a reauthentication; only a token refetch or another reauthentication restarts it (convex-js #181: it can stay stopped)."},
		{"socket disconnected", "the deployment closed it; the client reconnects after a backoff."},
		{"flicker window", "a stretch in which Better Auth says signed in but the Convex side does not agree; counted from the first time Convex was authenticated."},
	}},
	{"Swimlanes (w)", []term{
		{"lanes", "one row per actor: the server's sessions, the session poller, calls served from the cache, each token request (with the calls that joined it), the token cache and the Convex client. Every event takes a column, newest at the right; the time between two events adds up to three columns, and ┊ marks an idle gap over 2 s."},
		{"glyphs", lanesLegend + "."},
		{"▲", "the event log's cursor: its column is highlighted in every lane and its event is spelled out under the axis; ↑/↓, pgup/pgdn, home and end move it."},
		{"axis", "✗ a violation, ░ a flicker window; under it, each one in words with its event number."},
	}},
}

// helpPageLines renders the page before scrolling: the keys of the normal
// mode, the timeline cells, the violation kinds and the glossary.
func (m *Model) helpPageLines(width int) []string {
	st := m.styles
	keys := m.keys
	keys.forMode(modeNormal)
	h := m.help
	h.ShowAll = true
	h.SetWidth(width)
	out := strings.Split(h.View(keys), "\n")
	entry := func(name, text string) {
		head := name + ": "
		for i, l := range wrap(head+text, width) {
			if i == 0 && strings.HasPrefix(l, head) {
				out = append(out, st.Label.Render(head)+st.Value.Render(strings.TrimPrefix(l, head)))
				continue
			}
			out = append(out, st.Value.Render(l))
		}
	}
	for _, sec := range m.feed.glossary() {
		out = append(out, title(st, sec.title, "", width))
		for _, t := range sec.terms {
			entry(t.name, t.text)
		}
	}
	out = append(out, title(st, "Timeline cells", "", width))
	for _, t := range timelineTerms {
		entry(t.name, t.text)
	}
	out = append(out, title(st, "Violations", "what the checker reports", width))
	for _, inv := range authstate.Invariants {
		vk := violationKinds[inv]
		entry(inv, vk.meaning+"; removed by "+vk.fixedBy+".")
	}
	for _, sec := range glossary {
		out = append(out, title(st, sec.title, "", width))
		for _, t := range sec.terms {
			entry(t.name, t.text)
		}
	}
	return out
}

// helpPanel is the help page cut to height rows; its title says which
// lines show, so that a short screen tells there is more below.
func (m *Model) helpPanel(width, height int) []string {
	body := m.helpPageLines(width)
	rows := max(height-1, 0)
	off := min(m.helpPage.offset, max(len(body)-rows, 0))
	end := min(off+rows, len(body))
	where := fmt.Sprintf("lines %d–%d of %d · ↑/↓ pgup/pgdn scroll · esc or ? closes", off+1, end, len(body))
	out := []string{title(m.styles, "Help", where, width)}
	return append(out, body[off:end]...)
}

// helpPageKey handles a key on the help page.
func (m *Model) helpPageKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Back), key.Matches(msg, k.Help):
		m.mode = modeNormal
	default:
		m.scrollKey(msg, &m.helpPage.offset, m.helpPageLines, true)
	}
	return nil
}

// scrollKey moves a scrolled page (help, detail) for ↑ ↓ pgup pgdn home,
// and end where the page has it.
func (m *Model) scrollKey(msg tea.KeyPressMsg, offset *int, lines func(width int) []string, end bool) {
	k := &m.keys
	switch {
	case key.Matches(msg, k.Up):
		m.scrollBy(offset, -1, lines)
	case key.Matches(msg, k.Down):
		m.scrollBy(offset, +1, lines)
	case key.Matches(msg, k.PageUp):
		m.scrollBy(offset, -10, lines)
	case key.Matches(msg, k.PageDown):
		m.scrollBy(offset, +10, lines)
	case key.Matches(msg, k.Home):
		*offset = 0
	case end && key.Matches(msg, k.End):
		m.scrollBy(offset, 1<<20, lines)
	}
}

// scrollBy moves a scrolled page's offset by n lines, no further up than
// its first line and no further down than its last.
func (m *Model) scrollBy(offset *int, n int, lines func(width int) []string) {
	if n < 0 {
		*offset = max(*offset+n, 0)
		return
	}
	last := max(len(lines(m.width))-max(m.frame().eventRows-1, 0), 0)
	*offset = min(*offset+n, last)
}
