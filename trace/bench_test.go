package trace

import (
	"bytes"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
)

// manyEvents are n events cycled from a real run, with increasing
// sequence numbers and times, the run's violations and flickers included.
func manyEvents(b *testing.B, n int) []authstate.Event {
	real := recordedEvents(b)
	out := make([]authstate.Event, n)
	at := start
	for i := range out {
		ev := real[i%len(real)]
		ev.Seq = uint64(i + 1)
		at = at.Add(time.Millisecond)
		ev.At = at
		if i%5000 == 2500 {
			ev.Kind, ev.Reason = authstate.KindFlicker, "open"
		}
		out[i] = ev
	}
	return out
}

// BenchmarkRecordEvent: the cost of recording one event, redaction on
// (the default rules), buffered to a discarding writer.
func BenchmarkRecordEvent(b *testing.B) {
	evs := manyEvents(b, 4096)
	w := NewWriter(io.Discard, testHeader(), Options{Scrub: []string{"authscope-dev-password"}})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Event(1, evs[i%len(evs)])
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

var (
	bigOnce  sync.Once
	bigTrace []byte
)

func trace100k(b *testing.B) []byte {
	bigOnce.Do(func() {
		bigTrace = writeTrace(b, testHeader(), Options{}, manyEvents(b, 100_000))
	})
	return bigTrace
}

// BenchmarkOpen100k: reading a 100k-event trace, index included.
func BenchmarkOpen100k(b *testing.B) {
	data := trace100k(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr, err := Read(bytes.NewReader(data))
		if err != nil || len(tr.Entries) != 100_000 {
			b.Fatalf("%v, %d entries", err, len(tr.Entries))
		}
	}
}

// BenchmarkSeek: one jump in a 100k-event trace: to a time, to the next
// (or previous) violation or flicker from there, and one pass over the
// events up to that point, as a fold that rebuilds the panels makes.
func BenchmarkSeek(b *testing.B) {
	tr := mustRead(b, trace100k(b))
	if len(tr.Violations()) == 0 || len(tr.Flickers()) == 0 {
		b.Fatal("no marks to seek to")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		at := start.Add(time.Duration(rng.IntN(100_000)) * time.Millisecond)
		n := tr.EntryAt(at)
		if m := tr.NextMark(n); m >= 0 {
			n = m
		} else if m := tr.PrevMark(n); m >= 0 {
			n = m
		}
		evs := tr.EventsBefore(n + 1)
		if len(evs) != n+1 {
			b.Fatalf("%d events before entry %d", len(evs), n+1)
		}
		var kinds [64]int
		for k := range evs {
			kinds[evs[k].Kind]++
		}
		if kinds[authstate.KindSessionObserved] == 0 {
			b.Fatal("the pass saw no session")
		}
	}
}

// BenchmarkRecordInput: the cost of recording one engine input, encoded
// by the authstate codec and redacted: a cycle of a fetch call, the token
// answer (its JWT's signature removed), a session answer and a timer.
func BenchmarkRecordInput(b *testing.B) {
	jwt, _, _, _ := testJWT(b)
	t0 := start
	tok := &authstate.Token{Raw: jwt, SessionID: "s1", Subject: "u1", Issuer: "http://127.0.0.1:3210", Audience: []string{"convex"}, IssuedAt: t0, ExpiresAt: t0.Add(15 * time.Minute), Verified: true}
	ins := []authstate.Input{
		authstate.FetchCall{Name: "call3", Cause: "key t", Seq: 3},
		authstate.TokenFetched{Call: 12, Fetch: 2, Token: tok},
		authstate.SessionPolled{Call: 13, Poll: 4, Session: &authstate.Session{ID: "s1", UserID: "u1", Email: "a@example.com", ExpiresAt: t0, CreatedAt: t0}},
		authstate.PollTick{Timer: 7},
	}
	for _, in := range ins {
		b.Run(authstate.InputKind(in), func(b *testing.B) {
			w := NewWriter(io.Discard, testHeader(), Options{Scrub: []string{"authscope-dev-password"}})
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				kind, data, err := authstate.EncodeInput(in)
				if err != nil {
					b.Fatal(err)
				}
				w.Input(uint64(i+1), t0, 1, kind, data)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
