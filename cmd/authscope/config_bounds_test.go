package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/tui"
)

// manyLines is n lines made by line(i).
func manyLines(n int, line func(i int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(line(i))
		b.WriteByte('\n')
	}
	return b.String()
}

// A config file of 20,000 keymap entries or repeated keys is refused at
// the entry that is wrong, by line, before anything decodes it into maps
// (yaml.v3 does that in time that grows with the square of the keys: 11.7 s
// for 50,000 keymap entries).
func TestConfigManyEntriesRefusedByLine(t *testing.T) {
	sc := "../../scenarios/03-rotation-in-flight.yaml"
	const n = 20_000
	for _, tc := range []struct {
		name, body, want string
	}{
		{"unknown keymap bindings", "keymap:\n" + manyLines(n, func(i int) string { return fmt.Sprintf("  b%d: x%d", i, i) }),
			`config file CONFIG:2: keymap: unknown binding "b0"`},
		{"one binding again and again", "keymap:\n" + manyLines(n, func(int) string { return "  fetch: t" }),
			`config file CONFIG:3: keymap: binding "fetch" is already set on line 2`},
		{"one key again and again", manyLines(n, func(int) string { return "policy: v0.12" }),
			`config file CONFIG:2: key "policy" is already set on line 1`},
		{"a nested key again", "convex:\n  url: http://a\n  url: http://b\n",
			`config file CONFIG:3: key "convex.url" is already set on line 2`},
		{"too many keys for one binding", "keymap:\n  fetch:\n" + manyLines(11, func(i int) string { return fmt.Sprintf("    - ctrl+%c", 'a'+i) }),
			`binding "fetch" has 11 keys; at most 10`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeConfig(t, tc.body)
			start := time.Now()
			code, _, errOut := runCLI(t, "", "run", sc, "--config", cfg)
			took := time.Since(start)
			want := strings.ReplaceAll(tc.want, "CONFIG", cfg)
			if code != exitUsage || !strings.Contains(errOut, want) {
				t.Fatalf("exit %d, stderr %.300q; want 2 and %q", code, errOut, want)
			}
			t.Logf("refused in %v", took.Round(time.Millisecond))
		})
	}
}

// A second YAML document would be ignored: it is refused instead.
func TestConfigSecondDocumentRefused(t *testing.T) {
	cfg := writeConfig(t, "policy: v0.12\n---\ntarget: http://elsewhere.example/api/auth\n")
	code, _, errOut := runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml", "--config", cfg)
	if want := cfg + ":2: a second YAML document"; code != exitUsage || !strings.Contains(errOut, want) {
		t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, want)
	}
}

// BenchmarkConfigKeymap loads a config whose keymap rebinds every binding.
func BenchmarkConfigKeymap(b *testing.B) {
	var body strings.Builder
	body.WriteString("keymap:\n")
	for name, keys := range tui.DefaultKeys() {
		fmt.Fprintf(&body, "  %s: [%s]\n", name, strings.Join(quoteAll(keys), ", "))
	}
	cfg := writeConfig(b, body.String())
	for b.Loop() {
		root := newRootCmd(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
		if err := root.ParseFlags([]string{"--config", cfg}); err != nil {
			b.Fatal(err)
		}
		lc, err := loadConfig(root)
		if err != nil {
			b.Fatal(err)
		}
		km, err := lc.keymap()
		if err == nil {
			err = tui.ValidateKeys(km)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func quoteAll(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%q", k)
	}
	return out
}
