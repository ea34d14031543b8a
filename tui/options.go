// Package tui is the live terminal UI: it drives an authstate.Engine and the
// client transport it talks through, and shows the session, the token, the
// fetches in flight and the event stream as they change.
//
// The package speaks no HTTP. It takes the engine, a small Transport
// interface for the hold/latency gates, and display strings in Options;
// cmd/authscope wires them to a simulator or a real Better Auth server.
package tui

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/authscope/authscope/authstate"
)

// Transport is the client transport of a device. The TUI does not read it
// while it runs: the keys that change it (hold, release, latency) are
// inputs the engine applies to its backend's authstate.Controls (the
// engine's backend must be this transport), and what it holds and its
// latency reach the panels as the engine's events. The TUI only registers
// with SetNotify, to send the engine a HeldChanged input (with HeldList)
// whenever the held set changes. *fetcher.Backend satisfies both.
type Transport interface {
	// Hold starts holding "token" responses or "token_request" requests, or
	// stops holding ("none").
	Hold(what string) error
	// Holding reports what is held on the token endpoint: "token",
	// "token_request" or "none".
	Holding() string
	// Release lets held items go ("all", "oldest", "latest") and says how
	// many went.
	Release(which string) int
	// Held is how many requests or responses are held now.
	Held() int
	SetLatency(endpoint string, d time.Duration)
	Latency(endpoint string) time.Duration
	// HeldList names what is held, in arrival order ("token response #3").
	HeldList() []string
	// SetNotify registers f, called (never blocking, from any goroutine)
	// whenever the held set changes.
	SetNotify(f func())
}

// Options configure the TUI.
type Options struct {
	// Engine is the client auth stack being watched when there is one
	// device. The model subscribes to it in New, so create the model
	// before starting the engine to see every event through the
	// subscription.
	Engine *authstate.Engine
	// Transport may be nil; the hold and latency keys then say so.
	Transport Transport
	// Devices, when set, lists every device (device 1 first) instead of
	// Engine and Transport. The device key switches which one the panels
	// show and the keys drive; the others keep running.
	Devices []Device
	// Columns, when set, turns compare mode on: one name per device (its
	// variant, e.g. "pr329+pr83"), each device a column drawn beside the
	// others. Every action key goes to every column, and the next waits
	// until each column has settled; the event log holds every column's
	// events, each row tagged with its column.
	Columns []string
	// Target names the server in the header, e.g. "sim 127.0.0.1:3210".
	Target string
	// RealTarget makes the keys that change the password on the server ask
	// for confirmation first.
	RealTarget bool
	// Demo masks emails, ids and raw JWTs on screen, for screen sharing.
	Demo bool
	// NoColor renders without any colour (NO_COLOR).
	NoColor bool
	// Now is the clock of the view (countdowns, spinners, how long finished
	// fetches stay listed). Default time.Now.
	Now func() time.Time
	// TickEvery is how often the view refreshes on its own (default 250 ms);
	// negative turns the ticker off (tests).
	TickEvery time.Duration
	// SubscribeBuffer is how many events a device's stream holds for a
	// view that falls behind (default 1<<16); past that it loses events,
	// the header warns, and the panels read the engine instead of the
	// fold of the stream.
	SubscribeBuffer int
	// Logger receives what the user did; default discards. The terminal
	// belongs to the TUI, so this must not write to it.
	Logger *slog.Logger
	// Keys overrides bindings of the default keymap: binding name (see
	// KeyNames) → keys, as Bubble Tea names them ("p", "R", "ctrl+x",
	// "space", "enter"). Bindings not listed keep their defaults. Check it
	// with ValidateKeys.
	Keys map[string][]string
	// Theme is ThemeAuto (ask the terminal for its background; the
	// default), ThemeDark or ThemeLight. Check it with ValidateTheme.
	Theme string
	// ConfigFile names the config file the settings came from ("" for
	// none), for the header: a file found in the current directory can
	// change the target, so the user sees which one it was.
	ConfigFile string
	// Notice is shown on the status line until the first key, e.g. a
	// warning about how the TUI was started.
	Notice string
	// ConvexOff, when the Convex client model is not running, says why
	// and what turns it on; the Convex panel is then that one line. ""
	// hides the panel (the model was turned off on purpose).
	ConvexOff string
}

// Themes.
const (
	ThemeAuto  = "auto"
	ThemeDark  = "dark"
	ThemeLight = "light"
)

// ValidateTheme accepts "", auto, dark and light.
func ValidateTheme(theme string) error {
	switch theme {
	case "", ThemeAuto, ThemeDark, ThemeLight:
		return nil
	}
	return fmt.Errorf("theme %q: want auto, dark or light", theme)
}

const (
	defaultTick      = 250 * time.Millisecond
	defaultSubBuffer = 1 << 16
	// batchCap bounds how many events one message carries, so a flood
	// cannot starve key presses.
	batchCap = 4096
	// finishedFor is how long a finished fetch stays in the table.
	finishedFor = 3 * time.Second
	latencyStep = 100 * time.Millisecond
	latencyMax  = 5 * time.Second
)

// pollSteps are the poll intervals [ and ] step through; 0 is off.
var pollSteps = []time.Duration{0, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, 60 * time.Second}
