package authsim

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
)

type user struct {
	id            string
	name          string
	email         string
	emailVerified bool
	createdAt     time.Time
	updatedAt     time.Time
	salt          []byte
	passwordHash  []byte
}

type session struct {
	id        string
	token     string
	userID    string
	expiresAt time.Time
	createdAt time.Time
	updatedAt time.Time
	ipAddress string
	userAgent string
}

// expired is Better Auth's test: expiresAt < now.
func (se *session) expired(now time.Time) bool { return se.expiresAt.Before(now) }

// SessionInfo is a snapshot of one server-side session. Its String and
// LogValue never include the token.
type SessionInfo struct {
	ID        string
	UserID    string
	Token     string
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// String describes the session without its token.
func (i SessionInfo) String() string {
	return fmt.Sprintf("session %s user %s expires %s", i.ID, i.UserID, i.ExpiresAt.UTC().Format(time.RFC3339))
}

// GoString keeps %#v from printing the token.
func (i SessionInfo) GoString() string {
	return fmt.Sprintf("authsim.SessionInfo{ID:%q, UserID:%q, Token:\"[redacted]\", ExpiresAt:%q}", i.ID, i.UserID, i.ExpiresAt.UTC().Format(time.RFC3339Nano))
}

// LogValue keeps slog from recording the token.
func (i SessionInfo) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", i.ID),
		slog.String("userId", i.UserID),
		slog.Time("expiresAt", i.ExpiresAt),
	)
}

// idAlphabet is Better Auth's generateId alphabet.
const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// idSource makes the simulator's ids and secrets: from crypto/rand, or,
// for a deterministic simulator (Options.Deterministic), from a generator
// with a fixed seed.
type idSource struct {
	mu  sync.Mutex
	rng *mathrand.ChaCha8 // nil: crypto/rand
}

// deterministicSeed seeds every deterministic simulator alike.
var deterministicSeed = sha256.Sum256([]byte("authscope simulator"))

func newIDSource(deterministic bool) *idSource {
	if deterministic {
		return &idSource{rng: mathrand.NewChaCha8(deterministicSeed)}
	}
	return &idSource{}
}

// fork returns a source that makes the ids g will make from now on (a
// deterministic g), or a fresh random one.
func (g *idSource) fork() *idSource {
	if g.rng == nil {
		return &idSource{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	state, err := g.rng.MarshalBinary()
	if err != nil {
		panic("authsim: ChaCha8 state: " + err.Error()) // MarshalBinary never fails
	}
	var rng mathrand.ChaCha8
	if err := rng.UnmarshalBinary(state); err != nil {
		panic("authsim: ChaCha8 state: " + err.Error()) // its own output always reads back
	}
	return &idSource{rng: &rng}
}

// read fills b with random bytes.
func (g *idSource) read(b []byte) {
	if g.rng == nil {
		if _, err := rand.Read(b); err != nil {
			panic("authsim: crypto/rand failed: " + err.Error()) // crypto/rand never fails on supported platforms
		}
		return
	}
	g.mu.Lock()
	g.rng.Read(b)
	g.mu.Unlock()
}

// newID returns a random 32-character id like Better Auth's generateId(32).
func (g *idSource) newID() string {
	var out [32]byte
	var buf [64]byte
	n := 0
	for n < len(out) {
		g.read(buf[:])
		for _, b := range buf {
			// 248 = 4*62: rejection sampling keeps the distribution uniform.
			if b < 248 && n < len(out) {
				out[n] = idAlphabet[int(b)%len(idAlphabet)]
				n++
			}
		}
	}
	return string(out[:])
}

func hashPassword(salt []byte, password string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(password))
	return h.Sum(nil)
}

func (u *user) checkPassword(password string) bool {
	return subtle.ConstantTimeCompare(hashPassword(u.salt, password), u.passwordHash) == 1
}

func (u *user) setPassword(ids *idSource, password string) {
	u.salt = []byte(ids.newID())
	u.passwordHash = hashPassword(u.salt, password)
}

// jsLen is JavaScript's string length (UTF-16 code units), which Better Auth
// uses for its password length rules.
func jsLen(s string) int { return len(utf16.Encode([]rune(s))) }

// millis truncates to JavaScript Date precision.
func millis(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

func (s *Server) nowMillis() time.Time { return millis(s.now()) }

// createUser adds a user with a credential account.
func (s *Server) createUser(name, email, password string) (*user, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createUserLocked(name, email, password)
}

func (s *Server) createUserLocked(name, email, password string) (*user, error) {
	email = strings.ToLower(email)
	if _, dup := s.byEmail[email]; dup {
		return nil, errDuplicateUser
	}
	now := s.nowMillis()
	u := &user{id: s.ids.newID(), name: name, email: email, createdAt: now, updatedAt: now}
	u.setPassword(s.ids, password)
	s.users[u.id] = u
	s.byEmail[email] = u
	return u, nil
}

var errDuplicateUser = fmt.Errorf("authsim: user already exists")

// createSessionLocked opens a session for a user; s.mu must be held.
func (s *Server) createSessionLocked(userID string, dontRemember bool, ip, ua string) *session {
	now := s.nowMillis()
	life := sessionExpiresIn
	if dontRemember {
		life = dontRememberExpires
	}
	se := &session{
		id:        s.ids.newID(),
		token:     s.ids.newID(),
		userID:    userID,
		expiresAt: now.Add(life),
		createdAt: now,
		updatedAt: now,
		ipAddress: ip,
		userAgent: ua,
	}
	s.sessions[se.token] = se
	s.sessionsByID[se.id] = se
	if len(s.issued) < maxIssuedKept {
		s.issued = append(s.issued, se.token)
	}
	return se
}

// maxIssuedKept bounds the list IssuedTokens returns.
const maxIssuedKept = 10000

// IssuedTokens returns every session token the server has issued (the first
// 10,000), deleted sessions included. It is for audits and tests that check
// that nothing a client wrote holds one.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// deleteUserSessionsLocked deletes every session of a user; s.mu must be held.
func (s *Server) deleteUserSessionsLocked(userID string) {
	for _, se := range s.sessions {
		if se.userID == userID {
			s.deleteSessionLocked(se)
		}
	}
}

// deleteSessionLocked removes a session (nil is fine); s.mu must be held.
func (s *Server) deleteSessionLocked(se *session) {
	if se == nil {
		return
	}
	delete(s.sessions, se.token)
	delete(s.sessionsByID, se.id)
}

// sessionByIDLocked finds a session by id; s.mu must be held.
func (s *Server) sessionByIDLocked(id string) *session { return s.sessionsByID[id] }

// userSessionsLocked lists a user's sessions, oldest first; s.mu must be held.
func (s *Server) userSessionsLocked(userID string) []*session {
	var out []*session
	for _, se := range s.sessions {
		if se.userID == userID {
			out = append(out, se)
		}
	}
	sortSessions(out)
	return out
}

func sortSessions(ss []*session) {
	sort.Slice(ss, func(i, j int) bool {
		if !ss[i].createdAt.Equal(ss[j].createdAt) {
			return ss[i].createdAt.Before(ss[j].createdAt)
		}
		return ss[i].id < ss[j].id
	})
}

// ExpireSession makes a session expired now (it stays stored, as an expired
// row would in the real database, until a request notices it). It reports
// whether the session existed.
func (s *Server) ExpireSession(sessionID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.sessionByIDLocked(sessionID)
	if se == nil {
		return false
	}
	// Better Auth treats a session as expired when expiresAt < now.
	se.expiresAt = s.nowMillis().Add(-time.Millisecond)
	return true
}

// Sessions returns a snapshot of every stored session, oldest first.
func (s *Server) Sessions() []SessionInfo {
	s.mu.Lock()
	all := make([]*session, 0, len(s.sessions))
	for _, se := range s.sessions {
		all = append(all, se)
	}
	sortSessions(all)
	out := make([]SessionInfo, len(all))
	for i, se := range all {
		out[i] = SessionInfo{
			ID: se.id, UserID: se.userID, Token: se.token,
			ExpiresAt: se.expiresAt, CreatedAt: se.createdAt, UpdatedAt: se.updatedAt,
		}
	}
	s.mu.Unlock()
	return out
}
