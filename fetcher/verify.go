package fetcher

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authscope/authscope/internal/sigcache"
)

// JWKS is a JSON Web Key Set as the Convex plugin serves it at convex/jwks.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWK is one public key: OKP/Ed25519 (X) or RSA (N, E).
type JWK struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	Alg string `json:"alg,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Use string `json:"use,omitempty"`
}

const (
	// DefaultAudience is the aud the Convex plugin sets and Convex expects.
	DefaultAudience = "convex"
	// DefaultLeeway absorbs clock skew between the token's minter and us when
	// checking exp, nbf and iat. Small on purpose: the races authscope shows
	// are about tokens that are really expired or bound to a dead session,
	// and a large leeway would hide them.
	DefaultLeeway = 5 * time.Second
	// minRSABits rejects toy RSA keys.
	minRSABits = 2048
	// maxRSABits bounds the cost of one verification, which grows with the
	// square of the modulus: a hostile JWKS with a multi-megabit key would
	// otherwise hold a core for seconds per token. Real servers use 2048
	// (Better Auth's RS256 through jose) to 4096.
	maxRSABits = 8192
	// maxRSAExponent is the largest public exponent accepted, as crypto/rsa
	// does; real keys use 65537.
	maxRSAExponent = 1<<31 - 1
	// maxRSAModulusChars is the longest base64url n accepted: a maxRSABits
	// modulus, with room for a few leading zero bytes.
	maxRSAModulusChars = (maxRSABits/8 + 8) * 4 / 3
)

// Verifier checks a JWT like Convex does: signature by kid against Keys
// (EdDSA with an OKP/Ed25519 key, or RS256 with an RSA key; nothing else),
// then exp, nbf and iat (with Leeway), aud and, if set, iss; then the claims
// the Convex plugin always sets (sub, sessionId, iat, exp) must be present.
type Verifier struct {
	Keys     *JWKS
	Issuer   string           // if set, iss must equal it
	Audience string           // default DefaultAudience
	Leeway   time.Duration    // 0 means DefaultLeeway; negative means none
	Now      func() time.Time // default time.Now
}

// Verify decodes raw and checks it. The error wraps one of the token
// sentinels (ErrSignatureInvalid, ErrTokenExpired, ...); see Reason.
func (v *Verifier) Verify(raw string) (*Token, error) {
	tok, err := DecodeJWT(raw)
	if err != nil {
		return nil, err
	}
	if err := v.check(tok); err != nil {
		return nil, err
	}
	return tok, nil
}

// check verifies a decoded token: the signature over what DecodeJWT kept,
// then the claims as decoded, so the token is not parsed again.
func (v *Verifier) check(tok *Token) error {
	alg := tok.Header.Alg
	method := jwt.GetSigningMethod(alg)
	if alg != jwt.SigningMethodEdDSA.Alg() && alg != jwt.SigningMethodRS256.Alg() || method == nil {
		return tokenErr(ErrAlgorithmNotAllowed, "alg %s not allowed", clip(alg))
	}
	key, err := v.key(tok.Header)
	if err != nil {
		return err
	}
	// A signature this process made or already checked with this key is
	// valid again: signatures are deterministic (see sigcache).
	if id := sigcache.PublicID(key); !sigcache.Known(id, tok.signingInput, tok.signature) {
		if err := method.Verify(tok.signingInput, tok.signature, key); err != nil {
			return &tokenError{kind: ErrSignatureInvalid, reason: "signature invalid", cause: err}
		}
		sigcache.Add(id, tok.signingInput, tok.signature)
	}

	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	at := now()
	leeway := v.Leeway
	switch {
	case leeway == 0:
		leeway = DefaultLeeway
	case leeway < 0:
		leeway = 0
	}
	aud := v.Audience
	if aud == "" {
		aud = DefaultAudience
	}
	opts := []jwt.ParserOption{
		jwt.WithTimeFunc(func() time.Time { return at }),
		jwt.WithLeeway(leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithAudience(aud),
	}
	if v.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.Issuer))
	}
	if err := jwt.NewValidator(opts...).Validate(jwt.MapClaims(tok.Claims.Raw)); err != nil {
		return v.explain(err, tok, at, leeway, aud)
	}
	c := tok.Claims
	for _, m := range []struct {
		name    string
		missing bool
	}{
		{"sub", c.Subject == ""},
		{"sessionId", c.SessionID == ""},
		{"iat", c.IssuedAt.IsZero()},
	} {
		if m.missing {
			return tokenErr(ErrMissingClaim, "missing claim %s", m.name)
		}
	}
	return nil
}

// explain turns a jwt/v5 error into ours, with a reason computed from the
// decoded claims. Signature problems win over claim problems; among claim
// problems the order is exp, nbf/iat, aud, iss, missing.
func (v *Verifier) explain(err error, tok *Token, at time.Time, leeway time.Duration, aud string) error {
	c := tok.Claims
	wrap := func(kind error, format string, args ...any) error {
		return &tokenError{kind: kind, reason: fmt.Sprintf(format, args...), cause: err}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return wrap(ErrTokenMalformed, "malformed: %v", err)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return wrap(ErrAlgorithmNotAllowed, "alg %s not usable", clip(tok.Header.Alg))
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return wrap(ErrSignatureInvalid, "signature invalid")
	case errors.Is(err, jwt.ErrTokenExpired):
		return wrap(ErrTokenExpired, "expired %s ago", fmtDur(at.Sub(c.ExpiresAt)))
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return wrap(ErrTokenNotYetValid, "issued %s in the future", fmtDur(c.IssuedAt.Sub(at)))
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return wrap(ErrTokenNotYetValid, "not valid for another %s", fmtDur(c.NotBefore.Sub(at)))
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return wrap(ErrAudienceMismatch, "audience %s, want %s", clip(strings.Join(c.Audience, ",")), clip(aud))
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return wrap(ErrIssuerMismatch, "issuer %s, want %s", clip(c.Issuer), clip(v.Issuer))
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		switch {
		case c.ExpiresAt.IsZero():
			return wrap(ErrMissingClaim, "missing claim exp")
		case len(c.Audience) == 0 || len(c.Audience) == 1 && c.Audience[0] == "":
			return wrap(ErrMissingClaim, "missing claim aud")
		case c.Issuer == "":
			return wrap(ErrMissingClaim, "missing claim iss")
		}
		return wrap(ErrMissingClaim, "missing claim")
	case errors.Is(err, jwt.ErrInvalidType):
		return wrap(ErrTokenMalformed, "malformed: a claim has the wrong type")
	}
	return wrap(ErrTokenMalformed, "rejected: %v", err)
}

// key finds the token's kid in Keys and builds a public key of the type alg
// needs. A key of the other type is refused, so an RSA key can never verify
// an EdDSA token nor the other way round, and no key ever reaches HMAC.
func (v *Verifier) key(h Header) (any, error) {
	if v.Keys == nil || len(v.Keys.Keys) == 0 {
		return nil, tokenErr(ErrUnknownKey, "no keys to verify with")
	}
	if h.Kid == "" {
		return nil, tokenErr(ErrUnknownKey, "token has no kid")
	}
	var k *JWK
	for i := range v.Keys.Keys {
		if v.Keys.Keys[i].Kid == h.Kid {
			k = &v.Keys.Keys[i]
			break
		}
	}
	if k == nil {
		return nil, tokenErr(ErrUnknownKey, "unknown kid %s", clip(h.Kid))
	}
	if k.Use != "" && k.Use != "sig" {
		return nil, tokenErr(ErrKeyInvalid, "key %s is for use %q, not sig", clip(k.Kid), clip(k.Use))
	}
	switch h.Alg {
	case "EdDSA":
		if k.Kty != "OKP" || k.Crv != "Ed25519" || (k.Alg != "" && k.Alg != "EdDSA" && k.Alg != "Ed25519") {
			return nil, tokenErr(ErrAlgorithmNotAllowed, "key %s is %s, token says EdDSA", clip(k.Kid), keyKind(k))
		}
		x, err := decodeSegment(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, tokenErr(ErrKeyInvalid, "key %s: x is not a 32-byte base64url Ed25519 key", clip(k.Kid))
		}
		return ed25519.PublicKey(x), nil
	case "RS256":
		if k.Kty != "RSA" || (k.Alg != "" && k.Alg != "RS256") {
			return nil, tokenErr(ErrAlgorithmNotAllowed, "key %s is %s, token says RS256", clip(k.Kid), keyKind(k))
		}
		return rsaKey(k)
	}
	return nil, tokenErr(ErrAlgorithmNotAllowed, "alg %s not allowed", clip(h.Alg))
}

// rsaKey builds the public key of an RSA JWK, refusing a modulus outside
// minRSABits..maxRSABits and an exponent that is even or outside
// 3..maxRSAExponent. The size is checked on the encoded length first, so a
// huge modulus costs nothing but that check.
func rsaKey(k *JWK) (*rsa.PublicKey, error) {
	if len(k.N) > maxRSAModulusChars {
		return nil, tokenErr(ErrKeyInvalid, "key %s: RSA modulus of %d bytes, more than an %d-bit key needs", clip(k.Kid), len(k.N)*3/4, maxRSABits)
	}
	n, errN := decodeSegment(k.N)
	e, errE := decodeSegment(k.E)
	if errN != nil || errE != nil || len(n) == 0 || len(e) == 0 {
		return nil, tokenErr(ErrKeyInvalid, "key %s: RSA n or e missing or not base64url", clip(k.Kid))
	}
	e = bytes.TrimLeft(e, "\x00")
	if len(e) > 4 {
		return nil, tokenErr(ErrKeyInvalid, "key %s: RSA exponent too large (want an odd number from 3 to 2^31-1)", clip(k.Kid))
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	switch bits := pub.N.BitLen(); {
	case bits < minRSABits:
		return nil, tokenErr(ErrKeyInvalid, "key %s: RSA modulus of %d bits is too weak (want %d to %d)", clip(k.Kid), bits, minRSABits, maxRSABits)
	case bits > maxRSABits:
		return nil, tokenErr(ErrKeyInvalid, "key %s: RSA modulus of %d bits, more than the %d allowed", clip(k.Kid), bits, maxRSABits)
	case pub.E < 3 || pub.E > maxRSAExponent || pub.E%2 == 0:
		return nil, tokenErr(ErrKeyInvalid, "key %s: RSA exponent %d (want an odd number from 3 to 2^31-1)", clip(k.Kid), pub.E)
	}
	return pub, nil
}

func keyKind(k *JWK) string {
	s := clip(k.Kty)
	if k.Crv != "" {
		s += "/" + clip(k.Crv)
	}
	if k.Alg != "" {
		s += " for " + clip(k.Alg)
	}
	return s
}

// clip makes an attacker-controlled string safe and short for a reason text.
func clip(s string) string {
	if s == "" {
		return `""`
	}
	return truncateRunes(printable(s), 40)
}

// fmtDur renders a duration for humans: "3m12s", "2h", "450ms".
func fmtDur(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Second:
		d = d.Round(time.Millisecond)
	case d < time.Hour:
		d = d.Round(time.Second)
	default:
		d = d.Round(time.Minute)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
