package authstate

// ResetCounters clears the violation count (and the violations a
// Snapshot carries), the flicker windows and the count of queries run
// with no identity, and marks the point in the
// log with a counters_reset event, so that a comparison of policies can
// start from a clean count. A flicker window open at that moment counts
// again from now. The checker keeps its history: what the client knows
// about sessions and requests does not change.
func (e *Engine) ResetCounters() { e.post(ResetCounters{}) }

func (e *Engine) resetCounters() {
	e.violationCount, e.staleServed = 0, 0
	e.violations = nil
	e.flicker.reset(e.now())
	if e.consumer != nil {
		e.consumer.anonymous = 0
	}
	e.emit(Event{Kind: KindCountersReset, Reason: "counters reset", Detail: "── counters reset: violations, flicker windows and the timeline count from here ──"})
}
