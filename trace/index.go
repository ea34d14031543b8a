package trace

import (
	"sort"
	"time"

	"github.com/authscope/authscope/authstate"
)

// index lets replay jump anywhere in a long trace without a scan: where
// each event sits among the entries, and where the violations and the
// flicker windows are. Read builds it; a Trace built by hand gets it on
// first use (not concurrently).
type index struct {
	// eventEntry[k] is the entry index of the k-th event.
	eventEntry []int
	violations []int // entry indices
	flickers   []int // entry indices of flicker events that open a window
	marks      []int // both, in order
}

func (t *Trace) buildIndex() {
	if t.events == nil {
		for _, e := range t.Entries {
			if e.Event != nil {
				t.events = append(t.events, *e.Event)
			}
		}
	}
	ix := &index{eventEntry: make([]int, 0, len(t.events))}
	for i, e := range t.Entries {
		if e.Event == nil {
			continue
		}
		ix.eventEntry = append(ix.eventEntry, i)
		switch {
		case e.Event.Kind == authstate.KindViolation:
			ix.violations = append(ix.violations, i)
			ix.marks = append(ix.marks, i)
		case e.Event.Kind == authstate.KindFlicker && e.Event.Reason == "open":
			ix.flickers = append(ix.flickers, i)
			ix.marks = append(ix.marks, i)
		}
	}
	t.idx = ix
}

func (t *Trace) ix() *index {
	if t.idx == nil {
		t.buildIndex()
	}
	return t.idx
}

// Violations are the entry indices of the violation events, in order.
func (t *Trace) Violations() []int { return append([]int(nil), t.ix().violations...) }

// Flickers are the entry indices of the events that open a flicker
// window, in order.
func (t *Trace) Flickers() []int { return append([]int(nil), t.ix().flickers...) }

// NextMark is the first entry after entry i that is a violation or opens
// a flicker window, or -1.
func (t *Trace) NextMark(i int) int {
	m := t.ix().marks
	k := sort.SearchInts(m, i+1)
	if k < len(m) {
		return m[k]
	}
	return -1
}

// PrevMark is the last entry before entry i that is a violation or opens
// a flicker window, or -1.
func (t *Trace) PrevMark(i int) int {
	m := t.ix().marks
	k := sort.SearchInts(m, i)
	if k > 0 {
		return m[k-1]
	}
	return -1
}

// EventCount is the number of events among the first n entries.
func (t *Trace) EventCount(n int) int {
	return sort.SearchInts(t.ix().eventEntry, n)
}

// EventsBefore returns the events among the first n entries, in order,
// without copying: the caller must not modify them. This is what a fold
// reads to show the state at entry n.
func (t *Trace) EventsBefore(n int) []Event {
	k := t.EventCount(n)
	return t.events[:k:k]
}

// EntryAt is the first entry recorded at or after at (len(Entries) if
// none), assuming the entries' times do not go back, as an engine's
// clock does not.
func (t *Trace) EntryAt(at time.Time) int {
	return sort.Search(len(t.Entries), func(i int) bool { return !t.Entries[i].At().Before(at) })
}

// At is when the entry's record happened.
func (e Entry) At() time.Time {
	switch {
	case e.Event != nil:
		return e.Event.At
	case e.Input != nil:
		return e.Input.At
	}
	return time.Time{}
}
