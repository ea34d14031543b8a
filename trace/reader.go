package trace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Limits of the reader. A line longer than MaxLine is skipped (a
// Problem) without being held in memory; after MaxEntries records, or
// MaxProblems bad lines, the rest of the file is not read (a Problem says
// so), so that a huge or broken file never fills memory. An event takes
// some 600 bytes once read: a million is ten times the TUI's event log
// of one device, in about 600 MB.
const (
	MaxLine     = 1 << 20
	MaxEntries  = 1_000_000
	MaxProblems = 1000
)

type limits struct{ line, entries, problems int }

var defaultLimits = limits{line: MaxLine, entries: MaxEntries, problems: MaxProblems}

// Read reads a trace. Lines that cannot be read become Problems and the
// rest is kept; the error is for a stream that is not a trace at all (no
// header, an unknown version). Strings are returned as the file has them:
// whoever prints them makes them safe (internal/termtext).
func Read(r io.Reader) (*Trace, error) {
	hint := 0
	if l, ok := r.(interface{ Len() int }); ok {
		hint = records(int64(l.Len()))
	}
	return read(r, "trace", defaultLimits, hint)
}

// sizeHint guesses how many records a file holds from its size, so that
// reading does not grow the arrays again and again.
func sizeHint(f *os.File) int {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return records(fi.Size())
}

// records guesses the records in size bytes (a line is some 300 bytes),
// at most 200k: a bigger file grows the arrays as it proves to hold
// records.
func records(size int64) int { return int(min(size/300, 200_000)) }

// ReadFile reads the trace in the file at path; errors and problems name
// the file and the line.
func ReadFile(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr, err := read(f, path, defaultLimits, sizeHint(f))
	return tr, err
}

// String is the problem as a message: "trace.jsonl:17: not JSON: …".
func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Err) }

// probe reads a record's type.
type probe struct {
	Type    string `json:"type"`
	Version *int   `json:"version"`
}

var eventPrefix = []byte(`{"type":"event",`)

// pendingEvent marks an entry whose event is placed once reading is done.
var pendingEvent = new(Event)

func read(r io.Reader, name string, lim limits, hint int) (*Trace, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	t := &Trace{Name: name}
	if hint = min(hint, lim.entries); hint > 0 {
		t.Entries = make([]Entry, 0, hint)
		t.events = make([]Event, 0, hint)
	}
	var line []byte
	lineNo := 0
	header := false
	problem := func(n int, format string, args ...any) bool {
		if len(t.Problems) >= lim.problems {
			t.Problems = append(t.Problems, Problem{File: name, Line: n, Err: fmt.Sprintf("more than %d bad lines: the rest of the file was not read", lim.problems)})
			return false
		}
		t.Problems = append(t.Problems, Problem{File: name, Line: n, Err: fmt.Sprintf(format, args...)})
		return true
	}
	errAt := func(n int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, n, fmt.Sprintf(format, args...))
	}
	for {
		line = line[:0]
		tooLong, eof, terminated := false, false, false
		size := 0
		for {
			chunk, err := br.ReadSlice('\n')
			size += len(chunk)
			if !tooLong {
				if size > lim.line+2 { // the newline (and a \r) do not count
					tooLong, line = true, line[:0]
				} else {
					line = append(line, chunk...)
				}
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if errors.Is(err, io.EOF) {
				eof = true
			} else if err != nil {
				lineNo++
				if !header {
					return nil, errAt(lineNo, "read: %v", err)
				}
				problem(lineNo, "read error: %v; the rest of the file was not read", err)
				t.finish()
				return t, nil
			} else {
				terminated = true
			}
			break
		}
		if eof && size == 0 {
			break
		}
		lineNo++
		if tooLong {
			if !header {
				return nil, errAt(lineNo, "not a trace: the first line is longer than %d bytes", lim.line)
			}
			if !problem(lineNo, "line longer than %d bytes: skipped", lim.line) {
				break
			}
			if eof {
				break
			}
			continue
		}
		body := bytes.TrimSpace(line)
		if len(body) == 0 {
			if eof {
				break
			}
			continue
		}
		truncated := !terminated
		if !header {
			if err := t.readHeader(body, truncated); err != nil {
				return nil, errAt(lineNo, "%v", err)
			}
			header = true
			if eof {
				break
			}
			continue
		}
		if len(t.Entries) >= lim.entries {
			problem(lineNo, "more than %d records: the rest of the file was not read", lim.entries)
			break
		}
		if msg := t.readRecord(lineNo, body); msg != "" {
			if truncated {
				msg = "truncated: the file ends in the middle of this record (" + msg + ")"
			}
			if !problem(lineNo, "%s", msg) {
				break
			}
		}
		if eof {
			break
		}
	}
	if !header {
		return nil, fmt.Errorf("%s: empty: not a trace (no header line)", name)
	}
	t.finish()
	return t, nil
}

func (t *Trace) readHeader(body []byte, truncated bool) error {
	var p probe
	if err := json.Unmarshal(body, &p); err != nil {
		if truncated {
			return fmt.Errorf("not a trace: the file ends in the middle of its header")
		}
		return fmt.Errorf("not a trace: the first line is not JSON: %v", err)
	}
	if p.Type != TypeHeader {
		return fmt.Errorf("not a trace: the first line is not a header (type %q)", p.Type)
	}
	if p.Version == nil {
		return errors.New("the header has no version")
	}
	if v := *p.Version; v != Version {
		if v > Version {
			return fmt.Errorf("trace format version %d is not supported: this authscope reads version %d (a newer authscope wrote it)", v, Version)
		}
		return fmt.Errorf("trace format version %d is not supported: this authscope reads version %d", v, Version)
	}
	if err := json.Unmarshal(body, &t.Header); err != nil {
		return fmt.Errorf("bad header: %v", err)
	}
	if n := len(t.Header.Columns); n > MaxColumns {
		return fmt.Errorf("bad header: %d columns (at most %d)", n, MaxColumns)
	}
	for _, c := range t.Header.Columns {
		if len(c) > MaxColumnName {
			return fmt.Errorf("bad header: a column name of %d bytes (at most %d)", len(c), MaxColumnName)
		}
	}
	return nil
}

// MaxColumns and MaxColumnName bound a header's compare columns.
const (
	MaxColumns    = 8
	MaxColumnName = 64
)

// readRecord reads one line after the header into an entry; it returns
// what is wrong with the line, or "".
func (t *Trace) readRecord(n int, body []byte) string {
	typ := TypeEvent
	if !bytes.HasPrefix(body, eventPrefix) {
		var p probe
		if err := json.Unmarshal(body, &p); err != nil {
			return "not JSON: " + err.Error()
		}
		typ = p.Type
	}
	switch typ {
	case TypeEvent:
		var ev Event
		if decodeEvent(body, &ev, &t.intern) != nil {
			ev = Event{}
			if err := json.Unmarshal(body, &ev); err != nil {
				var syn *json.SyntaxError
				if errors.As(err, &syn) {
					return "not JSON: " + err.Error()
				}
				return "bad event: " + err.Error()
			}
		}
		if ev.Kind == 0 {
			return "an event without a kind"
		}
		if ev.Device < 0 {
			return fmt.Sprintf("bad event: device %d", ev.Device)
		}
		t.events = append(t.events, ev)
		t.Entries = append(t.Entries, Entry{Line: n, Event: pendingEvent})
	case TypeInput:
		in := new(Input)
		if err := json.Unmarshal(body, in); err != nil {
			return "bad input: " + err.Error()
		}
		if in.Kind == "" {
			return "an input without a kind"
		}
		if in.Device < 0 {
			return fmt.Sprintf("bad input: device %d", in.Device)
		}
		t.Entries = append(t.Entries, Entry{Line: n, Input: in})
	case TypeHeader:
		return "a second header: ignored"
	case "":
		return "a record without a type"
	default:
		return fmt.Sprintf("unknown record type %q: skipped", typ)
	}
	return ""
}

// finish points the entries at their events and builds the index.
func (t *Trace) finish() {
	t.events = t.events[:len(t.events):len(t.events)]
	j := 0
	for i := range t.Entries {
		if t.Entries[i].Event == pendingEvent {
			t.Entries[i].Event = &t.events[j]
			j++
		}
	}
	t.intern = interner{}
	t.buildIndex()
}
