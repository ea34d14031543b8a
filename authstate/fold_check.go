package authstate

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// CheckFold makes the engine prove that its views are folds: it folds its
// own event stream (through a subscription, as a viewer would) and, after
// every message it handles, compares the fold's Snapshot with its own
// state field by field. The first difference is kept for FoldErr, with the
// event before it; checking then stops. Call it before Start. It costs a
// snapshot per message: it is for tests and debugging, on virtual time (a
// FakeClock): on the wall clock two reads of Now differ.
func (e *Engine) CheckFold() {
	fc := &foldChecker{sub: e.Subscribe(1 << 16), fold: NewFold(e.FoldConfig())}
	e.report.check = fc
	e.report.afterMessage = func() { fc.compare(e) }
}

// FoldErr is the first difference CheckFold found, nil if none (or if it
// was not turned on).
func (e *Engine) FoldErr() error {
	fc := e.report.check
	if fc == nil {
		return nil
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.err
}

// FoldChecked says how many messages and events CheckFold has compared.
func (e *Engine) FoldChecked() (messages, events int) {
	fc := e.report.check
	if fc == nil {
		return 0, 0
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.messages, fc.events
}

type foldChecker struct {
	sub      *Subscription
	fold     *Fold
	mu       sync.Mutex
	last     Event
	events   int
	messages int
	err      error
	// off stops the comparison (a test that sets engine state directly).
	off bool
}

// compare runs on the engine's loop, after a message: every event of it
// is in the subscription's buffer by then.
func (fc *foldChecker) compare(e *Engine) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for drained := false; !drained; {
		select {
		case ev, ok := <-fc.sub.C:
			if !ok {
				drained = true
				break
			}
			fc.fold.Apply(ev)
			fc.last = ev
			fc.events++
		default:
			drained = true
		}
	}
	fc.messages++
	if fc.err != nil || fc.off {
		return
	}
	if n := fc.sub.Dropped(); n > 0 {
		fc.err = fmt.Errorf("the fold's subscription dropped %d event(s)", n)
		return
	}
	// A test may move the fake clock from its own goroutine while the two
	// snapshots are taken: a difference seen across a clock move is taken
	// again.
	var d string
	for try := 0; try < 3; try++ {
		before := e.now()
		d = diffSnapshots(e.snapshot(), fc.fold.Snapshot())
		if d == "" || e.now().Equal(before) {
			break
		}
	}
	if d != "" {
		fc.err = errors.New(fmt.Sprintf("after message %d, event %d (the last: #%d %s %q): %s", fc.messages, fc.events, fc.last.Seq, fc.last.Kind, fc.last.Summary(), d))
	}
}

// diffSnapshots names the first field in which the fold's snapshot differs
// from the engine's, "" if none. Tokens compare by what an event can say
// of them (not the raw JWT); Busy and Timed are not folded; an open
// flicker window's length is measured on the wall clock when the snapshot
// is taken, so it is left out.
func diffSnapshots(engine, fold Snapshot) string {
	engine, fold = normSnapshot(engine), normSnapshot(fold)
	ev, fv := reflect.ValueOf(engine), reflect.ValueOf(fold)
	for i := 0; i < ev.NumField(); i++ {
		name := ev.Type().Field(i).Name
		switch name {
		case "Busy", "Timed", "Stopped":
			continue
		}
		a, b := ev.Field(i).Interface(), fv.Field(i).Interface()
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("%s: engine %s, fold %s", name, showField(a), showField(b))
		}
	}
	return ""
}

func showField(v any) string {
	switch x := v.(type) {
	case *Token:
		return tokenText(x)
	case []Call:
		s := "["
		for i, c := range x {
			if i > 0 {
				s += " "
			}
			s += fmt.Sprintf("{%s force=%v cause=%q fetcher=%d done=%v token=%s err=%q source=%q fetch=%d started=%s done=%s}", c.Name, c.Force, c.Cause, c.Fetcher, c.Done, tokenText(c.Token), c.Err, c.Source, c.Fetch, c.StartedAt.Format("15:04:05.000"), c.DoneAt.Format("15:04:05.000"))
		}
		return s + "]"
	case ConvexState:
		a := x.Auth
		x.Auth = nil
		return fmt.Sprintf("%+v auth=%s", x, tokenText(a))
	case *Session:
		if x == nil {
			return "nil"
		}
		return fmt.Sprintf("%+v", *x)
	}
	return fmt.Sprintf("%+v", v)
}

func tokenText(t *Token) string {
	if t == nil {
		return "nil"
	}
	return fmt.Sprintf("{%s session %s sub %q iat %s exp %s verified %v problem %q}", t.Fingerprint(), t.SessionID, t.Subject, t.IssuedAt, t.ExpiresAt, t.Verified, t.Problem)
}

func normToken(t *Token) *Token {
	if t == nil {
		return nil
	}
	n := *t
	n.fingerprint, n.Raw = t.Fingerprint(), ""
	if len(n.Audience) == 0 {
		n.Audience = nil
	}
	return &n
}

func normSnapshot(s Snapshot) Snapshot {
	s.Cache, s.Readable, s.LastServed = normToken(s.Cache), normToken(s.Readable), normToken(s.LastServed)
	s.Convex.Auth = normToken(s.Convex.Auth)
	if s.Calls != nil {
		calls := make([]Call, len(s.Calls))
		for i, c := range s.Calls {
			c.Token = normToken(c.Token)
			c.done, c.failure = nil, nil
			calls[i] = c
		}
		s.Calls = calls
	}
	if s.Flicker.Open && len(s.Flicker.Windows) > 0 {
		ws := append([]FlickerWindow(nil), s.Flicker.Windows...)
		last := &ws[len(ws)-1]
		s.Flicker.Total -= last.Duration
		last.Duration = 0
		s.Flicker.Windows = ws
	}
	return s
}
