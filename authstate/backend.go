package authstate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"
)

// Backend is what the engine needs from the network: the calls a Better Auth
// client makes. The fetcher package provides the real implementation; the
// engine never speaks HTTP itself.
type Backend interface {
	// FetchToken is GET /convex/token. A signed-out answer (401) is reported
	// as an error that is not Transient.
	FetchToken(ctx context.Context) (*Token, error)
	// GetSession is GET /get-session; (nil, nil) means the server said null.
	GetSession(ctx context.Context) (*Session, error)
	// ChangePassword changes the password to itself; with revokeOthers it
	// rotates the caller's session.
	ChangePassword(ctx context.Context, revokeOthers bool) error
	SignIn(ctx context.Context) error
	SignOut(ctx context.Context) error
}

// Session is what the client learns from get-session. The session token is
// deliberately absent: the engine never needs it.
type Session struct {
	ID        string    `json:"id"`
	UserID    string    `json:"userId,omitempty"`
	Email     string    `json:"email,omitempty"`
	ExpiresAt time.Time `json:"expiresAt"`
	CreatedAt time.Time `json:"createdAt"`
}

// Token is a Convex JWT as the client holds it, with the claims the engine
// reasons about already decoded.
type Token struct {
	Raw       string
	SessionID string
	Subject   string
	Issuer    string
	Audience  []string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Verified is true when the signature and claims checked out against the
	// server's JWKS; Problem says why not otherwise.
	Verified bool
	Problem  string
	// fingerprint, when set, is the recorded fingerprint of a token read
	// back from a trace whose JWT was redacted.
	fingerprint string
}

// Fingerprint is a short, stable, non-secret name for the token.
func (t *Token) Fingerprint() string {
	if t == nil {
		return ""
	}
	if t.fingerprint != "" {
		return t.fingerprint
	}
	sum := sha256.Sum256([]byte(t.Raw))
	return hex.EncodeToString(sum[:4])
}

// ExpiredAt reports whether the token is expired at now, treating it as
// expired leeway early.
func (t *Token) ExpiredAt(now time.Time, leeway time.Duration) bool {
	if t == nil || t.ExpiresAt.IsZero() {
		return false
	}
	return !now.Before(t.ExpiresAt.Add(-leeway))
}

// LogValue keeps the raw JWT (and so its signature) out of logs.
func (t *Token) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("none")
	}
	return slog.GroupValue(
		slog.String("fingerprint", t.Fingerprint()),
		slog.String("sessionId", t.SessionID),
		slog.Time("exp", t.ExpiresAt),
	)
}

// String keeps the raw JWT out of fmt output too.
func (t *Token) String() string {
	if t == nil {
		return "none"
	}
	return "jwt:" + t.Fingerprint()
}

// IsTransient reports whether err is a failure worth retrying (network
// trouble, timeouts, 5xx) rather than an authoritative answer such as 401.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var t interface{ Transient() bool }
	if errors.As(err, &t) {
		return t.Transient()
	}
	return errors.Is(err, context.DeadlineExceeded)
}
