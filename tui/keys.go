package tui

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/key"

	"github.com/authscope/authscope/internal/termtext"
)

// keyMap is every binding of the TUI. Bindings that do not apply in the
// current mode are disabled, which also hides them from the help.
type keyMap struct {
	ChangePassword key.Binding
	Rotate         key.Binding
	ForceFetch     key.Binding
	Fetch          key.Binding
	SignOut        key.Binding
	SignIn         key.Binding
	Policy         key.Binding
	Device         key.Binding
	Reset          key.Binding

	Hold          key.Binding
	ReleaseOldest key.Binding
	ReleaseLatest key.Binding
	ReleaseAll    key.Binding
	LatencyUp     key.Binding
	LatencyDown   key.Binding
	PollDown      key.Binding
	PollUp        key.Binding

	Pause    key.Binding
	Lanes    key.Binding
	Focus    key.Binding
	Filter   key.Binding
	Detail   key.Binding
	Copy     key.Binding
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Home     key.Binding
	End      key.Binding

	Confirm key.Binding
	Cancel  key.Binding
	Back    key.Binding
	Accept  key.Binding

	Help key.Binding
	Quit key.Binding

	// quitKeys are the quit binding's keys outside the filter input;
	// multiDevice shows the device key in the short help.
	quitKeys    []string
	multiDevice bool
	// compare leaves out of the help the keys that compare mode does not
	// take (the policy and focus keys).
	compare bool
	// replay, in a replay, are its keys: the help shows them instead of
	// the keys that would change a client.
	replay    replayKeys
	replaying bool
}

// binding is one binding the user may rebind: its name in Options.Keys
// and the config file's keymap, its default keys, the key shown in the
// help by default, its short help, and what it does (for KeyNames).
type binding struct {
	name  string
	keys  []string
	label string
	help  string
	doc   string
	field func(*keyMap) *key.Binding
}

// bindings lists the bindings the user may rebind, in the help's order.
var bindings = []binding{
	{"password", []string{"p"}, "p", "password+signal", "change the password with revokeOtherSessions, then Better Auth's session signal", func(k *keyMap) *key.Binding { return &k.ChangePassword }},
	{"rotate", []string{"r"}, "r", "silent rotation", "the same change on the server without the signal: the client notices at its next poll", func(k *keyMap) *key.Binding { return &k.Rotate }},
	{"forced_fetch", []string{"f"}, "f", "forced fetch", "fetchAccessToken({forceRefreshToken: true})", func(k *keyMap) *key.Binding { return &k.ForceFetch }},
	{"fetch", []string{"t"}, "t", "fetch", "fetchAccessToken({forceRefreshToken: false})", func(k *keyMap) *key.Binding { return &k.Fetch }},
	{"sign_out", []string{"o"}, "o", "sign out", "sign out, then the session signal", func(k *keyMap) *key.Binding { return &k.SignOut }},
	{"sign_in", []string{"i"}, "i", "sign in", "sign in, then the session signal", func(k *keyMap) *key.Binding { return &k.SignIn }},
	{"policy", []string{"m"}, "m", "next policy", "switch the token-cache policy live (v0.12 → pr329 → hardened)", func(k *keyMap) *key.Binding { return &k.Policy }},
	{"reset", []string{"c"}, "c", "reset counters", "clear the violation count, the flicker windows and the timeline, and mark the point in the log", func(k *keyMap) *key.Binding { return &k.Reset }},
	{"hold", []string{"h"}, "h", "hold tokens", "hold token responses in the client transport, or stop holding", func(k *keyMap) *key.Binding { return &k.Hold }},
	{"release_oldest", []string{"H"}, "H", "release oldest", "release the oldest held item", func(k *keyMap) *key.Binding { return &k.ReleaseOldest }},
	{"release_latest", []string{"L"}, "L", "release latest", "release the latest held item", func(k *keyMap) *key.Binding { return &k.ReleaseLatest }},
	{"release_all", []string{"R"}, "R", "release all", "release everything held", func(k *keyMap) *key.Binding { return &k.ReleaseAll }},
	{"latency_up", []string{"+", "="}, "+", "latency +100ms", "token latency +100 ms (client transport)", func(k *keyMap) *key.Binding { return &k.LatencyUp }},
	{"latency_down", []string{"-"}, "-", "latency -100ms", "token latency -100 ms", func(k *keyMap) *key.Binding { return &k.LatencyDown }},
	{"poll_down", []string{"["}, "[", "poll faster", "poll interval one step down (to off)", func(k *keyMap) *key.Binding { return &k.PollDown }},
	{"poll_up", []string{"]"}, "]", "poll slower", "poll interval one step up (to 60 s)", func(k *keyMap) *key.Binding { return &k.PollUp }},
	{"pause", []string{"space"}, "space", "pause log", "pause the event log (events are still recorded)", func(k *keyMap) *key.Binding { return &k.Pause }},
	{"lanes", []string{"w"}, "w", "swimlanes", "switch the event log to swimlanes: one row per actor, newest at the right, findings in words; again for the log", func(k *keyMap) *key.Binding { return &k.Lanes }},
	{"focus", []string{"tab"}, "tab", "fetches/log", "move the focus between the event log and the fetches panel: ↑/↓, enter and y then act on the requests", func(k *keyMap) *key.Binding { return &k.Focus }},
	{"filter", []string{"/"}, "/", "filter", "filter the event log: words must all match; !word excludes, kind:prefix matches the kind", func(k *keyMap) *key.Binding { return &k.Filter }},
	{"detail", []string{"enter"}, "enter", "detail/JWT", "open the selected event, with its raw JWT", func(k *keyMap) *key.Binding { return &k.Detail }},
	{"copy", []string{"y"}, "y", "copy", "copy the selected line, or the raw JWT in the detail view (OSC 52)", func(k *keyMap) *key.Binding { return &k.Copy }},
	{"device", []string{"d"}, "d", "switch device", "switch which device the panels show and the keys drive (with two devices)", func(k *keyMap) *key.Binding { return &k.Device }},
	{"help", []string{"?"}, "?", "help", "the help page: every key, then what each symbol and term on the screen means", func(k *keyMap) *key.Binding { return &k.Help }},
	{"quit", []string{"q", "ctrl+c"}, "q", "quit", "quit (ctrl+c always quits)", func(k *keyMap) *key.Binding { return &k.Quit }},
}

// fixedKeys are the normal-mode keys that cannot be rebound, by what they
// do; a rebinding may not take them.
var fixedKeys = []struct {
	name string
	keys []string
}{
	{"up", []string{"up", "k"}},
	{"down", []string{"down", "j"}},
	{"page up", []string{"pgup"}},
	{"page down", []string{"pgdown"}},
	{"oldest", []string{"home"}},
	{"follow tail", []string{"end"}},
	{"back (clear the filter)", []string{"esc"}},
}

// confirmKeys answer a y/n question; quit is the only rebindable key that
// works while one is open.
var confirmKeys = []string{"y", "n", "esc"}

// KeyNames documents the bindings Options.Keys may override, one line
// each in the help's order: "name: default keys — what it does", for
// example "password: p — change the password with revokeOtherSessions,
// then Better Auth's session signal".
func KeyNames() []string {
	out := make([]string, len(bindings))
	for i, b := range bindings {
		out[i] = fmt.Sprintf("%s: %s — %s", b.name, strings.Join(b.keys, ", "), b.doc)
	}
	return out
}

// DefaultKeys is the default keymap: binding name → keys.
func DefaultKeys() map[string][]string {
	out := make(map[string][]string, len(bindings))
	for _, b := range bindings {
		out[b.name] = slices.Clone(b.keys)
	}
	return out
}

// MaxKeysPerBinding bounds the keys of one binding: each shows in the help.
const MaxKeysPerBinding = 10

// ValidateKeys checks overrides of the default keymap: every name must be
// a binding of KeyNames, every list must hold one to MaxKeysPerBinding
// keys, no key may be blank or hold spaces, ctrl+c stays quit, and after
// the overrides no key may do two things in the same mode. The error names
// the bad entry.
func ValidateKeys(overrides map[string][]string) error {
	names := make([]string, 0, len(overrides))
	for n := range overrides {
		names = append(names, n)
	}
	sort.Strings(names)
	merged := DefaultKeys()
	for _, n := range names {
		keys := overrides[n]
		if _, ok := merged[n]; !ok {
			known := make([]string, len(bindings))
			for i, b := range bindings {
				known[i] = b.name
			}
			return fmt.Errorf("keys: unknown binding %q (known: %s)", n, strings.Join(known, ", "))
		}
		if len(keys) == 0 {
			return fmt.Errorf("keys: binding %q has no keys", n)
		}
		if len(keys) > MaxKeysPerBinding {
			return fmt.Errorf("keys: binding %q has %d keys; at most %d", n, len(keys), MaxKeysPerBinding)
		}
		for _, k := range keys {
			if k == "" || strings.IndexFunc(k, unicode.IsSpace) >= 0 || !termtext.Safe(k) {
				return fmt.Errorf("keys: binding %q: %q is not a key name (write space as \"space\")", n, k)
			}
			if k == "ctrl+c" && n != "quit" {
				return fmt.Errorf("keys: binding %q: ctrl+c always quits", n)
			}
		}
		merged[n] = keys
	}
	// Who holds each key in normal mode; overridden bindings are checked
	// last, so that the error names the entry that moved.
	owner := map[string]string{}
	for _, f := range fixedKeys {
		for _, k := range f.keys {
			owner[k] = f.name
		}
	}
	order := make([]string, 0, len(bindings))
	for _, b := range bindings {
		if _, ok := overrides[b.name]; !ok {
			order = append(order, b.name)
		}
	}
	order = append(order, names...)
	for _, n := range order {
		for _, k := range merged[n] {
			if o, taken := owner[k]; taken && o != n {
				return fmt.Errorf("keys: binding %q: %q is already bound to %s", n, k, o)
			}
			owner[k] = n
		}
	}
	if q, ok := overrides["quit"]; ok {
		for _, k := range q {
			if slices.Contains(confirmKeys, k) {
				return fmt.Errorf("keys: binding \"quit\": %q answers the y/n question", k)
			}
		}
	}
	return nil
}

// newKeyMap builds the keymap with overrides applied (nil: the defaults).
func newKeyMap(overrides map[string][]string) (keyMap, error) {
	if err := ValidateKeys(overrides); err != nil {
		return keyMap{}, err
	}
	k := keyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Home:     key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "oldest")),
		End:      key.NewBinding(key.WithKeys("end"), key.WithHelp("end", "follow tail")),

		Confirm: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes, do it")),
		Cancel:  key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "cancel")),
		Back:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Accept:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply filter")),
	}
	for _, b := range bindings {
		keys, label := b.keys, b.label
		if o, ok := overrides[b.name]; ok {
			keys, label = o, strings.Join(o, "/")
		}
		*b.field(&k) = key.NewBinding(key.WithKeys(keys...), key.WithHelp(label, b.help))
	}
	k.quitKeys = k.Quit.Keys()
	return k, nil
}

// textKey reports whether a key types text into the filter input.
func textKey(k string) bool { return len([]rune(k)) == 1 || k == "space" }

// forMode enables the bindings that apply in mode md and disables the rest.
func (k *keyMap) forMode(md mode) {
	driving := []*key.Binding{
		&k.ChangePassword, &k.Rotate, &k.ForceFetch, &k.Fetch, &k.SignOut, &k.SignIn, &k.Policy, &k.Device, &k.Reset,
		&k.Hold, &k.ReleaseOldest, &k.ReleaseLatest, &k.ReleaseAll, &k.LatencyUp, &k.LatencyDown,
		&k.PollDown, &k.PollUp, &k.Pause, &k.Lanes, &k.Focus, &k.Filter, &k.Help,
	}
	for _, b := range driving {
		b.SetEnabled(md == modeNormal)
	}
	for _, b := range []*key.Binding{&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.Home, &k.End} {
		b.SetEnabled(md == modeNormal || md == modeDetail || md == modeHelp)
	}
	k.Copy.SetEnabled(md == modeNormal || md == modeDetail)
	k.Help.SetEnabled(md == modeNormal || md == modeHelp)
	k.Detail.SetEnabled(md == modeNormal || md == modeDetail)
	k.Confirm.SetEnabled(md == modeConfirm)
	k.Cancel.SetEnabled(md == modeConfirm)
	k.Back.SetEnabled(md == modeNormal || md == modeFilter || md == modeDetail || md == modeHelp)
	k.Accept.SetEnabled(md == modeFilter)
	for _, b := range k.replay.all() {
		b.SetEnabled(md == modeNormal)
	}
	// Letters are text while typing a filter; ctrl+c always quits.
	keys := k.quitKeys
	if md == modeFilter {
		keys = []string{"ctrl+c"}
		for _, q := range k.quitKeys {
			if !textKey(q) && q != "ctrl+c" {
				keys = append(keys, q)
			}
		}
	}
	k.Quit.SetKeys(keys...)
	k.Quit.SetHelp(keys[0], "quit")
}

// ShortHelp is the one-line help.
func (k keyMap) ShortHelp() []key.Binding {
	if r := k.replay; k.replaying {
		out := []key.Binding{k.Accept, r.Play, r.Back, r.Forward, r.PrevMark, r.NextMark, r.Slower, r.Faster}
		if k.multiDevice {
			out = append(out, k.Device)
		}
		return append(out, k.Filter, k.Focus, k.Detail, k.Back, k.Help, k.Quit)
	}
	if k.compare {
		return []key.Binding{k.ChangePassword, k.Rotate, k.ForceFetch, k.Fetch, k.Hold, k.ReleaseAll, k.Device,
			k.Pause, k.Filter, k.Detail, k.Back, k.Help, k.Quit}
	}
	out := []key.Binding{
		k.Confirm, k.Cancel, k.Accept,
		k.ChangePassword, k.Rotate, k.ForceFetch, k.Fetch, k.Hold, k.Policy,
	}
	if k.multiDevice {
		out = append(out, k.Device)
	}
	return append(out, k.Pause, k.Filter, k.Focus, k.Detail, k.Copy, k.Back, k.Help, k.Quit)
}

// FullHelp is the help shown by ?, one column per group. The device key
// is listed when there is another device to switch to.
func (k keyMap) FullHelp() [][]key.Binding {
	if r := k.replay; k.replaying {
		lead := []key.Binding{r.Play, r.Back, r.Forward, r.PrevMark, r.NextMark, r.Start, r.End, r.Slower, r.Faster}
		if k.multiDevice {
			lead = append(lead, k.Device)
		}
		return [][]key.Binding{
			lead,
			{k.Filter, k.Focus, k.Detail, k.Copy, k.Back, k.Up, k.Down, k.PageUp, k.PageDown},
			{k.Accept, k.Help, k.Quit},
		}
	}
	driving := []key.Binding{k.ChangePassword, k.Rotate, k.ForceFetch, k.Fetch, k.SignOut, k.SignIn, k.Policy, k.Reset}
	reading := []key.Binding{k.Pause, k.Lanes, k.Filter, k.Focus, k.Detail, k.Copy, k.Back, k.Up, k.Down}
	if k.compare {
		driving = []key.Binding{k.ChangePassword, k.Rotate, k.ForceFetch, k.Fetch, k.SignOut, k.SignIn, k.Reset}
		reading = []key.Binding{k.Pause, k.Lanes, k.Filter, k.Detail, k.Copy, k.Back, k.Up, k.Down}
	}
	if k.multiDevice {
		driving = append(driving, k.Device)
	}
	return [][]key.Binding{
		driving,
		{k.Hold, k.ReleaseOldest, k.ReleaseLatest, k.ReleaseAll, k.LatencyUp, k.LatencyDown, k.PollDown, k.PollUp},
		reading,
		{k.PageUp, k.PageDown, k.Home, k.End, k.Confirm, k.Cancel, k.Help, k.Quit},
	}
}
