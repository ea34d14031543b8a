package main

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
	"github.com/authscope/authscope/trace"
)

// upstreamModelled names the upstream versions the model follows, for a
// trace's header, as the README states them: v0.12 models
// @convex-dev/better-auth up to 0.12.5 and pr329 that PR at 37bdd4b, the
// Convex client model is convex 1.45's, and the simulator was checked
// against better-auth 1.6.34 with the plugin 0.12.5.
func upstreamModelled() map[string]string {
	return map[string]string{
		"@convex-dev/better-auth": "0.12.5",
		"better-auth":             "1.6.34",
		"convex":                  "1.45.0",
		"pr329":                   "37bdd4b",
	}
}

// buildVersion is the program's version and the commit it was built from
// ("" when the build info has none), as `authscope version` says them.
func buildVersion() (v, commit string) {
	v = version
	info, ok := debug.ReadBuildInfo()
	if !ok || info == nil {
		return v, ""
	}
	if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if commit != "" && modified {
		commit += "+modified"
	}
	return v, commit
}

// traceTarget is the kind and host of a target for a trace's header:
// never its credentials, path or query.
func traceTarget(raw string) trace.Target {
	if raw == "" || raw == "sim" {
		return trace.Target{Kind: "sim"}
	}
	t := trace.Target{Kind: "url"}
	if u, err := url.Parse(target.RedactURL(raw)); err == nil {
		t.Host = u.Host
	}
	return t
}

// baseHeader is the header every trace of this invocation shares.
func baseHeader(command string) trace.Header {
	v, commit := buildVersion()
	return trace.Header{
		Authscope: v,
		Commit:    commit,
		Command:   command,
		Upstream:  upstreamModelled(),
		Started:   time.Now().UTC(),
		Devices:   1,
	}
}

// runRecorder writes one trace per scenario × policy into a directory
// (run --record DIR).
type runRecorder struct {
	dir    string
	header trace.Header
	scrub  []string
	used   map[string]bool
}

func newRunRecorder(dir string, o runOptions) (*runRecorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--record %s: %w", dir, err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("--record %s: not a directory", dir)
	}
	// Find out now, not after the first run, that nothing can be written.
	probe, err := os.CreateTemp(dir, ".authscope-record-*")
	if err != nil {
		return nil, fmt.Errorf("--record %s: cannot write there: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	h := baseHeader("run")
	h.Target = traceTarget(o.target)
	h.Options = map[string]string{"step_timeout": o.stepTimeout.String()}
	if h.Target.Kind == "sim" {
		h.Options["alg"] = o.alg
	} else if o.convexURL != "" {
		h.Options["convex_host"] = traceTarget(o.convexURL).Host
	}
	return &runRecorder{dir: dir, header: h, scrub: []string{o.password}, used: map[string]bool{}}, nil
}

// runTrace is the trace of one scenario under one policy.
type runTrace struct {
	path   string
	f      *os.File
	w      *trace.Writer
	events atomic.Int64
	// inputs numbers the input records (1, 2, 3, …); input runs on the
	// engine's loop only.
	inputs uint64
}

// traceName is 03-rotation-in-flight.v0.12.jsonl for a scenario file
// 03-rotation-in-flight.yaml under v0.12.
func traceName(sc *scenario.Scenario, policy string) string {
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(sc.File), ".yaml"), ".yml")
	if sc.File == "" || base == "" || base == "." {
		base = sc.Name
	}
	base = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, base)
	return base + "." + policy + ".jsonl"
}

// open starts the trace of sc under v; its name is that of v (the policy
// alone for a variant with no switch).
func (r *runRecorder) open(sc *scenario.Scenario, v authstate.Variant) (*runTrace, error) {
	policy := v.String()
	name := traceName(sc, policy)
	for n := 2; r.used[name]; n++ {
		// Two scenario files of one name in different directories.
		name = strings.TrimSuffix(traceName(sc, policy), ".jsonl") + fmt.Sprintf("-%d.jsonl", n)
	}
	r.used[name] = true
	path := filepath.Join(r.dir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--record: %w", err)
	}
	h := r.header
	h.Options = maps.Clone(h.Options)
	// The scenario's start, so that the trace says how the client began.
	h.Options["signed_in"] = fmt.Sprint(sc.Start.SignedIn)
	h.Options["initial_token"] = fmt.Sprint(sc.Start.InitialToken)
	h.Options["consumer"] = fmt.Sprint(sc.Start.Consumer)
	// The switches in effect: the scenario's own and the variant's.
	ran := sc.Effective(v)
	h.Options["pr83"] = fmt.Sprint(ran.PR83)
	h.Options["preserve_session"] = fmt.Sprint(ran.Preserve)
	if v.PR83 || v.Preserve {
		h.Options["variant"] = v.String()
	}
	if ran.Preserve {
		// The change the simulator's switch models: better-auth PR #9345
		// at the head it was read at.
		h.Upstream = maps.Clone(h.Upstream)
		h.Upstream["better-auth-pr9345"] = "3c8bae0"
	}
	h.Policy = v.Policy
	h.Scenario = filepath.Base(sc.File)
	if sc.File == "" {
		h.Scenario = sc.Name
	}
	h.Started = time.Now().UTC()
	return &runTrace{path: path, f: f, w: trace.NewWriter(f, h, trace.Options{Scrub: r.scrub})}, nil
}

// input records one engine input, as the loop applies it (before the
// events it causes): its number among the trace's inputs, the engine
// clock's time and the input as the authstate codec writes it.
func (t *runTrace) input(at time.Time, in authstate.Input) {
	t.inputs++
	writeInput(t.w, t.inputs, at, 1, in)
}

// writeInput encodes in and appends it to w; the Writer redacts it (the
// jwt of a token_fetch_done keeps its header and claims only). An input
// the codec does not know is written as a note-free record of its kind
// "unknown", so that the numbering has no hole.
func writeInput(w *trace.Writer, seq uint64, at time.Time, device int, in authstate.Input) {
	kind, data, err := authstate.EncodeInput(in)
	if err != nil {
		kind, data = "unknown", nil
	}
	w.Input(seq, at, device, kind, data)
}

func (t *runTrace) event(ev authstate.Event) {
	if t.w.Event(1, ev) == nil {
		t.events.Add(1)
	}
}

// close finishes the trace; engineEvents is how many events the run's
// engine emitted, to tell a trace that missed some.
func (t *runTrace) close(engineEvents int) error {
	err := t.w.Close()
	if cerr := t.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--record %s: %w", t.path, err)
	}
	if got := t.events.Load(); got < int64(engineEvents) {
		return fmt.Errorf("--record %s: the trace holds %d of the run's %d events (the event stream fell behind)", t.path, got, engineEvents)
	}
	return nil
}

// tuiRecorder writes the trace of a TUI session (authscope --record
// FILE): every input and every event of every device, each device's in
// the order its engine applied and emitted them.
//
// Each device's engine is built with a deviceTap as its Config.OnInput
// and OnEvent, so the records are written on the engine's loop as they
// happen: nothing can be missed, and inputs and events stay interleaved
// as they were. The TUI attaches the trace to the taps before it starts
// the engines; what a tap saw before that is counted, and close reports
// it.
type tuiRecorder struct {
	path string
	f    *os.File
	w    *trace.Writer
	taps []*deviceTap
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// deviceTap is one device's hook into its engine.
type deviceTap struct {
	device int
	mu     sync.Mutex
	w      *trace.Writer
	closed bool
	inputs uint64 // input records written: the next one's seq is inputs+1
	// before counts the inputs and events seen before a trace was
	// attached.
	before uint64
}

func newDeviceTap(device int) *deviceTap { return &deviceTap{device: device} }

// hook sets cfg's OnInput and OnEvent to the tap.
func (d *deviceTap) hook(cfg *authstate.Config) {
	cfg.OnInput = d.input
	cfg.OnEvent = d.event
}

func (d *deviceTap) input(at time.Time, in authstate.Input) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
	case d.w == nil:
		d.before++
	default:
		d.inputs++
		writeInput(d.w, d.inputs, at, d.device, in)
	}
}

func (d *deviceTap) event(ev authstate.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
	case d.w == nil:
		d.before++
	default:
		d.w.Event(d.device, ev)
	}
}

func (d *deviceTap) attach(w *trace.Writer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.w = w
}

// detach stops writing and says how many records the tap saw before it
// was attached.
func (d *deviceTap) detach() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed, d.w = true, nil
	return d.before
}

func openTUIRecord(path string, h trace.Header, opts trace.Options, taps []*deviceTap) (*tuiRecorder, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("--record %s: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--record: %w", err)
	}
	w := trace.NewWriter(f, h, opts)
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("--record %s: %w", path, err)
	}
	r := &tuiRecorder{path: path, f: f, w: w, taps: taps, done: make(chan struct{})}
	for _, t := range taps {
		t.attach(w)
	}
	// A session can last hours: write the buffered lines out every
	// second, so that a crash loses a second at most.
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				r.w.Flush()
			case <-r.done:
				return
			}
		}
	}()
	return r, nil
}

// close stops recording and closes the file. Stop the engines first:
// their last inputs and events are written then.
func (r *tuiRecorder) close() error {
	var err error
	r.once.Do(func() {
		close(r.done)
		r.wg.Wait()
		var before uint64
		for _, t := range r.taps {
			before += t.detach()
		}
		err = r.w.Close()
		if cerr := r.f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			err = fmt.Errorf("--record %s: %w", r.path, err)
			return
		}
		if before > 0 {
			err = fmt.Errorf("--record %s: the trace misses %d inputs and events the engines had before recording began", r.path, before)
		}
	})
	return err
}

var errRecordSecretsAlone = errors.New("--record-secrets needs --record FILE")
