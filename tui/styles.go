package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
)

// Styles holds every style of the TUI. It is built once for the terminal's
// background (light or dark) and rebuilt when the terminal reports it.
// Colour only ever repeats what a word already says.
type Styles struct {
	App      lipgloss.Style // the program name in the header
	Label    lipgloss.Style // "policy", "poll", …
	Value    lipgloss.Style
	Dim      lipgloss.Style
	Title    lipgloss.Style // panel titles
	Rule     lipgloss.Style // the line after a panel title
	Good     lipgloss.Style // verified, current, live
	Bad      lipgloss.Style // stale, failed, violation
	Warn     lipgloss.Style // paused, held, dropped
	Selected lipgloss.Style // the selected event row
	Kind     lipgloss.Style // event kind column
	Time     lipgloss.Style // event time column
	Prompt   lipgloss.Style // a confirmation question
	Status   lipgloss.Style // the last action's result
	Help     help.Styles
	Input    textinput.Styles
}

// NewStyles builds the styles for a dark or light background; with
// noColor they carry no colour at all (NO_COLOR), only weight and reverse.
func NewStyles(isDark, noColor bool) Styles {
	plain := lipgloss.NewStyle()
	if noColor {
		in := textinput.DefaultStyles(isDark)
		in.Focused = textinput.StyleState{Text: plain, Placeholder: plain, Suggestion: plain, Prompt: plain}
		in.Blurred = in.Focused
		in.Cursor.Color = nil
		in.Cursor.Blink = false
		return Styles{
			App: plain.Bold(true), Label: plain, Value: plain, Dim: plain,
			Title: plain.Bold(true), Rule: plain, Good: plain, Bad: plain.Bold(true),
			Warn: plain.Bold(true), Selected: plain.Reverse(true), Kind: plain, Time: plain,
			Prompt: plain.Bold(true).Reverse(true), Status: plain,
			Help: help.Styles{
				Ellipsis: plain, ShortKey: plain.Bold(true), ShortDesc: plain, ShortSeparator: plain,
				FullKey: plain.Bold(true), FullDesc: plain, FullSeparator: plain,
			},
			Input: in,
		}
	}
	ld := lipgloss.LightDark(isDark)
	c := func(light, dark string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(dark)) }
	accent := c("#5A56E0", "#8F8CF7")
	good := c("#1A7F37", "#3FB950")
	bad := c("#CF222E", "#FF7B72")
	warn := c("#9A6700", "#E3B341")
	dim := c("#6E7781", "#8B949E")
	text := c("#1F2328", "#E6EDF3")
	in := textinput.DefaultStyles(isDark)
	in.Cursor.Blink = false
	return Styles{
		App:      plain.Bold(true).Foreground(accent),
		Label:    plain.Foreground(dim),
		Value:    plain.Foreground(text),
		Dim:      plain.Foreground(dim),
		Title:    plain.Bold(true).Foreground(accent),
		Rule:     plain.Foreground(dim),
		Good:     plain.Foreground(good),
		Bad:      plain.Bold(true).Foreground(bad),
		Warn:     plain.Bold(true).Foreground(warn),
		Selected: plain.Reverse(true),
		Kind:     plain.Foreground(accent),
		Time:     plain.Foreground(dim),
		Prompt:   plain.Bold(true).Foreground(warn),
		Status:   plain.Foreground(text),
		Help:     help.DefaultStyles(isDark),
		Input:    in,
	}
}
