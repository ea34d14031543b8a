package authstate

import (
	"fmt"
	"maps"
	"sync"
)

// Labeller names session ids S1, S2, … in the order they are first seen.
// Engines that share one (the devices of one user in the TUI) give a
// session the same label on every device, and two sessions never the same
// label. It is safe for concurrent use by several engines.
type Labeller struct {
	mu     sync.Mutex
	labels map[string]string
}

// NewLabeller returns an empty labeller.
func NewLabeller() *Labeller { return &Labeller{labels: make(map[string]string)} }

// Label returns the label of a session id, giving it the next one if it
// has none yet; "none" for "".
func (l *Labeller) Label(id string) string {
	if id == "" {
		return "none"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.labels[id]; ok {
		return s
	}
	s := fmt.Sprintf("S%d", len(l.labels)+1)
	l.labels[id] = s
	return s
}

// all returns a copy of every label given so far: session id → label.
func (l *Labeller) all() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.labels)
}
