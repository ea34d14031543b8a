package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/internal/termtext"
)

// ladderList is the list --compare all stands for, for help texts.
func ladderList() string {
	var names []string
	for _, v := range authstate.VariantLadder() {
		names = append(names, v.String())
	}
	return strings.Join(names, ",")
}

// runLabel names what a result ran under: its variant, or its policy.
func runLabel(r scenario.Result) string {
	if r.Variant != "" {
		return r.Variant
	}
	return r.Policy
}

// compareScenarios is run --compare: each scenario under each variant, on
// one virtual start time, then the verdicts and the first event where the
// variants' event streams differ.
func compareScenarios(cmd *cobra.Command, o runOptions, scs []*scenario.Scenario, tg scenario.Target, rec *runRecorder, variants []authstate.Variant, stdout io.Writer) error {
	out := &jsonLines{w: stdout}
	var results []scenario.Result
	for i, sc := range scs {
		// The same virtual start for every variant, so that their event
		// times can be compared.
		start := time.Now().Truncate(time.Second)
		streams := make([][]authstate.Event, len(variants))
		var scResults []scenario.Result
		for vi, v := range variants {
			var tr *runTrace
			var err error
			if rec != nil {
				if tr, err = rec.open(sc, v); err != nil {
					return fail(exitUsage, "%w", err)
				}
			}
			var mu sync.Mutex
			opts := scenario.Options{StepTimeout: o.stepTimeout, Start: start}
			if tr != nil {
				opts.OnInput = tr.input
			}
			opts.OnEvent = func(ev authstate.Event) {
				if tr != nil {
					tr.event(ev)
				}
				if ev.Kind.Quiet() {
					return
				}
				mu.Lock()
				streams[vi] = append(streams[vi], ev)
				mu.Unlock()
			}
			res := scenario.RunVariant(cmd.Context(), tg, sc, v, opts)
			res.Variant = v.String()
			if tr != nil {
				if err := tr.close(res.Events); err != nil {
					return fail(exitUsage, "%w", err)
				}
			}
			mu.Lock()
			got := len(streams[vi])
			mu.Unlock()
			if got < res.Events {
				fmt.Fprintf(cmd.ErrOrStderr(), "authscope: --compare: %s [%s]: %d of the run's %d events were seen (the event stream fell behind); the comparison is of what was seen\n", termtext.Line(sc.Name), v, got, res.Events)
			}
			scResults = append(scResults, res)
			results = append(results, res)
			if o.json {
				out.write(resultLine(res))
			}
			if res.Err != "" && isSetup(res) {
				if !o.json {
					printCompare(stdout, sc, variants, scResults, nil)
					printWhy(stdout, results)
				}
				return fail(exitUsage, "%s: %s", sc.Name, res.Err)
			}
		}
		// A skipped run has no events: it takes no part in the comparison.
		var ran []authstate.Variant
		var evs [][]authstate.Event
		for vi, v := range variants {
			if !scResults[vi].Skipped {
				ran = append(ran, v)
				evs = append(evs, streams[vi])
			}
		}
		d := firstDivergence(ran, evs, start)
		if o.json {
			out.write(divergenceLine(sc, d))
		} else {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			printCompare(stdout, sc, variants, scResults, &d)
		}
	}
	if out.err != nil {
		return fail(exitUsage, "write output: %w", out.err)
	}
	if !o.json {
		printWhy(stdout, results)
	}
	return verdictExit(results, o.json)
}

// divergence is where the variants' event streams first differ.
type divergence struct {
	// Variants are the variants compared (those not skipped).
	Variants []string
	// Diverged is false when every stream is the same to its end.
	Diverged bool
	// Index is the position in the streams (logged events only, from 0);
	// Seq the event sequence number there, Offset its virtual time since
	// the start.
	Index  int
	Seq    uint64
	Offset time.Duration
	// Events holds each variant's event at Index, nil where its stream
	// has ended.
	Events []*authstate.Event
}

// firstDivergence compares the streams of the variants vs position by
// position on what a user reads of an event: its virtual time, its kind
// and its words, where the name of the variant's own policy counts as the
// same word in every stream.
func firstDivergence(vs []authstate.Variant, streams [][]authstate.Event, start time.Time) divergence {
	d := divergence{}
	for _, v := range vs {
		d.Variants = append(d.Variants, v.String())
	}
	if len(streams) < 2 {
		return d
	}
	longest := 0
	for _, s := range streams {
		longest = max(longest, len(s))
	}
	for i := 0; i < longest; i++ {
		var first string
		same := true
		for k, s := range streams {
			key := "\x00end"
			if i < len(s) {
				key = eventKey(s[i], start, vs[k].Policy)
			}
			if k == 0 {
				first = key
			} else if key != first {
				same = false
			}
		}
		if same {
			continue
		}
		d.Diverged, d.Index = true, i
		for _, s := range streams {
			if i < len(s) {
				ev := s[i]
				d.Events = append(d.Events, &ev)
				if d.Seq == 0 {
					d.Seq, d.Offset = ev.Seq, ev.At.Sub(start)
				}
			} else {
				d.Events = append(d.Events, nil)
			}
		}
		return d
	}
	return d
}

// eventKey is what a user reads of an event; the policy's name, token
// fingerprints and session ids differ between runs and are left out.
func eventKey(ev authstate.Event, start time.Time, policy string) string {
	tok := ""
	if ev.Token != nil {
		tok = ev.Token.Session
	}
	conv := ""
	if ev.Convex != nil {
		conv = fmt.Sprintf("%v/%v/%v", ev.Convex.Loading, ev.Convex.Authenticated, ev.Convex.Failing)
	}
	return fmt.Sprintf("%d|%s|%s|%s|%d|%s|%v|%s|%s|%s", ev.At.Sub(start), ev.Kind, ev.Session, ev.From, ev.Fetch, tok, ev.Stale, ev.Source, conv, strings.ReplaceAll(eventWords(ev), policy, "POLICY"))
}

// eventWords is an event in words, as the log shows it.
func eventWords(ev authstate.Event) string {
	return ev.Kind.String() + ": " + ev.Summary()
}

// printCompare prints one scenario's verdicts, one line per variant, and
// its divergence (d nil: the comparison did not run).
func printCompare(w io.Writer, sc *scenario.Scenario, variants []authstate.Variant, results []scenario.Result, d *divergence) {
	fmt.Fprintln(w, termtext.Line(sc.Name))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, r := range results {
		fmt.Fprintf(tw, "  %s\t%s\n", variants[i], termtext.Line(verdictCell(r)))
	}
	tw.Flush()
	if d == nil {
		return
	}
	switch {
	case len(d.Variants) < 2:
		fmt.Fprintln(w, "  no divergence to show: fewer than two variants ran")
	case !d.Diverged:
		fmt.Fprintln(w, "  the variants' events are the same from start to end")
	default:
		fmt.Fprintf(w, "  first divergence: event %d, %s after the start\n", d.Seq, d.Offset)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for i, name := range d.Variants {
			words := "(no further event)"
			if ev := d.Events[i]; ev != nil {
				words = fmt.Sprintf("#%d %s", ev.Seq, eventWords(*ev))
			}
			fmt.Fprintf(tw, "    %s\t%s\n", name, termtext.Line(words))
		}
		tw.Flush()
	}
}

// divergenceJSON is the divergence line of run --compare --json.
type divergenceJSON struct {
	Type     string              `json:"type"`
	Scenario string              `json:"scenario"`
	File     string              `json:"file,omitempty"`
	Variants []string            `json:"variants"`
	Diverged bool                `json:"diverged"`
	Seq      uint64              `json:"seq,omitempty"`
	OffsetMS float64             `json:"offset_ms"`
	Events   []divergenceEventJS `json:"events,omitempty"`
}

type divergenceEventJS struct {
	Variant string `json:"variant"`
	// Ended is true when the variant's stream has no event there.
	Ended bool   `json:"ended,omitempty"`
	Seq   uint64 `json:"seq,omitempty"`
	Kind  string `json:"kind,omitempty"`
	Text  string `json:"text,omitempty"`
}

func divergenceLine(sc *scenario.Scenario, d divergence) divergenceJSON {
	out := divergenceJSON{Type: "divergence", Scenario: sc.Name, File: sc.File, Variants: d.Variants, Diverged: d.Diverged}
	if out.Variants == nil {
		out.Variants = []string{}
	}
	if !d.Diverged {
		return out
	}
	out.Seq, out.OffsetMS = d.Seq, float64(d.Offset.Microseconds())/1000
	for i, name := range d.Variants {
		e := divergenceEventJS{Variant: name, Ended: d.Events[i] == nil}
		if ev := d.Events[i]; ev != nil {
			e.Seq, e.Kind, e.Text = ev.Seq, ev.Kind.String(), ev.Summary()
		}
		out.Events = append(out.Events, e)
	}
	return out
}
