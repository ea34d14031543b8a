package fetcher

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authscope/authscope/authstate"
)

// BackendOptions configure a Backend.
type BackendOptions struct {
	// BaseURL is the Better Auth base URL, e.g. http://127.0.0.1:3210/api/auth.
	BaseURL string
	// Origin defaults to the scheme and host of BaseURL.
	Origin   string
	Email    string
	Password string
	// Timeout bounds each call (default 10s).
	Timeout time.Duration
	// Now is the clock used to check token expiry (default time.Now).
	Now func() time.Time
	// Issuer, if set, is the iss every token must carry.
	Issuer string
	// ConvexURL is the Convex deployment whose HTTP API (POST /api/query)
	// the consumer model queries; empty means none.
	ConvexURL string
	// SessionCookie, instead of a password, starts the client signed in:
	// the value of the better-auth.session_token cookie (as the browser
	// holds it, signed). Password-based actions then fail with a clear error.
	SessionCookie string
	// Transport carries the requests underneath the gates (default: a
	// transport of the backend's own, see NewTransport). Every request of
	// the backend goes through it: Better Auth calls, the JWKS, Convex
	// queries. An in-process simulator passes its RoundTripper here.
	Transport http.RoundTripper
}

// Backend is one client of a Better Auth server as the engine sees it: a
// Client with its own cookie jar, behind transport Gates, holding the
// credentials it signs in with. It satisfies authstate.Backend and the
// scenario runner's Client.
type Backend struct {
	client   *Client
	gates    *Gates
	email    string
	password string
	issuer   string
	now      func() time.Time

	convexURL  string
	hc         *http.Client
	cookieOnly bool

	onClose func()
}

// NewBackend builds a client with fresh gates and an empty cookie jar (or
// one holding the given session cookie).
func NewBackend(o BackendOptions) (*Backend, error) {
	next := o.Transport
	if next == nil {
		next = NewTransport()
	}
	gates := NewGates(next)
	c, err := New(Options{BaseURL: o.BaseURL, Origin: o.Origin, Timeout: o.Timeout, Transport: gates})
	if err != nil {
		return nil, err
	}
	if o.SessionCookie != "" {
		u, err := url.Parse(o.BaseURL)
		if err != nil {
			return nil, err
		}
		name := "better-auth.session_token"
		if u.Scheme == "https" {
			name = "__Secure-" + name
		}
		c.cookies.set(u, []*http.Cookie{{Name: name, Value: o.SessionCookie, Path: "/", HttpOnly: true, Secure: u.Scheme == "https"}})
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Backend{
		client: c, gates: gates, email: o.Email, password: o.Password, issuer: o.Issuer, now: now,
		cookieOnly: o.SessionCookie != "" && o.Password == "",
		convexURL:  strings.TrimRight(o.ConvexURL, "/"),
		hc:         &http.Client{Transport: gates},
	}, nil
}

// Client is the underlying Better Auth client.
func (b *Backend) Client() *Client { return b.client }

// Gates are the client-transport gates.
func (b *Backend) Gates() *Gates { return b.gates }

// OnClose registers a function run by Close (a target tears down its
// simulator there).
func (b *Backend) OnClose(f func()) { b.onClose = f }

// FetchToken is GET /convex/token, decoded (once) and verified against the
// JWKS. A token that does not verify is still returned, as the real
// provider would use it, with the reason in Problem.
func (b *Backend) FetchToken(ctx context.Context) (*authstate.Token, error) {
	dec, err := b.client.convexToken(ctx)
	if err != nil {
		return nil, err
	}
	tok := &authstate.Token{Raw: dec.Raw}
	fillClaims(tok, dec)
	v, err := b.client.VerifierFor(ctx, b.issuer, dec.Header.Kid)
	if err != nil {
		tok.Problem = "not verified: " + err.Error()
		return tok, nil
	}
	v.Now = b.now
	if err := v.check(dec); err != nil {
		tok.Problem = Reason(err)
		return tok, nil
	}
	tok.Verified = true
	return tok, nil
}

func fillClaims(t *authstate.Token, d *Token) {
	t.SessionID = d.Claims.SessionID
	t.Subject = d.Claims.Subject
	t.Issuer = d.Claims.Issuer
	t.Audience = d.Claims.Audience
	t.IssuedAt = d.Claims.IssuedAt
	t.ExpiresAt = d.Claims.ExpiresAt
}

// GetSession is GET /get-session. Like Better Auth's client, a 401 counts
// as "no session".
func (b *Backend) GetSession(ctx context.Context) (*authstate.Session, error) {
	r, err := b.client.GetSession(ctx)
	var he *HTTPError
	if errors.As(err, &he) && he.Status == http.StatusUnauthorized {
		return nil, nil
	}
	if err != nil || r == nil {
		return nil, err
	}
	return &authstate.Session{
		ID:        r.Session.ID,
		UserID:    r.Session.UserID,
		Email:     r.User.Email,
		ExpiresAt: r.Session.ExpiresAt,
		CreatedAt: r.Session.CreatedAt,
	}, nil
}

// ChangePassword changes the password to itself; with revokeOthers the
// server rotates the caller's session.
func (b *Backend) ChangePassword(ctx context.Context, revokeOthers bool) error {
	if b.password == "" {
		return ErrNoPassword
	}
	_, err := b.client.ChangePassword(ctx, b.password, b.password, revokeOthers)
	return err
}

// ErrNoPassword: the client was given a session cookie, not a password, so
// it cannot change the password (and so cannot rotate the session).
var ErrNoPassword = errors.New("no password: a client started from a session cookie cannot change the password; give --password to rotate")

// CookieHeader is the Cookie header the client sends to get-session now
// (its values are secrets).
func (b *Backend) CookieHeader() string {
	return b.client.cookies.header(b.client.base.JoinPath("get-session"))
}

// SetCookies stores cookies as if a response from u had set them: the
// client then holds what it would hold after that response.
func (b *Backend) SetCookies(u *url.URL, cookies []*http.Cookie) { b.client.cookies.set(u, cookies) }

// SignIn signs in with the backend's credentials.
// With only a session cookie there is nothing to sign in with, and the
// cookie is already in the jar.
func (b *Backend) SignIn(ctx context.Context) error {
	if b.cookieOnly {
		return nil
	}
	if b.email == "" || b.password == "" {
		return errors.New("no credentials: give an email and a password")
	}
	_, err := b.client.SignIn(ctx, b.email, b.password)
	return err
}

// SignOut signs out.
func (b *Backend) SignOut(ctx context.Context) error { return b.client.SignOut(ctx) }

// Hold starts holding "token" responses or "token_request" requests, or
// stops holding ("none").
func (b *Backend) Hold(what string) error {
	switch what {
	case "token":
		b.gates.HoldRequests("token", false)
		b.gates.HoldResponses("token", true)
	case "token_request":
		b.gates.HoldResponses("token", false)
		b.gates.HoldRequests("token", true)
	case "none":
		b.gates.HoldRequests("token", false)
		b.gates.HoldResponses("token", false)
	default:
		return fmt.Errorf("cannot hold %q (want token, token_request or none)", what)
	}
	return nil
}

// Release lets held items go: "all", "oldest" or "latest".
func (b *Backend) Release(which string) int { return b.gates.Release(which) }

// Held is how many requests or responses are held.
func (b *Backend) Held() int { return b.gates.Held() }

// HeldSummary lists what is held, e.g. "token response #3, token response #4".
func (b *Backend) HeldSummary() string { return strings.Join(b.HeldList(), ", ") }

// HeldList names what is held, in arrival order, e.g. "token response #3".
// The engine names what a release let go with it.
func (b *Backend) HeldList() []string {
	var parts []string
	for _, it := range b.gates.HeldItems() {
		parts = append(parts, fmt.Sprintf("%s %s #%d", it.Endpoint, it.Kind, it.ID))
	}
	return parts
}

// Holding reports what is held on the token endpoint: "token" (responses),
// "token_request" (requests) or "none".
func (b *Backend) Holding() string {
	req, resp := b.gates.Holding("token")
	switch {
	case resp:
		return "token"
	case req:
		return "token_request"
	}
	return "none"
}

// SetLatency adds client-side latency before requests to endpoint.
func (b *Backend) SetLatency(endpoint string, d time.Duration) { b.gates.SetLatency(endpoint, d) }

// Latency is the added latency for endpoint.
func (b *Backend) Latency(endpoint string) time.Duration { return b.gates.Latency(endpoint) }

// SetNotify registers a function called when the held set changes.
func (b *Backend) SetNotify(f func()) { b.gates.SetNotify(f) }

// InjectFault makes the next request to endpoint fail in the client
// transport: with an HTTP status, or as a dropped connection.
func (b *Backend) InjectFault(endpoint string, status int, network bool) error {
	if (status == 0) == !network {
		return errors.New("a fault is a status or a network failure")
	}
	b.gates.InjectFault(endpoint, Fault{Status: status, Network: network})
	return nil
}

// Close releases everything held, closes the idle connections of the
// backend's transport (so that a server stopping next does not wait for
// them), and runs the OnClose hook.
func (b *Backend) Close() {
	b.gates.HoldRequests("token", false)
	b.gates.HoldResponses("token", false)
	b.gates.Release("all")
	b.gates.CloseIdleConnections()
	if b.onClose != nil {
		b.onClose()
	}
}

// ConvexURL is the deployment the consumer queries ("" when none).
func (b *Backend) ConvexURL() string { return b.convexURL }

// Query runs a Convex query through the deployment's HTTP API with the
// token as the user identity (none when nil), through the same transport
// gates. A refused identity (HTTP 401 or 403) is reported as an auth error,
// a function that threw as an error message.
func (b *Backend) Query(ctx context.Context, path string, tok *authstate.Token) (authstate.QueryResult, error) {
	if b.convexURL == "" {
		return authstate.QueryResult{}, errors.New("no Convex URL configured")
	}
	jwt := ""
	if tok != nil {
		jwt = tok.Raw
	}
	r, err := QueryConvex(ctx, b.hc, b.convexURL, path, nil, jwt)
	var he *HTTPError
	if errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden) {
		msg := he.Message
		if msg == "" {
			msg = he.Code
		}
		return authstate.QueryResult{AuthError: msg}, nil
	}
	if err != nil {
		return authstate.QueryResult{}, err
	}
	if !r.OK() {
		return authstate.QueryResult{Error: r.ErrorMessage}, nil
	}
	v := string(r.Value)
	if len(v) > 80 {
		v = v[:77] + "..."
	}
	return authstate.QueryResult{Value: v}, nil
}

var (
	_ authstate.Backend       = (*Backend)(nil)
	_ authstate.ConvexBackend = (*Backend)(nil)
)
