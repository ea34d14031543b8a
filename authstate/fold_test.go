package authstate

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

// waitFor waits until cond holds of the engine's snapshot.
func (h *harness) waitFor(what string, cond func(Snapshot) bool) {
	h.t.Helper()
	// Only a safety net against a hang: settling runs on the fake clock, and
	// a loaded machine (the race detector, the fold check) may need long.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		ch := h.e.Changed()
		if cond(h.e.Snapshot()) {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (h *harness) failNext(errs ...error) {
	h.b.mu.Lock()
	h.b.failNext = append(h.b.failNext, errs...)
	h.b.mu.Unlock()
}

func (h *harness) hold(on bool) {
	h.b.mu.Lock()
	h.b.hold = on
	h.b.mu.Unlock()
}

// foldSituations drive an engine through what the panels must follow.
var foldSituations = []struct {
	name string
	run  func(h *harness)
}{
	{"fetches from the cache, forced and joined", func(h *harness) {
		h.fetch("a", false)
		h.fetch("b", false)
		h.fetch("c", true)
		h.hold(true)
		h.e.Fetch("d", true, "held")
		h.e.Fetch("e", false, "joins")
		h.e.Fetch("f", true, "another")
		h.settle()
		h.hold(false)
		for h.b.Held() > 0 {
			h.b.release(-1) // the latest first
			h.settle()
		}
	}},
	{"rotation, sign-out and sign-in with requests in flight", func(h *harness) {
		h.fetch("a", true)
		h.hold(true)
		h.e.Fetch("before", true, "held across the rotation")
		h.settle()
		h.hold(false)
		h.rotate()
		h.fetch("after", false)
		for h.b.Held() > 0 {
			h.b.release(0)
			h.settle()
		}
		h.fetch("again", false)
		h.e.Do(ActionSignOut, true)
		h.settle()
		h.fetch("out", false)
		h.e.Do(ActionSignIn, true)
		h.settle()
		h.fetch("in", true)
		h.fetch("in2", false)
	}},
	{"failures, retries and 401", func(h *harness) {
		h.failNext(statusErr(503), netErr{})
		h.fetch("transient", true)
		h.failNext(netErr{}, netErr{}, netErr{}, netErr{})
		h.fetch("gives up", true)
		h.failNext(statusErr(401))
		h.fetch("unauthorized", true)
		h.fetch("after", false)
		h.e.Do(ActionSignOut, false)
		h.settle()
		h.fetch("signed out server-side", true)
		h.e.Observe("test")
		h.settle()
	}},
	{"a retry replaced while it waits", func(h *harness) {
		h.failNext(netErr{})
		h.e.Fetch("first", true, "fails once")
		h.e.Fetch("second", true, "replaces it")
		h.settle()
		h.fetch("third", false)
	}},
	{"tokens that fail verification", func(h *harness) {
		h.b.mu.Lock()
		h.b.tamper = func(t *Token) { t.Verified, t.Problem = false, "bad signature" }
		h.b.mu.Unlock()
		h.fetch("bad", true)
		h.b.mu.Lock()
		h.b.tamper = nil
		h.b.mu.Unlock()
		h.fetch("good", true)
	}},
	{"policy switches with a request in flight", func(h *harness) {
		h.hold(true)
		h.e.Fetch("held", true, "across the switch")
		h.settle()
		h.hold(false)
		for _, p := range PolicyNames() {
			if err := h.e.SetPolicy(p); err != nil {
				h.t.Fatal(err)
			}
			h.settle()
			h.fetch("under "+p, false)
		}
		for h.b.Held() > 0 {
			h.b.release(0)
			h.settle()
		}
	}},
	{"the poller: interval, a hanging get-session, abandon and time-out", func(h *harness) {
		h.e.SetPollInterval(time.Second)
		h.settle()
		h.clock.Advance(time.Second)
		h.settle()
		h.b.mu.Lock()
		h.b.hangSession = true
		h.b.mu.Unlock()
		h.e.Observe("hangs")
		h.waitFor("a poll in flight", func(s Snapshot) bool { return s.PollInFlight != 0 })
		h.clock.Advance(time.Second) // the poller finds it pending
		h.e.Observe("replaces it")
		h.waitFor("the second poll", func(s Snapshot) bool { return s.PollInFlight >= 3 })
		h.clock.Advance(PollTimeout)
		h.waitFor("the time-out", func(s Snapshot) bool { return strings.HasPrefix(s.LastPollResult, "failed") })
		h.b.mu.Lock()
		h.b.hangSession = false
		h.b.mu.Unlock()
		h.e.SetPollInterval(0)
		h.e.Observe("answers")
		h.settle()
	}},
	{"tokens expire on the client's clock", func(h *harness) {
		h.fetch("fresh", true)
		h.clock.Advance(14*time.Minute + 55*time.Second)
		h.fetch("near expiry", false)
		h.clock.Advance(time.Hour)
		h.fetch("expired", false)
	}},
	{"counters reset after violations", func(h *harness) {
		h.hold(true)
		h.e.Fetch("stale", true, "held across the rotation")
		h.settle()
		h.hold(false)
		h.rotate()
		for h.b.Held() > 0 {
			h.b.release(0)
			h.settle()
		}
		h.fetch("after", false)
		h.e.ResetCounters()
		h.settle()
		h.rotate()
		h.fetch("later", false)
	}},
	{"more calls than the engine remembers", func(h *harness) {
		for i := range MaxCalls + 20 {
			h.e.Fetch(fmt.Sprintf("c%d", i), i%50 == 0, "many")
		}
		h.settle()
	}},
}

// Views are folds: under every policy, with and without an SSR token and
// the Convex client model, through every situation above, a fold of the
// event stream says what the engine holds after every message (the
// harness turns the check on for every engine test; this one also checks
// that it ran).
func TestFoldMatchesEngine(t *testing.T) {
	for _, policy := range PolicyNames() {
		for _, initial := range []bool{false, true} {
			for _, convex := range []bool{false, true} {
				for _, sit := range foldSituations {
					name := fmt.Sprintf("%s/initial=%v/convex=%v/%s", policy, initial, convex, sit.name)
					t.Run(name, func(t *testing.T) {
						h := startHarness(t, func(b *fakeBackend) Config {
							cfg := Config{Policy: policy}
							if initial {
								tok, err := b.FetchToken(context.Background())
								if err != nil {
									t.Fatal(err)
								}
								b.tokenReqs = 0
								cfg.InitialToken = tok
							}
							if convex {
								cfg.Consumer = &ConsumerConfig{Backend: fakeConvex{b: b, rejectAuth: new(int)}, QueryInterval: 5 * time.Second}
							}
							return cfg
						})
						sit.run(h)
						if err := h.e.FoldErr(); err != nil {
							t.Fatalf("views are folds: %v", err)
						}
						if m, n := h.e.FoldChecked(); m < 3 || n < 3 {
							t.Fatalf("only %d messages and %d events compared", m, n)
						}
					})
				}
			}
		}
	}
}

// The comparison can fail: a fold that misses one event differs from the
// engine, and the difference names the field.
func TestFoldCheckFindsDrift(t *testing.T) {
	h := newHarness(t, "pr329", false)
	h.fetch("a", true)
	evs := h.e.Log().All()
	want := h.e.Snapshot()
	for _, skip := range []Kind{KindCacheSet, KindTokenServed, KindSessionObserved, KindPendingCleared} {
		f := NewFold(Config{Policy: "pr329", Clock: h.clock}.FoldConfig())
		for _, ev := range evs {
			if ev.Kind != skip {
				f.Apply(ev)
			}
		}
		if d := diffSnapshots(want, f.Snapshot()); d == "" {
			t.Errorf("without %s the fold still matches the engine", skip)
		}
	}
	// And without skipping anything it matches: the log holds every
	// event but the quiet ones, which this run did not need after the
	// start... except call_started, so expect the calls to differ only.
	f := NewFold(Config{Policy: "pr329", Clock: h.clock}.FoldConfig())
	for _, ev := range evs {
		f.Apply(ev)
	}
	if d := diffSnapshots(want, f.Snapshot()); !strings.HasPrefix(d, "Calls:") {
		t.Errorf("a fold of the log (no quiet events) should differ in Calls only, got %q", d)
	}
}

// A token's event carries its decoded header and claims, never its
// signature, and the fold finds them by fingerprint.
func TestTokenInfoCarriesClaimsNotSignature(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	sig := enc("SIGNATURE-BYTES")
	raw := enc(`{"alg":"EdDSA","kid":"k1"}`) + "." + enc(`{"sub":"u1","sessionId":"sess-1"}`) + "." + sig
	h := startHarness(t, func(b *fakeBackend) Config {
		b.tamper = func(t *Token) { t.Raw = raw }
		return Config{Policy: "pr329"}
	})
	sub := h.e.Subscribe(1 << 10)
	defer sub.Close()
	h.fetch("a", true)
	f := NewFold(FoldConfig{Policy: "pr329"})
	var fp string
	for _, ev := range h.e.Log().All() {
		if ev.Token != nil {
			fp = ev.Token.Fingerprint
			if got := string(ev.Token.Claims); got != `{"sub":"u1","sessionId":"sess-1"}` {
				t.Errorf("claims %q", got)
			}
			if got := string(ev.Token.Header); got != `{"alg":"EdDSA","kid":"k1"}` {
				t.Errorf("header %q", got)
			}
			b, _ := ev.MarshalJSON()
			if strings.Contains(string(b), sig) || strings.Contains(string(b), raw) {
				t.Errorf("the event's JSON carries the signature: %s", b)
			}
		}
		f.Apply(ev)
	}
	ti, ok := f.TokenInfo(fp)
	if !ok || string(ti.Claims) == "" {
		t.Fatalf("the fold does not know token %s: %+v", fp, ti)
	}
	if got := f.Snapshot().Cache.Fingerprint(); got != fp {
		t.Errorf("the folded cache's fingerprint is %s, want %s", got, fp)
	}
}

// longStream runs an engine (hardened, the Convex client model on)
// through rounds of fetches, rotations, sign-outs and sign-ins, and
// returns every event it published, quiet ones included, with the fold
// settings for replay (no live clock).
func longStream(tb testing.TB, rounds int) ([]Event, FoldConfig) {
	tb.Helper()
	clock := NewFakeClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	b := newFakeBackend(clock)
	b.newSession()
	cfg := Config{Policy: "hardened", Backend: b, Clock: clock, LogSize: 16, Consumer: &ConsumerConfig{Backend: fakeConvex{b: b, rejectAuth: new(int)}}}
	e, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	sub := e.SubscribeAll(0)
	e.Start(context.Background())
	settle := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Settle(ctx, b.Held, b.notify, clock); err != nil {
			tb.Fatal(err)
		}
	}
	settle()
	for i := range rounds {
		e.Fetch("", i%4 == 0, "round")
		switch {
		case i%97 == 96:
			e.Do(ActionSignOut, true)
			settle()
			e.Do(ActionSignIn, true)
		case i%25 == 24:
			e.Do(ActionChangePassword, true)
		case i%10 == 9:
			clock.Advance(time.Minute)
		}
		settle()
	}
	e.Stop()
	evs, _ := sub.Take(0)
	if n := sub.Dropped(); n > 0 {
		tb.Fatalf("the recording dropped %d events", n)
	}
	fc := cfg.FoldConfig()
	fc.Now = nil
	return evs, fc
}

// A timeline's checkpoints give, at any position, the state a fold from
// the start gives; the folds it hands out are independent copies.
func TestTimelineSeeksLikeAFold(t *testing.T) {
	evs, cfg := longStream(t, 400)
	if len(evs) < 2000 {
		t.Fatalf("only %d events recorded", len(evs))
	}
	tl := NewTimeline(cfg, evs, 256)
	for _, n := range []int{0, 1, 255, 256, 257, 1000, 1777, len(evs) - 1, len(evs)} {
		f := NewFold(cfg)
		for _, ev := range evs[:n] {
			f.Apply(ev)
		}
		want := f.Snapshot()
		got := tl.At(n)
		if d := diffSnapshots(want, got.Snapshot()); d != "" {
			t.Fatalf("at %d of %d: %s", n, len(evs), d)
		}
		// Folding on from a copy leaves the checkpoint as it was.
		for _, ev := range evs[n:min(n+300, len(evs))] {
			got.Apply(ev)
		}
		if d := diffSnapshots(want, tl.At(n).Snapshot()); d != "" {
			t.Fatalf("at %d, after folding on from a copy: %s", n, d)
		}
	}
}

// BenchmarkFoldApply is the cost of folding one event of a busy engine's
// stream (hardened, the Convex client model on); seek100k folds 100,000
// events from the start, as a replay's seek without checkpoints would;
// timelineAt seeks with checkpoints; snapshot is one frame's read.
func BenchmarkFoldApply(b *testing.B) {
	evs, cfg := longStream(b, 20000)
	for len(evs) < 100_000 {
		b.Fatalf("only %d events recorded", len(evs))
	}
	evs = evs[:100_000]
	b.Run("apply", func(b *testing.B) {
		b.ReportAllocs()
		f := NewFold(cfg)
		for i := 0; b.Loop(); i++ {
			if i%len(evs) == 0 {
				f = NewFold(cfg)
			}
			f.Apply(evs[i%len(evs)])
		}
	})
	b.Run("seek100k", func(b *testing.B) {
		for b.Loop() {
			f := NewFold(cfg)
			for _, ev := range evs {
				f.Apply(ev)
			}
			_ = f.Snapshot()
		}
	})
	tl := NewTimeline(cfg, evs, 0)
	b.Run("timelineAt", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_ = tl.At((i * 7919) % len(evs)).Snapshot()
		}
	})
	b.Run("snapshot", func(b *testing.B) {
		b.ReportAllocs()
		f := NewFold(cfg)
		for _, ev := range evs {
			f.Apply(ev)
		}
		for b.Loop() {
			_ = f.Snapshot()
		}
	})
}

// A stream that is not read while the engine works loses nothing and
// does not slow the engine: every event is there, in order, after the
// engine has stopped, and a fold of them matches the engine's last state.
// Past its limit it counts what it lost.
func TestSubscribeAllLosesNothing(t *testing.T) {
	clock := NewFakeClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	b := newFakeBackend(clock)
	b.newSession()
	e, err := New(Config{Policy: "pr329", Backend: b, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	all := e.SubscribeAll(0)
	small := e.SubscribeAll(10)
	lossy := e.Subscribe(16)
	e.Start(context.Background())
	for i := range 2000 {
		e.Fetch("", i%2 == 0, "burst")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Settle(ctx, b.Held, b.notify, clock); err != nil {
		t.Fatal(err)
	}
	want := e.Snapshot()
	total := e.Log().Total()
	e.Stop()
	<-all.Ready()
	evs, open := all.Take(0)
	if !open {
		t.Fatal("the first Take says the stream is over")
	}
	if more, open := all.Take(0); len(more) != 0 || open {
		t.Fatalf("a second Take after the engine stopped: %d events, open %v", len(more), open)
	}
	f := NewFold(e.FoldConfig())
	var visible, last uint64
	for _, ev := range evs {
		if !ev.Kind.Quiet() {
			visible++
			if ev.Seq != last+1 {
				t.Fatalf("event %d follows %d", ev.Seq, last)
			}
			last = ev.Seq
		}
		f.Apply(ev)
	}
	if visible != total || all.Dropped() != 0 {
		t.Fatalf("got %d logged events of %d, %d dropped", visible, total, all.Dropped())
	}
	if d := diffSnapshots(want, f.Snapshot()); d != "" {
		t.Fatalf("the fold of the whole stream differs: %s", d)
	}
	if lossy.Dropped() == 0 {
		t.Errorf("the lossy subscription with a 16-event buffer dropped nothing of %d: the test proves nothing", len(evs))
	}
	got, _ := small.Take(0)
	if len(got) != 10 || small.Dropped() != uint64(len(evs)-10) {
		t.Errorf("a stream limited to 10 kept %d and dropped %d of %d", len(got), small.Dropped(), len(evs))
	}
}

// A fold never panics, whatever it is fed: a replay may read a damaged or
// hand-edited trace.
func FuzzFoldApply(f *testing.F) {
	f.Add([]byte{6, 1, 1, 15, 1, 1, 27, 2, 0, 13, 1, 3})
	f.Add([]byte{27, 0, 0, 6, 2, 1, 7, 3, 1, 11, 2, 4, 10, 2, 2, 15, 3, 1, 30, 0, 5})
	f.Fuzz(func(t *testing.T, data []byte) { foldBytes(data) })
}

// foldBytes folds the events data describes, three bytes an event.
func foldBytes(data []byte) {
	effects := []string{"", "mount", "initial", "remount", "abandoned", "reroute"}
	calls := []string{"", "a", "b", "c"}
	policies := []string{"", "v0.12", "pr329", "hardened", "bogus"}
	{
		fold := NewFold(FoldConfig{Policy: "pr329", Consumer: len(data)%2 == 0})
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i+2 < len(data); i += 3 {
			k, a, b := data[i], data[i+1], data[i+2]
			ev := Event{
				Kind:      Kind(k % uint8(kindEnd+1)),
				At:        at.Add(time.Duration(i) * time.Second),
				Fetch:     int(a % 5),
				Owner:     int(b % 5),
				Call:      calls[int(b)%len(calls)],
				Source:    calls[int(a)%len(calls)],
				Effect:    effects[int(a+b)%len(effects)],
				Policy:    policies[int(b)%len(policies)],
				Poll:      int(a % 3),
				Reason:    []string{"open", "closed", "x"}[int(b)%3],
				Session:   calls[int(a)%len(calls)],
				SessionID: calls[int(b)%len(calls)],
			}
			if a%3 == 0 {
				ev.Token = &TokenInfo{Fingerprint: string(rune('a' + b%4)), SessionID: calls[int(a)%len(calls)], Verified: b%2 == 0}
			}
			if b%4 == 1 {
				ev.Observed = &Session{ID: calls[int(a)%len(calls)]}
			}
			if k%5 == 0 {
				ev.Client = &ClientState{Auth: ev.Token, LastResult: &QueryResult{Error: "e"}}
			}
			fold.Apply(ev)
			if i%9 == 0 {
				fold = fold.Clone()
			}
			_ = fold.Snapshot()
		}
	}
}
