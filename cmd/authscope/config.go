package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/fetcher/target"
	"github.com/authscope/authscope/internal/termtext"
	"github.com/authscope/authscope/tui"
)

// Configuration: every setting has a key in the config file, an
// environment variable (AUTHSCOPE_ + the key in capitals, with "." and "-"
// as "_") and, for most, a flag. Precedence is flag > env > file > default:
// the file and the environment only fill flags the user did not set.

// setting ties a config key to the flag that carries it.
type setting struct {
	key  string // config key, dotted for nesting: convex.url
	flag string // flag name on the commands that have it
	// invert is for --no-x flags that carry a key meaning x.
	invert bool
}

var settings = []setting{
	{key: "target", flag: "target"},
	{key: "email", flag: "email"},
	{key: "password", flag: "password"},
	{key: "session_cookie", flag: "session-cookie"},
	{key: "policy", flag: "policy"},
	{key: "poll_interval", flag: "poll"},
	{key: "alg", flag: "alg"},
	{key: "devices", flag: "devices"},
	{key: "demo", flag: "demo"},
	{key: "log_file", flag: "log-file"},
	{key: "step_timeout", flag: "step-timeout"},
	{key: "convex.url", flag: "convex-url"},
	{key: "convex.query", flag: "query"},
	{key: "convex.pr83", flag: "pr83"},
	{key: "convex.consumer", flag: "no-consumer", invert: true},
	{key: "convex.query_interval", flag: "query-interval"},
	{key: "latency.token", flag: "token-latency"},
	{key: "latency.get_session", flag: "session-latency"},
}

// fileOnly are keys with no flag: they live in the config file (or env).
var fileOnly = []string{"theme", "keymap"}

// configPaths are searched, in order, when --config is not given.
func configPaths() []string {
	var out []string
	out = append(out, "authscope.yaml")
	if dir, err := os.UserConfigDir(); err == nil {
		out = append(out, filepath.Join(dir, "authscope", "config.yaml"))
	}
	return out
}

// loadedConfig is the outcome of loading: the viper instance, and the file
// it read ("" for none).
type loadedConfig struct {
	v    *viper.Viper
	file string
}

// configFile is set by the --config flag of the root command.
var configFileFlag = "config"

// loadConfig reads the config file and the environment and fills every
// flag of cmd that the user did not set. A missing file is fine unless it
// was named; a broken one is an error that names the file, the line or the
// key. A bad value comes back with the config that holds it.
func loadConfig(cmd *cobra.Command) (*loadedConfig, error) {
	lc := &loadedConfig{v: newConfigViper()}
	v := lc.v
	explicit := ""
	if f := cmd.Flags().Lookup(configFileFlag); f != nil && f.Changed {
		explicit = f.Value.String()
	} else if env := os.Getenv("AUTHSCOPE_CONFIG"); env != "" {
		explicit = env
	}
	path := explicit
	if path == "" {
		for _, p := range configPaths() {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	}
	if path != "" {
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		if err := readConfigFile(ctx, v, path); err != nil {
			if explicit == "" && errors.Is(err, os.ErrNotExist) {
				path = ""
			} else {
				return nil, err
			}
		}
		lc.file = path
	}
	if err := lc.apply(cmd); err != nil {
		return lc, err // the file was read: the caller may still name it
	}
	return lc, nil
}

// newConfigViper is a viper that reads the environment for every key.
func newConfigViper() *viper.Viper {
	v := viper.New()
	v.SetEnvPrefix("AUTHSCOPE")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	// Env variables are only seen for keys viper knows about
	// (spf13/viper#761), so every key is bound explicitly.
	for _, s := range settings {
		_ = v.BindEnv(s.key)
	}
	for _, k := range fileOnly {
		_ = v.BindEnv(k)
	}
	return v
}

// apply checks every value the file or the environment gives, whether or
// not cmd uses it, and fills every flag of cmd the user did not set. A bad
// value is blamed on its key and where it came from, not on a flag.
func (lc *loadedConfig) apply(cmd *cobra.Command) error {
	v := lc.v
	for _, s := range settings {
		if f := cmd.Flags().Lookup(s.flag); f != nil && f.Changed && s.appliesTo(cmd) {
			continue // the flag overrides it: the value is not used
		}
		check := valueChecks[s.key]
		if check == nil || !v.IsSet(s.key) {
			continue
		}
		if err := check(cmd, strings.TrimSpace(v.GetString(s.key))); err != nil {
			return fmt.Errorf("config %s (%s): %w", s.key, sourceOf(v, s.key, lc.file), err)
		}
	}
	for _, s := range settings {
		f := cmd.Flags().Lookup(s.flag)
		if f == nil || f.Changed || !v.IsSet(s.key) || !s.appliesTo(cmd) {
			continue
		}
		val := v.GetString(s.key)
		if s.invert {
			val = invertBool(val)
		}
		if err := f.Value.Set(val); err != nil {
			return fmt.Errorf("config %s (%s): %s: %w", s.key, sourceOf(v, s.key, lc.file), quoteVal(s.key, val), err)
		}
	}
	return nil
}

// valueChecks check a setting's value from the file or the environment
// the way the command that uses it would, so that every command refuses a
// bad value, even one only the TUI reads. Keys not listed take any string.
var valueChecks = map[string]func(cmd *cobra.Command, val string) error{
	"target": func(_ *cobra.Command, val string) error {
		if val == "" || val == "sim" {
			return nil
		}
		_, err := target.NormalizeBaseURL(val)
		return err
	},
	"policy": func(cmd *cobra.Command, val string) error {
		if !cmd.HasParent() { // the TUI starts with one policy
			_, err := authstate.PolicyByName(val)
			return err
		}
		_, err := authstate.ParsePolicies(val)
		return err
	},
	"poll_interval":         checkDuration,
	"step_timeout":          checkDuration,
	"convex.query_interval": checkDuration,
	"latency.token":         checkDuration,
	"latency.get_session":   checkDuration,
	"alg": func(_ *cobra.Command, val string) error {
		if val != "EdDSA" && val != "RS256" {
			return fmt.Errorf("want EdDSA or RS256, got %q", val)
		}
		return nil
	},
	"devices": func(_ *cobra.Command, val string) error {
		if n, err := strconv.Atoi(val); err != nil || (n != 1 && n != 2) {
			return fmt.Errorf("want 1 or 2, got %q", val)
		}
		return nil
	},
	"demo":            checkBool,
	"convex.pr83":     checkBool,
	"convex.consumer": checkBool,
	"convex.url": func(_ *cobra.Command, val string) error {
		if val == "" {
			return nil
		}
		if u, err := url.Parse(val); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%q: want the deployment's http(s) URL, e.g. https://<name>.convex.cloud", target.RedactURL(val))
		}
		return nil
	},
}

func checkDuration(_ *cobra.Command, val string) error {
	d, err := time.ParseDuration(val)
	switch {
	case err != nil:
		return fmt.Errorf("%q: want a duration such as 2s or 500ms", val)
	case d < 0:
		return fmt.Errorf("%q: must not be negative", val)
	}
	return nil
}

func checkBool(_ *cobra.Command, val string) error {
	if _, err := strconv.ParseBool(val); err != nil {
		return fmt.Errorf("%q: want true or false", val)
	}
	return nil
}

func invertBool(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		return "false"
	case "false", "0", "no", "off":
		return "true"
	}
	return s // let the flag reject it
}

func quoteVal(key, val string) string {
	switch {
	case key == "password" || key == "session_cookie":
		return "(value hidden)"
	case key == "target" || key == "convex.url":
		return fmt.Sprintf("%q", target.RedactURL(val))
	}
	return fmt.Sprintf("%q", val)
}

// sourceOf says where a value came from, for error messages.
func sourceOf(v *viper.Viper, key, file string) string {
	env := "AUTHSCOPE_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
	if os.Getenv(env) != "" { // viper ignores an empty variable too
		return "from $" + env
	}
	if file != "" {
		return "in " + file
	}
	return "default"
}

// readConfigFile parses the file strictly: YAML errors name the line, and
// unknown keys are refused by name, so a typo does not pass silently.
func readConfigFile(ctx context.Context, v *viper.Viper, path string) error {
	data, err := orInterrupt(ctx, "reading config file "+path, func() ([]byte, error) {
		return readFileLimited(path, maxConfigSize)
	})
	var ee *exitError
	switch {
	case errors.Is(err, errTooLarge):
		return fmt.Errorf("config file %s: more than 1 MiB; config files are limited to 1 MiB", path)
	case errors.As(err, &ee):
		return err
	case err != nil:
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return parseConfig(v, path, data)
}

// parseConfig checks a config file's text and loads it into v.
func parseConfig(v *viper.Viper, path string, data []byte) error {
	doc, err := oneDocument(data)
	if err != nil {
		return fmt.Errorf("config file %s%s", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file: nothing set
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("config file %s:%d: the file must be a mapping of keys", path, root.Line)
	}
	if err := checkKeys(path, root, ""); err != nil {
		return err
	}
	v.SetConfigType("yaml")
	if err := v.ReadConfig(strings.NewReader(string(data))); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// maxConfigSize bounds a config file, like scenario.MaxFileSize does a
// scenario file.
const maxConfigSize = 1 << 20

// knownKeys lists every key a config file may hold, nested ones dotted.
func knownKeys() map[string]bool {
	m := map[string]bool{}
	for _, s := range settings {
		m[s.key] = true
		if i := strings.IndexByte(s.key, '.'); i > 0 {
			m[s.key[:i]] = true
		}
	}
	for _, k := range fileOnly {
		m[k] = true
	}
	return m
}

// oneDocument parses data as a single YAML document: a second one would
// be ignored by every reader, so it is refused. A YAML error is returned
// as ":LINE: message" or ": message", to follow the file name.
func oneDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return &doc, nil // empty
		}
		return nil, errors.New(": " + strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
		return &doc, nil
	case err != nil:
		return nil, errors.New(": " + strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil, fmt.Errorf(":%d: a second YAML document starts here: a config file holds one", next.Line)
}

// checkKeys refuses unknown and repeated keys, by line. It runs on the
// parsed nodes before viper decodes the file into maps, which costs the
// square of the number of keys in a mapping (yaml.v3 compares each key
// with every other): what passes here is a few dozen keys at most.
func checkKeys(path string, n *yaml.Node, prefix string) error {
	known := knownKeys()
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		if !known[key] {
			return fmt.Errorf("config file %s:%d: unknown key %q (known keys: %s)", path, k.Line, key, strings.Join(sortedKeys(known), ", "))
		}
		if line, dup := seen[key]; dup {
			return fmt.Errorf("config file %s:%d: key %q is already set on line %d", path, k.Line, key, line)
		}
		seen[key] = k.Line
		if key == "keymap" {
			if val.Kind != yaml.MappingNode {
				return fmt.Errorf("config file %s:%d: keymap must map binding names to lists of keys", path, val.Line)
			}
			if err := checkKeymapNames(path, val); err != nil {
				return err
			}
			continue
		}
		if val.Kind == yaml.SequenceNode {
			hint := ""
			if key == "policy" {
				hint = ` (for run, several policies are one value: "v0.12,pr329")`
			}
			return fmt.Errorf("config file %s:%d: %s takes one value, not a list%s", path, val.Line, key, hint)
		}
		if val.Kind == yaml.MappingNode {
			if prefix != "" || !isSection(key) {
				return fmt.Errorf("config file %s:%d: %s takes a value, not a mapping", path, val.Line, key)
			}
			if err := checkKeys(path, val, key+"."); err != nil {
				return err
			}
		} else if isSection(key) && prefix == "" {
			return fmt.Errorf("config file %s:%d: %s is a section: give it keys (for example %s)", path, val.Line, key, sectionExample(key))
		}
	}
	return nil
}

// checkKeymapNames refuses keymap entries that name no binding, or one
// binding twice; the keys themselves are checked by tui.ValidateKeys.
func checkKeymapNames(path string, n *yaml.Node) error {
	known := tui.DefaultKeys()
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if _, ok := known[k.Value]; !ok {
			names := make([]string, 0, len(known))
			for name := range known {
				names = append(names, name)
			}
			sort.Strings(names)
			return fmt.Errorf("config file %s:%d: keymap: unknown binding %q (known: %s)", path, k.Line, k.Value, strings.Join(names, ", "))
		}
		if line, dup := seen[k.Value]; dup {
			return fmt.Errorf("config file %s:%d: keymap: binding %q is already set on line %d", path, k.Line, k.Value, line)
		}
		seen[k.Value] = k.Line
	}
	return nil
}

func isSection(key string) bool { return key == "convex" || key == "latency" }

func sectionExample(key string) string {
	var out []string
	for _, s := range settings {
		if strings.HasPrefix(s.key, key+".") {
			out = append(out, s.key)
		}
	}
	return strings.Join(out, ", ")
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		if !isSection(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// addConfigFlag adds --config to the root command.
func addConfigFlag(root *cobra.Command) {
	root.PersistentFlags().String(configFileFlag, "", "config file (default: ./authscope.yaml, then <user config dir>/authscope/config.yaml; or $AUTHSCOPE_CONFIG)")
}

// appliesTo says whether a setting fills a flag of this command. The
// simulator's --email and --password name its own default user, not the
// account on a real target, so the config's credentials stay away from it.
func (s setting) appliesTo(cmd *cobra.Command) bool {
	if cmd.Name() == "sim" {
		return s.key == "alg"
	}
	return true
}

// theme returns the theme setting ("auto", "dark" or "light").
func (lc *loadedConfig) theme() (string, error) {
	t := strings.ToLower(strings.TrimSpace(lc.v.GetString("theme")))
	switch t {
	case "", "auto":
		return "auto", nil
	case "dark", "light":
		return t, nil
	}
	return "", fmt.Errorf("config theme (%s): %q: want auto, dark or light", sourceOf(lc.v, "theme", lc.file), t)
}

// keymap returns the keymap overrides: binding name → keys.
func (lc *loadedConfig) keymap() (map[string][]string, error) {
	if !lc.v.IsSet("keymap") {
		return nil, nil
	}
	raw, ok := lc.v.Get("keymap").(map[string]any)
	if !ok {
		return nil, fmt.Errorf("config keymap (%s): want a mapping of binding names to lists of keys", sourceOf(lc.v, "keymap", lc.file))
	}
	out := map[string][]string{}
	for name, val := range raw {
		switch k := val.(type) {
		case string:
			out[name] = []string{k}
		case []any:
			for _, x := range k {
				s, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("config keymap.%s: %v is not a key name", name, x)
				}
				out[name] = append(out[name], s)
			}
		default:
			return nil, fmt.Errorf("config keymap.%s: want a key or a list of keys", name)
		}
	}
	return out, nil
}

// summary says which config file was read and what it sets, with the
// values that decide where credentials go (target, convex.url) and where
// the log is written; "" when no file was read. A file found in the
// current directory is applied without being named, so this is how a
// user notices one that points somewhere unexpected.
func (lc *loadedConfig) summary() string {
	if lc == nil || lc.file == "" {
		return ""
	}
	name := lc.file
	if abs, err := filepath.Abs(name); err == nil {
		name = abs
	}
	var set []string
	for _, s := range settings {
		if !lc.v.InConfig(s.key) {
			continue
		}
		switch s.key {
		case "target", "convex.url", "log_file":
			val := lc.v.GetString(s.key)
			if s.key != "log_file" {
				// Even when it does not parse as a URL.
				val = target.RedactURL(val)
			}
			set = append(set, s.key+"="+val)
		default:
			set = append(set, s.key)
		}
	}
	for _, k := range fileOnly {
		if lc.v.InConfig(k) {
			set = append(set, k)
		}
	}
	out := "config file " + name
	if len(set) > 0 {
		out += " sets " + strings.Join(set, ", ")
	}
	return termtext.Line(out)
}

// secretFlags are flags whose value other users can read in the process
// list (ps) and that shells keep in their history.
var secretFlags = []struct{ flag, env string }{
	{"password", "AUTHSCOPE_PASSWORD"},
	{"session-cookie", "AUTHSCOPE_SESSION_COOKIE"},
}

// secretFlagWarning warns about a credential given as a flag, "" if none.
// The simulator's --password names its own made-up user: no warning.
func secretFlagWarning(cmd *cobra.Command) string {
	if cmd.Name() == "sim" {
		return ""
	}
	var out []string
	for _, s := range secretFlags {
		if f := cmd.Flags().Lookup(s.flag); f != nil && f.Changed {
			out = append(out, fmt.Sprintf("--%s is visible to other users in the process list (ps) and stays in your shell history: prefer $%s", s.flag, s.env))
		}
	}
	return strings.Join(out, "; ")
}

// invocation carries what the root command's pre-run learned to the
// command that runs.
type invocation struct {
	cfg *loadedConfig
}
