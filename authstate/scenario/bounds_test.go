package scenario

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A second YAML document would be silently ignored: it is refused, by line.
func TestParseRefusesSecondDocument(t *testing.T) {
	_, err := Parse("two.yaml", []byte("name: a\nsteps: [rotate]\nexpect:\n  - no_violations: true\n---\nname: b\nsteps: [sign_out]\nexpect:\n  - no_violations: true\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 5 || !strings.Contains(pe.Msg, "a second YAML document") {
		t.Fatalf("got %v, want a ParseError on line 5 about a second document", err)
	}
}

// A scenario is limited to MaxSteps steps and MaxExpectations
// expectations; the error names the first line over the limit. (A 1 MiB
// file of 87,000 steps ran for 117 s.)
func TestParseLimitsStepsAndExpectations(t *testing.T) {
	body := func(steps, expects int) []byte {
		var b strings.Builder
		b.WriteString("name: many\nsteps:\n")
		for range steps {
			b.WriteString("  - observe\n")
		}
		b.WriteString("expect:\n")
		for range expects {
			b.WriteString("  - no_violations: true\n")
		}
		return []byte(b.String())
	}
	if _, err := Parse("ok.yaml", body(MaxSteps, 3)); err != nil {
		t.Fatalf("%d steps: %v", MaxSteps, err)
	}
	_, err := Parse("steps.yaml", body(MaxSteps+1, 1))
	if want := fmt.Sprintf("steps.yaml:%d: more than %d steps", 3+MaxSteps, MaxSteps); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
	_, err = Parse("expect.yaml", body(1, MaxExpectations+1))
	if want := fmt.Sprintf("expect.yaml:%d: more than %d expectations", 5+MaxExpectations, MaxExpectations); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
}

// Load reads at most MaxFileSize bytes, whatever the file's size says: a
// device that never ends is refused after 1 MiB.
func TestLoadBoundsWhatItReads(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	if _, err := Load("/dev/zero"); err == nil || !strings.Contains(err.Error(), "limited to 1 MiB") {
		t.Fatalf("got %v", err)
	}
	// A regular file is read to its end, not in one short read.
	p := filepath.Join(t.TempDir(), "ok.yaml")
	if err := os.WriteFile(p, []byte("name: x\nsteps: [rotate]\nexpect:\n  - no_violations: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if sc, err := Load(p); err != nil || sc.Name != "x" {
		t.Fatalf("got %v %v", sc, err)
	}
}
