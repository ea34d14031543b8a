package trace

// TEMPORARY STUB (branch report): a minimal reader so that `authscope
// export --html` builds and can be tested before the real reader lands.
// The lead deletes this file when merging branch trace, whose read.go
// defines ReadFile and Read with the same signatures (and the real
// checks: size bounds, fuzzing, named lines for every kind of damage).

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// ReadFile reads the trace at path (stub, see the top of this file).
func ReadFile(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f)
}

// Read reads a trace from r (stub, see the top of this file): a header
// first, then input and event lines; a line that cannot be read is a
// Problem and the rest is kept.
func Read(r io.Reader) (*Trace, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	t := &Trace{}
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		var kind struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(b, &kind); err != nil {
			if line == 1 {
				return nil, fmt.Errorf("line 1: not a trace header: %v", err)
			}
			t.Problems = append(t.Problems, Problem{Line: line, Err: err.Error()})
			continue
		}
		if line == 1 {
			if kind.Type != TypeHeader {
				return nil, fmt.Errorf("line 1: not a trace header (type %q)", kind.Type)
			}
			if err := json.Unmarshal(b, &t.Header); err != nil {
				return nil, fmt.Errorf("line 1: %v", err)
			}
			if t.Header.Version > Version {
				return nil, fmt.Errorf("line 1: trace format version %d is newer than this authscope reads (%d)", t.Header.Version, Version)
			}
			continue
		}
		switch kind.Type {
		case TypeEvent:
			var ev Event
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Problems = append(t.Problems, Problem{Line: line, Err: err.Error()})
				continue
			}
			t.Entries = append(t.Entries, Entry{Line: line, Event: &ev})
		case TypeInput:
			var in Input
			if err := json.Unmarshal(b, &in); err != nil {
				t.Problems = append(t.Problems, Problem{Line: line, Err: err.Error()})
				continue
			}
			t.Entries = append(t.Entries, Entry{Line: line, Input: &in})
		default:
			t.Problems = append(t.Problems, Problem{Line: line, Err: fmt.Sprintf("unknown record type %q", kind.Type)})
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return t, fmt.Errorf("line %d: longer than 16 MiB", line+1)
		}
		return t, err
	}
	if line == 0 {
		return nil, errors.New("empty file: no trace header")
	}
	return t, nil
}
