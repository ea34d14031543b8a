// Package fetcher is everything in authscope that speaks HTTP on the client
// side:
//
//   - Client: a Better Auth client with its own cookie jar (one Client is one
//     device) that sends Origin on every request, bounds every call (Timeout)
//     and every body (MaxBody), and returns typed errors: *HTTPError for a
//     non-2xx answer, *NetError for a network failure or a timeout, and
//     ErrBadResponse / ErrBodyTooLarge for answers it cannot use.
//   - DecodeJWT and Verifier: decode a Convex JWT, and verify it by kid
//     against the server's JWKS (EdDSA or RS256 only) with claim checks.
//   - Gates: an http.RoundTripper that holds requests or responses, adds
//     latency and injects faults per endpoint, in the client transport, so it
//     works against any server.
//   - QueryConvex: the Convex HTTP API query probe.
//
// Endpoints are named by the constants Endpoint* ("sign-in", "token", ...);
// EndpointOf maps a request to its name.
//
// Secrets (session tokens, cookies, passwords, JWT signatures) never reach a
// String, GoString or LogValue of a type here, nor an error message: response
// excerpts in errors are redacted.
package fetcher
