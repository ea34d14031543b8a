package fetcher

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Options configure a Client. Only BaseURL is required.
type Options struct {
	// BaseURL is the Better Auth base URL, e.g. http://127.0.0.1:3210/api/auth.
	BaseURL string
	// Origin is sent on every request. Better Auth refuses a cookie-bearing
	// POST without a matching one (403 MISSING_OR_NULL_ORIGIN / INVALID_ORIGIN).
	// Default: scheme://host of BaseURL.
	Origin string
	// Timeout bounds each call, body included. Default DefaultTimeout.
	// Time spent held in Gates counts: a hold longer than this fails the call.
	Timeout time.Duration
	// MaxBody bounds each response body. Default DefaultMaxBody.
	MaxBody int64
	// Transport carries the requests (wrap it in Gates to hold or fault them).
	// Default: a transport of the Client's own (see NewTransport).
	Transport http.RoundTripper
	// Jar holds the session cookies. Default: a fresh, empty jar. The
	// Client remembers the Cookie header it worked out from the jar until
	// a response sets a cookie: once the Client is built, nothing else may
	// write to the jar.
	Jar http.CookieJar
}

// Client is a Better Auth client with its own cookie jar: one Client is one
// device. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	baseURL string
	origin  string
	timeout time.Duration
	maxBody int64
	hc      *http.Client
	cookies *cookies

	jwksMu sync.Mutex
	jwks   *JWKS
	jwksAt time.Time
	// kidAt is when a token with a kid the cached set lacked last caused a
	// fetch (see JWKSUnknownKidInterval).
	kidAt time.Time
	// jwksFlight makes concurrent fetches of the JWKS one request.
	jwksFlight singleflight.Group
}

// NewTransport returns an HTTP transport for one client, with the
// settings of http.DefaultTransport. A client owns its transport so that
// closing it closes only its own connections: a connection it dialed and
// parked unused would otherwise keep a server's graceful shutdown waiting.
func NewTransport() *http.Transport { return http.DefaultTransport.(*http.Transport).Clone() }

// New checks opts and builds a Client.
func New(opts Options) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("fetcher: base URL: %w", err)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("fetcher: base URL %q: want http(s)://host[:port]/path", opts.BaseURL)
	}
	if base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("fetcher: base URL %q: no user info, query or fragment allowed", base.Redacted())
	}
	if strings.ContainsAny(opts.Origin, "\r\n\x00") {
		return nil, errors.New("fetcher: Origin contains control characters")
	}
	if opts.Timeout < 0 || opts.MaxBody < 0 {
		return nil, errors.New("fetcher: negative Timeout or MaxBody")
	}
	c := &Client{
		base:    base,
		baseURL: base.String(),
		origin:  opts.Origin,
		timeout: opts.Timeout,
		maxBody: opts.MaxBody,
	}
	if c.origin == "" {
		c.origin = base.Scheme + "://" + base.Host
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxBody == 0 {
		c.maxBody = DefaultMaxBody
	}
	rt := opts.Transport
	if rt == nil {
		rt = NewTransport()
	}
	jar, own := opts.Jar, false
	if jar == nil {
		jar, _ = cookiejar.New(nil) // cookiejar.New never fails without options
		own = true
	}
	c.cookies = newCookies(jar, own)
	c.hc = &http.Client{
		Transport: rt,
		// The cookies are sent and stored by do, through c.cookies.
		// Better Auth does not redirect these endpoints; a redirect would
		// carry our cookies and Origin elsewhere. Report it as an HTTPError.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// BaseURL is the Better Auth base URL, without a trailing slash.
func (c *Client) BaseURL() string { return c.baseURL }

// CloseIdleConnections closes the connections the client's transport keeps
// open between requests. Call it before the server stops.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Cookies returns the cookies the jar would send to the base URL. Their values
// are secrets: show names, never log values.
func (c *Client) Cookies() []*http.Cookie { return c.cookies.all(c.base) }

// exchange runs one call against path under the base URL. It returns the reply
// when the status is 2xx and *HTTPError otherwise.
func (c *Client) exchange(ctx context.Context, endpoint, method, path string, in any) (*reply, error) {
	h := http.Header{}
	h.Set("Accept", "application/json")
	h.Set("Origin", c.origin)
	h.Set("User-Agent", "authscope")
	r, err := do(ctx, c.hc, call{
		endpoint: endpoint, method: method, url: c.baseURL + path, body: in, header: h,
		timeout: c.timeout, maxBody: c.maxBody, cookies: c.cookies,
	})
	if err != nil {
		return nil, err
	}
	if !r.ok() {
		return nil, httpErrorOf(endpoint, r)
	}
	return r, nil
}

// callJSON runs exchange and decodes the answer into out.
func (c *Client) callJSON(ctx context.Context, endpoint, method, path string, in, out any) error {
	r, err := c.exchange(ctx, endpoint, method, path, in)
	if err != nil {
		return err
	}
	return decodeJSON(endpoint, r, out)
}

func (c *Client) authCall(ctx context.Context, endpoint, path string, in any) (*AuthResponse, error) {
	var w authResponseWire
	if err := c.callJSON(ctx, endpoint, http.MethodPost, path, in, &w); err != nil {
		return nil, err
	}
	if w.User == nil {
		return nil, badResponse(endpoint, "no user in the answer")
	}
	if err := w.User.check(); err != nil {
		return nil, badResponse(endpoint, "%v", err)
	}
	return &AuthResponse{Token: deref(w.Token), User: w.User.value(), Redirect: w.Redirect, URL: deref(w.URL)}, nil
}

// SignUp creates an account (POST sign-up/email) and, when the server signs
// the new user in, stores the session cookie.
func (c *Client) SignUp(ctx context.Context, email, password, name string) (*AuthResponse, error) {
	return c.authCall(ctx, EndpointSignUp, "/sign-up/email",
		map[string]string{"email": email, "password": password, "name": name})
}

// SignIn signs in with email and password (POST sign-in/email).
func (c *Client) SignIn(ctx context.Context, email, password string) (*AuthResponse, error) {
	return c.authCall(ctx, EndpointSignIn, "/sign-in/email",
		map[string]string{"email": email, "password": password})
}

// ChangePassword changes the password. With revokeOtherSessions Better Auth
// deletes every session of the user, the caller's included, and gives the
// caller a new one: the session id rotates and Token is the new session token.
// Without it, Token is empty.
func (c *Client) ChangePassword(ctx context.Context, current, next string, revokeOtherSessions bool) (*AuthResponse, error) {
	return c.authCall(ctx, EndpointChangePassword, "/change-password", map[string]any{
		"currentPassword": current, "newPassword": next, "revokeOtherSessions": revokeOtherSessions,
	})
}

// SignOut deletes the session on the server and clears the cookies.
func (c *Client) SignOut(ctx context.Context) error {
	var w struct {
		Success *bool `json:"success"`
	}
	if err := c.callJSON(ctx, EndpointSignOut, http.MethodPost, "/sign-out", struct{}{}, &w); err != nil {
		return err
	}
	if w.Success == nil || !*w.Success {
		return badResponse(EndpointSignOut, "want {\"success\":true}")
	}
	return nil
}

// GetSession reads the current session. It returns (nil, nil) when the server
// says null: signed out, or the session is gone.
func (c *Client) GetSession(ctx context.Context) (*SessionResponse, error) {
	var w *sessionResponseWire
	if err := c.callJSON(ctx, EndpointGetSession, http.MethodGet, "/get-session", nil, &w); err != nil {
		return nil, err
	}
	if w == nil {
		return nil, nil
	}
	if w.Session == nil || w.User == nil {
		return nil, badResponse(EndpointGetSession, "want null or {session, user}")
	}
	if err := errors.Join(w.Session.check(), w.User.check()); err != nil {
		return nil, badResponse(EndpointGetSession, "%v", err)
	}
	return &SessionResponse{Session: w.Session.value(), User: w.User.value()}, nil
}

// ListSessions lists the user's active sessions, tokens included.
func (c *Client) ListSessions(ctx context.Context) ([]Session, error) {
	var ws *[]sessionWire
	if err := c.callJSON(ctx, EndpointListSessions, http.MethodGet, "/list-sessions", nil, &ws); err != nil {
		return nil, err
	}
	if ws == nil {
		return nil, badResponse(EndpointListSessions, "want an array, got null")
	}
	out := make([]Session, 0, len(*ws))
	for i := range *ws {
		if err := (*ws)[i].check(); err != nil {
			return nil, badResponse(EndpointListSessions, "item %d: %v", i, err)
		}
		out = append(out, (*ws)[i].value())
	}
	return out, nil
}

func (c *Client) statusCall(ctx context.Context, endpoint, path string, in any) error {
	var w struct {
		Status *bool `json:"status"`
	}
	if err := c.callJSON(ctx, endpoint, http.MethodPost, path, in, &w); err != nil {
		return err
	}
	if w.Status == nil || !*w.Status {
		return badResponse(endpoint, "want {\"status\":true}")
	}
	return nil
}

// RevokeSession deletes the session with this token if it belongs to the user.
func (c *Client) RevokeSession(ctx context.Context, sessionToken string) error {
	return c.statusCall(ctx, EndpointRevokeSession, "/revoke-session", map[string]string{"token": sessionToken})
}

// RevokeSessions deletes every session of the user, the caller's included.
func (c *Client) RevokeSessions(ctx context.Context) error {
	return c.statusCall(ctx, EndpointRevokeSessions, "/revoke-sessions", struct{}{})
}

// RevokeOtherSessions deletes every session of the user but the caller's.
func (c *Client) RevokeOtherSessions(ctx context.Context) error {
	return c.statusCall(ctx, EndpointRevokeOtherSessions, "/revoke-other-sessions", struct{}{})
}

// ConvexToken fetches a Convex JWT for the current session (GET convex/token).
// Signed out, the server answers 401: an *HTTPError with Code "UNAUTHORIZED".
// The answer must hold a decodable JWT; its signature is not checked here
// (see Verifier).
func (c *Client) ConvexToken(ctx context.Context) (string, error) {
	tok, err := c.convexToken(ctx)
	if err != nil {
		return "", err
	}
	return tok.Raw, nil
}

// convexToken is ConvexToken with the token decoded, so that the caller
// need not decode it again.
func (c *Client) convexToken(ctx context.Context) (*Token, error) {
	var w struct {
		Token *string `json:"token"`
	}
	if err := c.callJSON(ctx, EndpointToken, http.MethodGet, "/convex/token", nil, &w); err != nil {
		return nil, err
	}
	if w.Token == nil || *w.Token == "" {
		return nil, badResponse(EndpointToken, "no token in the answer")
	}
	tok, err := DecodeJWT(*w.Token)
	if err != nil {
		return nil, badResponse(EndpointToken, "token is not a JWT: %v", err)
	}
	return tok, nil
}

// JWKS fetches the key set the Convex plugin signs with (GET convex/jwks).
func (c *Client) JWKS(ctx context.Context) (*JWKS, error) {
	var w struct {
		Keys *[]JWK `json:"keys"`
	}
	if err := c.callJSON(ctx, EndpointJWKS, http.MethodGet, "/convex/jwks", nil, &w); err != nil {
		return nil, err
	}
	if w.Keys == nil {
		return nil, badResponse(EndpointJWKS, "no keys array")
	}
	return &JWKS{Keys: *w.Keys}, nil
}

const (
	// JWKSMaxAge is how long Verifier reuses a fetched JWKS before fetching
	// it again. Short enough that a restarted server or rotated keys are
	// picked up soon, long enough that a burst of tokens costs one fetch.
	JWKSMaxAge = 30 * time.Second
	// JWKSUnknownKidInterval is the least time between two fetches caused
	// by tokens whose kid the cached set lacks. A server that rotated its
	// keys is picked up at once; one that signs with keys it does not
	// publish costs a fetch per interval, not one per token.
	JWKSUnknownKidInterval = 5 * time.Second
)

// Verifier returns a Verifier over the server's JWKS, fetched on the first
// call and reused for JWKSMaxAge (RefreshJWKS forces a fetch). Concurrent
// callers share one fetch. A failed refetch keeps the previous set; a
// failed first fetch is not cached. issuer, when not empty, must equal each
// token's iss (the server's CONVEX_SITE_URL).
func (c *Client) Verifier(ctx context.Context, issuer string) (*Verifier, error) {
	return c.VerifierFor(ctx, issuer, "")
}

// VerifierFor is Verifier for a token signed with kid: when the cached set
// lacks kid, it fetches the set again, at most once per
// JWKSUnknownKidInterval. The Verifier it returns may still lack kid; its
// Verify then says so.
func (c *Client) VerifierFor(ctx context.Context, issuer, kid string) (*Verifier, error) {
	c.jwksMu.Lock()
	keys, at := c.jwks, c.jwksAt
	refetch := keys == nil || time.Since(at) >= JWKSMaxAge
	if !refetch && kid != "" && !hasKid(keys, kid) && time.Since(c.kidAt) >= JWKSUnknownKidInterval {
		refetch = true
		c.kidAt = time.Now()
	}
	c.jwksMu.Unlock()
	if refetch {
		k, err := c.sharedFetch(ctx, at)
		switch {
		case err == nil:
			keys = k
		case keys == nil:
			return nil, err
		}
	}
	return &Verifier{Keys: keys, Issuer: issuer}, nil
}

// RefreshJWKS fetches the JWKS now and caches it for Verifier. A fetch
// already under way counts: its answer is the caller's too.
func (c *Client) RefreshJWKS(ctx context.Context) (*JWKS, error) {
	c.jwksMu.Lock()
	at := c.jwksAt
	c.jwksMu.Unlock()
	return c.sharedFetch(ctx, at)
}

// sharedFetch fetches the JWKS, unless a set newer than seen (when the
// caller looked at the cache) has arrived meanwhile, and joins a fetch
// already under way. The fetch runs on even if the caller who started it
// gives up, bounded by the client's timeout, since others may be waiting
// on it.
func (c *Client) sharedFetch(ctx context.Context, seen time.Time) (*JWKS, error) {
	ch := c.jwksFlight.DoChan("jwks", func() (any, error) {
		c.jwksMu.Lock()
		keys, at := c.jwks, c.jwksAt
		c.jwksMu.Unlock()
		if keys != nil && at.After(seen) {
			return keys, nil
		}
		keys, err := c.JWKS(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		c.jwksMu.Lock()
		c.jwks, c.jwksAt = keys, time.Now()
		c.jwksMu.Unlock()
		return keys, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*JWKS), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("fetcher: %s: %w", EndpointJWKS, ctx.Err())
	}
}

func hasKid(set *JWKS, kid string) bool {
	if set == nil {
		return false
	}
	for _, k := range set.Keys {
		if k.Kid == kid {
			return true
		}
	}
	return false
}
