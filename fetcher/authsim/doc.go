// Package authsim is an in-memory simulator of a Better Auth server
// (better-auth 1.6.34) running the Convex plugin (@convex-dev/better-auth
// 0.12.5), plus a Convex-like query endpoint, served as one http.Handler.
//
// It answers the same paths, methods, statuses, JSON shapes, Set-Cookie
// headers and CSRF rule as the real server under the base path /api/auth,
// including the real server's quirks where a client could observe them (for
// example: a successful session middleware keeps only its last Set-Cookie,
// and /get-session on an expired session still refreshes the convex_jwt
// cookie). Where this package chooses a behaviour the real server does not
// have (the Convex query endpoint, the controls), the choice is documented
// next to the code.
//
// Controls (latency, holds, faults, session expiry) are reachable in-process
// through methods on Server and, for `authscope sim`, through the
// loopback-only ControlHandler.
//
// Secrets: session tokens, cookies and passwords never appear in a String or
// LogValue of a type in this package.
package authsim
