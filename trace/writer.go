package trace

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/authscope/authscope/authstate"
)

// Writer writes a trace: the header first, then inputs and events as they
// come. It is safe for concurrent use (the devices of the TUI record
// through one Writer). Lines are buffered; Close flushes. The first write
// error is kept: every later call returns it, and so does Close, so a
// line is never lost without the caller being told.
type Writer struct {
	mu     sync.Mutex
	w      *bufio.Writer
	red    *redactor
	err    error
	closed bool
	lines  int
	buf    []byte
}

// ErrClosed is returned for a record given after Close.
var ErrClosed = errors.New("trace: writer closed")

// NewWriter writes h (its type, version and the redaction flags filled
// in) and returns a Writer for the records that follow.
func NewWriter(w io.Writer, h Header, opts Options) *Writer {
	tw := &Writer{w: bufio.NewWriterSize(w, 64<<10), red: newRedactor(opts)}
	h.Type, h.Version = TypeHeader, Version
	h.Demo = opts.Demo
	h.Secrets = opts.Secrets
	if opts.Secrets && h.Warning == "" {
		h.Warning = SecretsWarning
	}
	// The header's text is redacted like the records': a scenario file's
	// name or an option can hold anything.
	red := tw.red.str
	h.Authscope, h.Commit, h.Command, h.Policy, h.Scenario = red(h.Authscope), red(h.Commit), red(h.Command), red(h.Policy), red(h.Scenario)
	h.Target.Kind, h.Target.Host = red(h.Target.Kind), red(h.Target.Host)
	if opts.Demo && h.Target.Kind != "sim" && h.Target.Host != "" {
		h.Target.Host = "•••" // as the TUI's header hides a real server's name
	}
	h.Options, h.Upstream = redactMap(h.Options, red), redactMap(h.Upstream, red)
	if !opts.Secrets {
		h.Warning = red(h.Warning)
	}
	b, err := json.Marshal(h)
	if err != nil {
		tw.err = fmt.Errorf("trace: header: %w", err)
		return tw
	}
	tw.writeLine(b)
	return tw
}

func redactMap(m map[string]string, red func(string) string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[red(k)] = red(v)
	}
	return out
}

// eventRecord is an event line. plainEvent drops authstate.Event's
// MarshalJSON, which would leave device out.
type eventRecord struct {
	Type   string `json:"type"`
	Device int    `json:"device,omitempty"`
	plainEvent
}

type plainEvent authstate.Event

// Event appends one event of device (1-based; device 1 is written
// without a device field), redacted.
func (w *Writer) Event(device int, ev authstate.Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	ev = w.red.event(ev)
	b, err := appendEventWith(w.buf[:0], deviceField(device), &ev, w.red.plain)
	w.buf = b
	if err != nil {
		w.err = fmt.Errorf("trace: event %d: %w", ev.Seq, err)
		return w.err
	}
	w.writeLine(b)
	return w.err
}

// Input appends one input of device: kind and its fields as the authstate
// input codec encoded them. Secrets in data are redacted (a field "jwt"
// is a JWT like any other string).
func (w *Writer) Input(seq uint64, at time.Time, device int, kind string, data []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	b, err := appendInput(w.buf[:0], seq, at, deviceField(device), w.red.str(kind), w.red.data(data))
	w.buf = b
	if err != nil {
		w.err = fmt.Errorf("trace: input %d: %w", seq, err)
		return w.err
	}
	w.writeLine(b)
	return w.err
}

func deviceField(device int) int {
	if device <= 1 {
		return 0
	}
	return device
}

// writeLine writes b and a newline; w.mu is held (or w is not yet shared).
func (w *Writer) writeLine(b []byte) {
	if w.err != nil {
		return
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("trace: write: %w", err)
		return
	}
	if err := w.w.WriteByte('\n'); err != nil {
		w.err = fmt.Errorf("trace: write: %w", err)
		return
	}
	w.lines++
}

// Flush writes the buffered lines out.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		if err := w.w.Flush(); err != nil {
			w.err = fmt.Errorf("trace: write: %w", err)
		}
	}
	return w.err
}

// Lines is how many lines were written, the header included.
func (w *Writer) Lines() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lines
}

// Err is the first write error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close flushes the buffered lines and returns the first error. It does
// not close the underlying writer. Records given after Close are refused
// with ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		if w.err == nil {
			if err := w.w.Flush(); err != nil {
				w.err = fmt.Errorf("trace: write: %w", err)
			}
		}
	}
	return w.err
}
