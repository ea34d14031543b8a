package authsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authscope/authscope/internal/sigcache"
)

// The Convex-like query endpoint, modelled on the Convex HTTP API
// (reference §2.3) and on the Convex backend's auth errors:
//
//   - POST /api/query {"path","args","format"} with an optional
//     "Authorization: Bearer <JWT>".
//   - A header that is not "Bearer …", or a token that does not parse:
//     401 {"code":"InvalidAuthHeader","message":…}.
//   - A token whose iss/aud match no provider: 401 {"code":"NoAuthProvider",…}.
//   - A bad signature, an unknown kid or an expired token:
//     401 {"code":"Unauthenticated","message":"Could not verify OIDC token
//     claim. Check that the token signature is valid and the token hasn't
//     expired."}. These are the codes and messages the Convex backend answers
//     with for an identity it cannot verify; the request never reaches a
//     function.
//   - A function that throws: HTTP 560 (the status the Convex JS HTTP client
//     treats as "function failed", with the JSON body still present) and
//     {"status":"error","errorMessage":…,"errorData":…,"logLines":[]}.
//     errorData is present for a ConvexError, as for getAuthUser's
//     ConvexError("Unauthenticated").
//   - Success: 200 {"status":"success","value":…,"logLines":[]}.
//
// The one built-in function is auth:getAuthUser, which behaves like
// @convex-dev/better-auth's: it needs an identity, a stored session whose id
// is the JWT's sessionId and whose expiresAt is in the future, and the user
// named by sub; otherwise it throws ConvexError("Unauthenticated").

// StatusFunctionFailed is the HTTP status of a failed Convex function call.
const StatusFunctionFailed = 560

const (
	msgVerifyFailed = "Could not verify OIDC token claim. Check that the token signature is valid and the token hasn't expired."
	msgUnauth       = "Unauthenticated"
)

type convexError struct {
	status  int
	Code    string `json:"code"`
	Message string `json:"message"`
}

type queryRequest struct {
	Path   string          `json:"path"`
	Args   json.RawMessage `json:"args"`
	Format string          `json:"format"`
}

// identity is what Convex knows about the caller after verifying the JWT.
type identity struct {
	subject   string
	sessionID string
}

func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeConvexError(w, convexError{status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed", Message: "Only POST is allowed on /api/query"})
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeConvexError(w, convexError{status: http.StatusRequestEntityTooLarge, Code: "RequestTooLarge", Message: "Request body too large"})
			return
		}
		writeConvexError(w, convexError{status: http.StatusBadRequest, Code: "BadJsonBody", Message: "Could not read the request body"})
		return
	}
	var req queryRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&req); err != nil {
		writeConvexError(w, convexError{status: http.StatusBadRequest, Code: "BadJsonBody", Message: "Could not parse the request body as JSON: " + err.Error()})
		return
	}
	if req.Format != "" && req.Format != "json" {
		writeConvexError(w, convexError{status: http.StatusBadRequest, Code: "BadFormat", Message: fmt.Sprintf("Unsupported format %q: this simulator answers format \"json\"", req.Format)})
		return
	}
	id, cerr := s.verifyIdentity(r)
	if cerr != nil {
		writeConvexError(w, *cerr)
		return
	}
	switch normalizeFunctionPath(req.Path) {
	case "auth:getAuthUser":
		value, ok := s.getAuthUser(id)
		if !ok {
			writeFunctionError(w, "Uncaught ConvexError: "+msgUnauth, msgUnauth)
			return
		}
		writeQueryJSON(w, http.StatusOK, map[string]any{"status": "success", "value": value, "logLines": []string{}})
	default:
		writeFunctionError(w, fmt.Sprintf("Could not find public function for '%s'. Did you forget to run `npx convex dev` or `npx convex deploy`?", req.Path), nil)
	}
}

// normalizeFunctionPath accepts "auth:getAuthUser" and "auth.js:getAuthUser".
func normalizeFunctionPath(p string) string {
	mod, fn, ok := strings.Cut(p, ":")
	if !ok {
		return p
	}
	return strings.TrimSuffix(mod, ".js") + ":" + fn
}

// verifyIdentity verifies the bearer JWT like Convex does for a customJwt /
// OIDC provider with issuer = this origin and applicationID "convex". A
// request without Authorization has no identity (nil, nil).
func (s *Server) verifyIdentity(r *http.Request) (*identity, *convexError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	if len(h) <= 7 || !strings.EqualFold(h[:7], "bearer ") {
		return nil, &convexError{status: 401, Code: "InvalidAuthHeader", Message: "Header must begin with `bearer `"}
	}
	tok := strings.TrimSpace(h[7:])
	var unverified jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &unverified); err != nil {
		return nil, &convexError{status: 401, Code: "InvalidAuthHeader", Message: "Could not parse JWT payload. Check that the token is a valid JWT format with three base64url-encoded parts."}
	}
	origin := s.requestOrigin(r)
	iss, _ := unverified.GetIssuer()
	aud, _ := unverified.GetAudience()
	if iss != origin || len(aud) != 1 || aud[0] != convexAudience {
		return nil, &convexError{status: 401, Code: "NoAuthProvider", Message: fmt.Sprintf(
			"No auth provider found matching the given token. Check that your JWT's issuer and audience match one of your configured providers: [CustomJWT(issuer=%s, app_id=%s)]", origin, convexAudience)}
	}
	var claims jwtVerifyClaims
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{s.alg}),
		jwt.WithIssuer(origin),
		jwt.WithAudience(convexAudience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
	}
	var err error
	if s.signedByKey(tok) {
		// The signature is one this key made (or one checked before): what
		// ParseWithClaims would still check are the header and the claims.
		var t *jwt.Token
		if t, _, err = jwt.NewParser(opts...).ParseUnverified(tok, &claims); err == nil {
			if kid, _ := t.Header["kid"].(string); t.Method.Alg() != s.alg || kid != s.key.kid {
				err = errors.New("unknown kid or alg")
			} else {
				err = jwt.NewValidator(opts...).Validate(&claims)
			}
		}
	} else {
		_, err = jwt.ParseWithClaims(tok, &claims, func(t *jwt.Token) (any, error) {
			if kid, _ := t.Header["kid"].(string); kid != s.key.kid {
				return nil, fmt.Errorf("unknown kid")
			}
			return s.key.public(), nil
		}, opts...)
	}
	if err != nil || claims.Subject == "" {
		return nil, &convexError{status: 401, Code: "Unauthenticated", Message: msgVerifyFailed}
	}
	return &identity{subject: claims.Subject, sessionID: claims.SessionID}, nil
}

// signedByKey reports whether tok's signature is in sigcache for the
// server's key: one the key made, or checked before.
func (s *Server) signedByKey(tok string) bool {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		return false
	}
	return sigcache.Known(s.key.pubID, tok[:i], sig)
}

type jwtVerifyClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sessionId"`
}

// getAuthUser is @convex-dev/better-auth's safeGetAuthUser: identity, then
// an unexpired session whose id is the identity's sessionId, then the user.
func (s *Server) getAuthUser(id *identity) (map[string]any, bool) {
	if id == nil {
		return nil, false
	}
	now := s.nowMillis()
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.sessionByIDLocked(id.sessionID)
	if se == nil || !se.expiresAt.After(now) {
		return nil, false
	}
	u := s.users[id.subject]
	if u == nil {
		return nil, false
	}
	// The Convex component stores dates as milliseconds since the epoch.
	return map[string]any{
		"_id":           u.id,
		"_creationTime": float64(u.createdAt.UnixMilli()),
		"name":          u.name,
		"email":         u.email,
		"emailVerified": u.emailVerified,
		"createdAt":     u.createdAt.UnixMilli(),
		"updatedAt":     u.updatedAt.UnixMilli(),
	}, true
}

func writeConvexError(w http.ResponseWriter, e convexError) { writeQueryJSON(w, e.status, e) }

func writeFunctionError(w http.ResponseWriter, message string, data any) {
	body := map[string]any{"status": "error", "errorMessage": message, "logLines": []string{}}
	if data != nil {
		body["errorData"] = data
	}
	writeQueryJSON(w, StatusFunctionFailed, body)
}

func writeQueryJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshalJS(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"code":"InternalServerError","message":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
