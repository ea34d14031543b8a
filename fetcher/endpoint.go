package fetcher

import (
	"net/http"
	"strings"
)

// Endpoint names, shared by the client, the gates, the engine and the TUI.
const (
	EndpointSignUp              = "sign-up"
	EndpointSignIn              = "sign-in"
	EndpointSignOut             = "sign-out"
	EndpointGetSession          = "get-session"
	EndpointChangePassword      = "change-password"
	EndpointListSessions        = "list-sessions"
	EndpointRevokeSession       = "revoke-session"
	EndpointRevokeSessions      = "revoke-sessions"
	EndpointRevokeOtherSessions = "revoke-other-sessions"
	EndpointToken               = "token"
	EndpointJWKS                = "jwks"
	EndpointQuery               = "query"
)

// Endpoints lists every endpoint name, in a stable order.
func Endpoints() []string {
	out := make([]string, len(endpointPaths))
	for i, e := range endpointPaths {
		out[i] = e.name
	}
	return out
}

// endpointPaths maps the path suffix under the Better Auth base path (or the
// Convex origin, for /api/query) to the endpoint name. Matching is on whole
// path segments, so "/revoke-session" never matches "/revoke-sessions".
var endpointPaths = []struct{ suffix, name string }{
	{"/sign-up/email", EndpointSignUp},
	{"/sign-in/email", EndpointSignIn},
	{"/sign-out", EndpointSignOut},
	{"/get-session", EndpointGetSession},
	{"/change-password", EndpointChangePassword},
	{"/list-sessions", EndpointListSessions},
	{"/revoke-session", EndpointRevokeSession},
	{"/revoke-sessions", EndpointRevokeSessions},
	{"/revoke-other-sessions", EndpointRevokeOtherSessions},
	{"/convex/token", EndpointToken},
	{"/convex/jwks", EndpointJWKS},
	{"/api/query", EndpointQuery},
}

// EndpointOf names the endpoint a request is for, from its URL path
// (".../sign-up/email" → "sign-up", ".../convex/token" → "token",
// "/api/query" → "query"). It returns "" for any other path.
func EndpointOf(r *http.Request) string {
	if r == nil || r.URL == nil {
		return ""
	}
	return endpointOfPath(r.URL.Path)
}

func endpointOfPath(p string) string {
	p = strings.TrimRight(p, "/")
	for _, e := range endpointPaths {
		if strings.HasSuffix(p, e.suffix) { // suffixes start with "/", so this matches whole segments
			return e.name
		}
	}
	return ""
}
