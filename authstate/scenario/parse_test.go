package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		line       int
		want       string
	}{
		{"unknown step", "name: x\nsteps:\n  - rotat\nexpect:\n  - no_violations: true\n", 3, `unknown step "rotat"`},
		{"bad yaml", "name: x\nsteps: [\n  - rotate\n", 2, "invalid YAML"},
		{"unknown key", "name: x\nsteps: [rotate]\nexpect:\n  - no_violations: true\nfoo: 1\n", 5, `unknown key "foo"`},
		{"await unknown", "name: x\nsteps:\n  - fetch: {as: a}\n  - await: b\nexpect:\n  - no_violations: true\n", 4, `no earlier fetch is named "b"`},
		{"bad session", "name: x\nsteps:\n  - fetch: {as: a}\nexpect:\n  - result: a\n    session: S0\n", 6, `"S0" is not a session`},
		{"result without session", "name: x\nsteps:\n  - fetch: {as: a}\nexpect:\n  - result: a\n", 5, "needs exactly one of session or not_session"},
		{"bad duration", "name: x\nsteps:\n  - wait: soon\nexpect:\n  - no_violations: true\n", 3, "not a duration"},
		{"release what", "name: x\nsteps:\n  - release: first\nexpect:\n  - no_violations: true\n", 3, `unknown "first"`},
		{"fault both", "name: x\nsteps:\n  - fault: {endpoint: token, status: 503, network: true}\nexpect:\n  - no_violations: true\n", 3, "exactly one of status or network"},
		{"dup fetch", "name: x\nsteps:\n  - fetch: {as: a}\n  - fetch: {as: a}\nexpect:\n  - no_violations: true\n", 4, "already used on line 3"},
		{"no expect", "name: x\nsteps: [rotate]\n", 1, "no expectations"},
		{"two checks", "name: x\nsteps: [rotate]\nexpect:\n  - no_violations: true\n    token_requests: 1\n", 4, "checks one thing"},
		{"buggy unknown", "name: x\nbuggy: [v9]\nsteps: [rotate]\nexpect:\n  - no_violations: true\n", 0, `unknown policy "v9"`},
		{"buggy switch alone", "name: x\nbuggy: [preserve]\nsteps: [rotate]\nexpect:\n  - no_violations: true\n", 0, "preserve is a switch, not a policy"},
		{"buggy unknown switch", "name: x\nbuggy: [pr329+pr38]\nsteps: [rotate]\nexpect:\n  - no_violations: true\n", 0, `unknown switch "pr38"`},
		{"buggy twice", "name: x\nbuggy: [pr329+pr83+preserve, pr329+preserve+pr83]\nsteps: [rotate]\nexpect:\n  - no_violations: true\n", 0, "pr329+pr83+preserve is listed twice"},
		{"server unknown", "name: x\nstart:\n  server: {keep: true}\nsteps: [rotate]\nexpect:\n  - no_violations: true\n", 3, `unknown key "keep" in start.server`},
		{"server not a mapping", "name: x\nstart:\n  server: true\nsteps: [rotate]\nexpect:\n  - no_violations: true\n", 3, "start.server must be a mapping"},
		{"preserve not a bool", "name: x\nstart:\n  server: {preserve_session: 2}\nsteps: [rotate]\nexpect:\n  - no_violations: true\n", 3, "start.server.preserve_session must be true or false"},
		{"preserve and rotation", "name: x\nstart:\n  server: {preserve_session: true, needs_rotation: true}\nsteps: [rotate]\nexpect:\n  - no_violations: true\n", 3, "contradict each other"},
		{"empty", "", 0, "empty scenario file"},
		{"not a mapping", "- 1\n- 2\n", 1, "must be a mapping"},
		{"dup key", "name: x\nname: y\nsteps: [rotate]\nexpect:\n  - no_violations: true\n", 2, "appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.yaml))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a ParseError", err)
			}
			if pe.Line != tc.line {
				t.Errorf("line %d, want %d (%v)", pe.Line, tc.line, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// TestParseBuggyVariants: buggy takes variant names, in any order of
// their switches, and keeps them in canonical form.
func TestParseBuggyVariants(t *testing.T) {
	sc, err := Parse("v.yaml", []byte("name: x\nbuggy: [v0.12, pr329+preserve+pr83]\nstart:\n  server: {preserve_session: false}\nsteps: [rotate]\nexpect:\n  - no_violations: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sc.Buggy, ",") != "v0.12,pr329+pr83+preserve" || sc.Start.PreserveSession {
		t.Fatalf("buggy %v start %+v", sc.Buggy, sc.Start)
	}
}

func TestParseExample(t *testing.T) {
	sc, err := Parse("ok.yaml", []byte(`name: rotation while a fetch is in flight
start:
  signed_in: true
  initial_token: false
steps:
  - hold: token
  - fetch: {as: first}
  - rotate
  - fetch: {as: second, force: true}
  - release: all
  - await: [first, second]
  - wait: 16m
  - fault: {endpoint: token, status: 503}
expect:
  - result: second
    session: current
  - token_requests: {max: 2}
  - cache: {not_session: none}
  - no_violations: true
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Steps) != 8 || sc.Steps[3].Force != true || sc.Steps[3].As != "second" || sc.Steps[5].Names[1] != "second" {
		t.Fatalf("steps parsed wrong: %+v", sc.Steps)
	}
	if sc.Steps[6].Wait.Minutes() != 16 || sc.Steps[7].Fault.Status != 503 {
		t.Fatalf("wait/fault parsed wrong: %+v", sc.Steps[6:])
	}
	if *sc.Expect[1].TokenRequests.Max != 2 || sc.Expect[2].CacheNotSession != "none" {
		t.Fatalf("expectations parsed wrong: %+v", sc.Expect)
	}
}

func TestLoadRefusesHugeFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, make([]byte, MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "limited to") {
		t.Fatalf("got %v", err)
	}
}

// FuzzParse: no input may panic the parser.
func FuzzParse(f *testing.F) {
	f.Add([]byte("name: x\nsteps: [rotate]\nexpect:\n  - no_violations: true\n"))
	f.Add([]byte("name: x\nsteps:\n  - fetch: {as: a}\nexpect:\n  - result: a\n    session: current\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		Parse("fuzz.yaml", data)
	})
}
