package tui

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/authscope/authscope/authstate"
)

// mode is what the keys currently drive.
type mode int

const (
	modeNormal  mode = iota
	modeFilter       // typing a filter
	modeDetail       // reading one event (and its JWT)
	modeConfirm      // a y/n question about a server action
	modeHelp         // reading the help page (keys and glossary)
)

func (m mode) String() string {
	switch m {
	case modeFilter:
		return "filter"
	case modeDetail:
		return "detail"
	case modeConfirm:
		return "confirm"
	case modeHelp:
		return "help"
	}
	return "normal"
}

// transportState is what the header shows of the client transport.
type transportState struct {
	ok      bool
	holding string
	held    int
	latency time.Duration
}

// Model is the root model. It owns the panels' state and routes messages;
// each panel renders itself from that state.
type Model struct {
	// device is the device the panels show and the keys drive; devs are
	// all of them (device is one of devs).
	*device
	devs []*device

	opts   Options
	clock  func() time.Time
	logger *slog.Logger
	mask   masker

	keys   keyMap
	styles Styles
	isDark bool
	help   help.Model
	input  textinput.Model

	width, height int
	now           time.Time

	mode     mode
	focus    focus
	confirm  pendingAction
	detail   detailView
	helpPage helpPage
	lanes    lanesView // the event log drawn as swimlanes (lanes.go)
	status   string
	// statusN counts the status lines set, so that a late transport
	// event does not replace what a later key said.
	statusN uint64

	// feed is where the devices' events come from: live engines or a
	// trace under a playhead. replay is that playhead (NewReplay), nil
	// in live mode; only the replay's own code reads it.
	feed   source
	replay *replayer
	// cmp is compare mode's state (compare.go); nil outside it.
	cmp *compareView
	// sizeAsked: the first tick has asked the terminal for its size.
	sizeAsked bool

	// chrome is every panel but the event rows, rendered by layout at the
	// end of Update; helpCache is the help text for one width and mode.
	chrome    frame
	helpCache struct {
		key   helpKey
		lines []string
	}
}

// New builds the model and subscribes to every device's engine. Start the
// engines after New so that every event also arrives through the
// subscription. Options that do not validate (Keys, Theme) fall back to
// their defaults and say so on the status line; check them first with
// ValidateKeys and ValidateTheme.
func New(o Options) *Model {
	devices := o.Devices
	if len(devices) == 0 {
		devices = []Device{{Engine: o.Engine, Transport: o.Transport}}
	}
	m := newModel(o, len(devices))
	m.feed = liveSource{}
	for i, d := range devices {
		m.devs = append(m.devs, newDevice(i+1, d, m.opts.SubscribeBuffer))
	}
	m.device = m.devs[0]
	if len(o.Columns) > 0 {
		m.cmp = newCompareView(o.Columns, m.devs, mergedLogSize)
		m.keys.compare = true
		m.keys.Device.SetHelp(m.keys.Device.Help().Key, "log column")
	}
	m.layout()
	return m
}

// mergedLogSize bounds compare mode's merged log, like one engine's log
// in the TUI.
const mergedLogSize = 100_000

// newModel is the model without its devices: New and NewReplay add them
// (and lay the screen out). ndev is how many there will be.
func newModel(o Options, ndev int) *Model {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TickEvery == 0 {
		o.TickEvery = defaultTick
	}
	if o.SubscribeBuffer <= 0 {
		o.SubscribeBuffer = defaultSubBuffer
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m := &Model{
		opts:   o,
		clock:  o.Now,
		logger: o.Logger,
		mask:   masker{on: o.Demo},
		isDark: true,
		help:   help.New(),
		input:  textinput.New(),
		width:  80,
		height: 24,
	}
	km, err := newKeyMap(o.Keys)
	if err != nil {
		km, _ = newKeyMap(nil)
		m.setStatus("default keys in use: %v", err)
		m.logger.Warn("keys", "err", err)
	}
	if o.Notice != "" && m.status == "" {
		m.setStatus("%s", o.Notice)
	}
	m.keys = km
	m.keys.multiDevice = ndev > 1
	switch o.Theme {
	case "", ThemeAuto, ThemeDark:
	case ThemeLight:
		m.isDark = false
	default:
		m.setStatus("theme auto in use: %v", ValidateTheme(o.Theme))
		m.opts.Theme = ThemeAuto
	}
	m.input.Prompt = "/"
	m.input.Placeholder = "text, !text, kind:prefix"
	m.input.CharLimit = 200
	m.applyStyles()
	m.keys.forMode(modeNormal)
	m.now = m.clock()
	return m
}

// detectTheme reports whether the model asks the terminal for its
// background (Theme auto) rather than using a fixed one.
func (m *Model) detectTheme() bool { return m.opts.Theme == "" || m.opts.Theme == ThemeAuto }

// Received is how many events the model has taken from its
// subscriptions, over every device.
func (m *Model) Received() uint64 {
	var n uint64
	for _, d := range m.devs {
		n += d.received
	}
	return n
}

// Dropped is how many events the subscriptions missed, over every device.
func (m *Model) Dropped() uint64 {
	var n uint64
	for _, d := range m.devs {
		n += d.dropped
	}
	return n
}

func (m *Model) applyStyles() {
	m.styles = NewStyles(m.isDark, m.opts.NoColor)
	m.help.Styles = m.styles.Help
	m.input.SetStyles(m.styles.Input)
	m.helpCache.lines = nil
}

// Init asks for the terminal's background (unless the theme is fixed) and
// starts one event bridge per device and the ticker.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.tick()}
	if m.detectTheme() {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	cmds = append(cmds, m.feed.start(m)...)
	return tea.Batch(cmds...)
}

// eventsMsg carries a batch of events from one device's subscription.
type eventsMsg struct {
	dev    int // index in devs
	events []authstate.Event
	closed bool // the engine stopped
}

// tickMsg refreshes countdowns, spinners and the snapshot.
type tickMsg struct{}

// listen waits for the device's next events and returns them as one
// batch: every event waiting, up to batchCap. Update issues it again after each batch, so
// exactly one listener per device runs at a time.
func (m *Model) listen(d *device) tea.Cmd {
	sub, dev := d.sub, d.num-1
	return func() tea.Msg {
		for {
			<-sub.Ready()
			evs, open := sub.Take(batchCap)
			if !open {
				return eventsMsg{dev: dev, closed: true}
			}
			if len(evs) > 0 {
				return eventsMsg{dev: dev, events: evs}
			}
		}
	}
}

func (m *Model) tick() tea.Cmd {
	if m.opts.TickEvery < 0 {
		return nil
	}
	return tea.Tick(m.opts.TickEvery, func(time.Time) tea.Msg { return tickMsg{} })
}

// Update routes one message. Every change of state ends with layout, so
// that View finds the event window already sized and filled.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.now = m.clock()
	cmd := m.update(msg)
	m.keys.forMode(m.mode)
	m.layout()
	if reads := m.readSnapshots(); reads != nil {
		cmd = tea.Batch(cmd, reads)
	}
	return m, cmd
}

// snapshotMsg is an engine snapshot read off Update, for a device whose
// stream lost events.
type snapshotMsg struct {
	dev  int
	snap authstate.Snapshot
}

// readSnapshots reads, in commands, the snapshot of each device that
// wants one (its stream lost events) and has no read under way: a read
// waits for the engine's loop, which Update never does.
func (m *Model) readSnapshots() tea.Cmd {
	var cmds []tea.Cmd
	for i, d := range m.devs {
		if !d.wantSnap || d.reading || d.subClosed {
			continue
		}
		d.wantSnap, d.reading = false, true
		eng := d.eng
		cmds = append(cmds, func() tea.Msg { return snapshotMsg{dev: i, snap: eng.Snapshot()} })
	}
	if len(cmds) == 0 {
		return nil
	}
	return tea.Batch(cmds...)
}

// takeSnapshot makes s what device d's panels show.
func (m *Model) takeSnapshot(d *device, s authstate.Snapshot) {
	if s.Stopped {
		return
	}
	d.snap, d.haveSnap = s, true
	d.fetches.sync(s.InFlight, m.now)
	d.timeline.sample(s)
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 1), max(msg.Height, 1)
		m.refresh()
		return nil
	case tea.BackgroundColorMsg:
		if m.detectTheme() {
			m.isDark = msg.IsDark()
			m.applyStyles()
		}
		return nil
	case eventsMsg:
		if msg.dev < 0 || msg.dev >= len(m.devs) {
			return nil
		}
		d := m.devs[msg.dev]
		m.ingest(d, msg.events)
		if msg.closed {
			d.subClosed = true
			m.logger.Info("engine stopped; event stream closed", "device", d.num, "received", d.received)
			return nil
		}
		return m.listen(d)
	case tickMsg:
		m.refresh()
		if !m.sizeAsked && m.opts.TickEvery > 0 {
			// A resize before the program listened for SIGWINCH is lost;
			// by the first tick it listens, so ask the terminal once.
			m.sizeAsked = true
			return tea.Batch(m.tick(), tea.RequestWindowSize)
		}
		return m.tick()
	case snapshotMsg:
		if msg.dev >= 0 && msg.dev < len(m.devs) {
			d := m.devs[msg.dev]
			d.reading = false
			if !msg.snap.Stopped && !d.subClosed {
				d.engSnap = &msg.snap
				m.takeSnapshot(d, msg.snap)
			}
		}
		return nil
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case settledMsg:
		if m.cmp != nil {
			return m.settled(msg)
		}
		return nil
	}
	if cmd, ok := m.feed.message(m, msg); ok {
		return cmd
	}
	switch msg := msg.(type) {
	case tea.MouseWheelMsg:
		m.mouseWheel(msg)
		return nil
	case tea.MouseClickMsg:
		m.mouseClick(msg)
		return nil
	}
	if m.mode == modeFilter {
		// Pastes and the cursor's own messages.
		return m.updateInput(msg)
	}
	return nil
}

// ingest takes a batch of one device's events: counts them, feeds its
// fetch table, filter index and timeline, then refreshes what is shown.
func (m *Model) ingest(d *device, evs []authstate.Event) {
	for _, ev := range evs {
		d.fold.Apply(ev)
		if ev.Kind.Quiet() {
			// State for the fold only: not an event of the log.
			continue
		}
		d.received++
		d.fetches.observe(ev)
		d.events.observe(ev)
		d.timeline.observe(ev)
		if ev.Kind == authstate.KindCountersReset {
			d.timeline.reset(ev.At)
		}
		if ev.Kind == authstate.KindTransport && d.asked.pending > 0 {
			// A transport key posted this input; say how it went,
			// unless something has been said since.
			d.asked.pending--
			if d.asked.statusN == m.statusN {
				m.setStatus("%s%s", m.devicePrefix(d), transportStatus(ev))
				d.asked.statusN = m.statusN
			}
		}
		if ev.Kind == authstate.KindActionFailed {
			// The key's status said "sent"; say how it ended.
			m.setStatus("%s%s", m.devicePrefix(d), ev.Detail)
		}
		if xp, ok := d.explain.observe(ev); ok {
			m.setStatus("%s%s", m.devicePrefix(d), xp.sentence)
		}
	}
	if m.cmp != nil && m.cmp.live != nil {
		m.ingestCompare(d, evs)
	}
	m.refreshDevice(d)
}

// refresh takes every device's state from its fold and recomputes the
// visible windows. It runs in Update, so View only formats what is here.
func (m *Model) refresh() {
	for _, d := range m.devs {
		m.refreshDevice(d)
	}
	if c := m.cmp; c != nil && c.col == 0 && !c.panel.paused {
		c.panel.refresh(c.merged)
	}
}

// refreshDevice takes one device's state, transport included, from its
// fold; the shown device also gets its event window recomputed.
func (m *Model) refreshDevice(d *device) {
	if d.sub != nil {
		d.dropped = d.sub.Dropped()
	}
	if !d.subClosed {
		s := d.fold.Snapshot()
		if d.dropped > 0 {
			// The stream lost events, so the fold is incomplete (the
			// header says so): show the engine's own snapshot, read off
			// Update (readSnapshots), the last one until the next comes.
			d.wantSnap = true
			if d.engSnap != nil {
				s = *d.engSnap
			}
		}
		m.takeSnapshot(d, s)
	}
	d.fetches.prune(m.now)
	if d.tr != nil {
		t := d.snap.Transport
		d.transport = transportState{ok: true, holding: t.Holding, held: len(t.Held), latency: t.Latency}
	}
	if d == m.device && (!d.events.paused || d.events.rows == nil) {
		d.events.refresh(d.src)
	}
}

// devicePrefix names device d in a status line when there are several.
func (m *Model) devicePrefix(d *device) string {
	switch {
	case m.cmp != nil:
		return safe(m.columnName(d)) + ": "
	case len(m.devs) == 1:
		return ""
	}
	return fmt.Sprintf("device %d: ", d.num)
}

// setStatus says what the last key did, on the status line.
func (m *Model) setStatus(format string, args ...any) {
	m.status = fmt.Sprintf(format, args...)
	m.statusN++
}
