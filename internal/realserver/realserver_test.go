package realserver

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"
)

const sessionCookie = "better-auth.session_token"

type apiClient struct {
	t    *testing.T
	s    *Server
	http *http.Client
}

func newClient(t *testing.T, s *Server) *apiClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, s: s, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// do sends a request to BaseURL+path; origin "" means no Origin header.
func (c *apiClient) do(method, path, origin string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.s.BaseURL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, rb
}

func (c *apiClient) sessionToken() string {
	c.t.Helper()
	u, err := http.NewRequest(http.MethodGet, c.s.URL, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ck := range c.http.Jar.Cookies(u.URL) {
		if ck.Name == sessionCookie {
			return ck.Value
		}
	}
	return ""
}

func decodeJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

func b64url(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

type jwk struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// verifyJWT checks the signature of a compact JWS against key.
func verifyJWT(t *testing.T, token string, key jwk) {
	t.Helper()
	parts := strings.Split(token, ".")
	signed := []byte(parts[0] + "." + parts[1])
	sig := b64url(t, parts[2])
	switch key.Kty {
	case "OKP":
		pub := ed25519.PublicKey(b64url(t, key.X))
		if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, signed, sig) {
			t.Fatalf("EdDSA signature does not verify")
		}
	case "RSA":
		pub := &rsa.PublicKey{
			N: new(big.Int).SetBytes(b64url(t, key.N)),
			E: int(new(big.Int).SetBytes(b64url(t, key.E)).Int64()),
		}
		sum := sha256.Sum256(signed)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			t.Fatalf("RS256 signature does not verify: %v", err)
		}
	default:
		t.Fatalf("unexpected kty %q", key.Kty)
	}
}

func TestRealServer(t *testing.T) {
	for _, alg := range []string{"EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			s := Start(t, Options{Alg: alg})
			t.Logf("Start(%s) took %s; server at %s", alg, time.Since(start).Round(time.Millisecond), s.URL)
			if s.Alg != alg || s.BaseURL != s.URL+"/api/auth" || !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
				t.Fatalf("bad server %+v", s)
			}

			email, password := s.SignUp(t)
			c := newClient(t, s)

			// Sign in.
			code, body := c.do(http.MethodPost, "/sign-in/email", s.URL, map[string]any{"email": email, "password": password})
			if code != http.StatusOK {
				t.Fatalf("sign-in: %d %s", code, body)
			}
			var signIn struct {
				Redirect bool   `json:"redirect"`
				Token    string `json:"token"`
				User     struct {
					ID    string `json:"id"`
					Email string `json:"email"`
				} `json:"user"`
			}
			decodeJSON(t, body, &signIn)
			if signIn.Token == "" || signIn.User.Email != email || signIn.User.ID == "" {
				t.Fatalf("sign-in body: %s", body)
			}
			if ck := c.sessionToken(); !strings.HasPrefix(ck, signIn.Token+".") {
				t.Fatalf("session cookie %q does not carry token %q", ck, signIn.Token)
			}

			// Session.
			code, body = c.do(http.MethodGet, "/get-session", "", nil)
			var sess struct {
				Session struct {
					ID    string `json:"id"`
					Token string `json:"token"`
				} `json:"session"`
			}
			decodeJSON(t, body, &sess)
			if code != http.StatusOK || sess.Session.Token != signIn.Token || sess.Session.ID == "" {
				t.Fatalf("get-session: %d %s", code, body)
			}

			// Convex JWT.
			code, body = c.do(http.MethodGet, "/convex/token", "", nil)
			if code != http.StatusOK {
				t.Fatalf("convex/token: %d %s", code, body)
			}
			var tok struct {
				Token string `json:"token"`
			}
			decodeJSON(t, body, &tok)
			parts := strings.Split(tok.Token, ".")
			if len(parts) != 3 {
				t.Fatalf("not a JWT: %q", tok.Token)
			}
			var hdr struct {
				Alg string `json:"alg"`
				Kid string `json:"kid"`
			}
			decodeJSON(t, b64url(t, parts[0]), &hdr)
			if hdr.Alg != alg || hdr.Kid == "" {
				t.Fatalf("JWT header %s, want alg %s and a kid", b64url(t, parts[0]), alg)
			}
			var claims struct {
				Iss       string `json:"iss"`
				Aud       string `json:"aud"`
				Sub       string `json:"sub"`
				SessionID string `json:"sessionId"`
				Iat       int64  `json:"iat"`
				Exp       int64  `json:"exp"`
			}
			decodeJSON(t, b64url(t, parts[1]), &claims)
			if claims.Iss != s.URL || claims.Aud != "convex" || claims.Sub != signIn.User.ID ||
				claims.SessionID != sess.Session.ID || claims.Exp-claims.Iat != 900 {
				t.Fatalf("JWT claims %s", b64url(t, parts[1]))
			}

			// JWKS.
			code, body = c.do(http.MethodGet, "/convex/jwks", "", nil)
			if code != http.StatusOK {
				t.Fatalf("convex/jwks: %d %s", code, body)
			}
			var set struct {
				Keys []jwk `json:"keys"`
			}
			decodeJSON(t, body, &set)
			if len(set.Keys) != 1 {
				t.Fatalf("jwks: want 1 key: %s", body)
			}
			k := set.Keys[0]
			if k.Alg != alg || k.Kid != hdr.Kid {
				t.Fatalf("jwks key alg/kid %q/%q, want %q/%q", k.Alg, k.Kid, alg, hdr.Kid)
			}
			switch alg {
			case "EdDSA":
				if k.Kty != "OKP" || k.Crv != "Ed25519" || k.X == "" {
					t.Fatalf("EdDSA key: %s", body)
				}
			case "RS256":
				if k.Kty != "RSA" || k.N == "" || k.E == "" {
					t.Fatalf("RSA key: %s", body)
				}
			}
			verifyJWT(t, tok.Token, k)

			// CSRF: a cookie-bearing POST needs Origin == the server origin.
			cp := map[string]any{"currentPassword": password, "newPassword": password, "revokeOtherSessions": true}
			for _, tc := range []struct {
				origin, code string
			}{
				{"", "MISSING_OR_NULL_ORIGIN"},
				{"http://evil.example", "INVALID_ORIGIN"},
			} {
				code, body = c.do(http.MethodPost, "/change-password", tc.origin, cp)
				var e struct {
					Code string `json:"code"`
				}
				decodeJSON(t, body, &e)
				if code != http.StatusForbidden || e.Code != tc.code {
					t.Fatalf("change-password with Origin %q: %d %s, want 403 %s", tc.origin, code, body, tc.code)
				}
			}

			// With the right Origin it rotates the session (proves adapter writes work).
			code, body = c.do(http.MethodPost, "/change-password", s.URL, cp)
			var rot struct {
				Token *string `json:"token"`
			}
			decodeJSON(t, body, &rot)
			if code != http.StatusOK || rot.Token == nil || *rot.Token == signIn.Token {
				t.Fatalf("change-password rotation: %d %s", code, body)
			}
			code, body = c.do(http.MethodGet, "/get-session", "", nil)
			var sess2 struct {
				Session struct {
					ID string `json:"id"`
				} `json:"session"`
			}
			decodeJSON(t, body, &sess2)
			if code != http.StatusOK || sess2.Session.ID == "" || sess2.Session.ID == sess.Session.ID {
				t.Fatalf("get-session after rotation: %d %s (old session id %s)", code, body, sess.Session.ID)
			}
		})
	}
}

func TestInstallConcurrent(t *testing.T) {
	s := Start(t, Options{}) // skips when node/npm are missing; warms the install
	if s.Alg != "EdDSA" {
		t.Fatalf("default alg %q, want EdDSA", s.Alg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	var wg sync.WaitGroup
	dirs := make([]string, 4)
	errs := make([]error, 4)
	for i := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs[i], errs[i] = Install(ctx)
		}()
	}
	wg.Wait()
	for i := range dirs {
		if errs[i] != nil || dirs[i] != dirs[0] {
			t.Fatalf("Install #%d: %q, %v (want %q)", i, dirs[i], errs[i], dirs[0])
		}
	}
	if !upToDate(dirs[0], contentHash()) {
		t.Fatalf("%s is not up to date after Install", dirs[0])
	}
}

func TestLockFileExclusive(t *testing.T) {
	path := t.TempDir() + "/x.lock"
	unlock, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if u2, err := lockFile(ctx, path); err == nil {
		u2()
		t.Fatal("second lockFile succeeded while the first was held")
	}
	unlock()
	u3, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatalf("lockFile after unlock: %v", err)
	}
	u3()
}
