// Package report turns a trace into one self-contained HTML file to
// attach to a ticket: the header facts, a swimlane timeline of the client
// stack drawn as inline SVG, and the event table with a filter. The file
// loads nothing (its Content-Security-Policy forbids it), and it holds
// nothing the trace does not: every string is escaped, and any complete
// JWT or cookie value that reached the trace is removed again.
package report

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/trace"
)

// Bounds on what one report draws, so that a long recording still gives a
// file a browser opens: the table keeps more than the timeline, and both
// say what they left out.
// They are variables so that a test can lower them.
var (
	maxTimelineEvents = 5000
	maxTableRows      = 50000
)

// fact is one line of the header facts.
type fact struct{ Name, Value string }

// row is one line of the event table.
type row struct {
	ID, Seq, Time, Device, Kind, Session, Fetch, Summary string
	Class                                                string
}

// finding is a violation or a flicker window, listed in words under the
// timeline.
type finding struct {
	Link, Time, Device, Text, Class string
}

// page is everything the template draws.
type page struct {
	Title        string
	Facts        []fact
	Secrets      string // the warning when raw secrets were kept
	Problems     []string
	Drawing      drawing
	AxisNote     string
	TimelineNote string
	TableNote    string
	Findings     []finding
	Rows         []row
	Kinds        []string
	MultiDevice  bool
	EventCount   int
	Violations   int
	Flickers     int
}

// HTML writes the report of t to w.
func HTML(w io.Writer, t *trace.Trace) error {
	if t == nil {
		return fmt.Errorf("report: no trace")
	}
	p := build(t)
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := pageTemplate.Execute(bw, p); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return bw.Flush()
}

func build(t *trace.Trace) *page {
	h := t.Header
	evs := t.Events()
	p := &page{EventCount: len(evs)}
	p.Title = "authscope report"
	if h.Scenario != "" {
		p.Title += ": " + text(h.Scenario)
	}
	if h.Policy != "" {
		p.Title += " under " + text(h.Policy)
	}
	p.Facts = facts(t, len(evs))
	if h.Secrets {
		p.Secrets = "This trace was recorded with raw secrets kept (--record-secrets): the trace file itself may hold complete JWTs. This report removes every complete JWT and cookie value it finds anyway; do not attach the trace without checking it."
		if h.Warning != "" {
			p.Secrets += " The trace says: " + text(h.Warning)
		}
	}
	for _, pr := range t.Problems {
		p.Problems = append(p.Problems, fmt.Sprintf("line %d: %s", pr.Line, text(pr.Err)))
	}

	devices := map[int]bool{}
	for _, e := range evs {
		devices[deviceOf(e)] = true
	}
	p.MultiDevice = len(devices) > 1
	var t0 time.Time
	if len(evs) > 0 {
		t0 = evs[0].At
	}

	// The table.
	kinds := map[string]bool{}
	for i, e := range evs {
		if i >= maxTableRows {
			p.TableNote = fmt.Sprintf("The table shows the first %d of %d events.", maxTableRows, len(evs))
			break
		}
		r := row{
			ID:      anchor(i),
			Seq:     strconv.FormatUint(e.Seq, 10),
			Time:    rel(e.At.Sub(t0)),
			Device:  strconv.Itoa(deviceOf(e)),
			Kind:    e.Kind.String(),
			Session: text(e.Session),
			Summary: summary(e.Event),
		}
		if e.From != "" && e.Session != "" {
			r.Session = text(e.From) + " → " + r.Session
		} else if e.From != "" {
			r.Session = text(e.From) + " → none"
		}
		if e.Fetch != 0 {
			r.Fetch = "#" + strconv.Itoa(e.Fetch)
		}
		switch e.Kind {
		case authstate.KindViolation:
			r.Class = "row-violation"
		case authstate.KindFlicker:
			r.Class = "row-flicker"
		}
		if e.Stale && r.Class == "" {
			r.Class = "row-stale"
		}
		kinds[r.Kind] = true
		p.Rows = append(p.Rows, r)
	}
	p.Kinds = slices.Sorted(maps.Keys(kinds))

	// The findings, in words.
	for i, e := range evs {
		switch {
		case e.Kind == authstate.KindViolation:
			p.Violations++
			p.Findings = append(p.Findings, finding{Link: anchor(i), Time: rel(e.At.Sub(t0)), Device: strconv.Itoa(deviceOf(e)), Text: violationLabel(e.Event), Class: "violation"})
		case e.Kind == authstate.KindFlicker && e.Reason == "open":
			p.Flickers++
			p.Findings = append(p.Findings, finding{Link: anchor(i), Time: rel(e.At.Sub(t0)), Device: strconv.Itoa(deviceOf(e)), Text: "FLICKER window opens: " + strings.TrimPrefix(text(e.Detail), "flicker: "), Class: "flicker"})
		case e.Kind == authstate.KindFlicker && e.Reason == "closed":
			p.Findings = append(p.Findings, finding{Link: anchor(i), Time: rel(e.At.Sub(t0)), Device: strconv.Itoa(deviceOf(e)), Text: "FLICKER window closes: " + text(e.Detail), Class: "flicker"})
		}
	}

	// The timeline.
	drawn := evs
	if len(drawn) > maxTimelineEvents {
		drawn = drawn[:maxTimelineEvents]
		p.TimelineNote = fmt.Sprintf("The timeline draws the first %d of %d events; the table below has more.", maxTimelineEvents, len(evs))
	}
	p.Drawing = layout(drawn, slices.Sorted(maps.Keys(devices)), p.MultiDevice)
	p.AxisNote = "Time runs left to right on the engine clock, in event order: every event takes one step, so events at the same instant (a scenario's virtual clock) stay apart; the time between two events adds room on a logarithmic scale (1 ms ≈ 12 px, 1 s ≈ 120 px)."
	if len(drawn) > 1 && drawn[0].At.Equal(drawn[len(drawn)-1].At) {
		p.AxisNote += fmt.Sprintf(" All %d events drawn happened at one instant of the engine clock (a scenario's virtual clock), so the x axis is their order.", len(drawn))
	}
	if p.Drawing.Cuts > 0 {
		p.AxisNote += fmt.Sprintf(" Idle gaps of %s or more are cut out (%d here) and marked with their length, so that short races stay visible.", words(gapCut), p.Drawing.Cuts)
	} else {
		p.AxisNote += fmt.Sprintf(" Idle gaps of %s or more would be cut out and marked; this trace has none.", words(gapCut))
	}
	return p
}

// deviceOf is an event's device, counting from 1.
func deviceOf(e trace.Event) int {
	if e.Device <= 0 {
		return 1
	}
	return e.Device
}

// anchor is the id of the table row of the i-th event.
func anchor(i int) string { return "e" + strconv.Itoa(i) }

// summary is an event's line in the table.
func summary(e authstate.Event) string {
	s := text(e.Summary())
	if e.Stale && e.Reason != "" && !strings.Contains(e.Summary(), e.Reason) {
		s += " (stale: " + text(e.Reason) + ")"
	}
	if e.Token != nil && e.Token.Problem != "" {
		s += " (token problem: " + text(e.Token.Problem) + ")"
	}
	return s
}

func facts(t *trace.Trace, events int) []fact {
	h := t.Header
	orDash := func(s string) string {
		if s == "" {
			return "—"
		}
		return text(s)
	}
	version := orDash(h.Authscope)
	if h.Commit != "" {
		version += " (commit " + text(h.Commit) + ")"
	}
	target := orDash(h.Target.Kind)
	if h.Target.Host != "" {
		target += ", host " + text(h.Target.Host)
	}
	started := "—"
	if !h.Started.IsZero() {
		started = h.Started.UTC().Format("2006-01-02 15:04:05.000 MST")
	}
	devices := h.Devices
	if devices <= 0 {
		devices = 1
	}
	secrets := "no: passwords, session tokens and cookie values were never written; JWTs without their signature"
	if h.Secrets {
		secrets = "YES: raw JWTs were kept (--record-secrets)"
	}
	demo := "off"
	if h.Demo {
		demo = "on: emails and ids are masked"
	}
	inputs := 0
	for _, e := range t.Entries {
		if e.Input != nil {
			inputs++
		}
	}
	out := []fact{
		{"authscope", version},
		{"Command", orDash(h.Command)},
		{"Policy", orDash(h.Policy)},
		{"Scenario", orDash(h.Scenario)},
		{"Target", target},
		{"Upstream versions", pairs(h.Upstream)},
		{"Options", pairs(h.Options)},
		{"Started", started},
		{"Devices", strconv.Itoa(devices)},
		{"Secrets kept", secrets},
		{"Demo masking", demo},
		{"Trace format", "version " + strconv.Itoa(h.Version)},
		{"Recorded", fmt.Sprintf("%d events, %d inputs", events, inputs)},
	}
	return out
}

// pairs writes a map as "k v, k v" in key order.
func pairs(m map[string]string) string {
	if len(m) == 0 {
		return "—"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = text(k) + " " + text(m[k])
	}
	return strings.Join(parts, ", ")
}
