package fetcher

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type testKey struct {
	kid  string
	alg  string
	priv crypto.Signer
	jwk  JWK
}

var b64 = base64.RawURLEncoding

func newEdKey(t testing.TB, kid string) *testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{kid: kid, alg: "EdDSA", priv: priv,
		jwk: JWK{Kid: kid, Kty: "OKP", Crv: "Ed25519", Alg: "EdDSA", X: b64.EncodeToString(pub)}}
}

var (
	rsaOnce sync.Once
	rsaPriv *rsa.PrivateKey
)

func newRSAKey(t testing.TB, kid string) *testKey {
	t.Helper()
	rsaOnce.Do(func() {
		var err error
		if rsaPriv, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return &testKey{kid: kid, alg: "RS256", priv: rsaPriv, jwk: JWK{Kid: kid, Kty: "RSA", Alg: "RS256",
		N: b64.EncodeToString(rsaPriv.N.Bytes()), E: b64.EncodeToString(big.NewInt(int64(rsaPriv.E)).Bytes())}}
}

func (k *testKey) jwks(more ...*testKey) *JWKS {
	s := &JWKS{Keys: []JWK{k.jwk}}
	for _, m := range more {
		s.Keys = append(s.Keys, m.jwk)
	}
	return s
}

func (k *testKey) sign(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	m := jwt.GetSigningMethod(k.alg)
	tok := jwt.NewWithClaims(m, claims)
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validClaims are the claims the Convex plugin puts in a token minted at now.
func validClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "u1", "sessionId": "s1", "iss": "http://127.0.0.1:3210", "aud": "convex",
		"iat": now.Unix(), "exp": now.Add(900 * time.Second).Unix(),
		"name": "Ada", "email": "ada@example.com", "emailVerified": false,
	}
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// forge builds a token from raw header and payload JSON and a signature.
func forge(header, payload string, sig []byte) string {
	return b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(sig)
}

func TestVerifyValid(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, k := range []*testKey{newEdKey(t, "ed1"), newRSAKey(t, "rsa1")} {
		t.Run(k.alg, func(t *testing.T) {
			v := &Verifier{Keys: k.jwks(newEdKey(t, "other")), Issuer: "http://127.0.0.1:3210", Now: func() time.Time { return now }}
			raw := k.sign(t, validClaims(now.Add(-time.Minute)))
			tok, err := v.Verify(raw)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			c := tok.Claims
			if tok.Header.Alg != k.alg || tok.Header.Kid != k.kid || c.Subject != "u1" || c.SessionID != "s1" ||
				c.Email != "ada@example.com" || c.Name != "Ada" || len(c.Audience) != 1 || c.Audience[0] != "convex" ||
				c.ExpiresAt.Sub(c.IssuedAt) != 900*time.Second || c.Raw["emailVerified"] != false {
				t.Errorf("token = %+v", tok)
			}
			if strings.Contains(tok.String(), strings.Split(raw, ".")[2]) || strings.Contains(tok.Redacted(), strings.Split(raw, ".")[2]) {
				t.Error("String/Redacted shows the signature")
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ed := newEdKey(t, "ed1")
	rs := newRSAKey(t, "rsa1")
	keys := ed.jwks(rs)
	good := ed.sign(t, validClaims(now))
	parts := strings.Split(good, ".")

	tamperedPayload := parts[0] + "." + b64.EncodeToString([]byte(`{"sub":"u2","sessionId":"s1","aud":"convex","iat":1800000000,"exp":1800000900}`)) + "." + parts[2]
	sig, _ := b64.DecodeString(parts[2])
	sig[0] ^= 1
	tamperedSig := parts[0] + "." + parts[1] + "." + b64.EncodeToString(sig)

	payload, _ := b64.DecodeString(parts[1])
	algNone := forge(`{"alg":"none","kid":"ed1","typ":"JWT"}`, string(payload), nil)
	algNoneCaps := forge(`{"alg":"NONE","kid":"ed1"}`, string(payload), nil)

	// HS256 with the public key as the HMAC secret: the classic key-confusion forgery.
	hsWith := func(kid string, secret []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims(now))
		tok.Header["kid"] = kid
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	edPub, _ := b64.DecodeString(ed.jwk.X)
	hsEd := hsWith("ed1", edPub)
	hsRSA := hsWith("rsa1", []byte(rs.jwk.N))

	// An EdDSA token whose kid names the RSA key, and the other way round.
	edOnRSAKid := (&testKey{kid: "rsa1", alg: "EdDSA", priv: ed.priv}).sign(t, validClaims(now))
	rsOnEdKid := (&testKey{kid: "ed1", alg: "RS256", priv: rs.priv}).sign(t, validClaims(now))
	es256 := forge(`{"alg":"ES256","kid":"ed1"}`, string(payload), []byte("sig"))

	cases := []struct {
		name   string
		raw    string
		v      Verifier
		want   error
		reason string
	}{
		{"tampered payload", tamperedPayload, Verifier{}, ErrSignatureInvalid, "signature invalid"},
		{"tampered signature", tamperedSig, Verifier{}, ErrSignatureInvalid, "signature invalid"},
		{"alg none", algNone, Verifier{}, ErrAlgorithmNotAllowed, "alg none not allowed"},
		{"alg NONE", algNoneCaps, Verifier{}, ErrAlgorithmNotAllowed, "alg NONE not allowed"},
		{"HS256 with Ed25519 public key", hsEd, Verifier{}, ErrAlgorithmNotAllowed, "alg HS256 not allowed"},
		{"HS256 with RSA modulus", hsRSA, Verifier{}, ErrAlgorithmNotAllowed, "alg HS256 not allowed"},
		{"ES256", es256, Verifier{}, ErrAlgorithmNotAllowed, "alg ES256 not allowed"},
		{"EdDSA token on RSA kid", edOnRSAKid, Verifier{}, ErrAlgorithmNotAllowed, "key rsa1 is RSA for RS256, token says EdDSA"},
		{"RS256 token on Ed25519 kid", rsOnEdKid, Verifier{}, ErrAlgorithmNotAllowed, "key ed1 is OKP/Ed25519 for EdDSA, token says RS256"},
		{"unknown kid", (&testKey{kid: "abc", alg: "EdDSA", priv: ed.priv}).sign(t, validClaims(now)), Verifier{}, ErrUnknownKey, "unknown kid abc"},
		{"no kid", forge(`{"alg":"EdDSA"}`, string(payload), []byte("x")), Verifier{}, ErrUnknownKey, "token has no kid"},
		{"no keys", good, Verifier{Keys: &JWKS{}}, ErrUnknownKey, "no keys to verify with"},
		{"expired, default leeway", ed.sign(t, validClaims(now.Add(-908*time.Second))), Verifier{}, ErrTokenExpired, "expired 8s ago"},
		{"expired beyond leeway", ed.sign(t, with(validClaims(now.Add(-1092*time.Second)))), Verifier{Leeway: time.Minute}, ErrTokenExpired, "expired 3m12s ago"},
		{"expired by 1s, no leeway", ed.sign(t, with(validClaims(now.Add(-901*time.Second)))), Verifier{Leeway: -1}, ErrTokenExpired, "expired 1s ago"},
		{"issued in the future", ed.sign(t, with(validClaims(now.Add(2*time.Minute)))), Verifier{}, ErrTokenNotYetValid, "issued 2m in the future"},
		{"nbf in the future", ed.sign(t, with(validClaims(now), "nbf", now.Add(time.Hour).Unix())), Verifier{}, ErrTokenNotYetValid, "not valid for another 1h"},
		{"wrong aud", ed.sign(t, with(validClaims(now), "aud", "other")), Verifier{}, ErrAudienceMismatch, "audience other, want convex"},
		{"wrong aud list", ed.sign(t, with(validClaims(now), "aud", []string{"a", "b"})), Verifier{}, ErrAudienceMismatch, "audience a,b, want convex"},
		{"no aud", ed.sign(t, with(validClaims(now), "aud", nil)), Verifier{}, ErrMissingClaim, "missing claim aud"},
		{"wrong iss", good, Verifier{Issuer: "https://other.convex.site"}, ErrIssuerMismatch, "issuer http://127.0.0.1:3210, want https://other.convex.site"},
		{"no iss but issuer wanted", ed.sign(t, with(validClaims(now), "iss", nil)), Verifier{Issuer: "x"}, ErrMissingClaim, "missing claim iss"},
		{"no exp", ed.sign(t, with(validClaims(now), "exp", nil)), Verifier{}, ErrMissingClaim, "missing claim exp"},
		{"no iat", ed.sign(t, with(validClaims(now), "iat", nil)), Verifier{}, ErrMissingClaim, "missing claim iat"},
		{"no sub", ed.sign(t, with(validClaims(now), "sub", nil)), Verifier{}, ErrMissingClaim, "missing claim sub"},
		{"no sessionId", ed.sign(t, with(validClaims(now), "sessionId", nil)), Verifier{}, ErrMissingClaim, "missing claim sessionId"},
		{"exp is a string", ed.sign(t, with(validClaims(now), "exp", "soon")), Verifier{}, ErrTokenMalformed, "malformed: claim exp is a string, want seconds since the epoch"},
		{"tampered and expired: signature wins", func() string {
			p := strings.Split(ed.sign(t, validClaims(now.Add(-time.Hour))), ".")
			return p[0] + "." + p[1] + "." + parts[2]
		}(), Verifier{}, ErrSignatureInvalid, "signature invalid"},
		{"empty", "", Verifier{}, ErrTokenMalformed, "malformed: empty token"},
		{"garbage", "garbage", Verifier{}, ErrTokenMalformed, "malformed: 1 segments, want 3 (header.payload.signature)"},
		{"four segments", good + ".x", Verifier{}, ErrTokenMalformed, "malformed: 4 segments, want 3 (header.payload.signature)"},
		{"bad base64", "e!30.abc.def", Verifier{}, ErrTokenMalformed, "malformed: header is not base64url: bad byte at offset 1"},
		{"header not JSON", b64.EncodeToString([]byte("hello")) + "." + parts[1] + "." + parts[2], Verifier{}, ErrTokenMalformed, ""},
		{"header is an array", forge(`[1]`, `{}`, nil), Verifier{}, ErrTokenMalformed, ""},
		{"payload null", forge(`{"alg":"EdDSA","kid":"ed1"}`, `null`, nil), Verifier{}, ErrTokenMalformed, ""},
		{"kid is a number", forge(`{"alg":"EdDSA","kid":7}`, `{}`, nil), Verifier{}, ErrTokenMalformed, "malformed: header kid is a number, want a string"},
		{"huge exp", forge(`{"alg":"EdDSA","kid":"ed1"}`, `{"exp":1e300}`, nil), Verifier{}, ErrTokenMalformed, "malformed: claim exp = 1e300 is out of range"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.v
			if v.Keys == nil {
				v.Keys = keys
			}
			v.Now = func() time.Time { return now }
			tok, err := v.Verify(tc.raw)
			if tok != nil || !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, %v; want %v", tok, err, tc.want)
			}
			if tc.reason != "" && Reason(err) != tc.reason {
				t.Errorf("Reason = %q, want %q", Reason(err), tc.reason)
			}
			t.Logf("%s → %s", tc.name, Reason(err))
		})
	}
}

func TestVerifyLeeway(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ed := newEdKey(t, "ed1")
	raw := ed.sign(t, validClaims(now.Add(-903*time.Second))) // expired 3s ago
	if _, err := (&Verifier{Keys: ed.jwks(), Leeway: 10 * time.Second, Now: func() time.Time { return now }}).Verify(raw); err != nil {
		t.Errorf("10s leeway: %v", err)
	}
	if _, err := (&Verifier{Keys: ed.jwks(), Leeway: 2 * time.Second, Now: func() time.Time { return now }}).Verify(raw); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("2s leeway: %v", err)
	}
	raw = ed.sign(t, validClaims(now.Add(-898*time.Second))) // expires in 2s
	if _, err := (&Verifier{Keys: ed.jwks(), Now: func() time.Time { return now }}).Verify(raw); err != nil {
		t.Errorf("still valid: %v", err)
	}
}

func TestBadKeys(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ed := newEdKey(t, "ed1")
	raw := ed.sign(t, validClaims(now))
	smallRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsRaw := (&testKey{kid: "r", alg: "RS256", priv: smallRSA}).sign(t, validClaims(now))
	for _, tc := range []struct {
		name string
		raw  string
		key  JWK
	}{
		{"short x", raw, JWK{Kid: "ed1", Kty: "OKP", Crv: "Ed25519", X: "AAAA"}},
		{"x not base64", raw, JWK{Kid: "ed1", Kty: "OKP", Crv: "Ed25519", X: "!!!"}},
		{"use enc", raw, JWK{Kid: "ed1", Kty: "OKP", Crv: "Ed25519", X: ed.jwk.X, Use: "enc"}},
		{"weak RSA", rsRaw, JWK{Kid: "r", Kty: "RSA", N: b64.EncodeToString(smallRSA.N.Bytes()), E: "AQAB"}},
		{"RSA no n", rsRaw, JWK{Kid: "r", Kty: "RSA", E: "AQAB"}},
		{"RSA huge e", rsRaw, JWK{Kid: "r", Kty: "RSA", N: newRSAKey(t, "x").jwk.N, E: b64.EncodeToString(make([]byte, 9))}},
	} {
		v := &Verifier{Keys: &JWKS{Keys: []JWK{tc.key}}, Now: func() time.Time { return now }}
		if _, err := v.Verify(tc.raw); !errors.Is(err, ErrKeyInvalid) {
			t.Errorf("%s: err = %v, want ErrKeyInvalid", tc.name, err)
		} else {
			t.Logf("%s → %s", tc.name, Reason(err))
		}
	}
}

func TestDecodeJWT(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	raw := newRSAKey(t, "r1").sign(t, with(validClaims(now), "aud", []string{"convex", "x"}, "big", json.Number("12345678901234567890")))
	tok, err := DecodeJWT("  " + raw + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Raw != raw || tok.Header.Typ != "JWT" || len(tok.Claims.Audience) != 2 || !tok.Claims.IssuedAt.Equal(now) {
		t.Errorf("tok = %+v", tok)
	}
	if n, ok := tok.Claims.Raw["big"].(json.Number); !ok || n.String() != "12345678901234567890" {
		t.Errorf("big = %#v", tok.Claims.Raw["big"])
	}
	// A decode-only look at an unsigned token works; it is Verify that refuses it.
	if _, err := DecodeJWT(forge(`{"alg":"none"}`, `{"sub":"u"}`, nil)); err != nil {
		t.Errorf("alg none decode: %v", err)
	}
}

// A token decoded again comes from memory: equal to the first decode, and
// a copy, so what one caller does to its claims does not reach another.
func TestDecodeJWTAgain(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	raw := newRSAKey(t, "r2").sign(t, validClaims(now))
	a, err := DecodeJWT(raw)
	if err != nil {
		t.Fatal(err)
	}
	a.Claims.Raw["sub"] = "changed"
	a.Claims.SessionID = "changed"
	b, err := DecodeJWT(raw)
	if err != nil {
		t.Fatal(err)
	}
	if b.Claims.Raw["sub"] != "u1" || b.Claims.SessionID != "s1" || b.Raw != raw || b.Header.Kid != "r2" {
		t.Fatalf("second decode = %+v (raw sub %v)", b, b.Claims.Raw["sub"])
	}
	b.Claims.Raw["email"] = "changed"
	if c, _ := DecodeJWT(raw); c.Claims.Raw["email"] != "ada@example.com" {
		t.Fatalf("a caller's change reached the next decode: %v", c.Claims.Raw["email"])
	}
	// Another signature is another token.
	if _, err := DecodeJWT(raw[:strings.LastIndex(raw, ".")+1] + "AAAA"); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeJWT(raw[:strings.LastIndex(raw, ".")+1] + "!!"); err == nil {
		t.Fatal("a token with a bad signature segment decoded")
	}
}

func TestReason(t *testing.T) {
	if Reason(nil) != "" {
		t.Error("Reason(nil)")
	}
	if got := Reason(&NetError{Endpoint: "token", Err: timeoutError(time.Second)}); got != "timed out" {
		t.Errorf("timeout reason %q", got)
	}
	if got := Reason(errors.New("plain")); got != "plain" {
		t.Errorf("plain reason %q", got)
	}
	if got := fmtDur(2*time.Hour + 30*time.Second); got != "2h1m" && got != "2h" {
		t.Errorf("fmtDur = %q", got)
	}
}

func fuzzSeeds(f *testing.F) (*JWKS, time.Time) {
	now := time.Unix(1_800_000_000, 0)
	ed := newEdKey(f, "ed1")
	rs := newRSAKey(f, "rsa1")
	for _, s := range []string{
		ed.sign(f, validClaims(now)), rs.sign(f, validClaims(now)),
		ed.sign(f, with(validClaims(now), "aud", []any{"convex", 1})),
		forge(`{"alg":"none"}`, `{"sub":"u"}`, nil),
		forge(`{"alg":"HS256","kid":"ed1"}`, `{"exp":1e400}`, []byte("x")),
		forge(`{"alg":"EdDSA","kid":"rsa1"}`, `{"iat":-1,"exp":"x"}`, []byte("x")),
		"", ".", "..", "a.b.c", "e30.e30.", "e30.e30.e30.e30", "eyJ.eyJ.eyJ", "\x00\xff.\x80.", "Bearer x.y.z",
	} {
		f.Add(s)
	}
	return ed.jwks(rs), now
}

func FuzzDecodeJWT(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := DecodeJWT(raw)
		if err != nil {
			if tok != nil || !errors.Is(err, ErrTokenMalformed) || Reason(err) == "" {
				t.Fatalf("DecodeJWT(%q) = %v, %v", raw, tok, err)
			}
			return
		}
		_ = tok.String()
		if tok.Header.Alg == "" {
			t.Fatalf("decoded without alg: %q", raw)
		}
	})
}

func FuzzVerify(f *testing.F) {
	keys, now := fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, raw string) {
		v := &Verifier{Keys: keys, Now: func() time.Time { return now }}
		tok, err := v.Verify(raw)
		if err == nil {
			// Only the two seed tokens signed with our keys can pass, with their claims intact.
			if tok.Claims.SessionID != "s1" || tok.Claims.Subject != "u1" {
				t.Fatalf("forged token accepted: %q", raw)
			}
			return
		}
		if tok != nil || Reason(err) == "" {
			t.Fatalf("Verify(%q) = %v, %v", raw, tok, err)
		}
	})
}

// A hostile JWKS cannot make verification expensive or weak: the RSA
// modulus is capped at maxRSABits (checked before it is decoded) and the
// exponent must be odd and within 3..2^31-1. The error names the key.
func TestRSAKeyLimits(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	rs := newRSAKey(t, "r")
	raw := rs.sign(t, validClaims(now))
	modulus := func(bits int) string {
		n := make([]byte, bits/8)
		for i := range n {
			n[i] = 0xa5
		}
		n[0] = 0xff
		return b64.EncodeToString(n)
	}
	e := func(v uint64) string { return b64.EncodeToString(new(big.Int).SetUint64(v).Bytes()) }
	for _, tc := range []struct {
		name string
		key  JWK
		want string
	}{
		{"524288-bit modulus", JWK{Kid: "big", Kty: "RSA", N: modulus(524288), E: "AQAB"}, "key big: RSA modulus of 65536 bytes, more than an 8192-bit key needs"},
		{"8200-bit modulus", JWK{Kid: "big", Kty: "RSA", N: modulus(8200), E: "AQAB"}, "key big: RSA modulus of 8200 bits, more than the 8192 allowed"},
		{"1024-bit modulus", JWK{Kid: "small", Kty: "RSA", N: modulus(1024), E: "AQAB"}, "key small: RSA modulus of 1024 bits is too weak (want 2048 to 8192)"},
		{"even exponent", JWK{Kid: "r", Kty: "RSA", N: rs.jwk.N, E: e(65536)}, "key r: RSA exponent 65536 (want an odd number from 3 to 2^31-1)"},
		{"exponent 1", JWK{Kid: "r", Kty: "RSA", N: rs.jwk.N, E: e(1)}, "key r: RSA exponent 1 (want an odd number"},
		{"exponent 2^32-1", JWK{Kid: "r", Kty: "RSA", N: rs.jwk.N, E: e(1<<32 - 1)}, "key r: RSA exponent 4294967295 (want an odd number"},
		{"5-byte exponent", JWK{Kid: "r", Kty: "RSA", N: rs.jwk.N, E: e(1<<33 + 1)}, "key r: RSA exponent too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := tc.key
			k.Kid = "r"
			v := &Verifier{Keys: &JWKS{Keys: []JWK{k}}, Now: func() time.Time { return now }}
			want := strings.Replace(tc.want, "key "+tc.key.Kid+":", "key r:", 1)
			_, err := v.Verify(raw)
			if !errors.Is(err, ErrKeyInvalid) || !strings.Contains(Reason(err), want) {
				t.Fatalf("err = %v, want ErrKeyInvalid saying %q", err, want)
			}
		})
	}
	// A 2^31-1 exponent is allowed (it only fails the signature), and the
	// same modulus with 65537 verifies.
	v := &Verifier{Keys: &JWKS{Keys: []JWK{{Kid: "r", Kty: "RSA", N: rs.jwk.N, E: e(1<<31 - 1)}}}, Now: func() time.Time { return now }}
	if _, err := v.Verify(raw); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("e = 2^31-1: %v, want a signature failure", err)
	}
	if _, err := (&Verifier{Keys: rs.jwks(), Now: func() time.Time { return now }}).Verify(raw); err != nil {
		t.Errorf("the real key: %v", err)
	}
}

// A token verified once verifies again from the signature cache, and the
// cache never vouches for anything else: a changed signature, the same
// signature over other claims, or the same token under another key still
// fails, and claims are checked every time.
func TestVerifyWithCachedSignature(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, k := range []*testKey{newEdKey(t, "ed1"), newRSAKey(t, "rsa1")} {
		t.Run(k.alg, func(t *testing.T) {
			v := &Verifier{Keys: k.jwks(), Now: func() time.Time { return now }}
			raw := k.sign(t, validClaims(now.Add(-time.Minute)))
			for i := 0; i < 2; i++ {
				if _, err := v.Verify(raw); err != nil {
					t.Fatalf("verify %d: %v", i+1, err)
				}
			}
			parts := strings.Split(raw, ".")
			sig, _ := b64.DecodeString(parts[2])
			sig[len(sig)-1] ^= 1
			other := k.sign(t, validClaims(now.Add(-2*time.Minute)))
			impostor := newEdKey(t, k.kid)
			if k.alg == "RS256" {
				impostor = nil
			}
			for name, tok := range map[string]string{
				"a changed signature":             parts[0] + "." + parts[1] + "." + b64.EncodeToString(sig),
				"the signature over other claims": parts[0] + "." + strings.Split(other, ".")[1] + "." + parts[2],
			} {
				if _, err := v.Verify(tok); !errors.Is(err, ErrSignatureInvalid) {
					t.Errorf("%s: %v, want ErrSignatureInvalid", name, err)
				}
			}
			if impostor != nil {
				w := &Verifier{Keys: impostor.jwks(), Now: func() time.Time { return now }}
				if _, err := w.Verify(raw); !errors.Is(err, ErrSignatureInvalid) {
					t.Errorf("the token under another key with its kid: %v, want ErrSignatureInvalid", err)
				}
			}
			late := &Verifier{Keys: k.jwks(), Now: func() time.Time { return now.Add(time.Hour) }}
			if _, err := late.Verify(raw); !errors.Is(err, ErrTokenExpired) {
				t.Errorf("an hour later: %v, want ErrTokenExpired", err)
			}
		})
	}
}
