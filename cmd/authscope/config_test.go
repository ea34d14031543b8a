package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authscope/authscope/tui"
)

func writeConfig(t testing.TB, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "authscope.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// header returns the first line of run's table: the policies that ran.
func header(out string) string {
	line, _, _ := strings.Cut(out, "\n")
	return strings.Join(strings.Fields(line), " ")
}

// Precedence: flag > env > file > default, observed through which
// policies `run` runs.
func TestConfigPrecedence(t *testing.T) {
	sc := "../../scenarios/03-rotation-in-flight.yaml"
	cfg := writeConfig(t, "policy: v0.12\n")
	for _, tc := range []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"default", "", []string{"run", sc}, "SCENARIO v0.12 pr329 hardened"},
		{"file", "", []string{"run", sc, "--config", cfg}, "SCENARIO v0.12"},
		{"env over file", "hardened", []string{"run", sc, "--config", cfg}, "SCENARIO hardened"},
		{"flag over env", "hardened", []string{"run", sc, "--config", cfg, "--policy", "pr329"}, "SCENARIO pr329"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("AUTHSCOPE_POLICY", tc.env)
			}
			_, out, errOut := runCLI(t, "", tc.args...)
			if got := header(out); got != tc.want {
				t.Fatalf("table header %q, want %q (stderr %s)", got, tc.want, errOut)
			}
		})
	}
}

// The config file is found through $AUTHSCOPE_CONFIG too, and a nested key
// is reached through its environment variable.
func TestConfigFromEnvironment(t *testing.T) {
	cfg := writeConfig(t, "policy: hardened\nstep_timeout: 3s\n")
	t.Setenv("AUTHSCOPE_CONFIG", cfg)
	_, out, _ := runCLI(t, "", "run", "../../scenarios/03-rotation-in-flight.yaml")
	if got := header(out); got != "SCENARIO hardened" {
		t.Fatalf("header %q", got)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	sc := "../../scenarios/03-rotation-in-flight.yaml"
	for _, tc := range []struct {
		name, body, want string
	}{
		{"bad yaml", "policy: [v0.12\n", "line"},
		{"unknown key", "polcy: v0.12\n", `unknown key "polcy"`},
		{"unknown nested key", "convex:\n  urll: x\n", `unknown key "convex.urll"`},
		{"wrong type", "step_timeout: soon\n", "config step_timeout"},
		{"bad policy", "policy: v9\n", `unknown policy "v9"`},
		{"bad theme", "theme: purple\n", "config theme"},
		{"section as value", "convex: yes\n", "convex is a section"},
		{"keymap not a mapping", "keymap: [p]\n", "keymap must map"},
		{"keymap unknown binding", "keymap:\n  rotat: [x]\n", "rotat"},
		{"not a mapping", "- a\n- b\n", "must be a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", "run", sc, "--config", writeConfig(t, tc.body))
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
	code, _, errOut := runCLI(t, "", "run", sc, "--config", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != exitUsage || !strings.Contains(errOut, "missing.yaml") {
		t.Fatalf("a named config file that is missing: exit %d, %q", code, errOut)
	}
}

// config.example.yaml loads as it is, and its values are the defaults.
func TestConfigExampleLoads(t *testing.T) {
	root := newRootCmd(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
	if err := root.ParseFlags([]string{"--config", "../../config.example.yaml"}); err != nil {
		t.Fatal(err)
	}
	lc, err := loadConfig(root)
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	if lc.file != "../../config.example.yaml" {
		t.Fatalf("read %q", lc.file)
	}
	if th, err := lc.theme(); err != nil || th != "auto" {
		t.Fatalf("theme %q %v", th, err)
	}
	km, err := lc.keymap()
	if err != nil || len(km["quit"]) != 2 || km["password"][0] != "p" {
		t.Fatalf("keymap %v %v", km, err)
	}
	if err := tui.ValidateKeys(km); err != nil {
		t.Fatalf("the example's keymap is refused: %v", err)
	}
	// The example documents every binding, with its default keys.
	for name, keys := range tui.DefaultKeys() {
		if got := km[name]; strings.Join(got, " ") != strings.Join(keys, " ") {
			t.Errorf("keymap.%s: example says %v, the default is %v", name, got, keys)
		}
	}
	for flag, want := range map[string]string{"policy": "pr329", "poll": "2s", "alg": "EdDSA", "target": "sim", "demo": "false"} {
		if got := root.Flags().Lookup(flag).Value.String(); got != want {
			t.Errorf("--%s = %q from the example, want %q", flag, got, want)
		}
	}
	// Every key of the example is one authscope knows (checkKeys ran), and
	// every key authscope knows is in the example.
	data, _ := os.ReadFile("../../config.example.yaml")
	for k := range knownKeys() {
		leaf := k[strings.LastIndexByte(k, '.')+1:]
		if !strings.Contains(string(data), leaf+":") {
			t.Errorf("config.example.yaml does not document %s", k)
		}
	}
}

// A bad value in the config file is blamed on its key and the file, not on
// a flag the user never typed, and every command refuses it, even a value
// only the TUI reads.
func TestConfigValuesBlamedOnTheKey(t *testing.T) {
	for _, env := range []string{"AUTHSCOPE_EMAIL", "AUTHSCOPE_PASSWORD", "AUTHSCOPE_DEVICES", "AUTHSCOPE_CONFIG"} {
		t.Setenv(env, "")
	}
	sc := "../../scenarios/03-rotation-in-flight.yaml"
	for _, tc := range []struct{ body, want string }{
		{"policy: v0.13\n", `config policy (in CONFIG): unknown policy "v0.13"`},
		{"devices: 3\n", `config devices (in CONFIG): want 1 or 2, got "3"`},
		{"poll_interval: -1s\n", `config poll_interval (in CONFIG): "-1s": must not be negative`},
		{"poll_interval: soon\n", `config poll_interval (in CONFIG): "soon": want a duration`},
		{"target: ftp://x\n", `config target (in CONFIG): `},
		{"alg: HS256\n", `config alg (in CONFIG): want EdDSA or RS256, got "HS256"`},
		{"convex:\n  url: ftp://x\n", `config convex.url (in CONFIG): "ftp://x": want the deployment's http(s) URL`},
		{"latency:\n  token: -5ms\n", `config latency.token (in CONFIG): "-5ms": must not be negative`},
		{"demo: maybe\n", `config demo (in CONFIG): "maybe": want true or false`},
		{"policy: [v0.12]\n", `config file CONFIG:1: policy takes one value, not a list`},
	} {
		cfg := writeConfig(t, tc.body)
		want := "authscope: " + strings.ReplaceAll(tc.want, "CONFIG", cfg)
		for _, args := range [][]string{{"--config", cfg}, {"run", sc, "--config", cfg}, {"decode", "x", "--config", cfg}} {
			code, _, errOut := runCLI(t, "", args...)
			if code != exitUsage || !strings.Contains("\n"+errOut, "\n"+want) || strings.Contains(errOut, "--") {
				t.Errorf("%q, %v: exit %d, stderr %q; want 2 and %q", tc.body, args[:len(args)-2], code, errOut, want)
			}
		}
	}
	// The environment is named as the source, and a flag that overrides a
	// bad value makes it harmless.
	t.Setenv("AUTHSCOPE_DEVICES", "5")
	if code, _, errOut := runCLI(t, "", "run", sc, "--policy", "hardened"); code != exitUsage || !strings.Contains(errOut, `config devices (from $AUTHSCOPE_DEVICES): want 1 or 2, got "5"`) {
		t.Errorf("env: exit %d, %q", code, errOut)
	}
	t.Setenv("AUTHSCOPE_DEVICES", "")
	cfg := writeConfig(t, "policy: v0.13\n")
	if code, out, errOut := runCLI(t, "", "run", sc, "--config", cfg, "--policy", "hardened"); code != 0 {
		t.Errorf("--policy over a bad file value: exit %d\n%s%s", code, out, errOut)
	}
}
