// Package trace reads and writes authscope traces: a recording of one
// client stack (or several devices) as JSON lines. A trace is what
// `--record` writes, what `replay` opens, and what `export` turns into a
// scenario or a report.
//
// The format, version 1, one JSON object per line:
//
//	{"type":"header","version":1,...}          first line, exactly once
//	{"type":"input","seq":1,"at":...,"input":{"kind":"fetch",...}}
//	{"type":"event","seq":1,"at":...,"kind":"fetch_started",...}
//
// Inputs and events are written in the order the engine applied and
// emitted them. A record of a second device carries "device":2 (device 1
// omits it). Secrets are redacted where a record is written (see Redact):
// a trace never holds a password, a session token or a cookie value, and a
// JWT appears as its header and claims without the signature, plus its
// fingerprint, unless the header says "secrets":true.
//
// Write a trace with NewWriter (safe for concurrent use), read one with
// ReadFile: a bad line is a Problem with its line number, never a panic,
// and a huge file is read as a stream up to MaxEntries records. A Trace
// has an index for replay: Violations, Flickers, NextMark and PrevMark
// find the places worth jumping to, EntryAt a time, and EventsBefore the
// events a fold reads to show the state at any entry.
package trace

import (
	"encoding/json"
	"time"

	"github.com/authscope/authscope/authstate"
)

// Version is the format version this package writes. Readers refuse a
// higher one.
const Version = 1

// Record types, the "type" field of each line.
const (
	TypeHeader = "header"
	TypeInput  = "input"
	TypeEvent  = "event"
)

// Header is the first line of a trace.
type Header struct {
	Type    string `json:"type"` // always "header"
	Version int    `json:"version"`
	// Authscope is the version of the program that wrote the trace; Commit
	// the VCS revision it was built from, when known.
	Authscope string `json:"authscope"`
	Commit    string `json:"commit,omitempty"`
	// Command is "tui" or "run".
	Command string `json:"command"`
	Policy  string `json:"policy"`
	// Scenario is the scenario file's name for a trace written by run.
	Scenario string `json:"scenario,omitempty"`
	// Options are the settings that shape the run (poll interval, devices,
	// pr83, consumer on or off, …), as strings.
	Options map[string]string `json:"options,omitempty"`
	Target  Target            `json:"target"`
	// Upstream names the upstream package versions the model follows,
	// e.g. {"convex":"1.45.0"}.
	Upstream map[string]string `json:"upstream,omitempty"`
	Started  time.Time         `json:"started"`
	// Devices is how many client stacks the trace holds (1 when omitted).
	Devices int `json:"devices,omitempty"`
	// Columns names the devices of a compare session, one variant each
	// ("v0.12", "pr329+pr83", …), device 1 first; replay then shows them
	// side by side.
	Columns []string `json:"columns,omitempty"`
	// Demo says emails and ids are masked too.
	Demo bool `json:"demo,omitempty"`
	// Secrets says raw JWTs were kept (--record-secrets); Warning then
	// says so in words.
	Secrets bool   `json:"secrets,omitempty"`
	Warning string `json:"warning,omitempty"`
}

// Target says what the client talked to.
type Target struct {
	Kind string `json:"kind"` // "sim" or "url"
	// Host is the host (and port) of the target, never its path, query or
	// credentials.
	Host string `json:"host,omitempty"`
}

// Input is one input record: something that entered an engine, written
// as the engine applied it, before the events it caused.
type Input struct {
	// Seq numbers the device's inputs 1, 2, 3…; At is the engine clock's
	// time when it was applied.
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Device int       `json:"device,omitempty"`
	// Kind names the input ("action", "fetch", "hold", "release", …);
	// Data is its fields, as the authstate input codec writes them.
	Kind string          `json:"kind"`
	Data json.RawMessage `json:"input,omitempty"`
}

// Event is one event record.
type Event struct {
	Device int `json:"device,omitempty"`
	authstate.Event
}

// Entry is one record after the header, in file order: exactly one of
// Input and Event is set.
type Entry struct {
	Line  int // 1-based line in the file
	Input *Input
	Event *Event
}

// Trace is a trace read into memory.
type Trace struct {
	// Name is the file it was read from ("trace" for a stream), for
	// messages.
	Name    string
	Header  Header
	Entries []Entry
	// Problems lists the lines that could not be read; the entries before
	// and after them are kept. A truncated last line is one of them.
	Problems []Problem

	// events holds the events of Entries, in order, one array (Read fills
	// it); idx is the seeking index (see index.go).
	events []Event
	idx    *index
	intern interner // while reading
}

// Problem is a line that could not be read. String gives it as
// "file:line: what is wrong".
type Problem struct {
	File string
	Line int
	Err  string
}

// MarshalJSON writes the event as its trace line, device included (the
// embedded authstate.Event's MarshalJSON would leave the device out). It
// redacts nothing: a Writer does.
func (e Event) MarshalJSON() ([]byte, error) { return appendEvent(nil, e.Device, &e.Event) }

// DeviceNumber is the event's device, 1-based (device 1 is written
// without the field).
func (e Event) DeviceNumber() int { return max(e.Device, 1) }

// DeviceNumber is the input's device, 1-based.
func (in Input) DeviceNumber() int { return max(in.Device, 1) }

// Events returns a copy of the trace's events in order (all devices).
func (t *Trace) Events() []Event {
	if t.events != nil || len(t.Entries) == 0 {
		return append([]Event(nil), t.events...)
	}
	var out []Event
	for _, e := range t.Entries {
		if e.Event != nil {
			out = append(out, *e.Event)
		}
	}
	return out
}
