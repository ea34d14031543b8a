package authstate

import (
	"context"
	"sync"
)

// Handoff tells a transport underneath the engine when the engine has taken
// the result of one of its network calls into its loop. The client transport
// uses it to release held responses in order: the next one is let go only
// after the engine has queued the previous one's completion, so "release
// all" reaches the engine in arrival order however the goroutines are
// scheduled.
type Handoff struct {
	mu      sync.Mutex
	done    bool
	waiters []chan<- struct{}
}

type handoffKey struct{}

// WithHandoff returns ctx carrying a new Handoff, to be marked Taken by the
// caller once it has taken the call's result. The engine does this for every
// call it makes.
func WithHandoff(ctx context.Context) (context.Context, *Handoff) {
	h := &Handoff{}
	return context.WithValue(ctx, handoffKey{}, h), h
}

// HandoffFrom returns the Handoff of a call the engine made, or nil.
func HandoffFrom(ctx context.Context) *Handoff {
	h, _ := ctx.Value(handoffKey{}).(*Handoff)
	return h
}

// Notify closes ch once the engine has taken the call's result (at once if it
// already has).
func (h *Handoff) Notify(ch chan<- struct{}) {
	h.mu.Lock()
	if h.done {
		h.mu.Unlock()
		close(ch)
		return
	}
	h.waiters = append(h.waiters, ch)
	h.mu.Unlock()
}

// Taken marks the result as taken. Safe to call more than once.
func (h *Handoff) Taken() {
	h.mu.Lock()
	if h.done {
		h.mu.Unlock()
		return
	}
	h.done = true
	ws := h.waiters
	h.waiters = nil
	h.mu.Unlock()
	for _, ch := range ws {
		close(ch)
	}
}
