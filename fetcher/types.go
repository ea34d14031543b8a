package fetcher

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// Session is a Better Auth session as get-session and list-sessions return it.
// Token is the session token (the session cookie's raw value): a bearer
// secret, so String, GoString and LogValue never show it.
type Session struct {
	ID        string
	Token     string
	UserID    string
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	IPAddress string
	UserAgent string
}

// User is a Better Auth user.
type User struct {
	ID            string
	Name          string
	Email         string
	EmailVerified bool
	Image         *string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// SessionResponse is a signed-in get-session answer.
type SessionResponse struct {
	Session Session
	User    User
}

// AuthResponse is what sign-up, sign-in and change-password return. Token is
// the session token (empty when the server sent null); a secret.
type AuthResponse struct {
	Token    string
	User     User
	Redirect bool
	URL      string
}

func secretMark(s string) string {
	if s == "" {
		return ""
	}
	return Redacted
}

func (s Session) String() string {
	return fmt.Sprintf("Session{ID:%s UserID:%s Token:%s ExpiresAt:%s}",
		s.ID, s.UserID, secretMark(s.Token), fmtTime(s.ExpiresAt))
}

// GoString keeps %#v from printing the token.
func (s Session) GoString() string { return "fetcher." + s.String() }

// LogValue implements slog.LogValuer with the token redacted.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", s.ID),
		slog.String("userId", s.UserID),
		slog.String("token", secretMark(s.Token)),
		slog.Time("expiresAt", s.ExpiresAt),
	)
}

func (u User) String() string {
	return fmt.Sprintf("User{ID:%s Email:%s Name:%s}", u.ID, u.Email, strconv.Quote(u.Name))
}

func (r SessionResponse) String() string {
	return fmt.Sprintf("SessionResponse{%s %s}", r.Session, r.User)
}

// GoString keeps %#v from printing the token.
func (r SessionResponse) GoString() string { return "fetcher." + r.String() }

// LogValue implements slog.LogValuer with the token redacted.
func (r SessionResponse) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("session", r.Session),
		slog.String("userId", r.User.ID),
	)
}

func (r AuthResponse) String() string {
	return fmt.Sprintf("AuthResponse{Token:%s %s Redirect:%t}", secretMark(r.Token), r.User, r.Redirect)
}

// GoString keeps %#v from printing the token.
func (r AuthResponse) GoString() string { return "fetcher." + r.String() }

// LogValue implements slog.LogValuer with the token redacted.
func (r AuthResponse) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("token", secretMark(r.Token)),
		slog.String("userId", r.User.ID),
		slog.Bool("redirect", r.Redirect),
	)
}

// Wire forms. Required objects are pointers so a missing one is told apart
// from an empty one.

type sessionWire struct {
	ID        string   `json:"id"`
	Token     string   `json:"token"`
	UserID    string   `json:"userId"`
	ExpiresAt wireTime `json:"expiresAt"`
	CreatedAt wireTime `json:"createdAt"`
	UpdatedAt wireTime `json:"updatedAt"`
	IPAddress *string  `json:"ipAddress"`
	UserAgent *string  `json:"userAgent"`
}

func (w *sessionWire) check() error {
	if w.ID == "" {
		return fmt.Errorf("session has no id")
	}
	if w.UserID == "" {
		return fmt.Errorf("session %s has no userId", w.ID)
	}
	return nil
}

func (w *sessionWire) value() Session {
	return Session{
		ID: w.ID, Token: w.Token, UserID: w.UserID,
		ExpiresAt: w.ExpiresAt.Time, CreatedAt: w.CreatedAt.Time, UpdatedAt: w.UpdatedAt.Time,
		IPAddress: deref(w.IPAddress), UserAgent: deref(w.UserAgent),
	}
}

type userWire struct {
	ID            string   `json:"id"`
	Name          *string  `json:"name"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"emailVerified"`
	Image         *string  `json:"image"`
	CreatedAt     wireTime `json:"createdAt"`
	UpdatedAt     wireTime `json:"updatedAt"`
}

func (w *userWire) check() error {
	if w.ID == "" {
		return fmt.Errorf("user has no id")
	}
	return nil
}

func (w *userWire) value() User {
	return User{
		ID: w.ID, Name: deref(w.Name), Email: w.Email, EmailVerified: w.EmailVerified,
		Image: w.Image, CreatedAt: w.CreatedAt.Time, UpdatedAt: w.UpdatedAt.Time,
	}
}

type sessionResponseWire struct {
	Session *sessionWire `json:"session"`
	User    *userWire    `json:"user"`
}

type authResponseWire struct {
	Token    *string   `json:"token"`
	User     *userWire `json:"user"`
	Redirect bool      `json:"redirect"`
	URL      *string   `json:"url"`
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// wireTime accepts what a Better Auth server may send for a date: an ISO 8601
// string (the JSON form of a JS Date), epoch milliseconds (a Convex-stored
// date passed through), or null.
type wireTime struct{ time.Time }

func (t *wireTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("date %q is not ISO 8601", truncateRunes(printable(s), 40))
		}
		t.Time = v
		return nil
	}
	ms, err := strconv.ParseFloat(string(b), 64)
	if err != nil || ms != ms || ms > 1e15 || ms < -1e15 {
		return fmt.Errorf("date %s is neither a string nor epoch milliseconds", truncateRunes(printable(string(b)), 40))
	}
	t.Time = time.UnixMilli(int64(ms)).UTC()
	return nil
}
