package fetcher

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// cookies is a Client's cookie jar with the Cookie header each URL gets
// remembered until the jar changes. net/http's Client asks the jar for
// every request and formats every cookie again (a session-bound JWT cookie
// is several hundred bytes); a client sends many requests between two
// changes of its cookies, so the header is worked out once per change.
//
// The jar stays the one source of truth: a remembered header is what the
// jar gave for that URL, and it is forgotten when cookies are set through
// the cache, or when the earliest expiry of a cookie set so far has come
// (the jar drops an expired cookie by itself). The Client must be the
// jar's only writer once built.
type cookies struct {
	jar http.CookieJar
	now func() time.Time // time.Now; tests move it

	mu      sync.Mutex
	headers map[string]string // by scheme://host/path
	// until is the earliest expiry of a cookie set through the cache;
	// remembered headers are not used from then on.
	until time.Time
	// stored is what each cookie set through the cache holds (by name,
	// domain and path): a response that sets a cookie again to the same
	// value (a server refreshing its expiry) leaves the headers as they
	// are.
	stored map[string]heldCookie
	// own says every cookie in the jar came through the cache (the Client
	// made the jar); paths are then the paths of every cookie ever set,
	// and two URLs of one origin whose paths match the same of them get
	// the same header. Otherwise headers are remembered per URL path.
	own   bool
	paths []string
}

// heldCookie is what a cookie holds, its expiry aside.
type heldCookie struct {
	value                                 string
	quoted, secure, httpOnly, partitioned bool
	sameSite                              http.SameSite
}

// newCookies caches jar; own says the jar is new and empty, so that
// every cookie in it will have come through the cache.
func newCookies(jar http.CookieJar, own bool) *cookies {
	return &cookies{jar: jar, now: time.Now, headers: map[string]string{}, stored: map[string]heldCookie{}, own: own}
}

// key names the header u gets: its origin, and its path or (with own)
// which cookie paths it matches.
func (c *cookies) key(u *url.URL) string {
	path := u.Path
	if path == "" {
		path = "/"
	}
	k := u.Scheme + "://" + u.Host + "\x00"
	if !c.own {
		return k + path
	}
	for _, p := range c.paths {
		if pathMatch(p, path) {
			k += p + "\x00"
		}
	}
	return k
}

// pathMatch is RFC 6265's path-match of a request path by a cookie path.
func pathMatch(cookiePath, path string) bool {
	if !strings.HasPrefix(path, cookiePath) {
		return false
	}
	return len(path) == len(cookiePath) || cookiePath[len(cookiePath)-1] == '/' || path[len(cookiePath)] == '/'
}

// cookiePath is the path a jar stores ck under when u set it: its Path,
// or RFC 6265's default path of u.
func cookiePath(ck *http.Cookie, u *url.URL) string {
	if ck.Path != "" && ck.Path[0] == '/' {
		return ck.Path
	}
	p := u.Path
	i := strings.LastIndex(p, "/")
	if len(p) == 0 || p[0] != '/' || i == 0 {
		return "/"
	}
	return p[:i]
}

// maxRemembered bounds the headers remembered; a client calls a handful of
// endpoints.
const maxRemembered = 64

// header is the Cookie header the jar gives for u ("" for none), formatted
// by net/http as its Client would.
func (c *cookies) header(u *url.URL) string {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	key := c.key(u)
	if h, ok := c.headers[key]; ok && (c.until.IsZero() || now.Before(c.until)) {
		return h
	}
	r := http.Request{Header: http.Header{}}
	for _, ck := range c.jar.Cookies(u) {
		r.AddCookie(ck)
	}
	h := r.Header.Get("Cookie")
	if len(c.headers) >= maxRemembered {
		clear(c.headers)
	}
	c.headers[key] = h
	return h
}

// set stores the cookies a response to u set, as net/http's Client would,
// and forgets the remembered headers.
func (c *cookies) set(u *url.URL, set []*http.Cookie) {
	if len(set) == 0 {
		return
	}
	now := c.now() // before the jar's own now: an expiry here is never later than the jar's
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jar.SetCookies(u, set)
	for _, ck := range set {
		path := cookiePath(ck, u)
		if !slices.Contains(c.paths, path) {
			c.paths = append(c.paths, path)
			slices.Sort(c.paths)
			clear(c.headers)
		}
		id := u.Host + "\x00" + ck.Domain + "\x00" + path + "\x00" + ck.Name
		held := heldCookie{ck.Value, ck.Quoted, ck.Secure, ck.HttpOnly, ck.Partitioned, ck.SameSite}
		if was, ok := c.stored[id]; !ok || was != held || ck.MaxAge < 0 || (!ck.Expires.IsZero() && !ck.Expires.After(now)) {
			clear(c.headers)
		}
		c.stored[id] = held
		var exp time.Time
		switch {
		case ck.MaxAge < 0:
			delete(c.stored, id)
			continue // deleted now
		case ck.MaxAge > 0:
			exp = now.Add(time.Duration(ck.MaxAge) * time.Second)
		case !ck.Expires.IsZero():
			if !ck.Expires.After(now) {
				delete(c.stored, id)
				continue // deleted now
			}
			exp = ck.Expires
		default:
			continue // a session cookie does not expire
		}
		if c.until.IsZero() || exp.Before(c.until) {
			c.until = exp
		}
	}
}

// all is every cookie the jar would send to u.
func (c *cookies) all(u *url.URL) []*http.Cookie {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jar.Cookies(u)
}
