package authsim

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Algorithms the simulator can sign JWTs with.
const (
	AlgEdDSA = "EdDSA"
	AlgRS256 = "RS256"
)

// BasePath is where the Better Auth endpoints live, as on the real server.
const BasePath = "/api/auth"

// QueryPath is the Convex-like query endpoint.
const QueryPath = "/api/query"

// Defaults for Options.
const (
	DefaultTokenTTL = 900 * time.Second
	DefaultEmail    = "alice@example.com"
	DefaultPassword = "authscope-dev-password"
	DefaultName     = "Alice"
)

// Session lifetimes: Better Auth's defaults (reference §3.2).
const (
	sessionExpiresIn    = 7 * 24 * time.Hour // session.expiresIn, also the cookie Max-Age
	sessionUpdateAge    = 24 * time.Hour     // session.updateAge (sliding refresh)
	sessionFreshAge     = 24 * time.Hour     // session.freshAge (list-sessions)
	dontRememberExpires = 24 * time.Hour     // rememberMe:false sessions
	minPasswordLength   = 8
	maxPasswordLength   = 128
	maxBodyBytes        = 1 << 20
)

// Options configures a simulator. The zero value is usable.
type Options struct {
	// Alg is the JWT signing algorithm: "EdDSA" (default) or "RS256".
	Alg string
	// TokenTTL is the Convex JWT lifetime (default 900 s).
	TokenTTL time.Duration
	// Email, Password and Name describe the user that exists from the start.
	Email, Password, Name string
	// Origin is the server's own origin (scheme://host[:port]): the only
	// trusted Origin for the CSRF rule and the JWT issuer (the CONVEX_SITE_URL
	// analogue). Empty means: derived from each request as http(s)://Host.
	Origin string
	// TrustedOrigins are further origins the CSRF rule accepts, like Better
	// Auth's trustedOrigins option: the server's own origin is always
	// trusted, these are added to it. Each must be an http(s) origin.
	TrustedOrigins []string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Secret signs session cookies (BETTER_AUTH_SECRET analogue); default random.
	Secret string
	// PreserveSession models better-auth PR #9345 (not merged): a
	// change-password with revokeOtherSessions keeps the caller's session
	// and deletes the user's other sessions, sets no session cookie and
	// answers token null. Off, the server rotates the caller's session as
	// Better Auth 1.6 does.
	PreserveSession bool
	// Deterministic takes the ids, session tokens, cookie secret and key
	// id from a generator with a fixed seed instead of crypto/rand: two
	// simulators built alike and asked the same things answer alike, byte
	// for byte, so a run on virtual time gives the same tokens every time
	// (and their signatures are made once, see sigcache). Its session
	// tokens are guessable: only for a simulator nobody else can reach.
	Deterministic bool
}

// Server is the simulator. It implements http.Handler and is safe for
// concurrent use.
type Server struct {
	alg    string
	ttl    time.Duration
	now    func() time.Time
	secret []byte
	origin string // normalized Options.Origin, "" when derived per request
	// trusted are the normalized Options.TrustedOrigins.
	trusted []string
	key     *signingKey
	ids     *idSource
	// preserve is Options.PreserveSession.
	preserve bool

	defEmail, defPassword string

	// sleep waits for a configured latency; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error

	mu           sync.Mutex
	users        map[string]*user    // by id
	byEmail      map[string]*user    // by lower-case email
	sessions     map[string]*session // by token
	issued       []string            // every session token issued, oldest first (bounded)
	sessionsByID map[string]*session
	ctl          map[string]*endpointControl
	changed      chan struct{} // closed and replaced whenever holds change
}

// New builds a simulator with one user (Options.Email/Password/Name).
func New(opts Options) (*Server, error) {
	alg := opts.Alg
	if alg == "" {
		alg = AlgEdDSA
	}
	if alg != AlgEdDSA && alg != AlgRS256 {
		return nil, fmt.Errorf("authsim: unsupported alg %q (want %s or %s)", alg, AlgEdDSA, AlgRS256)
	}
	ttl := opts.TokenTTL
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < time.Second {
		return nil, fmt.Errorf("authsim: token TTL %v is shorter than one second", ttl)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ids := newIDSource(opts.Deterministic)
	secret := opts.Secret
	if secret == "" {
		b := make([]byte, 32)
		ids.read(b)
		secret = hex.EncodeToString(b)
	}
	origin := ""
	if opts.Origin != "" {
		o, ok := urlOrigin(opts.Origin)
		if !ok {
			return nil, fmt.Errorf("authsim: origin %q is not an http(s) origin", opts.Origin)
		}
		origin = o
	}
	var trusted []string
	for _, t := range opts.TrustedOrigins {
		o, ok := urlOrigin(t)
		if !ok {
			return nil, fmt.Errorf("authsim: trusted origin %q is not an http(s) origin", t)
		}
		trusted = append(trusted, o)
	}
	key, err := newSigningKey(alg, ids)
	if err != nil {
		return nil, err
	}
	email, password, name := opts.Email, opts.Password, opts.Name
	if email == "" {
		email = DefaultEmail
	}
	if password == "" {
		password = DefaultPassword
	}
	if name == "" {
		name = DefaultName
	}
	if !validEmail(email) {
		return nil, fmt.Errorf("authsim: default user email is not a valid email")
	}
	if n := jsLen(password); n < minPasswordLength || n > maxPasswordLength {
		return nil, fmt.Errorf("authsim: default user password must be %d to %d characters", minPasswordLength, maxPasswordLength)
	}
	s := &Server{
		alg:          alg,
		ttl:          ttl,
		now:          now,
		secret:       []byte(secret),
		origin:       origin,
		trusted:      trusted,
		key:          key,
		ids:          ids,
		preserve:     opts.PreserveSession,
		defEmail:     strings.ToLower(email),
		defPassword:  password,
		sleep:        sleepContext,
		users:        map[string]*user{},
		byEmail:      map[string]*user{},
		sessions:     map[string]*session{},
		sessionsByID: map[string]*session{},
		ctl:          map[string]*endpointControl{},
		changed:      make(chan struct{}),
	}
	if _, err := s.createUser(name, email, password); err != nil {
		return nil, err
	}
	return s, nil
}

// Alg reports the JWT signing algorithm.
func (s *Server) Alg() string { return s.alg }

// PreservesSession reports whether change-password with
// revokeOtherSessions keeps the caller's session (Options.PreserveSession).
func (s *Server) PreservesSession() bool { return s.preserve }

// DefaultUser returns the credentials of the user that exists from the start.
func (s *Server) DefaultUser() (email, password string) { return s.defEmail, s.defPassword }

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ServeHTTP runs the request through the controls (count, latency, hold,
// fault) and then answers it as the real server would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &trackingWriter{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { // an intended abort (a dropped connection)
				panic(v)
			}
			// Nothing a client sends may crash the server: answer 500 like
			// better-call does for an unexpected error.
			if !rw.wrote {
				rw.WriteHeader(http.StatusInternalServerError)
			}
		}
	}()
	name := EndpointFor(r.URL.EscapedPath())
	fault, faulted := s.arrive(name)
	if err := s.gate(r.Context(), name); err != nil {
		return // the client went away while held or delayed
	}
	if faulted {
		s.applyFault(rw, fault)
		return
	}
	r.Body = http.MaxBytesReader(rw, r.Body, maxBodyBytes)
	path := r.URL.EscapedPath()
	switch {
	case path == QueryPath:
		s.serveQuery(rw, r)
	case strings.HasPrefix(path, BasePath+"/"):
		s.serveAuth(rw, r, strings.TrimPrefix(path, BasePath))
	default:
		notFound(rw)
	}
}

// trackingWriter remembers whether a response was started, for the panic
// guard, and passes hijacking through for dropped connections.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// notFound is better-call's answer for an unknown route: 404, no body.
func notFound(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) }

// requestOrigin is the server's own origin for this request.
func (s *Server) requestOrigin(r *http.Request) string {
	if s.origin != "" {
		return s.origin
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if o, ok := urlOrigin(scheme + "://" + r.Host); ok {
		return o
	}
	return scheme + "://" + r.Host
}

// Fork returns a simulator in the state s is in now: its users, sessions,
// request counts, the ids it will make next and its key. It answers on the
// clock now, and holds nothing and injects no fault. A run that starts
// from a state the same for many runs (signed in, at the same instant)
// makes that state once and forks it, instead of signing in every time.
func (s *Server) Fork(now func() time.Time) *Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &Server{
		alg: s.alg, ttl: s.ttl, now: now, secret: s.secret, origin: s.origin,
		trusted: s.trusted, key: s.key, ids: s.ids.fork(), preserve: s.preserve,
		defEmail: s.defEmail, defPassword: s.defPassword, sleep: s.sleep,
		users:        make(map[string]*user, len(s.users)),
		byEmail:      make(map[string]*user, len(s.byEmail)),
		sessions:     make(map[string]*session, len(s.sessions)),
		sessionsByID: make(map[string]*session, len(s.sessionsByID)),
		issued:       slices.Clone(s.issued),
		ctl:          make(map[string]*endpointControl, len(s.ctl)),
		changed:      make(chan struct{}),
	}
	if f.now == nil {
		f.now = time.Now
	}
	for id, u := range s.users {
		c := *u
		c.salt = slices.Clone(u.salt)
		c.passwordHash = slices.Clone(u.passwordHash)
		f.users[id] = &c
	}
	for email, u := range s.byEmail {
		f.byEmail[email] = f.users[u.id]
	}
	for tok, se := range s.sessions {
		c := *se
		f.sessions[tok] = &c
	}
	for id, se := range s.sessionsByID {
		f.sessionsByID[id] = f.sessions[se.token]
	}
	for name, c := range s.ctl {
		f.ctl[name] = &endpointControl{requests: c.requests}
	}
	return f
}
