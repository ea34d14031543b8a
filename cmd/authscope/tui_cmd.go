package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/fetcher"
	"github.com/authscope/authscope/fetcher/authsim"
	"github.com/authscope/authscope/fetcher/target"
	"github.com/authscope/authscope/tui"
)

// tuiOptions are the root command's flags: the live TUI.
type tuiOptions struct {
	target   string
	email    string
	password string
	policy   string
	poll     time.Duration
	logFile  string
	demo     bool
	alg      string
}

// tuiLogSize is the engine's event log in the TUI: big enough to scroll
// back through a long session, bounded all the same.
const tuiLogSize = 100_000

func addTUIFlags(cmd *cobra.Command, o *tuiOptions) {
	f := cmd.Flags()
	f.StringVar(&o.target, "target", "", "Better Auth base URL to drive, e.g. http://localhost:3000/api/auth (default: the built-in simulator)")
	f.StringVar(&o.email, "email", "", "email of an existing user on --target (or AUTHSCOPE_EMAIL)")
	f.StringVar(&o.password, "password", "", "password of that user (or AUTHSCOPE_PASSWORD); never printed or logged")
	f.StringVar(&o.policy, "policy", "pr329", "token-cache policy to start with: v0.12, pr329 or hardened (m switches live)")
	f.DurationVar(&o.poll, "poll", 2*time.Second, "session poll interval; 0 turns polling off ([ and ] change it live)")
	f.StringVar(&o.logFile, "log-file", "", "where to write the log (default: <user cache dir>/authscope/authscope.log)")
	f.BoolVar(&o.demo, "demo", false, "mask emails, ids and raw JWTs on screen, for screen sharing")
	f.StringVar(&o.alg, "alg", "EdDSA", "signing algorithm of the built-in simulator: EdDSA or RS256")
}

// runTUI wires the TUI: a simulator in-process (or a real base URL), a
// client backend, an engine on the wall clock, and the Bubble Tea program.
// Nothing is written to the terminal while the program runs: logs go to a
// file.
func runTUI(ctx context.Context, o tuiOptions, stdout io.Writer) error {
	if _, err := authstate.PolicyByName(o.policy); err != nil {
		return fail(exitUsage, "--policy: %w", err)
	}
	if o.poll < 0 {
		return fail(exitUsage, "--poll: must not be negative")
	}
	if o.email == "" {
		o.email = os.Getenv("AUTHSCOPE_EMAIL")
	}
	if o.password == "" {
		o.password = os.Getenv("AUTHSCOPE_PASSWORD")
	}
	isReal := o.target != "" && o.target != "sim"
	var base string
	if isReal {
		var err error
		if base, err = target.NormalizeBaseURL(o.target); err != nil {
			return fail(exitUsage, "--target: %w", err)
		}
		if o.email == "" || o.password == "" {
			return fail(exitUsage, "--target %s needs --email and --password (or AUTHSCOPE_EMAIL and AUTHSCOPE_PASSWORD)", base)
		}
	} else if o.alg != "EdDSA" && o.alg != "RS256" {
		return fail(exitUsage, "--alg: want EdDSA or RS256, got %q", o.alg)
	}
	if !isTerminal(stdout) {
		return fail(exitUsage, "the live TUI needs a terminal; to run scenarios without one use: authscope run FILE...")
	}

	logger, closeLog, err := openLog(o.logFile)
	if err != nil {
		return fail(exitUsage, "--log-file: %w", err)
	}
	defer closeLog()

	var opts fetcher.BackendOptions
	var display string
	if isReal {
		opts = fetcher.BackendOptions{BaseURL: base, Email: o.email, Password: o.password}
		display = base
		if u, err := url.Parse(base); err == nil {
			display = u.Redacted() // a password in the URL stays off the screen
		}
	} else {
		srv, origin, stop, err := target.StartSim(authsim.Options{Alg: o.alg})
		if err != nil {
			return fail(exitUsage, "start the simulator: %w", err)
		}
		defer stop()
		email, password := srv.DefaultUser()
		opts = fetcher.BackendOptions{BaseURL: origin + "/api/auth", Email: email, Password: password, Issuer: origin}
		u, _ := url.Parse(origin)
		display = "sim " + u.Host
	}
	backend, err := fetcher.NewBackend(opts)
	if err != nil {
		return fail(exitUsage, "%w", err)
	}
	defer backend.Close()
	logger.Info("starting", "target", display, "real", isReal, "policy", o.policy, "poll", o.poll)

	signIn, cancel := context.WithTimeout(ctx, 15*time.Second)
	err = backend.SignIn(signIn)
	cancel()
	if err != nil {
		logger.Error("sign in", "err", err)
		return fail(exitUsage, "sign in to %s: %w", display, err)
	}

	eng, err := authstate.New(authstate.Config{
		Backend:      backend,
		Policy:       o.policy,
		Clock:        authstate.RealClock{},
		LogSize:      tuiLogSize,
		PollInterval: o.poll,
	})
	if err != nil {
		return fail(exitUsage, "%w", err)
	}
	model := tui.New(tui.Options{
		Engine:     eng,
		Transport:  backend,
		Target:     display,
		RealTarget: isReal,
		Demo:       o.demo,
		NoColor:    os.Getenv("NO_COLOR") != "",
		Logger:     logger,
	})
	logEvents(eng, logger)
	eng.Start(ctx)
	defer eng.Stop()

	_, err = tea.NewProgram(model, tea.WithContext(ctx)).Run()
	logger.Info("stopped", "received", model.Received(), "dropped", model.Dropped(), "err", err)
	if err != nil && !errors.Is(err, context.Canceled) {
		return fail(exitUsage, "terminal UI: %w", err)
	}
	return nil
}

// logEvents copies every engine event to the log file. Events carry labels,
// ids and token fingerprints, never a token, a cookie or a password.
func logEvents(eng *authstate.Engine, logger *slog.Logger) {
	sub := eng.Subscribe(1 << 14)
	go func() {
		for ev := range sub.C {
			logger.Debug("event", "seq", ev.Seq, "kind", ev.Kind.String(), "session", ev.Session, "fetch", ev.Fetch, "detail", ev.Summary())
		}
		if n := sub.Dropped(); n > 0 {
			logger.Warn("the log missed events", "dropped", n)
		}
	}()
}

// openLog opens the log file (creating its directory) and routes slog and
// the standard logger there, so that nothing reaches the terminal.
func openLog(path string) (*slog.Logger, func(), error) {
	if path == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, nil, fmt.Errorf("no user cache directory (give --log-file): %w", err)
		}
		path = filepath.Join(dir, "authscope", "authscope.log")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	level := slog.LevelInfo
	if os.Getenv("AUTHSCOPE_DEBUG") != "" {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: level}))
	prevSlog := slog.Default()
	prevOut, prevFlags := log.Writer(), log.Flags()
	slog.SetDefault(logger)
	log.SetOutput(f)
	return logger, func() {
		slog.SetDefault(prevSlog)
		log.SetOutput(prevOut)
		log.SetFlags(prevFlags)
		f.Close()
	}, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// The client backend is the TUI's transport control.
var _ tui.Transport = (*fetcher.Backend)(nil)
