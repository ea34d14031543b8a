package trace

import (
	"bytes"
	"context"
	"encoding/base64"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// start is the virtual clock's start in the traces the tests record: UTC
// and without a monotonic reading, so that events read back DeepEqual.
var start = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

var (
	realOnce   sync.Once
	realEvents []authstate.Event
	realErr    error
)

// recordedEvents are the events of a real run: 03-rotation-in-flight
// under v0.12 against a fresh simulator, the case that fails.
func recordedEvents(t testing.TB) []authstate.Event {
	t.Helper()
	realOnce.Do(func() {
		sc, err := scenario.Load("../scenarios/03-rotation-in-flight.yaml")
		if err != nil {
			realErr = err
			return
		}
		var mu sync.Mutex
		res := scenario.Run(context.Background(), &target.Sim{}, sc, "v0.12", scenario.Options{
			Start: start,
			OnEvent: func(ev authstate.Event) {
				mu.Lock()
				realEvents = append(realEvents, ev)
				mu.Unlock()
			},
		})
		if res.Err != "" {
			realErr = errString(res.Err)
		}
	})
	if realErr != nil {
		t.Fatal(realErr)
	}
	if len(realEvents) < 10 {
		t.Fatalf("the run recorded %d events", len(realEvents))
	}
	return realEvents
}

type errString string

func (e errString) Error() string { return string(e) }

func testHeader() Header {
	return Header{
		Authscope: "test",
		Command:   "run",
		Policy:    "v0.12",
		Scenario:  "03-rotation-in-flight",
		Target:    Target{Kind: "sim"},
		Upstream:  map[string]string{"convex": "1.45.0"},
		Started:   start,
	}
}

// writeTrace writes the events (as device 1) and returns the file.
func writeTrace(t testing.TB, h Header, opts Options, evs []authstate.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, h, opts)
	for _, ev := range evs {
		if err := w.Event(1, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustRead(t testing.TB, b []byte) *Trace {
	t.Helper()
	tr, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// testJWT is a complete JWT with a recognisable signature.
func testJWT(t testing.TB) (jwt, header, claims, sig string) {
	t.Helper()
	enc := base64.RawURLEncoding
	header = enc.EncodeToString([]byte(`{"alg":"EdDSA","kid":"k1","typ":"JWT"}`))
	claims = enc.EncodeToString([]byte(`{"sub":"user_7f3a9c","sessionId":"sess_9d8e7f6a","email":"alice@example.com","iss":"http://127.0.0.1:3210","exp":1900000000}`))
	sig = enc.EncodeToString([]byte("this-is-the-signature-that-must-not-leak-0123456789"))
	return header + "." + claims + "." + sig, header, claims, sig
}

func sameEvents(t *testing.T, got []Event, want []authstate.Event, device int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events read back, %d written", len(got), len(want))
	}
	for i := range want {
		if got[i].DeviceNumber() != device {
			t.Fatalf("event %d: device %d, want %d", i, got[i].DeviceNumber(), device)
		}
		if !reflect.DeepEqual(got[i].Event, want[i]) {
			t.Fatalf("event %d read back as\n%+v\nwritten\n%+v", i, got[i].Event, want[i])
		}
	}
}
