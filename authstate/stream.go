package authstate

// SubscribeAll streams every event, quiet ones included, to the caller
// without ever losing one and without ever slowing the engine: events wait
// in a queue that grows as needed, and a goroutine hands them to C in
// order. A fold (Fold) needs this: one missed event and it drifts. Only a
// reader that falls about limit events behind (default 1<<20) loses events;
// Dropped then says how many, and the reader must not trust a fold of the
// stream any more. When the engine stops, the queued events are still
// delivered before C closes.
func (e *Engine) SubscribeAll(limit int) *Subscription {
	if limit <= 0 {
		limit = 1 << 20
	}
	c := make(chan Event, 256)
	s := &Subscription{C: c, c: c, b: &e.broker, lossless: true, limit: limit, wake: make(chan struct{}, 1), quit: make(chan struct{})}
	b := &e.broker
	b.mu.Lock()
	if b.subs == nil {
		b.subs = make(map[*Subscription]struct{})
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go s.pump(s.quit)
	return s
}

// enqueue runs under s.mu.
func (s *Subscription) enqueue(e Event) {
	if len(s.queue) >= s.limit {
		s.dropped++
		return
	}
	s.queue = append(s.queue, e)
	s.signal()
}

func (s *Subscription) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pump moves queued events to C, a batch at a time, until the subscriber
// closes (quit) or the engine stops and the queue is empty.
func (s *Subscription) pump(quit <-chan struct{}) {
	defer close(s.c)
	for {
		s.mu.Lock()
		batch, done := s.queue, s.closed
		s.queue = nil
		s.mu.Unlock()
		for _, ev := range batch {
			select {
			case s.c <- ev:
			case <-quit:
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		if done {
			return
		}
		select {
		case <-s.wake:
		case <-quit:
			return
		}
	}
}

// FoldConfig returns the settings a Fold of this engine's events needs.
func (e *Engine) FoldConfig() FoldConfig { return e.cfg.FoldConfig() }
