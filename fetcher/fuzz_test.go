package fetcher

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzResponses feeds arbitrary bodies, statuses and content types to every
// Client method and QueryConvex: each must return a value or one of the
// documented errors, and never panic.
func FuzzResponses(f *testing.F) {
	for _, s := range []string{
		"null", "{}", "[]", `{"token":null,"user":` + userJSON + `}`, `{"session":` + sessionJSON + `,"user":` + userJSON + `}`,
		`[` + sessionJSON + `]`, `{"keys":[{"kid":"a","kty":"OKP"}]}`, `{"status":true}`, `{"success":true}`,
		`{"token":"a.b.c"}`, `{"status":"success","value":null}`, `{"status":"error","errorMessage":"x"}`,
		`{"code":"X","message":"\u001b[2J"}`, "\xff\xfe", `{"session":{"id":"s","userId":"u","expiresAt":1e300},"user":{"id":"u"}}`,
	} {
		f.Add([]byte(s), 200, "application/json")
	}
	f.Add([]byte(`{"message":"Unauthorized","code":"UNAUTHORIZED"}`), 401, "application/json")
	f.Add([]byte(`{"status":"error","errorMessage":"x"}`), 560, "application/json; charset=utf-8")
	f.Add([]byte(`<html>`), 502, "text/html")
	f.Fuzz(func(t *testing.T, body []byte, status int, ct string) {
		if status < 100 || status > 999 {
			status = 200
		}
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			h := http.Header{}
			h.Set("Content-Type", ct)
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)),
				ContentLength: -1, Request: r}, nil
		})
		c, err := New(Options{BaseURL: "http://sim.test/api/auth", Transport: rt, MaxBody: 4096})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("one input took %v", d)
			}
		}()
		check := func(err error) {
			var he *HTTPError
			if err != nil && !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrBodyTooLarge) && !errors.As(err, &he) {
				t.Fatalf("untyped error %v (%T)", err, err)
			}
			_ = Reason(err)
		}
		_, err = c.SignUp(ctx, "e", "p", "n")
		check(err)
		_, err = c.SignIn(ctx, "e", "p")
		check(err)
		check(c.SignOut(ctx))
		_, err = c.GetSession(ctx)
		check(err)
		_, err = c.ChangePassword(ctx, "a", "b", true)
		check(err)
		_, err = c.ListSessions(ctx)
		check(err)
		check(c.RevokeSession(ctx, "t"))
		check(c.RevokeSessions(ctx))
		check(c.RevokeOtherSessions(ctx))
		_, err = c.ConvexToken(ctx)
		check(err)
		if ks, err := c.JWKS(ctx); err == nil {
			_, _ = (&Verifier{Keys: ks}).Verify("eyJhbGciOiJFZERTQSIsImtpZCI6ImEifQ.e30.AA")
		} else {
			check(err)
		}
		_, err = QueryConvex(ctx, &http.Client{Transport: rt}, "http://sim.test", "a:b", nil, "")
		check(err)
	})
}

// FuzzRSAJWK serves a JWKS whose RSA key has an arbitrary modulus,
// exponent and kid, and verifies an RS256 token against it: the answer is
// a documented error (or success for the real key), never a panic, an
// oversized or weak key is refused as ErrKeyInvalid before any costly
// arithmetic, and no verification takes long.
func FuzzRSAJWK(f *testing.F) {
	rs := newRSAKey(f, "r")
	raw := rs.sign(f, validClaims(time.Now()))
	f.Add(rs.jwk.N, rs.jwk.E, "r")
	f.Add(rs.jwk.N, "AAEAAQ", "r")
	f.Add(rs.jwk.N, "Aw", "r")
	f.Add(rs.jwk.N, "f____w", "r")
	f.Add(rs.jwk.N, "AQAA", "r")
	f.Add(strings.Repeat("_", 1400), "AQAB", "r")
	f.Add(strings.Repeat("A", 20000)+rs.jwk.N, "AQAB", "r")
	f.Add("AQAB", rs.jwk.N, "r")
	f.Add("", "", "")
	f.Add("!!", "AQAB", "r\x1b[2J")
	f.Fuzz(func(t *testing.T, n, e, kid string) {
		body, err := json.Marshal(map[string]any{"keys": []map[string]string{{"kid": kid, "kty": "RSA", "alg": "RS256", "n": n, "e": e}}})
		if err != nil {
			t.Skip()
		}
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			h := http.Header{}
			h.Set("Content-Type", "application/json")
			return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
		})
		c, err := New(Options{BaseURL: "http://sim.test/api/auth", Transport: rt})
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.VerifierFor(context.Background(), "", "r")
		if err != nil {
			var he *HTTPError
			if !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrBodyTooLarge) && !errors.As(err, &he) {
				t.Fatalf("untyped error %v (%T)", err, err)
			}
			return
		}
		start := time.Now()
		_, err = v.Verify(raw)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("one verification took %v", d)
		}
		if err == nil {
			if kid != "r" || n != rs.jwk.N {
				t.Fatalf("a token verified against n=%.40q e=%q kid=%q", n, e, kid)
			}
			return
		}
		if kid != "r" {
			if !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("kid %q: %v, want ErrUnknownKey", kid, err)
			}
			return
		}
		nb, errN := base64.RawURLEncoding.DecodeString(n)
		eb, errE := base64.RawURLEncoding.DecodeString(e)
		if errN != nil || errE != nil {
			if !errors.Is(err, ErrKeyInvalid) {
				t.Fatalf("n or e not base64url: %v, want ErrKeyInvalid", err)
			}
			return
		}
		bits := new(big.Int).SetBytes(nb).BitLen()
		ev := new(big.Int).SetBytes(eb)
		bad := len(n) > maxRSAModulusChars || bits < minRSABits || bits > maxRSABits || !ev.IsInt64() || ev.Int64() < 3 || ev.Int64() > maxRSAExponent || ev.Bit(0) == 0
		if bad != errors.Is(err, ErrKeyInvalid) {
			t.Fatalf("n of %d bits, e=%s: %v (key should be refused: %v)", bits, ev, err, bad)
		}
		if bad && !strings.Contains(Reason(err), "key r:") {
			t.Fatalf("the reason %q does not name the key", Reason(err))
		}
	})
}
