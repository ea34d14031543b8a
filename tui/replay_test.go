package tui

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/trace"
)

// recorder collects every event of a rig's engines (quiet ones
// included) through Config.OnEvent, as --record writes them.
type recorder struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	w      *trace.Writer
	policy string
}

// recording returns a rig option that records device n's engine; call it
// once per device, in order.
func (rec *recorder) device() rigOption {
	n := 0
	return func(c *authstate.Config, o *Options) {
		n++
		dev := n
		c.OnEvent = func(ev authstate.Event) { rec.w.Event(dev, ev) }
	}
}

func newRecorder(devices int, consumer bool) *recorder {
	rec := &recorder{}
	rec.w = trace.NewWriter(&rec.buf, trace.Header{
		Authscope: "test", Command: "tui", Policy: "pr329", Started: t0, Devices: devices,
		Target:  trace.Target{Kind: "sim", Host: "127.0.0.1:3210"},
		Options: map[string]string{"consumer": fmt.Sprint(consumer), "poll": "0s"},
	}, trace.Options{})
	return rec
}

// trace reads back what was recorded so far.
func (rec *recorder) trace(t testing.TB) *trace.Trace {
	t.Helper()
	if err := rec.w.Flush(); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Read(bytes.NewReader(rec.buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Problems) > 0 {
		t.Fatalf("problems: %v", tr.Problems)
	}
	return tr
}

// recordedRig is a rig whose engines are recorded: opts apply to every
// device.
func recordedRig(t testing.TB, n int, consumerOn bool, opts ...rigOption) (*rig, *recorder) {
	rec := newRecorder(n, consumerOn)
	all := append([]rigOption{rec.device()}, opts...)
	if consumerOn {
		all = append(all, consumer)
	}
	return newRigN(t, n, all...), rec
}

// staleRecipe is the README's "A stale token in one minute" under v0.12:
// m m, h, t, p, t, R, ending at the time of its last event.
func staleRecipe(r *rig) {
	r.clock.Advance(time.Second)
	r.press("m")
	r.press("m")
	r.press("h")
	r.press("t")
	r.settle()
	r.clock.Advance(500 * time.Millisecond)
	r.press("p")
	r.settle()
	r.clock.Advance(500 * time.Millisecond)
	r.press("t")
	r.settle()
	r.clock.Advance(500 * time.Millisecond)
	r.press("R")
	r.settle()
	r.m.Update(tickMsg{})
}

func replayOf(t testing.TB, tr *trace.Trace, w, h int) *Model {
	t.Helper()
	m := NewReplay(tr, Options{NoColor: true, TickEvery: -1})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

func replayPress(m *Model, k string) tea.Cmd {
	var msg tea.KeyPressMsg
	switch k {
	case "left":
		msg = tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		msg = tea.KeyPressMsg{Code: tea.KeyRight}
	default:
		msg = keyMsg(k)
	}
	_, cmd := m.Update(msg)
	return cmd
}

// panelLines are the screen's lines from the session panel's title to the
// event log's title: what the panels say, without the header (LIVE or
// REPLAY), the status line or the key help.
func panelLines(t testing.TB, screen string) string {
	t.Helper()
	lines := strings.Split(screen, "\n")
	from, to := -1, -1
	for i, l := range lines {
		if from < 0 && strings.HasPrefix(l, "── Session") {
			from = i
		}
		if from >= 0 && strings.HasPrefix(l, "── Events") {
			to = i
			break
		}
	}
	if from < 0 || to < 0 {
		t.Fatalf("no session panel or event log title on screen:\n%s", screen)
	}
	return strings.Join(lines[from:to], "\n")
}

// At the moment the stale token was served, the replay's panels say what
// the live screen said: session, token with its STALE badge, fetches,
// counters and the violation; only the header and status differ.
func TestReplayShowsWhatTheLiveScreenShowed(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {140, 45}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			r, rec := recordedRig(t, 1, true)
			r.m.Update(tea.WindowSizeMsg{Width: size.w, Height: size.h})
			staleRecipe(r)
			live := r.screen()
			mustContain(t, live, "STALE")
			tr := rec.trace(t)
			m := replayOf(t, tr, size.w, size.h)
			replayPress(m, "end")
			replay := stripView(m)
			if got, want := panelLines(t, replay), panelLines(t, live); got != want {
				t.Fatalf("replay panels differ from the live ones.\nlive:\n%s\nreplay:\n%s", want, got)
			}
			n := m.replay.Len()
			header, _, _ := strings.Cut(replay, "\n")
			if !strings.Contains(header, fmt.Sprintf("REPLAY ⏸ event %d of %d", n, n)) && !strings.Contains(header, fmt.Sprintf("REPLAY ⏸ %d/%d", n, n)) {
				t.Fatalf("the header does not say REPLAY at event %d of %d: %s", n, n, header)
			}
		})
	}
}

func TestReplayGolden(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {140, 45}} {
		t.Run(fmt.Sprintf("stale_%dx%d", size.w, size.h), func(t *testing.T) {
			r, rec := recordedRig(t, 1, true)
			staleRecipe(r)
			m := replayOf(t, rec.trace(t), size.w, size.h)
			// The first violation: the stale token served (] stops at
			// the flicker windows too).
			toViolation(t, m)
			screen := stripView(m)
			mustContain(t, screen, "REPLAY", "STALE")
			golden.RequireEqual(t, []byte(wallClockFree(screen)))
		})
	}
}

// toViolation presses ] until the playhead stands on a violation.
func toViolation(t *testing.T, m *Model) {
	t.Helper()
	for range 20 {
		replayPress(m, "]")
		if rows := m.events.rows; len(rows) > 0 && rows[len(rows)-1].Kind == authstate.KindViolation {
			return
		}
	}
	t.Fatalf("] never reached a violation:\n%s", stripView(m))
}

// keyTrace is a short recorded session with a violation: the stale recipe
// without the Convex client.
func keyTrace(t *testing.T) *trace.Trace {
	r, rec := recordedRig(t, 1, false)
	staleRecipe(r)
	return rec.trace(t)
}

func TestReplayKeysMoveThePlayhead(t *testing.T) {
	tr := keyTrace(t)
	m := replayOf(t, tr, 120, 40)
	rp := m.replay
	n := rp.Len()
	if n < 10 || len(rp.marks) == 0 {
		t.Fatalf("trace of %d logged events, marks %v", n, rp.marks)
	}
	pos := func(want int, after string) {
		t.Helper()
		if rp.pos != want {
			t.Fatalf("after %s the playhead is at %d, want %d", after, rp.pos, want)
		}
		mustContain(t, stripView(m), fmt.Sprintf("event %d of %d", want, n))
	}
	pos(0, "opening")
	replayPress(m, "left")
	pos(0, "← at the start")
	replayPress(m, "right")
	pos(1, "→")
	replayPress(m, "right")
	pos(2, "→ →")
	replayPress(m, "left")
	pos(1, "←")
	replayPress(m, "end")
	pos(n, "end")
	replayPress(m, "right")
	pos(n, "→ at the end")
	replayPress(m, "home")
	pos(0, "home")
	replayPress(m, "]")
	pos(rp.marks[0], "]")
	if ev := m.events.rows[len(m.events.rows)-1]; ev.Kind != authstate.KindViolation {
		t.Fatalf("] stopped on %s, want the violation as the log's last row", ev.Kind)
	}
	replayPress(m, "]")
	if len(rp.marks) > 1 {
		pos(rp.marks[1], "] ]")
		replayPress(m, "[")
		pos(rp.marks[0], "] ] [")
	}
	replayPress(m, "[")
	pos(rp.marks[0], "[ before the first mark")
	mustContain(t, stripView(m), "no violation or flicker window before this event")
	replayPress(m, "end")
	replayPress(m, "]")
	pos(n, "] at the end")

	// The speeds: ×1 up to ×16, down to ×¼, and no further either way.
	for _, want := range []string{"×2", "×4", "×8", "×16", "×16"} {
		replayPress(m, ">")
		mustContain(t, stripView(m), "speed "+want)
	}
	for _, want := range []string{"×8", "×4", "×2", "×1", "×½", "×¼", "×¼"} {
		replayPress(m, "<")
		mustContain(t, stripView(m), "speed "+want)
	}
}

// Stepping one event back gives the same screen as coming forward to it:
// the seek from a checkpoint and the step-by-step fold agree, and so does
// a seek forward (b seeks on every move).
func TestReplaySeekMatchesStepping(t *testing.T) {
	tr := keyTrace(t)
	a := replayOf(t, tr, 140, 45)
	b := replayOf(t, tr, 140, 45)
	b.replay.stepMax = 0
	for p := 1; p <= b.replay.Len(); p++ {
		replayPress(a, "right")
		replayPress(b, "right")
		if ga, gb := panelLines(t, stripView(a)), panelLines(t, stripView(b)); ga != gb {
			t.Fatalf("at event %d, stepping forward shows\n%s\nseeking forward shows\n%s", p, ga, gb)
		}
	}
	for p := a.replay.Len(); p > 0; p-- {
		replayPress(b, "left")
		replayPress(a, "home")
		for range p - 1 {
			replayPress(a, "right")
		}
		if ga, gb := panelLines(t, stripView(a)), panelLines(t, stripView(b)); ga != gb {
			t.Fatalf("at event %d, stepping forward shows\n%s\nseeking back shows\n%s", p-1, ga, gb)
		}
	}
}

func TestReplayPlaysAtTheRecordedPace(t *testing.T) {
	tr := keyTrace(t)
	m := replayOf(t, tr, 120, 40)
	rp := m.replay
	if cmd := replayPress(m, "space"); cmd == nil || !rp.playing {
		t.Fatal("space did not start playback")
	}
	mustContain(t, stripView(m), "REPLAY ▶", "playing at ×1")
	// Play to the end in ticks of 50 ms wall time at ×16.
	for range 4 {
		replayPress(m, ">")
	}
	wall := time.Unix(0, 0)
	ticks := 0
	for rp.playing && ticks < 10000 {
		wall = wall.Add(replayTick)
		m.Update(replayTickMsg{gen: rp.gen, at: wall})
		ticks++
	}
	if !rp.atEnd() {
		t.Fatalf("playback stopped at %d of %d", rp.pos, rp.Len())
	}
	// The recording spans about 2.7 s with no idle gap over 2 s: at ×16
	// that is some 170 ms of wall time, a few ticks.
	span := rp.at(rp.Len()).Sub(rp.begin)
	want := int(span/16/replayTick) + 1
	if ticks < want-1 || ticks > want+2 {
		t.Fatalf("playback of %v at ×16 took %d ticks of %v, want about %d", span, ticks, replayTick, want)
	}
	mustContain(t, stripView(m), "end of the trace", "REPLAY ⏸")
	// A tick of an older playback does nothing.
	replayPress(m, "home")
	replayPress(m, "space")
	replayPress(m, "space")
	m.Update(replayTickMsg{gen: rp.gen - 1, at: wall.Add(time.Hour)})
	if rp.pos != 0 {
		t.Fatalf("a stale tick moved the playhead to %d", rp.pos)
	}
}

// A long idle gap plays as replayMaxIdle.
func TestReplayShortensIdleGaps(t *testing.T) {
	r, rec := recordedRig(t, 1, false)
	r.press("t")
	r.settle()
	r.clock.Advance(time.Hour)
	r.press("t")
	r.settle()
	m := replayOf(t, rec.trace(t), 120, 40)
	rp := m.replay
	replayPress(m, "space")
	wall := time.Unix(0, 0)
	for range int((replayMaxIdle+time.Second)/replayTick) + 2 {
		wall = wall.Add(replayTick)
		m.Update(replayTickMsg{gen: rp.gen, at: wall})
	}
	if !rp.atEnd() {
		t.Fatalf("after %v of play the playhead is at %d of %d: an hour's gap was not shortened", replayMaxIdle+time.Second, rp.pos, rp.Len())
	}
}

// Keys that would change a client say so and change nothing.
func TestReplayReadOnlyKeys(t *testing.T) {
	m := replayOf(t, keyTrace(t), 120, 40)
	replayPress(m, "]")
	before := stripView(m)
	for _, k := range []string{"p", "r", "f", "t", "o", "i", "m", "c", "h", "H", "L", "R", "+", "-", "="} {
		m.status = ""
		replayPress(m, k)
		if m.mode != modeNormal || m.status != "replay: read-only" {
			t.Fatalf("key %s: mode %s, status %q; want replay: read-only", k, m.mode, m.status)
		}
		if got := panelLines(t, stripView(m)); got != panelLines(t, before) {
			t.Fatalf("key %s changed the panels:\n%s", k, got)
		}
	}
	mustContain(t, stripView(m), "replay: read-only")
	// The help page lists the replay's keys.
	replayPress(m, "?")
	mustContain(t, stripView(m), "Replay", "read-only: keys that would change a client say so", "play/pause")
}

// The filter and the detail view work on the events up to the playhead,
// whether the playhead steps or seeks (stepMax 0: every move is a seek).
func TestReplayFilterAndDetail(t *testing.T) {
	for _, seekOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("seekOnly=%v", seekOnly), func(t *testing.T) { testReplayFilter(t, seekOnly) })
	}
}

func testReplayFilter(t *testing.T, seekOnly bool) {
	m := replayOf(t, keyTrace(t), 120, 40)
	if seekOnly {
		m.replay.stepMax = 0
	}
	replayPress(m, "end")
	replayPress(m, "/")
	for _, c := range "kind:violation" {
		replayPress(m, string(c))
	}
	replayPress(m, "enter")
	total := m.events.count
	if total == 0 {
		t.Fatal("no violation matches the filter at the end")
	}
	replayPress(m, "home")
	if m.events.count != 0 {
		t.Fatalf("at the start %d events match", m.events.count)
	}
	replayPress(m, "]")
	if m.events.count != 1 {
		t.Fatalf("at the first violation %d events match, want 1", m.events.count)
	}
	replayPress(m, "enter")
	if m.mode != modeDetail {
		t.Fatalf("enter: mode %s", m.mode)
	}
	mustContain(t, stripView(m), "violation")
	replayPress(m, "esc")
	// Back to the start and on again past where the filter had looked.
	replayPress(m, "home")
	replayPress(m, "]")
	replayPress(m, "end")
	if m.events.count != total {
		t.Fatalf("back at the end %d events match, want %d", m.events.count, total)
	}
}

func TestReplayTwoDevices(t *testing.T) {
	r, rec := recordedRig(t, 2, true)
	r.clock.Advance(3 * time.Second)
	r.rotateHeld("p", 0)
	r.clock.Advance(1200 * time.Millisecond)
	r.devs[1].eng.Observe("poll")
	r.settle()
	r.m.Update(tickMsg{})
	liveScreens := []string{}
	for range 2 {
		r.m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
		liveScreens = append(liveScreens, r.screen())
		r.press("d")
	}
	m := replayOf(t, rec.trace(t), 140, 45)
	replayPress(m, "end")
	for i := range 2 {
		screen := stripView(m)
		mustContain(t, screen, fmt.Sprintf("device %d/2", i+1), fmt.Sprintf("device %d:", 2-i))
		if got, want := panelLines(t, screen), panelLines(t, liveScreens[i]); got != want {
			t.Fatalf("device %d: replay panels\n%s\nlive\n%s", i+1, got, want)
		}
		replayPress(m, "d")
	}
}

func TestReplayEmptyTrace(t *testing.T) {
	var buf bytes.Buffer
	w := trace.NewWriter(&buf, trace.Header{Command: "tui", Policy: "v0.12", Started: t0}, trace.Options{})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []struct{ w, h int }{{80, 24}, {20, 5}, {1, 1}} {
		m := replayOf(t, tr, size.w, size.h)
		for _, k := range []string{"space", "right", "left", "]", "[", "home", "end", ">", "<", "t", "/", "esc", "enter", "esc", "?", "esc", "tab", "enter"} {
			replayPress(m, k)
			_ = stripView(m)
		}
		m.Update(replayTickMsg{gen: m.replay.gen, at: time.Now()})
		if size.w == 80 {
			mustContain(t, stripView(m), "REPLAY", "event 0 of 0")
		}
	}
}

// BenchmarkReplayFrame is one key of the playhead and the frame drawn
// after it, on a trace of some 100k events: "step" alternates a step
// forward (applied to the folds) and a step back (a seek from a
// checkpoint); "seek" alternates end and home.
func BenchmarkReplayFrame(b *testing.B) {
	tr := longTrace(b, 100_000)
	m := replayOf(b, tr, 140, 45)
	for _, bc := range []struct {
		name string
		keys [2]string
	}{{"step", [2]string{"right", "left"}}, {"seek", [2]string{"end", "home"}}} {
		b.Run(bc.name, func(b *testing.B) {
			m.seek(m.replay.Len() / 2)
			for i := range b.N {
				replayPress(m, bc.keys[i%2])
				_ = m.View()
			}
		})
	}
}

// BenchmarkReplayOpen is NewReplay on a trace of some 100k events
// already read: the per-device timelines with their checkpoints, the
// positions and the marks.
func BenchmarkReplayOpen(b *testing.B) {
	tr := longTrace(b, 100_000)
	b.ResetTimer()
	for range b.N {
		NewReplay(tr, Options{NoColor: true, TickEvery: -1})
	}
}

// longTrace repeats a recorded session, shifted in time and with fresh
// request ids and seqs, until it holds about n events.
func longTrace(tb testing.TB, n int) *trace.Trace {
	tb.Helper()
	r, rec := recordedRig(tb, 1, true)
	for range 3 {
		r.clock.Advance(time.Second)
		r.rotateHeld("p", 300*time.Millisecond)
		r.press("t")
		r.press("f")
		r.settle()
	}
	base := rec.trace(tb).Events()
	span := base[len(base)-1].At.Sub(base[0].At) + time.Second
	var maxFetch int
	var maxSeq uint64
	for _, ev := range base {
		maxFetch, maxSeq = max(maxFetch, ev.Fetch), max(maxSeq, ev.Seq)
	}
	var buf bytes.Buffer
	w := trace.NewWriter(&buf, trace.Header{Command: "tui", Policy: "pr329", Started: t0, Options: map[string]string{"consumer": "true"}}, trace.Options{})
	for k := 0; k*len(base) < n; k++ {
		for _, ev := range base {
			e := ev.Event
			e.At = e.At.Add(time.Duration(k) * span)
			e.Seq += uint64(k) * maxSeq
			if e.Fetch != 0 {
				e.Fetch += k * maxFetch
			}
			w.Event(1, e)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	tr, err := trace.Read(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}

// FuzzReplay: whatever a trace holds, the replay opens it and its keys
// and frames never panic.
func FuzzReplay(f *testing.F) {
	rec := newRecorder(2, true)
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, k := range []authstate.Kind{authstate.KindPollStarted, authstate.KindSessionObserved, authstate.KindCallStarted, authstate.KindFetchStarted, authstate.KindViolation, authstate.KindFlicker, authstate.KindTokenServed} {
		rec.w.Event(1+i%2, authstate.Event{Seq: uint64(i), At: base.Add(time.Duration(i) * time.Second), Kind: k, Fetch: i, Call: "call1", Session: "S1", Reason: "open"})
	}
	rec.w.Flush()
	f.Add(rec.buf.Bytes())
	f.Add([]byte(`{"type":"header","version":1,"devices":1000000}` + "\n" + `{"type":"event","device":99,"seq":1,"at":"2026-01-01T00:00:00Z","kind":"note"}` + "\n"))
	// A compare trace: its columns replay side by side with a merged log.
	f.Add([]byte(`{"type":"header","version":1,"devices":2,"columns":["v0.12","pr329+pr83"]}` + "\n" +
		`{"type":"event","seq":1,"at":"2026-01-01T00:00:00Z","kind":"token_served","stale":true}` + "\n" +
		`{"type":"event","device":2,"seq":1,"at":"2026-01-01T00:00:01Z","kind":"violation"}` + "\n" +
		`{"type":"event","device":3,"seq":1,"at":"2026-01-01T00:00:02Z","kind":"note"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := trace.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		m := NewReplay(tr, Options{NoColor: true, TickEvery: -1})
		for _, size := range []struct{ w, h int }{{80, 24}, {30, 8}} {
			m.Update(tea.WindowSizeMsg{Width: size.w, Height: size.h})
			for _, k := range []string{"right", "]", "end", "left", "[", "home", "space", "d", "/", "esc", "tab", "enter", "esc"} {
				replayPress(m, k)
				_ = m.View()
			}
			m.Update(replayTickMsg{gen: m.replay.gen, at: time.Unix(int64(len(data)), 0)})
			_ = m.View()
		}
	})
}

// Text from a trace reaches the screen made safe: control sequences in an
// event's fields, a session label or the target do not.
func TestReplayMakesTheFileSafe(t *testing.T) {
	evil := "\x1b]2;owned\x07\x1b[2J\u202e"
	var buf bytes.Buffer
	w := trace.NewWriter(&buf, trace.Header{Command: "tui", Policy: "v0.12" + evil, Started: t0, Target: trace.Target{Kind: "url", Host: "h" + evil}}, trace.Options{})
	w.Event(1, authstate.Event{Seq: 1, At: t0, Kind: authstate.KindNote, Detail: "note " + evil, Session: "S1" + evil})
	w.Event(1, authstate.Event{Seq: 2, At: t0, Kind: authstate.KindSessionObserved, SessionID: "id" + evil, Session: "S1" + evil,
		Observed: &authstate.Session{ID: "id" + evil, UserID: "u" + evil, Email: "e" + evil + "@x.test", ExpiresAt: t0.Add(time.Hour)}})
	w.Event(1, authstate.Event{Seq: 3, At: t0, Kind: authstate.KindFetchStarted, Fetch: 1, Call: "c" + evil, Cause: "key " + evil, Session: "S1" + evil})
	w.Event(1, authstate.Event{Seq: 4, At: t0, Kind: authstate.KindFetchResolved, Fetch: 1, Session: "S1" + evil,
		Token: &authstate.TokenInfo{Fingerprint: "f" + evil, Session: "S1" + evil, SessionID: "id" + evil, Verified: true, ExpiresAt: t0.Add(time.Hour)}})
	w.Event(1, authstate.Event{Seq: 5, At: t0, Kind: authstate.KindCacheSet, Session: "S1" + evil,
		Token: &authstate.TokenInfo{Fingerprint: "f" + evil, Session: "S1" + evil, SessionID: "id" + evil, Verified: true, ExpiresAt: t0.Add(time.Hour)}})
	w.Event(1, authstate.Event{Seq: 6, At: t0, Kind: authstate.KindViolation, Detail: "bad " + evil, Session: "S1" + evil, Cause: "gone-session"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	m := replayOf(t, tr, 140, 45)
	for _, k := range []string{"end", "tab", "enter", "esc", "tab", "enter"} {
		replayPress(m, k)
		content := m.View().Content
		for _, bad := range []string{"\x1b]", "\x07", "\x1b[2J", "\u202e"} {
			if strings.Contains(content, bad) {
				t.Fatalf("after %s the screen holds %q:\n%q", k, bad, content)
			}
		}
	}
	mustContain(t, stripView(m), `bad \x1b]2;owned\x07`)
}

// --demo masks ids and emails in a replay as it does live.
func TestReplayDemoMasks(t *testing.T) {
	r, rec := recordedRig(t, 1, false)
	staleRecipe(r)
	m := NewReplay(rec.trace(t), Options{NoColor: true, TickEvery: -1, Demo: true})
	m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	replayPress(m, "end")
	screen := stripView(m)
	mustContain(t, screen, "DEMO", maskDots, "STALE")
	for _, secret := range []string{"sess01AbCdEf", "alice@example.com", "user01XyZ"} {
		if strings.Contains(screen, secret) {
			t.Fatalf("--demo replay shows %q:\n%s", secret, screen)
		}
	}
}
