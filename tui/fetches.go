package tui

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"charm.land/bubbles/v2/spinner"
	"github.com/authscope/authscope/authstate"
)

// fetchRow is one token request: in flight, or finished a moment ago.
type fetchRow struct {
	id       int
	force    bool
	cause    string
	session  string // the session label it was sent under
	started  time.Time
	state    string // in flight, waiting to retry
	attempts int
	// outcome says how it ended, in words; ended is the engine time of
	// that event.
	outcome string
	bad     bool
	ended   time.Time
	// doneAt is the view's time when the row was first seen finished; the
	// row goes finishedFor later.
	doneAt time.Time
	// last is the event that ended it (zero if none was seen): its detail
	// view shows that event in full.
	last authstate.Event
}

func (r *fetchRow) done() bool { return !r.doneAt.IsZero() }

// fetchTable tracks token requests from their events and from the engine's
// list of requests in flight, keeping finished ones on screen briefly.
type fetchTable struct {
	rows map[int]*fetchRow
	// sel is the selected request's id (0: none), for when the panel has
	// the focus; keep holds finished rows on screen meanwhile, so that the
	// one being read does not vanish.
	sel  int
	keep bool
}

// maxFetchRows bounds the table under a flood of fetches.
const maxFetchRows = 64

func (t *fetchTable) row(id int) *fetchRow {
	if t.rows == nil {
		t.rows = make(map[int]*fetchRow)
	}
	r, ok := t.rows[id]
	if !ok {
		r = &fetchRow{id: id, state: "in flight"}
		t.rows[id] = r
	}
	return r
}

// observe updates the table from one event.
func (t *fetchTable) observe(ev authstate.Event) {
	if ev.Fetch == 0 {
		return
	}
	switch ev.Kind {
	case authstate.KindFetchStarted:
		r := t.row(ev.Fetch)
		r.force, r.cause, r.session = ev.Force, ev.Cause, ev.Session
		if r.started.IsZero() {
			r.started = ev.At
		}
		r.state, r.outcome, r.bad = "in flight", "", false
		r.attempts++
	case authstate.KindFetchResolved:
		r := t.row(ev.Fetch)
		r.outcome, r.bad, r.ended, r.last = "resolved: token for "+ev.Session, false, ev.At, ev
		if ev.Stale {
			r.outcome += " (STALE: " + ev.Reason + ")"
			r.bad = true
		}
	case authstate.KindFetchFailed:
		r := t.row(ev.Fetch)
		r.outcome, r.bad, r.ended, r.last = "failed: "+ev.Reason, true, ev.At, ev
	case authstate.KindFetchRetry:
		r := t.row(ev.Fetch)
		r.state = "waiting to retry"
	case authstate.KindFetchDiscarded:
		r := t.row(ev.Fetch)
		r.outcome, r.bad, r.ended, r.last = "discarded by guard: "+ev.Reason, true, ev.At, ev
	}
}

// sync marks rows the engine no longer has in flight as finished, and adds
// rows for requests whose events the view has not seen.
func (t *fetchTable) sync(inflight []authstate.FetchInfo, now time.Time) {
	live := make(map[int]bool, len(inflight))
	for _, f := range inflight {
		live[f.ID] = true
		r := t.row(f.ID)
		r.force, r.cause, r.session, r.started, r.state, r.attempts = f.Force, f.Cause, f.Session, f.Started, f.State, f.Attempts
		r.doneAt = time.Time{}
	}
	for id, r := range t.rows {
		if !live[id] && !r.done() {
			r.doneAt = now
			if r.outcome == "" {
				r.outcome = "settled"
			}
		}
	}
}

// prune forgets rows finished more than finishedFor ago, and the oldest
// finished ones beyond maxFetchRows.
func (t *fetchTable) prune(now time.Time) {
	for id, r := range t.rows {
		if r.done() && now.Sub(r.doneAt) >= finishedFor && !t.keep {
			delete(t.rows, id)
		}
	}
	if len(t.rows) <= maxFetchRows {
		return
	}
	for _, r := range t.sorted() {
		if len(t.rows) <= maxFetchRows {
			break
		}
		if r.done() && r.id != t.sel {
			delete(t.rows, r.id)
		}
	}
}

// window is the rows the panel shows, newest first, at most n of them:
// the newest, or with a selection the stretch that holds it.
func (t *fetchTable) window(n int) []*fetchRow {
	rows := t.sorted()
	slices.Reverse(rows)
	if n <= 0 || len(rows) == 0 {
		return nil
	}
	start := 0
	if i := t.index(rows); i >= n {
		start = i - n + 1
	}
	return rows[start:min(start+n, len(rows))]
}

// index is the position of the selected row in rows (-1 if none).
func (t *fetchTable) index(rows []*fetchRow) int {
	return slices.IndexFunc(rows, func(r *fetchRow) bool { return r.id == t.sel })
}

// move shifts the selection by delta rows in the panel's order (newest
// first); with no selection it starts at the newest row.
func (t *fetchTable) move(delta int) {
	rows := t.sorted()
	slices.Reverse(rows)
	if len(rows) == 0 {
		t.sel = 0
		return
	}
	i := t.index(rows)
	if i < 0 {
		t.sel = rows[0].id
		return
	}
	t.sel = rows[min(max(i+delta, 0), len(rows)-1)].id
}

// selected is the selected row, if it is still in the table.
func (t *fetchTable) selected() (*fetchRow, bool) {
	r, ok := t.rows[t.sel]
	return r, ok && t.sel != 0
}

// sorted lists the rows oldest request first.
func (t *fetchTable) sorted() []*fetchRow {
	out := make([]*fetchRow, 0, len(t.rows))
	for _, r := range t.rows {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// fetchesPanel lists requests in flight and those that just finished,
// newest first, in at most maxRows rows. With the focus, the selected row
// is marked and the title says what the keys do.
func (p pane) fetchesPanel(width, maxRows int) []string {
	st := p.styles
	rows := p.fetches.sorted()
	live := 0
	for _, r := range rows {
		if !r.done() {
			live++
		}
	}
	shown := p.fetches.window(maxRows)
	head := fmt.Sprintf("%d in flight", live)
	if done := len(rows) - live; done > 0 {
		head += fmt.Sprintf(", %d just finished", done)
	}
	if hidden := len(rows) - len(shown); hidden > 0 {
		head += fmt.Sprintf(" (%d more not shown)", hidden)
	}
	focused := p.focused
	if focused {
		// First, so that a narrow title keeps it.
		head = "[↑↓ enter · tab back] " + head
	}
	out := []string{title(st, "Fetches", head, width)}
	if len(rows) == 0 {
		return append(out, st.Dim.Render("no token requests in flight"))
	}
	wide := width >= 110
	for _, r := range shown {
		line, bad := fetchLine(r, p.now, wide)
		if focused {
			if r.id == p.fetches.sel {
				out = append(out, st.Selected.Render(pad(fit("› "+line, width), width)))
				continue
			}
			line = "  " + line
		}
		switch {
		case bad:
			line = st.Bad.Render(line)
		case r.done():
			line = st.Dim.Render(line)
		default:
			line = st.Value.Render(line)
		}
		out = append(out, fit(line, width))
	}
	return out
}

// spinnerFrame picks a frame from the view's clock, so that a frame is a
// pure function of the time it is drawn at; it moves one frame per tick.
func spinnerFrame(now time.Time) string {
	frames := spinner.MiniDot.Frames
	return frames[int(now.UnixMilli()/defaultTick.Milliseconds())%len(frames)]
}

// fetchLine renders one row as plain text; bad reports whether it ended
// badly (for the style).
func fetchLine(r *fetchRow, now time.Time, wide bool) (string, bool) {
	kind := "plain "
	if r.force {
		kind = "forced"
	}
	cause := r.cause
	if cause == "" {
		cause = "-"
	}
	causeW := 14
	if wide {
		causeW = 30
	}
	session := r.session
	if session == "" {
		session = "none"
	}
	var elapsed time.Duration
	switch {
	case !r.ended.IsZero():
		elapsed = r.ended.Sub(r.started)
	case r.done():
		elapsed = r.doneAt.Sub(r.started)
	default:
		elapsed = now.Sub(r.started)
	}
	status := spinnerFrame(now) + " " + r.state
	if r.attempts > 1 && !r.done() {
		status += fmt.Sprintf(" (attempt %d)", r.attempts)
	}
	if r.done() {
		status = "✓ " + r.outcome
		if r.bad {
			status = "✗ " + r.outcome
		}
	}
	line := fmt.Sprintf("#%-3d %s %s sent under %-4s %7s %s", r.id, kind, pad(short(safe(cause), causeW), causeW), safe(session), humanDur(max(elapsed, 0)), safe(status))
	return line, r.done() && r.bad
}
