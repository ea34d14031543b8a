package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/trace"
)

// A replay drives the same model and panels as live mode from a trace
// instead of engines. The model's devices do not know where their events
// come from: live, a Stream feeds each device's fold (listen, ingest);
// in replay, a playhead does, applying the recorded events in order or,
// to seek, taking the fold from a checkpoint of the device's
// authstate.Timeline and feeding the panels the events just before it.
//
// The playhead stands on the trace's logged events (all devices, in file
// order); the quiet events emitted with one (within replayQuietSlack) are
// applied with it, later ones with the next logged event. Position 0
// is before the first logged event; position M, after the last.

// replaySpeeds are the playback speeds, as multiples of the recorded pace.
var replaySpeeds = []float64{0.25, 0.5, 1, 2, 4, 8, 16}

const (
	replayNormalSpeed = 2 // index of ×1 in replaySpeeds
	// replayTick is how often playback advances.
	replayTick = 50 * time.Millisecond
	// replayMaxIdle caps the recorded wait between two events during
	// playback: a longer idle gap is played as this long.
	replayMaxIdle = 2 * time.Second
	// replayWindow is how many of a device's events before the playhead
	// feed the panels' history (fetch rows, the Convex strip, the
	// explanations) after a seek; a forward step of at most this many
	// events is applied one by one instead.
	replayWindow = 1024
	// replayQuietSlack is how long after a logged event a quiet one may
	// come and still show with it.
	replayQuietSlack = 5 * time.Millisecond
	// replayMaxDevices bounds the devices a trace may name.
	replayMaxDevices = 8
	// replayMaxSteps bounds how many events one playback tick applies.
	replayMaxSteps = 4096
)

// replayer is the playhead over a trace.
type replayer struct {
	name  string
	begin time.Time // time of the first logged event
	ndev  int
	devs  []*replayDevice
	// merged is the log of every column of a compare trace (nil for
	// another trace).
	merged *replayMerged
	// stepAt[i] is the time of logged event i (0-based); position p > 0
	// shows the state right after logged event p-1.
	stepAt []time.Time
	// counts[p*ndev+j] is how many of device j's events (quiet ones
	// included) position p has applied.
	counts []int32
	// logged[p*ndev+j] is how many of them are logged events.
	logged []int32
	// marks are the positions of violations and of flicker windows
	// opening, ascending.
	marks []int

	// stepMax is the longest forward move applied event by event
	// (replayWindow; tests lower it to exercise the seek).
	stepMax int

	pos     int
	playing bool
	speed   int           // index in replaySpeeds
	waited  time.Duration // recorded time played since reaching pos
	gen     int           // playback generation: ticks of an older one are ignored
	last    time.Time     // wall time of the last playback tick
}

// replayDevice is one device's recorded events.
type replayDevice struct {
	raw []authstate.Event // quiet ones included, with the log's seqs
	tl  *authstate.Timeline
	log *replayLog
}

// replayLog is the events panel's source in replay: the device's logged
// events up to the playhead.
// replayMerged is the merged log of a compare trace: every column's
// logged events in the trace's order, numbered 1, 2, … across columns, up
// to the playhead (n).
type replayMerged struct {
	events []authstate.Event
	cols   []uint8
	n      int
}

func newReplayMerged(logged [][]authstate.Event, steps int, all []trace.Event, ndev int) *replayMerged {
	rm := &replayMerged{events: make([]authstate.Event, 0, steps), cols: make([]uint8, 0, steps)}
	next := make([]int, ndev)
	for _, ev := range all {
		j := ev.DeviceNumber() - 1
		if j >= ndev || ev.Kind.Quiet() {
			continue
		}
		e := logged[j][next[j]]
		next[j]++
		e.Seq = uint64(len(rm.events) + 1)
		rm.events = append(rm.events, e)
		rm.cols = append(rm.cols, uint8(j))
	}
	return rm
}

func (l *replayMerged) Len() int      { return l.n }
func (l *replayMerged) Total() uint64 { return uint64(l.n) }

func (l *replayMerged) Slice(from, to int) []authstate.Event {
	from, to = max(from, 0), min(to, l.n)
	if from >= to {
		return nil
	}
	return l.events[from:to:to]
}

func (l *replayMerged) colOf(seq uint64) (int, bool) {
	if seq == 0 || seq > uint64(l.n) {
		return 0, false
	}
	return int(l.cols[seq-1]), true
}

type replayLog struct {
	events []authstate.Event
	n      int
}

func (l *replayLog) Len() int      { return l.n }
func (l *replayLog) Total() uint64 { return uint64(l.n) }

func (l *replayLog) Slice(from, to int) []authstate.Event {
	from, to = max(from, 0), min(to, l.n)
	if from >= to {
		return nil
	}
	return l.events[from:to:to]
}

// replayTickMsg advances playback; gen is the playback it belongs to.
type replayTickMsg struct {
	gen int
	at  time.Time
}

// replayKeys are the keys of a replay. They are fixed: they take the
// place of live keys that would change a client (poll, latency, pause).
type replayKeys struct {
	Play, Back, Forward, PrevMark, NextMark, Start, End, Slower, Faster key.Binding
}

func (rk *replayKeys) all() []*key.Binding {
	return []*key.Binding{&rk.Play, &rk.Back, &rk.Forward, &rk.PrevMark, &rk.NextMark, &rk.Start, &rk.End, &rk.Slower, &rk.Faster}
}

func newReplayKeys() replayKeys {
	return replayKeys{
		Play:     key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "play/pause")),
		Back:     key.NewBinding(key.WithKeys("left"), key.WithHelp("←", "event back")),
		Forward:  key.NewBinding(key.WithKeys("right"), key.WithHelp("→", "event on")),
		PrevMark: key.NewBinding(key.WithKeys("["), key.WithHelp("[", "prev violation/flicker")),
		NextMark: key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next violation/flicker")),
		Start:    key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "start")),
		End:      key.NewBinding(key.WithKeys("end"), key.WithHelp("end", "end")),
		Slower:   key.NewBinding(key.WithKeys("<"), key.WithHelp("<", "slower")),
		Faster:   key.NewBinding(key.WithKeys(">"), key.WithHelp(">", "faster")),
	}
}

// ReplayKeys documents the replay's keys, one line each: "keys — what
// they do".
func ReplayKeys() []string {
	return []string{
		"space — play or pause at the recorded pace (idle gaps longer than 2 s play as 2 s)",
		"→ / ← — one event on / back",
		"] / [ — next / previous violation or flicker window",
		"home / end — the start / the end of the trace",
		"> / < — faster / slower: ×¼ ×½ ×1 ×2 ×4 ×8 ×16",
	}
}

// readOnly lists the live bindings that would change a client: in
// replay they only say so.
func (k *keyMap) readOnly() []*key.Binding {
	return []*key.Binding{
		&k.ChangePassword, &k.Rotate, &k.ForceFetch, &k.Fetch, &k.SignOut, &k.SignIn, &k.Policy, &k.Reset,
		&k.Hold, &k.ReleaseOldest, &k.ReleaseLatest, &k.ReleaseAll, &k.LatencyUp, &k.LatencyDown,
		&k.PollDown, &k.PollUp,
	}
}

// ReplayFoldConfig is the fold settings of a trace's devices, from its
// header.
func ReplayFoldConfig(h trace.Header) authstate.FoldConfig {
	fc := authstate.FoldConfig{Policy: h.Policy}
	if d, err := time.ParseDuration(h.Options["poll"]); err == nil && d >= 0 {
		fc.PollInterval = d
	}
	fc.Consumer, _ = strconv.ParseBool(h.Options["consumer"])
	fc.PR83, _ = strconv.ParseBool(h.Options["pr83"])
	fc.Query = h.Options["query"]
	return fc
}

// NewReplay builds the model on a trace: the panels of live mode, each
// device folded from its recorded events, under a playhead that starts at
// the beginning. Keys that would change a client say "replay: read-only".
// Options' Engine, Transport, Devices, Now and RealTarget are not used;
// Target defaults to the trace's target, Notice to nothing (give the
// reader's problems there).
func NewReplay(tr *trace.Trace, o Options) *Model {
	r := newReplayer(tr)
	o.Engine, o.Transport, o.Devices, o.RealTarget = nil, nil, nil, false
	o.Now = r.now
	if o.Target == "" {
		o.Target = replayTarget(tr.Header.Target)
	}
	m := newModel(o, len(r.devs))
	m.feed, m.replay = r, r
	for i, rd := range r.devs {
		d := &device{num: i + 1, src: rd.log, fold: rd.tl.At(0), events: newEventPanel()}
		m.devs = append(m.devs, d)
	}
	m.device = m.devs[0]
	if names := tr.Header.Columns; r.merged != nil && len(names) == len(m.devs) {
		m.cmp = &compareView{names: names, panel: newEventPanel(), merged: r.merged}
		m.keys.compare = true
		m.keys.Device.SetHelp(m.keys.Device.Help().Key, "log column")
	}
	m.keys.replay, m.keys.replaying = newReplayKeys(), true
	m.keys.forMode(modeNormal)
	m.keys.multiDevice = len(m.devs) > 1
	m.seek(0)
	m.layout()
	return m
}

func newReplayer(tr *trace.Trace) *replayer {
	r := &replayer{name: tr.Name, speed: replayNormalSpeed, stepMax: replayWindow}
	// Every event, in file order, without a copy.
	events := tr.EventsBefore(len(tr.Entries))
	ndev := max(tr.Header.Devices, 1)
	for _, ev := range events {
		if n := ev.DeviceNumber(); n > ndev && n <= replayMaxDevices {
			ndev = n
		}
	}
	ndev = min(ndev, replayMaxDevices)
	r.ndev = ndev
	// Size everything first: a 100k-event trace would otherwise spend
	// most of its opening growing these.
	nraw, nlogged := make([]int, ndev), make([]int, ndev)
	steps := 0
	for _, ev := range events {
		if j := ev.DeviceNumber() - 1; j < ndev {
			nraw[j]++
			if !ev.Kind.Quiet() {
				nlogged[j]++
				steps++
			}
		}
	}
	raw := make([][]authstate.Event, ndev)
	logged := make([][]authstate.Event, ndev)
	for j := range ndev {
		raw[j] = make([]authstate.Event, 0, nraw[j])
		logged[j] = make([]authstate.Event, 0, nlogged[j])
	}
	r.stepAt = make([]time.Time, 0, steps)
	r.counts = make([]int32, 0, (steps+1)*ndev)
	r.logged = make([]int32, 0, (steps+1)*ndev)
	// Each device's logged events are numbered 1, 2, … as its log had
	// them; a quiet event takes the number of the one before, as the
	// engine gives it. (A trace that missed events keeps its order.)
	seq := make([]uint64, ndev)
	cnt := make([]int32, ndev)  // events of each device so far
	done := make([]int32, ndev) // of which the position being built shows
	lcnt := make([]int32, ndev)
	var lastAt time.Time // of the last logged event
	for i := range events {
		j := events[i].DeviceNumber() - 1
		if j >= ndev {
			continue
		}
		ev := events[i].Event
		if ev.Kind.Quiet() {
			// A quiet event emitted with the logged event before it (the
			// same step of the engine) shows with it; one that came later
			// (a poll going out seconds after) waits for the next.
			if done[j] == cnt[j] && len(r.stepAt) > 0 && ev.At.Sub(lastAt) <= replayQuietSlack {
				done[j]++
			}
		} else {
			// Position len(stepAt) stands before this event.
			r.counts = append(r.counts, done...)
			r.logged = append(r.logged, lcnt...)
			copy(done, cnt)
			done[j]++
			if len(r.stepAt) == 0 {
				r.begin = ev.At
			}
			r.stepAt = append(r.stepAt, ev.At)
			lastAt = ev.At
			if ev.Kind == authstate.KindViolation || (ev.Kind == authstate.KindFlicker && ev.Reason == "open") {
				r.marks = append(r.marks, len(r.stepAt))
			}
			seq[j]++
			lcnt[j]++
			logged[j] = append(logged[j], ev)
		}
		ev.Seq = seq[j]
		raw[j] = append(raw[j], ev)
		cnt[j]++
	}
	// Row p, taken before logged event p, is position p: the state after
	// logged event p-1 and the quiet events emitted with it. Position M
	// is everything.
	r.counts = append(r.counts, cnt...)
	r.logged = append(r.logged, lcnt...)
	if len(tr.Header.Columns) > 0 {
		r.merged = newReplayMerged(logged, steps, events, ndev)
	}
	cfg := ReplayFoldConfig(tr.Header)
	for j := range ndev {
		cfg := cfg
		if cols := tr.Header.Columns; j < len(cols) {
			// A compare column runs its variant: policy and PR #83.
			if v, err := authstate.ParseVariant(cols[j]); err == nil {
				cfg.Policy, cfg.PR83 = v.Policy, v.PR83
			}
		}
		r.devs = append(r.devs, &replayDevice{
			raw: raw[j],
			tl:  authstate.NewTimeline(cfg, raw[j], 0),
			log: &replayLog{events: logged[j]},
		})
	}
	return r
}

// replayTarget names a trace's target as the live header did: "sim
// 127.0.0.1:3210", or a real server's host.
func replayTarget(t trace.Target) string {
	switch {
	case t.Kind == "sim" && t.Host != "":
		return "sim " + t.Host
	case t.Host != "":
		return t.Host
	case t.Kind != "":
		return t.Kind
	}
	return "unknown target"
}

// Len is M, the number of logged events the playhead steps over.
func (r *replayer) Len() int { return len(r.stepAt) }

// at is the recorded time of position p: its event's, or the start.
func (r *replayer) at(p int) time.Time {
	if p <= 0 || len(r.stepAt) == 0 {
		return r.begin
	}
	return r.stepAt[min(p, len(r.stepAt))-1]
}

// now is the view's clock in replay: the playhead's recorded time, plus
// the wait played since.
func (r *replayer) now() time.Time {
	if r == nil {
		return time.Time{}
	}
	t := r.at(r.pos)
	if r.pos < len(r.stepAt) {
		gap := r.at(r.pos + 1).Sub(t)
		return t.Add(max(min(r.waited, gap), 0))
	}
	return t
}

func (r *replayer) count(p, j int) int { return int(r.counts[p*r.ndev+j]) }
func (r *replayer) nlog(p, j int) int  { return int(r.logged[p*r.ndev+j]) }
func (r *replayer) speedText() string  { return speedName(replaySpeeds[r.speed]) }
func (r *replayer) clamp(p int) int    { return min(max(p, 0), len(r.stepAt)) }
func (r *replayer) atEnd() bool        { return r.pos >= len(r.stepAt) }
func (r *replayer) gapTo(p int) time.Duration {
	return min(max(r.at(p).Sub(r.at(p-1)), 0), replayMaxIdle)
}

func speedName(s float64) string {
	switch s {
	case 0.25:
		return "×¼"
	case 0.5:
		return "×½"
	}
	return fmt.Sprintf("×%g", s)
}

// nextMark is the first mark after position p, or -1.
func (r *replayer) nextMark(p int) int {
	for _, k := range r.marks {
		if k > p {
			return k
		}
	}
	return -1
}

// prevMark is the last mark before position p, or -1.
func (r *replayer) prevMark(p int) int {
	for i := len(r.marks) - 1; i >= 0; i-- {
		if r.marks[i] < p {
			return r.marks[i]
		}
	}
	return -1
}

// seek moves the playhead to position p: forward by a few events, each
// device takes them one by one as live mode does; otherwise each fold
// comes from its timeline's checkpoint and the panels' history from the
// events just before it.
func (m *Model) seek(p int) {
	r := m.replay
	p = r.clamp(p)
	from := r.pos
	r.pos, r.waited = p, 0
	m.now = r.now()
	for j, d := range m.devs {
		rd := r.devs[j]
		a, b := r.count(from, j), r.count(p, j)
		if p > from && b-a <= r.stepMax && d.fold != nil && d.received == uint64(r.nlog(from, j)) {
			rd.log.n = r.nlog(p, j)
			m.ingest(d, rd.raw[a:b])
		} else {
			m.rebuild(d, rd, p, j)
		}
		// A request finished when its last event says, not when this
		// step reached it: rows go finishedFor after that, as live.
		for _, row := range d.fetches.rows {
			if row.done() && !row.ended.IsZero() && row.ended.Before(row.doneAt) {
				row.doneAt = row.ended
			}
		}
		d.fetches.prune(m.now)
	}
	if c := m.cmp; c != nil && r.merged != nil {
		r.merged.n = p
		if c.panel.needle != "" && uint64(p) > c.panel.indexed {
			for _, ev := range r.merged.events[c.panel.indexed:p] {
				c.panel.observe(ev)
			}
		}
		if c.col == 0 {
			c.panel.refresh(r.merged)
		}
	}
}

// rebuild sets device d to position p from its timeline.
func (m *Model) rebuild(d *device, rd *replayDevice, p, j int) {
	r := m.replay
	k := r.count(p, j)
	d.fold = rd.tl.At(k)
	rd.log.n = r.nlog(p, j)
	d.received = uint64(rd.log.n)
	d.fetches = fetchTable{sel: d.fetches.sel, keep: d.fetches.keep}
	d.timeline = timeline{}
	d.explain = explainer{}
	for _, ev := range rd.raw[max(k-replayWindow, 0):k] {
		if ev.Kind.Quiet() {
			continue
		}
		d.fetches.observe(ev)
		d.timeline.observe(ev)
		if ev.Kind == authstate.KindCountersReset {
			d.timeline.reset(ev.At)
		}
		d.explain.observe(ev)
	}
	// The filter index only grows: events it has not tested yet are
	// tested now; matches past the playhead are not shown.
	if d.events.needle != "" && uint64(rd.log.n) > d.events.indexed {
		for _, ev := range rd.log.events[d.events.indexed:rd.log.n] {
			d.events.observe(ev)
		}
	}
	m.refreshDevice(d)
}

// replayKey runs a key of the replay; ok is false for a key it does not
// take.
func (m *Model) replayKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	r, rk := m.replay, &m.keys.replay
	switch {
	case key.Matches(msg, rk.Play):
		if r.atEnd() && !r.playing {
			m.setStatus("replay: at the end (home goes back to the start)")
			return nil, true
		}
		r.playing = !r.playing
		r.gen++
		if r.playing {
			r.last = time.Time{}
			m.setStatus("replay: playing at %s", r.speedText())
			return m.replayTick(), true
		}
		m.setStatus("replay: paused")
	case key.Matches(msg, rk.Forward):
		m.seek(r.pos + 1)
	case key.Matches(msg, rk.Back):
		m.seek(r.pos - 1)
	case key.Matches(msg, rk.NextMark):
		if k := r.nextMark(r.pos); k >= 0 {
			m.seek(k)
		} else {
			m.setStatus("replay: no violation or flicker window after this event")
		}
	case key.Matches(msg, rk.PrevMark):
		if k := r.prevMark(r.pos); k >= 0 {
			m.seek(k)
		} else {
			m.setStatus("replay: no violation or flicker window before this event")
		}
	case key.Matches(msg, rk.Start):
		m.seek(0)
	case key.Matches(msg, rk.End):
		m.seek(r.Len())
	case key.Matches(msg, rk.Faster):
		r.speed = min(r.speed+1, len(replaySpeeds)-1)
		m.setStatus("replay: speed %s", r.speedText())
	case key.Matches(msg, rk.Slower):
		r.speed = max(r.speed-1, 0)
		m.setStatus("replay: speed %s", r.speedText())
	default:
		for _, b := range m.keys.readOnly() {
			if key.Matches(msg, *b) {
				m.setStatus("replay: read-only")
				return nil, true
			}
		}
		return nil, false
	}
	m.log().followTail(m.logSrc())
	return nil, true
}

func (m *Model) replayTick() tea.Cmd {
	gen := m.replay.gen
	return tea.Tick(replayTick, func(t time.Time) tea.Msg { return replayTickMsg{gen: gen, at: t} })
}

// play advances playback to the tick's time: the recorded waits, scaled
// by the speed and each at most replayMaxIdle, are played out.
func (m *Model) play(msg replayTickMsg) tea.Cmd {
	r := m.replay
	if msg.gen != r.gen || !r.playing {
		return nil
	}
	elapsed := replayTick
	if !r.last.IsZero() {
		elapsed = msg.at.Sub(r.last)
	}
	r.last = msg.at
	r.waited += time.Duration(float64(max(elapsed, 0)) * replaySpeeds[r.speed])
	p, waited := r.pos, r.waited
	for p < r.Len() && p-r.pos < replayMaxSteps {
		gap := r.gapTo(p + 1)
		if waited < gap {
			break
		}
		waited -= gap
		p++
	}
	if p != r.pos {
		m.seek(p)
		m.log().followTail(m.logSrc())
	}
	r.waited = waited
	m.now = r.now()
	if r.atEnd() {
		r.playing = false
		m.setStatus("replay: end of the trace")
		return nil
	}
	return m.replayTick()
}

// The replayer is the model's source in a replay.
var _ source = (*replayer)(nil)

func (r *replayer) start(*Model) []tea.Cmd { return nil }

func (r *replayer) key(m *Model, msg tea.KeyPressMsg) (tea.Cmd, bool) { return m.replayKey(msg) }

func (r *replayer) message(m *Model, msg tea.Msg) (tea.Cmd, bool) {
	if t, ok := msg.(replayTickMsg); ok {
		return m.play(t), true
	}
	return nil, false
}

// rawToken: a trace holds no raw JWT (unless recorded with
// --record-secrets, and then only in token descriptions the detail view
// shows as they are).
func (r *replayer) rawToken(*device, string) (string, bool) { return "", false }

func (r *replayer) glossary() []glossarySection {
	sec := glossarySection{title: "Replay (read-only: keys that would change a client say so)"}
	for _, l := range ReplayKeys() {
		k, text, _ := strings.Cut(l, " — ")
		sec.terms = append(sec.terms, term{k, text})
	}
	return []glossarySection{sec}
}

func (r *replayer) header(m *Model, add func(prio int, full, short string)) {
	pos, when, speed := m.replayHeader()
	add(0, pos[0], pos[1])
	add(0, when, "")
	add(3, speed, "")
}

// replayHeader is the header's REPLAY items, each in full and short:
// the position, the recorded time with the offset from the start, and the
// speed.
func (m *Model) replayHeader() (pos [2]string, when, speed string) {
	r := m.replay
	st := m.styles
	state := "⏸"
	if r.playing {
		state = "▶"
	}
	pos[0] = st.Warn.Render(fmt.Sprintf("REPLAY %s event %d of %d", state, r.pos, r.Len()))
	pos[1] = st.Warn.Render(fmt.Sprintf("REPLAY %s %d/%d", state, r.pos, r.Len()))
	at := r.now()
	if at.IsZero() {
		when = st.Dim.Render("no events")
	} else {
		off := at.Sub(r.begin).Round(time.Millisecond)
		when = st.Value.Render(at.UTC().Format("15:04:05.000")) + st.Dim.Render(" (+"+humanDur(off)+")")
	}
	return pos, when, st.Label.Render("speed ") + st.Value.Render(r.speedText())
}
