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
)

func (m mode) String() string {
	switch m {
	case modeFilter:
		return "filter"
	case modeDetail:
		return "detail"
	case modeConfirm:
		return "confirm"
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
	eng    *authstate.Engine
	tr     Transport
	src    logSource
	sub    *authstate.Subscription
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
	snap          authstate.Snapshot
	haveSnap      bool
	transport     transportState

	// received counts events that arrived through the subscription;
	// dropped is how many the subscription missed (its buffer was full).
	received  uint64
	dropped   uint64
	subClosed bool

	fetches fetchTable
	events  eventPanel
	mode    mode
	confirm pendingAction
	detail  detailView
	status  string

	// chrome is every panel but the event rows, rendered by layout at the
	// end of Update; helpCache is the help text for one width and mode.
	chrome    frame
	helpCache struct {
		key   helpKey
		lines []string
	}
}

// New builds the model and subscribes to the engine. Start the engine after
// New so that every event also arrives through the subscription.
func New(o Options) *Model {
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
		eng:    o.Engine,
		tr:     o.Transport,
		src:    o.Engine.Log(),
		sub:    o.Engine.Subscribe(o.SubscribeBuffer),
		opts:   o,
		clock:  o.Now,
		logger: o.Logger,
		mask:   masker{on: o.Demo},
		keys:   newKeyMap(),
		isDark: true,
		help:   help.New(),
		input:  textinput.New(),
		events: newEventPanel(),
		width:  80,
		height: 24,
	}
	m.input.Prompt = "/"
	m.input.Placeholder = "kind or text"
	m.input.CharLimit = 200
	m.applyStyles()
	m.keys.forMode(modeNormal)
	m.now = m.clock()
	m.layout()
	return m
}

// Received is how many events the model has taken from its subscription.
func (m *Model) Received() uint64 { return m.received }

// Dropped is how many events the subscription missed.
func (m *Model) Dropped() uint64 { return m.dropped }

func (m *Model) applyStyles() {
	m.styles = NewStyles(m.isDark, m.opts.NoColor)
	m.help.Styles = m.styles.Help
	m.input.SetStyles(m.styles.Input)
	m.helpCache.lines = nil
}

// Init asks for the terminal's background and starts the event bridge and
// the ticker.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, m.listen(), m.tick())
}

// eventsMsg carries a batch of events from the subscription.
type eventsMsg struct {
	events []authstate.Event
	closed bool // the engine stopped
}

// tickMsg refreshes countdowns, spinners and the snapshot.
type tickMsg struct{}

// listen waits for the next events and returns them as one batch: every
// event already waiting, up to batchCap. Update issues it again after each
// batch, so exactly one listener runs at a time.
func (m *Model) listen() tea.Cmd {
	sub := m.sub
	return func() tea.Msg {
		ev, ok := <-sub.C
		if !ok {
			return eventsMsg{closed: true}
		}
		batch := make([]authstate.Event, 1, 64)
		batch[0] = ev
		for len(batch) < batchCap {
			select {
			case ev, ok := <-sub.C:
				if !ok {
					return eventsMsg{events: batch, closed: true}
				}
				batch = append(batch, ev)
			default:
				return eventsMsg{events: batch}
			}
		}
		return eventsMsg{events: batch}
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
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 1), max(msg.Height, 1)
		m.refresh()
		return nil
	case tea.BackgroundColorMsg:
		m.isDark = msg.IsDark()
		m.applyStyles()
		return nil
	case eventsMsg:
		m.ingest(msg.events)
		if msg.closed {
			m.subClosed = true
			m.logger.Info("engine stopped; event stream closed", "received", m.received)
			return nil
		}
		return m.listen()
	case tickMsg:
		m.refresh()
		return m.tick()
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	}
	if m.mode == modeFilter {
		// Pastes and the cursor's own messages.
		return m.updateInput(msg)
	}
	return nil
}

// ingest takes a batch of events: counts them, feeds the fetch table and
// the filter index, then refreshes what is shown.
func (m *Model) ingest(evs []authstate.Event) {
	for _, ev := range evs {
		m.received++
		m.fetches.observe(ev)
		m.events.observe(ev)
	}
	m.refresh()
}

// refresh reads the engine and the transport and recomputes the visible
// windows. It runs in Update, so View only formats what is here.
func (m *Model) refresh() {
	m.dropped = m.sub.Dropped()
	if !m.subClosed {
		s := m.eng.Snapshot()
		if !s.Stopped {
			m.snap, m.haveSnap = s, true
			m.fetches.sync(s.InFlight, m.now)
		}
	}
	m.fetches.prune(m.now)
	if m.tr != nil {
		m.transport = transportState{ok: true, holding: m.tr.Holding(), held: m.tr.Held(), latency: m.tr.Latency("token")}
	}
	if !m.events.paused || m.events.rows == nil {
		m.events.refresh(m.src)
	}
}

// setStatus says what the last key did, on the status line.
func (m *Model) setStatus(format string, args ...any) {
	m.status = fmt.Sprintf(format, args...)
}
