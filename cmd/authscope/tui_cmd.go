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
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/fetcher"
	"github.com/authscope/authscope/fetcher/authsim"
	"github.com/authscope/authscope/fetcher/target"
	"github.com/authscope/authscope/internal/termtext"
	"github.com/authscope/authscope/trace"
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
	// record is the trace file of --record; recordSecrets keeps raw JWTs
	// in it (--record-secrets).
	record        string
	recordSecrets bool
	// compare is --compare as given; variants is it parsed (compare mode
	// when not empty).
	compare  string
	variants []authstate.Variant

	TUIConfig
}

// TUIConfig are the TUI's settings for the Convex client model, the
// devices, the keys and the colours. Flags fill most of them; the config
// file fills them all (config keys in brackets).
type TUIConfig struct {
	// ConvexURL is the Convex deployment of a real target [convex.url]
	// (--convex-url, AUTHSCOPE_CONVEX_URL). Giving one turns the Convex
	// client model on; the built-in simulator serves its own.
	ConvexURL string
	// Query is the subscribed query [convex.query] (--query).
	Query string
	// QueryInterval re-runs the query on the clock, as data changing on
	// the deployment would (--query-interval; 0: only on identity changes).
	QueryInterval time.Duration
	// PR83 models convex-js PR #83: no clearAuth on a mere fetcher swap
	// [convex.pr83] (--pr83).
	PR83 bool
	// NoConsumer turns the Convex client model off [convex.consumer:
	// false] (--no-consumer).
	NoConsumer bool
	// SessionCookie starts device 1 on a real target from the value of a
	// better-auth.session_token cookie instead of the password
	// [session_cookie] (--session-cookie, AUTHSCOPE_SESSION_COOKIE). p and
	// r then fail with fetcher.ErrNoPassword, shown as an event.
	SessionCookie string
	// Devices is 1, or 2 for a second client of the same user with its
	// own cookie jar, session, cache and Convex client [devices] (--devices).
	Devices int
	// TokenLatency and SessionLatency are added in the client transport
	// before token and get-session requests [latency.token,
	// latency.get_session] (--token-latency, --session-latency).
	TokenLatency   time.Duration
	SessionLatency time.Duration
	// Keys overrides the keymap: binding name → keys [keymap]; see
	// tui.KeyNames. Theme is auto, dark or light [theme].
	Keys  map[string][]string
	Theme string
	// ConfigFile is the config file the settings came from, for the
	// header; Notice is a first status line (a warning).
	ConfigFile string
	Notice     string
}

// tuiLogSize is the engine's event log in the TUI: big enough to scroll
// back through a long session, bounded all the same (per device).
const tuiLogSize = 100_000

// defaultQueryInterval re-runs the subscribed query once a second, so a
// session revoked by another device shows up as a failing query.
const defaultQueryInterval = time.Second

func addTUIFlags(cmd *cobra.Command, o *tuiOptions) {
	f := cmd.Flags()
	f.StringVar(&o.target, "target", "", "Better Auth base URL to drive, e.g. http://localhost:3000/api/auth (default: the built-in simulator)")
	f.StringVar(&o.email, "email", "", "email of an existing user on --target (or AUTHSCOPE_EMAIL)")
	f.StringVar(&o.password, "password", "", "password of that user (or AUTHSCOPE_PASSWORD); never printed or logged")
	f.StringVar(&o.policy, "policy", "pr329", "token-cache policy to start with: v0.12, pr329 or hardened (m switches live)")
	_ = cmd.RegisterFlagCompletionFunc("policy", completePolicies(false))
	f.DurationVar(&o.poll, "poll", 2*time.Second, "session poll interval; 0 turns polling off ([ and ] change it live)")
	f.StringVar(&o.logFile, "log-file", "", "where to write the log (default: <user cache dir>/authscope/authscope.log)")
	f.BoolVar(&o.demo, "demo", false, "mask emails, ids and raw JWTs on screen, for screen sharing")
	f.StringVar(&o.alg, "alg", "EdDSA", "signing algorithm of the built-in simulator: EdDSA or RS256")
	f.StringVar(&o.record, "record", "", "write a trace of the session (every input and event of every device) to this file, redacted")
	f.BoolVar(&o.recordSecrets, "record-secrets", false, "keep raw JWTs in the --record trace (never passwords, session tokens or cookies)")
	f.StringVar(&o.compare, "compare", "", "compare variants side by side, one column each, e.g. v0.12,pr329 or pr329,pr329+pr83+preserve, or all for "+variantNames(authstate.VariantLadder()))

	f.StringVar(&o.ConvexURL, "convex-url", "", "Convex deployment of --target whose /api/query the Convex client model queries (or AUTHSCOPE_CONVEX_URL); turns the model on")
	f.StringVar(&o.Query, "query", "auth:getAuthUser", "the query the Convex client model subscribes to")
	f.DurationVar(&o.QueryInterval, "query-interval", defaultQueryInterval, "how often the subscribed query re-runs on its own; 0: only when the identity changes")
	f.BoolVar(&o.PR83, "pr83", false, "model convex-js PR #83: no clearAuth() when only the fetcher changes")
	f.BoolVar(&o.NoConsumer, "no-consumer", false, "do not run the Convex client model")
	f.StringVar(&o.SessionCookie, "session-cookie", "", "start from this better-auth.session_token cookie value instead of --password (or AUTHSCOPE_SESSION_COOKIE); p and r then cannot rotate")
	f.IntVar(&o.Devices, "devices", 1, "1, or 2 for a second client of the same user with its own session (d switches)")
	f.DurationVar(&o.TokenLatency, "token-latency", 0, "latency added before token requests in the client transport (+ and - change it live)")
	f.DurationVar(&o.SessionLatency, "session-latency", 0, "latency added before get-session requests in the client transport")
}

// resolve fills what the environment gives and checks the options before
// anything starts. Its errors are usage errors.
func (o *tuiOptions) resolve() error {
	if _, err := authstate.PolicyByName(o.policy); err != nil {
		return fmt.Errorf("--policy: %w", err)
	}
	if o.poll < 0 {
		return errors.New("--poll: must not be negative")
	}
	for env, v := range map[string]*string{
		"AUTHSCOPE_EMAIL":          &o.email,
		"AUTHSCOPE_PASSWORD":       &o.password,
		"AUTHSCOPE_CONVEX_URL":     &o.ConvexURL,
		"AUTHSCOPE_SESSION_COOKIE": &o.SessionCookie,
	} {
		if *v == "" {
			*v = os.Getenv(env)
		}
	}
	if o.Devices == 0 {
		o.Devices = 1
	}
	if o.Devices != 1 && o.Devices != 2 {
		return fmt.Errorf("--devices: want 1 or 2, got %d", o.Devices)
	}
	if o.Query == "" {
		o.Query = "auth:getAuthUser"
	}
	if o.recordSecrets && o.record == "" {
		return errRecordSecretsAlone
	}
	if o.compare != "" {
		if err := o.resolveCompare(); err != nil {
			return err
		}
	}
	for name, d := range map[string]time.Duration{"--query-interval": o.QueryInterval, "--token-latency": o.TokenLatency, "--session-latency": o.SessionLatency} {
		if d < 0 {
			return fmt.Errorf("%s: must not be negative", name)
		}
	}
	if err := tui.ValidateTheme(o.Theme); err != nil {
		return fmt.Errorf("config %w", err)
	}
	if err := tui.ValidateKeys(o.Keys); err != nil {
		return fmt.Errorf("config keymap: %w", err)
	}
	if !o.real() {
		if o.alg != "EdDSA" && o.alg != "RS256" {
			return fmt.Errorf("--alg: want EdDSA or RS256, got %q", o.alg)
		}
		if o.SessionCookie != "" {
			return errors.New("--session-cookie needs --target: the built-in simulator signs in with its own user")
		}
		return nil
	}
	base, err := target.NormalizeBaseURL(o.target)
	if err != nil {
		return fmt.Errorf("--target: %w", err)
	}
	o.target = base
	if o.ConvexURL != "" {
		u, err := url.Parse(o.ConvexURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--convex-url %q: want the deployment's http(s) URL, e.g. https://<name>.convex.cloud", target.RedactURL(o.ConvexURL))
		}
	}
	havePassword := o.email != "" && o.password != ""
	switch {
	case o.SessionCookie == "" && !havePassword:
		return fmt.Errorf("--target %s needs --email and --password (or AUTHSCOPE_EMAIL and AUTHSCOPE_PASSWORD), or --session-cookie", base)
	case o.Devices == 2 && !havePassword:
		return errors.New("--devices 2 needs --email and --password: the second device signs in to a session of its own")
	}
	return nil
}

func (o *tuiOptions) real() bool { return o.target != "" && o.target != "sim" }

// maxCompareColumns bounds --compare: more columns than this do not fit a
// screen.
const maxCompareColumns = 4

// resolveCompare parses --compare and checks what compare mode cannot do.
func (o *tuiOptions) resolveCompare() error {
	vs, err := authstate.ParseVariants(o.compare)
	if err != nil {
		return fmt.Errorf("--compare: %w", err)
	}
	switch {
	case len(vs) < 2:
		return fmt.Errorf("--compare: give at least two variants to compare, e.g. v0.12,pr329 (got %s)", variantNames(vs))
	case len(vs) > maxCompareColumns:
		return fmt.Errorf("--compare: at most %d columns fit a screen (got %d)", maxCompareColumns, len(vs))
	case o.real():
		return errors.New("--compare runs against the built-in simulator only: each column needs a server of its own " +
			"(one user's password change in one column would end the sessions of the others), " +
			"so drop --target, or run `authscope run FILE --compare ...` for a scenario")
	case o.Devices > 1:
		return errors.New("--compare and --devices 2 do not go together: each column is one device")
	case o.NoConsumer:
		for _, v := range vs {
			if v.PR83 {
				return fmt.Errorf("--compare: %s needs the Convex client model, which --no-consumer turns off", v)
			}
		}
	}
	o.variants = vs
	return nil
}

// variantNames lists variants by name, comma-separated.
func variantNames(vs []authstate.Variant) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = v.String()
	}
	return strings.Join(names, ",")
}

// runTUI wires the TUI: a simulator in-process (or a real base URL), one
// client backend and engine per device, and the Bubble Tea program.
// Nothing is written to the terminal while the program runs: logs go to a
// file.
func runTUI(ctx context.Context, o tuiOptions, stdout io.Writer) error {
	if err := o.resolve(); err != nil {
		return fail(exitUsage, "%w", err)
	}
	if !isTerminal(stdout) {
		return fail(exitUsage, "the live TUI needs a terminal; to run scenarios without one use: authscope run FILE...")
	}
	logger, closeLog, err := openLog(o.logFile)
	if err != nil {
		return fail(exitUsage, "--log-file: %w", err)
	}
	defer closeLog()

	s, err := openTUISession(ctx, o, logger)
	if err != nil {
		return fail(exitUsage, "%w", err)
	}
	defer s.close()
	var rec *tuiRecorder
	if o.record != "" {
		if rec, err = s.record(o); err != nil {
			return fail(exitUsage, "%w", err)
		}
		defer rec.close()
		o.Notice = joinNotice(o.Notice, recordNotice(o))
	}
	model := tui.New(s.options(o, logger))
	for i, d := range s.devices {
		logEvents(d.Engine, logger, i+1)
	}
	stop := s.start(ctx)
	defer stop()

	_, err = tea.NewProgram(model, tea.WithContext(ctx)).Run()
	logger.Info("stopped", "received", model.Received(), "dropped", model.Dropped(), "err", err)
	if err != nil && !errors.Is(err, context.Canceled) {
		return fail(exitUsage, "terminal UI: %w", err)
	}
	if rec != nil {
		stop() // the engines' last events go into the trace
		if err := rec.close(); err != nil {
			return fail(exitUsage, "%w", err)
		}
	}
	return nil
}

// record opens the --record trace and attaches it to every device's
// engine. Call it before start: what an engine did before is not in the
// trace (close says how much).
func (s *tuiSession) record(o tuiOptions) (*tuiRecorder, error) {
	h := baseHeader("tui")
	h.Policy = o.policy
	h.Devices = len(s.devices)
	h.Target = s.traceTarget(o)
	h.Options = map[string]string{
		"poll":            o.poll.String(),
		"consumer":        fmt.Sprint(s.consumer),
		"pr83":            fmt.Sprint(o.PR83),
		"query":           o.Query,
		"query_interval":  o.QueryInterval.String(),
		"token_latency":   o.TokenLatency.String(),
		"session_latency": o.SessionLatency.String(),
		"session_cookie":  fmt.Sprint(o.SessionCookie != ""),
	}
	if !o.real() {
		h.Options["alg"] = o.alg
	}
	if len(o.variants) > 0 {
		// Each column's policy and switches are in its name.
		h.Columns = strings.Split(variantNames(o.variants), ",")
		h.Policy = o.variants[0].Policy
		delete(h.Options, "pr83")
	}
	return openTUIRecord(o.record, h, trace.Options{Demo: o.demo, Secrets: o.recordSecrets, Scrub: []string{o.password, o.SessionCookie}}, s.taps)
}

// traceTarget is the target for the trace's header: "sim" with the
// simulator's loopback address, or "url" with a real server's host.
func (s *tuiSession) traceTarget(o tuiOptions) trace.Target {
	if host, ok := strings.CutPrefix(s.display, "sim "); ok {
		return trace.Target{Kind: "sim", Host: host}
	}
	return traceTarget(o.target)
}

// recordNotice is the status line's first message while recording.
// Under --demo it names the file without its directory, as the header
// does the config file.
func recordNotice(o tuiOptions) string {
	file := o.record
	if o.demo {
		file = filepath.Base(file)
	}
	file = termtext.Line(file)
	if o.recordSecrets {
		return "warning: recording RAW JWTs to " + file + " (--record-secrets): do not share it"
	}
	return "recording to " + file + " (redacted)"
}

func joinNotice(a, b string) string {
	if a == "" {
		return b
	}
	return b + "; " + a
}

// tuiSession is what the TUI runs on: the devices, signed in, with their
// engines not yet started, and how to tear it all down.
type tuiSession struct {
	display  string
	real     bool
	consumer bool
	// convexOff is the Convex panel's one line when the model cannot run.
	convexOff string
	devices   []tui.Device
	// taps are the devices' recording hooks (see tuiRecorder), one per
	// device, in order.
	taps    []*deviceTap
	closers []func()
}

// mountWait bounds how long start waits for one device's first look at
// its session before it starts the next.
const mountWait = 15 * time.Second

// start starts the devices' engines in order, each once the one before has
// mounted, so that labels follow the devices: device 1's session is S1,
// device 2's S2. The returned func stops them all.
func (s *tuiSession) start(ctx context.Context) (stop func()) {
	for i, d := range s.devices {
		d.Engine.Start(ctx)
		if i < len(s.devices)-1 {
			awaitMounted(ctx, d.Engine, mountWait)
		}
	}
	return func() {
		for _, d := range s.devices {
			d.Engine.Stop()
		}
	}
}

// awaitMounted waits until eng has made its first observation (whatever
// its outcome), stopped, or the wait is over.
func awaitMounted(ctx context.Context, eng *authstate.Engine, wait time.Duration) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		ch := eng.Changed()
		if sn := eng.Snapshot(); sn.Mounted || sn.Stopped {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		case <-timer.C:
			return
		}
	}
}

func (s *tuiSession) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

func (s *tuiSession) options(o tuiOptions, logger *slog.Logger) tui.Options {
	var columns []string
	for _, v := range o.variants {
		columns = append(columns, v.String())
	}
	return tui.Options{
		Columns:    columns,
		Devices:    s.devices,
		Target:     s.display,
		RealTarget: s.real,
		Demo:       o.demo,
		NoColor:    os.Getenv("NO_COLOR") != "",
		Logger:     logger,
		Keys:       o.Keys,
		Theme:      o.Theme,
		ConfigFile: termtext.Line(o.ConfigFile),
		Notice:     o.Notice,
		ConvexOff:  s.convexOff,
	}
}

// convexOffHint is the Convex panel on a real target without a Convex
// deployment: what to pass to run the Convex client model (it fits 80
// columns).
const convexOffHint = "off: --convex-url https://<name>.convex.cloud (or config convex.url)"

// openTUISession starts the simulator when there is no real target, and
// builds and signs in each device: its own backend (cookie jar, transport
// gates) and engine (cache, Convex client). o must be resolved.
func openTUISession(ctx context.Context, o tuiOptions, logger *slog.Logger) (_ *tuiSession, err error) {
	s := &tuiSession{real: o.real()}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if len(o.variants) > 0 {
		return s, s.openColumns(ctx, o, logger)
	}
	var base fetcher.BackendOptions
	if s.real {
		base = fetcher.BackendOptions{BaseURL: o.target, Email: o.email, Password: o.password, ConvexURL: o.ConvexURL}
		s.display = o.target
		if u, err := url.Parse(o.target); err == nil {
			s.display = u.Redacted() // a password in the URL stays off the screen
		}
		s.consumer = o.ConvexURL != "" && !o.NoConsumer
		if !s.consumer && !o.NoConsumer {
			if origin, ok := target.DetectSim(ctx, o.target); ok {
				// `authscope sim` serves its own Convex query endpoint; and
				// it is a simulator: the header says so, and p needs no
				// confirmation.
				base.ConvexURL, s.consumer = origin, true
				s.real, s.display = false, "sim "+strings.TrimPrefix(strings.TrimPrefix(origin, "http://"), "https://")
				logger.Info("the target is an authscope simulator: the Convex client model queries its /api/query")
			} else {
				s.convexOff = convexOffHint
			}
		}
	} else {
		srv, origin, stop, err := target.StartSim(authsim.Options{Alg: o.alg})
		if err != nil {
			return nil, fmt.Errorf("start the simulator: %w", err)
		}
		s.closers = append(s.closers, stop)
		email, password := srv.DefaultUser()
		base = fetcher.BackendOptions{BaseURL: origin + "/api/auth", Email: email, Password: password, Issuer: origin, ConvexURL: origin}
		u, _ := url.Parse(origin)
		s.display = "sim " + u.Host
		s.consumer = !o.NoConsumer
	}
	logger.Info("starting", "target", s.display, "real", s.real, "policy", o.policy, "poll", o.poll,
		"devices", o.Devices, "consumer", s.consumer, "pr83", o.PR83, "session_cookie", o.SessionCookie != "")

	// One labeller for every device: a session is S2 on both devices,
	// and device 2's first session is not a second S1.
	labels := authstate.NewLabeller()
	for i := range o.Devices {
		bo := base
		if i == 0 && o.SessionCookie != "" {
			bo.SessionCookie, bo.Password = o.SessionCookie, ""
		}
		tap := newDeviceTap(i + 1)
		d, err := openDevice(ctx, o, bo, s.consumer, labels, tap)
		if err != nil {
			return nil, fmt.Errorf("device %d on %s: %w", i+1, s.display, err)
		}
		s.closers = append(s.closers, d.Transport.(*fetcher.Backend).Close)
		s.devices = append(s.devices, d)
		s.taps = append(s.taps, tap)
	}
	return s, nil
}

// openColumns builds compare mode's columns: for each variant a simulator
// of its own (keeping the caller's session on a password change for
// +preserve) and one device on it, running the variant's policy and
// Convex client. Each column labels its own sessions.
func (s *tuiSession) openColumns(ctx context.Context, o tuiOptions, logger *slog.Logger) error {
	s.consumer = !o.NoConsumer
	var hosts []string
	for i, v := range o.variants {
		srv, origin, stop, err := target.StartSim(authsim.Options{Alg: o.alg, PreserveSession: v.Preserve})
		if err != nil {
			return fmt.Errorf("start the simulator of column %d (%s): %w", i+1, v, err)
		}
		s.closers = append(s.closers, stop)
		email, password := srv.DefaultUser()
		bo := fetcher.BackendOptions{BaseURL: origin + "/api/auth", Email: email, Password: password, Issuer: origin, ConvexURL: origin}
		co := o
		co.policy, co.PR83 = v.Policy, v.PR83
		tap := newDeviceTap(i + 1)
		d, err := openDevice(ctx, co, bo, s.consumer, authstate.NewLabeller(), tap)
		if err != nil {
			return fmt.Errorf("column %d (%s): %w", i+1, v, err)
		}
		s.closers = append(s.closers, d.Transport.(*fetcher.Backend).Close)
		s.devices = append(s.devices, d)
		s.taps = append(s.taps, tap)
		u, _ := url.Parse(origin)
		hosts = append(hosts, u.Host)
	}
	s.display = "sim ×" + fmt.Sprint(len(hosts)) + " " + strings.Join(hosts, ", ")
	logger.Info("starting compare", "columns", variantNames(o.variants), "target", s.display, "consumer", s.consumer, "poll", o.poll)
	return nil
}

// openDevice signs one client in and builds its engine.
// tap, if not nil, sees every input and event of the engine (--record).
func openDevice(ctx context.Context, o tuiOptions, bo fetcher.BackendOptions, consumer bool, labels *authstate.Labeller, tap *deviceTap) (tui.Device, error) {
	backend, err := fetcher.NewBackend(bo)
	if err != nil {
		return tui.Device{}, err
	}
	backend.SetLatency(fetcher.EndpointToken, o.TokenLatency)
	backend.SetLatency(fetcher.EndpointGetSession, o.SessionLatency)
	signIn, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if bo.SessionCookie != "" {
		// There is nothing to sign in with: check the cookie is a session.
		if sess, err := backend.GetSession(signIn); err != nil || sess == nil {
			backend.Close()
			if err == nil {
				err = errors.New("the server knows no session for this cookie (signed out or expired?)")
			}
			return tui.Device{}, fmt.Errorf("--session-cookie: %w", err)
		}
	} else if err := backend.SignIn(signIn); err != nil {
		backend.Close()
		return tui.Device{}, fmt.Errorf("sign in: %w", err)
	}
	cfg := authstate.Config{
		Backend:      backend,
		Policy:       o.policy,
		Clock:        authstate.RealClock{},
		LogSize:      tuiLogSize,
		PollInterval: o.poll,
		Labels:       labels,
	}
	if tap != nil {
		tap.hook(&cfg)
	}
	if consumer {
		cfg.Consumer = &authstate.ConsumerConfig{Backend: backend, Query: o.Query, QueryInterval: o.QueryInterval, PR83: o.PR83}
	}
	eng, err := authstate.New(cfg)
	if err != nil {
		backend.Close()
		return tui.Device{}, err
	}
	return tui.Device{Engine: eng, Transport: backend}, nil
}

// logEvents copies every engine event to the log file. Events carry labels,
// ids and token fingerprints, never a token, a cookie or a password.
func logEvents(eng *authstate.Engine, logger *slog.Logger, device int) {
	sub := eng.Subscribe(1 << 14)
	go func() {
		for ev := range sub.C {
			logger.Debug("event", "device", device, "seq", ev.Seq, "kind", ev.Kind.String(), "session", ev.Session, "fetch", ev.Fetch, "detail", ev.Summary())
		}
		if n := sub.Dropped(); n > 0 {
			logger.Warn("the log missed events", "device", device, "dropped", n)
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
