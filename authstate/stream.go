package authstate

import "sync"

// Stream delivers every event an engine emits, quiet ones included, in
// order, without ever losing one and without ever slowing the engine:
// events wait in a queue that grows as needed, and the reader takes all of
// them at once. A fold (Fold) needs this: one missed event and it drifts.
// Only a reader that falls limit events behind loses events; Dropped then
// says how many, and a fold of the stream can no longer be trusted.
type Stream struct {
	b       *broker
	mu      sync.Mutex
	queue   []Event
	ready   chan struct{}
	limit   int
	dropped uint64
	ended   bool // the engine stopped (or the reader closed the stream)
}

// SubscribeAll opens a Stream holding up to limit events for a slow
// reader (default 1<<20). Open it before Start to see every event.
func (e *Engine) SubscribeAll(limit int) *Stream {
	if limit <= 0 {
		limit = 1 << 20
	}
	s := &Stream{b: &e.broker, limit: limit, ready: make(chan struct{}, 1)}
	b := &e.broker
	b.mu.Lock()
	if b.streams == nil {
		b.streams = make(map[*Stream]struct{})
	}
	b.streams[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Ready has a value when events are waiting or the stream has ended.
func (s *Stream) Ready() <-chan struct{} { return s.ready }

// Take returns the events waiting, oldest first, up to max of them (0:
// all), without waiting; open is false once the stream has ended and
// nothing is left.
func (s *Stream) Take(max int) (events []Event, open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if max > 0 && len(s.queue) > max {
		events = s.queue[:max:max]
		s.queue = s.queue[max:]
		s.signal() // more are waiting
		return events, true
	}
	events, s.queue = s.queue, nil
	if s.ended {
		s.signal() // a reader waiting on Ready again learns the end
	}
	return events, len(events) > 0 || !s.ended
}

// Dropped is how many events the stream lost because its reader fell
// limit events behind.
func (s *Stream) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Close stops delivery.
func (s *Stream) Close() {
	s.b.mu.Lock()
	delete(s.b.streams, s)
	s.b.mu.Unlock()
	s.end()
}

func (s *Stream) add(e Event) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= s.limit {
		s.dropped++
	} else {
		s.queue = append(s.queue, e)
	}
	s.mu.Unlock()
	s.signal()
}

func (s *Stream) end() {
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	s.signal()
}

func (s *Stream) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// FoldConfig returns the settings a Fold of this engine's events needs.
func (e *Engine) FoldConfig() FoldConfig {
	fc := e.cfg.FoldConfig()
	fc.Transport = e.initTport.clone()
	return fc
}
