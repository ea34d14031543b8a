package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/internal/termtext"
	"github.com/authscope/authscope/tui"
)

// FuzzConfigFile: no config file may panic or hang authscope, or get a
// control character into what it prints. Each input goes the whole way a
// file goes: the checks by line, viper, the flags of run and of the TUI,
// theme, keymap and its validation, and the stderr summary.
func FuzzConfigFile(f *testing.F) {
	if example, err := os.ReadFile("../../config.example.yaml"); err == nil {
		f.Add(example)
	}
	for _, s := range []string{
		"policy: v0.12\n",
		"target: http://u:p@x/api/auth\nconvex:\n  url: https://a.convex.cloud\n  pr83: yes\n",
		"keymap:\n  fetch: [t, T]\n  quit: x\n",
		"keymap:\n  fetch: 3\n",
		"latency:\n  token: 1s\n  get_session: soon\n",
		"theme: \"\\e]2;x\\a\"\nlog_file: \"\\u009b\"\n",
		"a: &a [*a, *a]\nb: *a\n",
		"policy: v0.12\n---\npolicy: pr329\n",
		"policy: v0.12\npolicy: pr329\n",
		"convex: {url: {x: 1}}\n",
		"- 1\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxConfigSize {
			return
		}
		start := time.Now()
		lc := &loadedConfig{v: newConfigViper(), file: "fuzz.yaml"}
		if err := parseConfig(lc.v, "fuzz.yaml", data); err != nil {
			return
		}
		root := newRootCmd(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
		for _, c := range append(root.Commands(), root) {
			_ = lc.apply(c)
		}
		_, _ = lc.theme()
		if km, err := lc.keymap(); err == nil {
			_ = tui.ValidateKeys(km)
		}
		if s := lc.summary(); !termtext.Safe(s) {
			t.Fatalf("summary %q holds a control character", s)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%d bytes took %v", len(data), d)
		}
	})
}
