package trace

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
)

// The hand-written encoder writes the bytes encoding/json would, for real
// events and for strings that need escaping.
func TestAppendEventMatchesEncodingJSON(t *testing.T) {
	evs := append([]authstate.Event(nil), recordedEvents(t)...)
	evs = append(evs, authstate.Event{Seq: 99, At: start.Add(time.Nanosecond), Kind: authstate.KindConsumerState, Force: true, Stale: true, Owner: 3,
		Detail: "quote \" back \\ <tag> & \x01\x1f\t\n\r \u2028\u2029 \xff bad é ✗ 😀", Convex: &authstate.ConvexFlags{Loading: true, Failing: true},
		Token: &authstate.TokenInfo{Fingerprint: "ab", Problem: "p", IssuedAt: start, ExpiresAt: start.In(time.FixedZone("x", 3600))}})
	for i, ev := range evs {
		checkEncoding(t, i+1, ev)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600) // no tz database here
	}
	for _, at := range []time.Time{start, time.Now(), time.Now().In(ny), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -(5*3600+30*60+17))),
		time.Date(2026, 3, 4, 5, 6, 7, 100, time.FixedZone("", -30)), time.Date(2026, 3, 4, 5, 6, 7, 120000000, time.FixedZone("", 45*60))} {
		if got, want := string(appendRFC3339Nano(nil, at)), at.Format(time.RFC3339Nano); got != want {
			t.Errorf("time %s written as %s", want, got)
		}
	}
}

func checkEncoding(t *testing.T, device int, ev authstate.Event) {
	t.Helper()
	want, werr := json.Marshal(&eventRecord{Type: TypeEvent, Device: deviceField(device), plainEvent: plainEvent(ev)})
	got, gerr := appendEvent(nil, deviceField(device), &ev)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("errors: encoding/json %v, appendEvent %v", werr, gerr)
	}
	if werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("appendEvent wrote\n%s\nencoding/json\n%s", got, want)
	}
}

// FuzzEventCodec: the encoder agrees with encoding/json, and where the
// fast decoder takes a line it reads what encoding/json reads.
func FuzzEventCodec(f *testing.F) {
	f.Add("request #1 returned a token", "S1", uint64(7), 2, int64(0), []byte(ev1))
	f.Add("é \" \\u00e9 \xff", "", uint64(0), 0, int64(-1), []byte(`{"type":"event","seq":1,"kind":"note","token":{"iat":"2026-01-01T00:00:00Z"},"token":{"problem":"x"},"convex":null}`))
	f.Add("", "S2", uint64(1), 1, int64(1e18), []byte(`{"type":"event","seq":01,"kind":"note","Detail":"x","fetch":1.0,"at":null}`))
	f.Fuzz(func(t *testing.T, detail, session string, seq uint64, device int, nanos int64, line []byte) {
		at := time.Unix(0, nanos).In(time.FixedZone("z", device%100000))
		if got, want := string(appendRFC3339Nano(nil, at)), at.Format(time.RFC3339Nano); at.Year() >= 0 && at.Year() < 10000 && got != want {
			t.Fatalf("time %s written as %s", want, got)
		}
		ev := authstate.Event{Seq: seq, At: time.Unix(0, nanos).UTC(), Kind: authstate.KindNote, Detail: detail, Session: session, Fetch: device,
			Token: &authstate.TokenInfo{SessionID: session, Problem: detail}}
		checkEncoding(t, device, ev)
		var fast, slow Event
		if decodeEvent(line, &fast, &interner{}) != nil {
			return
		}
		if err := json.Unmarshal(line, &slow); err != nil {
			t.Fatalf("the fast decoder took a line encoding/json refuses (%v): %s", err, line)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast %+v\nslow %+v\nline %s", fast, slow, line)
		}
	})
}

// Every field of an event, set, is written as encoding/json writes it: a
// field added to authstate.Event that the fast path forgets fails here.
func TestAppendEventCoversEveryField(t *testing.T) {
	var ev authstate.Event
	fill(reflect.ValueOf(&ev).Elem(), 1)
	ev.Kind = authstate.KindFetchResolved
	checkEncoding(t, 2, ev)
	// The fast decoder reads what encoding/json reads, and takes the line
	// unless it holds a Convex client state or a transport state (those go
	// to encoding/json: quiet or rare events).
	for _, client := range []bool{true, false} {
		e := ev
		if !client {
			e.Client, e.Transport = nil, nil
		}
		line, err := appendEvent(nil, 2, &e)
		if err != nil {
			t.Fatal(err)
		}
		var fast, slow Event
		ferr := decodeEvent(line, &fast, &interner{})
		if err := json.Unmarshal(line, &slow); err != nil {
			t.Fatal(err)
		}
		if client != (ferr != nil) {
			t.Fatalf("client state %v: fast decoder said %v", client, ferr)
		}
		if ferr == nil && !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast %+v\nslow %+v\nline %s", fast, slow, line)
		}
	}
}

// fill sets every settable field of v to a non-zero value.
func fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x" + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(7 * depth))
	case reflect.Uint64, reflect.Uint8, reflect.Uint32:
		v.SetUint(3)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 { // json.RawMessage
			v.SetBytes([]byte(`{"alg":"EdDSA","kid":"k"}`))
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(start.Add(time.Duration(depth) * time.Second)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}
