package trace

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/authscope/authscope/authstate"
)

const (
	hdr = `{"type":"header","version":1,"authscope":"test","command":"run","policy":"v0.12","target":{"kind":"sim"},"started":"2026-12-01T10:00:00Z"}`
	ev1 = `{"type":"event","seq":1,"at":"2026-12-01T10:00:00Z","kind":"note","detail":"one"}`
	ev2 = `{"type":"event","seq":2,"at":"2026-12-01T10:00:01Z","kind":"note","detail":"two"}`
)

// Every kind of bad trace gets a clear error naming the line, or the
// lines that could be read and a Problem for each one that could not.
func TestReadBadTraces(t *testing.T) {
	type prob struct {
		line int
		has  string
	}
	for _, c := range []struct {
		name    string
		in      string
		err     string // the error, when the file is refused
		entries int
		probs   []prob
	}{
		{name: "empty", in: "", err: "t.jsonl: empty: not a trace (no header line)"},
		{name: "blank lines only", in: "\n\n  \n", err: "no header line"},
		{name: "no header", in: ev1 + "\n" + ev2 + "\n", err: `t.jsonl:1: not a trace: the first line is not a header (type "event")`},
		{name: "garbage first line", in: "hello world\n" + hdr + "\n", err: "t.jsonl:1: not a trace: the first line is not JSON: invalid character 'h'"},
		{name: "unknown version", in: strings.Replace(hdr, `"version":1`, `"version":7`, 1) + "\n" + ev1 + "\n", err: "t.jsonl:1: trace format version 7 is not supported: this authscope reads version 1"},
		{name: "version 0", in: strings.Replace(hdr, `"version":1`, `"version":0`, 1) + "\n", err: "trace format version 0 is not supported"},
		{name: "no version", in: `{"type":"header"}` + "\n", err: "t.jsonl:1: the header has no version"},
		{name: "bad header field", in: strings.Replace(hdr, `"started":"2026-12-01T10:00:00Z"`, `"started":17`, 1) + "\n", err: "t.jsonl:1: bad header"},
		{name: "truncated header", in: hdr[:40], err: "t.jsonl:1: not a trace: the file ends in the middle of its header"},
		{name: "header only", in: hdr + "\n"},
		{name: "header without newline", in: hdr},
		{name: "good", in: hdr + "\n" + ev1 + "\n" + ev2 + "\n", entries: 2},
		{name: "crlf and blank lines", in: hdr + "\r\n\r\n" + ev1 + "\r\n\n" + ev2, entries: 2},
		{name: "garbage line", in: hdr + "\n" + ev1 + "\nnot json at all\n" + ev2 + "\n", entries: 2, probs: []prob{{3, "not JSON: invalid character 'o' in literal null"}}},
		{name: "truncated last line", in: hdr + "\n" + ev1 + "\n" + ev2[:30], entries: 1, probs: []prob{{3, "truncated: the file ends in the middle of this record"}}},
		{name: "corrupted bytes", in: hdr + "\n" + ev1[:20] + "\x00\xff\xfe" + ev1[23:] + "\n" + ev2 + "\n", entries: 1, probs: []prob{{2, "not JSON"}}},
		{name: "repeated header", in: hdr + "\n" + ev1 + "\n" + hdr + "\n" + ev2 + "\n", entries: 2, probs: []prob{{3, "a second header: ignored"}}},
		{name: "unknown record type", in: hdr + "\n" + `{"type":"frobnicate"}` + "\n" + ev1 + "\n", entries: 1, probs: []prob{{2, `unknown record type "frobnicate": skipped`}}},
		{name: "no type", in: hdr + "\n" + `{"seq":3}` + "\n", probs: []prob{{2, "a record without a type"}}},
		{name: "unknown event kind", in: hdr + "\n" + strings.Replace(ev1, `"note"`, `"teleported"`, 1) + "\n", probs: []prob{{2, `bad event: unknown event kind "teleported"`}}},
		{name: "event without kind", in: hdr + "\n" + `{"type":"event","seq":1}` + "\n", probs: []prob{{2, "an event without a kind"}}},
		{name: "event with a bad time", in: hdr + "\n" + strings.Replace(ev1, `"2026-12-01T10:00:00Z"`, `"yesterday"`, 1) + "\n", probs: []prob{{2, "bad event: parsing time"}}},
		{name: "negative device", in: hdr + "\n" + strings.Replace(ev1, `"seq":1`, `"device":-1,"seq":1`, 1) + "\n", probs: []prob{{2, "bad event: device -1"}}},
		{name: "input without kind", in: hdr + "\n" + `{"type":"input","seq":1,"at":"2026-12-01T10:00:00Z"}` + "\n", probs: []prob{{2, "an input without a kind"}}},
		{name: "a JSON array", in: hdr + "\n[1,2]\n", probs: []prob{{2, "not JSON: json: cannot unmarshal array"}}},
		{name: "line over the limit", in: hdr + "\n" + `{"type":"event","detail":"` + strings.Repeat("x", MaxLine) + `"}` + "\n" + ev1 + "\n", entries: 1, probs: []prob{{2, "line longer than 1048576 bytes: skipped"}}},
		{name: "long last line without newline", in: hdr + "\n" + ev1 + "\n" + strings.Repeat("y", 3*MaxLine), entries: 1, probs: []prob{{3, "line longer than"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, err := read(strings.NewReader(c.in), "t.jsonl", defaultLimits, 0)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Entries) != c.entries {
				t.Fatalf("%d entries, want %d", len(tr.Entries), c.entries)
			}
			if len(tr.Problems) != len(c.probs) {
				t.Fatalf("problems %v, want %v", tr.Problems, c.probs)
			}
			for i, p := range c.probs {
				got := tr.Problems[i]
				if got.Line != p.line || !strings.Contains(got.Err, p.has) || !strings.HasPrefix(got.String(), "t.jsonl:") {
					t.Fatalf("problem %d: %s, want line %d with %q", i, got, p.line, p.has)
				}
			}
		})
	}
}

// endless is an endless trace: a header, then the same event forever.
type endless struct {
	pos  int
	line []byte
	read int64
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], e.line[e.pos:])
		n += c
		e.pos = (e.pos + c) % len(e.line)
	}
	e.read += int64(n)
	return n, nil
}

// A huge file is never read whole: after the cap on records (or on bad
// lines) the reader stops and says so.
func TestReadStopsAtTheCaps(t *testing.T) {
	lim := limits{line: MaxLine, entries: 5000, problems: 50}
	src := &endless{line: []byte(ev1 + "\n")}
	tr, err := read(io.MultiReader(strings.NewReader(hdr+"\n"), src), "big.jsonl", lim, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Entries) != 5000 || len(tr.Problems) != 1 || tr.Problems[0].Line != 5002 || !strings.Contains(tr.Problems[0].Err, "more than 5000 records: the rest of the file was not read") {
		t.Fatalf("%d entries, problems %v", len(tr.Entries), tr.Problems)
	}
	if src.read > 2<<20 {
		t.Fatalf("read %d bytes for 5000 records", src.read)
	}
	garbage := &endless{line: []byte("garbage\n")}
	tr, err = read(io.MultiReader(strings.NewReader(hdr+"\n"), garbage), "bad.jsonl", lim, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := tr.Problems[len(tr.Problems)-1]
	if len(tr.Problems) != 51 || !strings.Contains(last.Err, "more than 50 bad lines: the rest of the file was not read") {
		t.Fatalf("%d problems, last %s", len(tr.Problems), last)
	}
	// One endless line is skipped without being held.
	tr, err = read(io.MultiReader(strings.NewReader(hdr+"\n"+ev1+"\n"), io.LimitReader(&endless{line: bytes.Repeat([]byte("z"), 4096)}, 16<<20)), "line.jsonl", defaultLimits, 0)
	if err != nil || len(tr.Entries) != 1 || len(tr.Problems) != 1 || tr.Problems[0].Line != 3 {
		t.Fatalf("err %v, %d entries, problems %v", err, len(tr.Entries), tr.Problems)
	}
}

// ReadFile names the file in its errors and problems.
func TestReadFileNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "trace.jsonl")
	os.WriteFile(p, []byte(hdr+"\n"+ev1+"\n{oops\n"), 0o600)
	tr, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Problems) != 1 || tr.Problems[0].String() != p+":3: not JSON: invalid character 'o' looking for beginning of object key string" {
		t.Fatalf("problems %v", tr.Problems)
	}
	os.WriteFile(p, []byte(strings.Replace(hdr, `"version":1`, `"version":2`, 1)), 0o600)
	if _, err := ReadFile(p); err == nil || !strings.HasPrefix(err.Error(), p+":1: trace format version 2 is not supported") {
		t.Fatalf("error %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.jsonl")); !os.IsNotExist(err) {
		t.Fatalf("missing file: %v", err)
	}
}

// FuzzRead: no input makes the reader panic, and whatever it reads,
// written again by Writer, reads back equal (and the redaction of a
// written trace is stable).
func FuzzRead(f *testing.F) {
	f.Add([]byte(hdr + "\n" + ev1 + "\n" + ev2 + "\n"))
	f.Add([]byte(hdr + "\n" + `{"type":"input","seq":1,"at":"2026-12-01T10:00:00Z","device":2,"kind":"action","input":{"a":[1,"b",null]}}` + "\n"))
	f.Add([]byte(hdr + "\ngarbage\n" + ev1[:20]))
	f.Add(writeTrace(f, testHeader(), Options{}, recordedEvents(f)))
	jwt, _, _, _ := testJWT(f)
	f.Add(writeTrace(f, testHeader(), Options{Secrets: true}, []authstate.Event{{Seq: 1, At: start, Kind: authstate.KindNote, Detail: "Bearer " + jwt + " cookie=abc"}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := read(bytes.NewReader(b), "fuzz", limits{line: 4096, entries: 1000, problems: 100}, 0)
		if err != nil {
			return
		}
		once := rewrite(t, tr)
		if !tr.Header.Secrets && ContainsJWT(string(once)) {
			t.Fatalf("a JWT was written:\n%s", once)
		}
		t1 := mustRead(t, once)
		twice := rewrite(t, t1)
		if !bytes.Equal(once, twice) {
			t.Fatalf("written twice differently:\n%s\n%s", once, twice)
		}
		t2 := mustRead(t, twice)
		if len(t1.Problems) > 0 || !reflect.DeepEqual(t1.Header, t2.Header) || !reflect.DeepEqual(t1.Entries, t2.Entries) {
			t.Fatalf("read back differently (problems %v)", t1.Problems)
		}
	})
}

// rewrite writes tr again through a Writer with its header's options.
func rewrite(t *testing.T, tr *Trace) []byte {
	var buf bytes.Buffer
	h := tr.Header
	w := NewWriter(&buf, h, Options{Demo: h.Demo, Secrets: h.Secrets})
	for _, e := range tr.Entries {
		switch {
		case e.Event != nil:
			w.Event(e.Event.DeviceNumber(), e.Event.Event)
		case e.Input != nil:
			w.Input(e.Input.Seq, e.Input.At, e.Input.DeviceNumber(), e.Input.Kind, e.Input.Data)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
