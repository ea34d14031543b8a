package tui

import (
	"fmt"
	"sync"

	"github.com/authscope/authscope/authstate"
)

// Device is one client of the target: its engine and the transport it
// talks through. Devices share nothing on the client side (cookie jar,
// session, token cache, Convex client); on the server they are sessions of
// the same user, so a password change with revokeOtherSessions on one ends
// the others' sessions.
type Device struct {
	// Engine is the device's client auth stack. The model subscribes to
	// it in New, so create the model before starting the engine to see
	// every event through the subscription.
	Engine *authstate.Engine
	// Transport may be nil; the hold and latency keys then say so.
	Transport Transport
}

// device is the model's state for one Device. Every device keeps taking
// its events, snapshots and timeline samples while another one is shown.
type device struct {
	num int // 1-based, as the header shows it
	eng *authstate.Engine
	tr  Transport
	src logSource
	sub *authstate.Stream
	// fold computes the panels' state from the device's event stream
	// (every event, quiet ones included); snap is its latest snapshot.
	fold *authstate.Fold
	snap authstate.Snapshot
	// haveSnap: snap has been read at least once.
	haveSnap  bool
	transport transportState
	// asked is what the transport keys last asked of the engine, for the
	// next key while the engine has not applied it yet.
	asked transportAsk

	// received counts events that arrived through the subscription;
	// dropped is how many the subscription missed (the view fell too far
	// behind): the fold is then incomplete, and the panels show the
	// engine's Snapshot instead.
	received  uint64
	dropped   uint64
	subClosed bool
	// engSnap is the engine's last snapshot, read (off Update) once the
	// stream has lost events; wantSnap asks for a new read, reading says
	// one is under way.
	engSnap  *authstate.Snapshot
	wantSnap bool
	reading  bool

	fetches  fetchTable
	events   eventPanel
	timeline timeline
	explain  explainer
}

func newDevice(num int, d Device, buffer int) *device {
	dev := &device{
		num:    num,
		eng:    d.Engine,
		tr:     d.Transport,
		src:    d.Engine.Log(),
		sub:    d.Engine.SubscribeAll(buffer),
		fold:   authstate.NewFold(d.Engine.FoldConfig()),
		events: newEventPanel(),
	}
	if d.Transport != nil {
		watchHeld(d.Engine, d.Transport)
	}
	return dev
}

// watchHeld tells eng what tr holds each time that changes, so that the
// held list reaches the panels as an event. The lock keeps the reads and
// the sends in one order: the last HeldChanged sent is the newest list.
func watchHeld(eng *authstate.Engine, tr Transport) {
	var mu sync.Mutex
	tr.SetNotify(func() {
		mu.Lock()
		defer mu.Unlock()
		eng.Send(authstate.HeldChanged{Items: tr.HeldList()})
	})
}

// summary is one device in a few words, for the header of another one:
// its session and, with the Convex client on, what the app sees of Convex.
func (d *device) summary() string {
	s := d.snap
	var session string
	switch {
	case d.subClosed:
		return fmt.Sprintf("device %d: ENGINE STOPPED", d.num)
	case !d.haveSnap || s.SessionPending:
		session = "waiting for get-session"
	case s.Session == nil:
		return fmt.Sprintf("device %d: signed out", d.num)
	default:
		session = s.SessionLabel
	}
	if !s.Convex.Enabled || d.timeline.cur.phase() == phaseNone {
		return fmt.Sprintf("device %d: %s", d.num, session)
	}
	return fmt.Sprintf("device %d: %s, Convex %s", d.num, session, d.timeline.cur.phase())
}
