package tui

import "charm.land/bubbles/v2/key"

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

	Hold          key.Binding
	ReleaseOldest key.Binding
	ReleaseLatest key.Binding
	ReleaseAll    key.Binding
	LatencyUp     key.Binding
	LatencyDown   key.Binding
	PollDown      key.Binding
	PollUp        key.Binding

	Pause    key.Binding
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
}

func newKeyMap() keyMap {
	return keyMap{
		ChangePassword: key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "password+signal")),
		Rotate:         key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "silent rotation")),
		ForceFetch:     key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "forced fetch")),
		Fetch:          key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "fetch")),
		SignOut:        key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "sign out")),
		SignIn:         key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "sign in")),
		Policy:         key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "next policy")),

		Hold:          key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "hold tokens")),
		ReleaseOldest: key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "release oldest")),
		ReleaseLatest: key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "release latest")),
		ReleaseAll:    key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "release all")),
		LatencyUp:     key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "latency +100ms")),
		LatencyDown:   key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "latency -100ms")),
		PollDown:      key.NewBinding(key.WithKeys("["), key.WithHelp("[", "poll faster")),
		PollUp:        key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "poll slower")),

		Pause:    key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "pause log")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Detail:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail/JWT")),
		Copy:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy")),
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

		Help: key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit: key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// forMode enables the bindings that apply in mode md and disables the rest.
func (k *keyMap) forMode(md mode) {
	driving := []*key.Binding{
		&k.ChangePassword, &k.Rotate, &k.ForceFetch, &k.Fetch, &k.SignOut, &k.SignIn, &k.Policy,
		&k.Hold, &k.ReleaseOldest, &k.ReleaseLatest, &k.ReleaseAll, &k.LatencyUp, &k.LatencyDown,
		&k.PollDown, &k.PollUp, &k.Pause, &k.Filter, &k.Help,
	}
	for _, b := range driving {
		b.SetEnabled(md == modeNormal)
	}
	for _, b := range []*key.Binding{&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.Home, &k.End, &k.Copy} {
		b.SetEnabled(md == modeNormal || md == modeDetail)
	}
	k.Detail.SetEnabled(md == modeNormal || md == modeDetail)
	k.Confirm.SetEnabled(md == modeConfirm)
	k.Cancel.SetEnabled(md == modeConfirm)
	k.Back.SetEnabled(md == modeNormal || md == modeFilter || md == modeDetail)
	k.Accept.SetEnabled(md == modeFilter)
	// q is a letter while typing a filter; ctrl+c always quits.
	if md == modeFilter {
		k.Quit.SetKeys("ctrl+c")
		k.Quit.SetHelp("ctrl+c", "quit")
	} else {
		k.Quit.SetKeys("q", "ctrl+c")
		k.Quit.SetHelp("q", "quit")
	}
}

// ShortHelp is the one-line help.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{
		k.Confirm, k.Cancel, k.Accept,
		k.ChangePassword, k.Rotate, k.ForceFetch, k.Fetch, k.Hold, k.Policy,
		k.Pause, k.Filter, k.Detail, k.Copy, k.Back, k.Help, k.Quit,
	}
}

// FullHelp is the help shown by ?, one column per group.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.ChangePassword, k.Rotate, k.ForceFetch, k.Fetch, k.SignOut, k.SignIn, k.Policy},
		{k.Hold, k.ReleaseOldest, k.ReleaseLatest, k.ReleaseAll, k.LatencyUp, k.LatencyDown, k.PollDown, k.PollUp},
		{k.Pause, k.Filter, k.Detail, k.Copy, k.Back, k.Up, k.Down},
		{k.PageUp, k.PageDown, k.Home, k.End, k.Confirm, k.Cancel, k.Help, k.Quit},
	}
}
