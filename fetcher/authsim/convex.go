package authsim

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"sync"

	"github.com/authscope/authscope/internal/memo"
	"github.com/authscope/authscope/internal/sigcache"
)

// signingKey is the one JWKS key the simulator signs with; kid is an id like
// the real plugin's jwks table row id.
type signingKey struct {
	alg string
	kid string
	ed  ed25519.PrivateKey
	rsa *rsa.PrivateKey
	// pubID names the public key in sigcache.
	pubID string
}

func newSigningKey(alg string, ids *idSource) (*signingKey, error) {
	k := &signingKey{alg: alg, kid: ids.newID()}
	switch alg {
	case AlgEdDSA:
		priv, err := processEdKey()
		if err != nil {
			return nil, fmt.Errorf("authsim: ed25519 key: %w", err)
		}
		k.ed = priv
	case AlgRS256:
		priv, err := processRSAKey()
		if err != nil {
			return nil, fmt.Errorf("authsim: rsa key: %w", err)
		}
		k.rsa = priv
	default:
		return nil, fmt.Errorf("authsim: unsupported alg %q", alg)
	}
	k.pubID = sigcache.PublicID(k.public())
	return k, nil
}

// processRSAKey is the RSA key every RS256 simulator of this process signs
// with, each under its own kid. Generating a 2048-bit key is a random
// search for primes that takes 50 to 300 ms, which made each scenario run
// on a fresh RS256 simulator slow, and its run time uneven.
var processRSAKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// processEdKey is the Ed25519 key every EdDSA simulator of this process
// signs with, each under its own kid, for the same reason: deriving a key
// cost a scenario run on a fresh simulator as much as signing a token.
var processEdKey = sync.OnceValues(func() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	return priv, err
})

func (k *signingKey) public() crypto.PublicKey {
	if k.ed != nil {
		return k.ed.Public()
	}
	return &k.rsa.PublicKey
}

// sign signs input. Both algorithms are deterministic, so a signature made
// before for the same input is reused (see sigcache): the simulator signs
// the same token on every get-session within a second.
func (k *signingKey) sign(input string) ([]byte, error) {
	if sig, ok := sigcache.Signature(k.pubID, input); ok {
		return sig, nil
	}
	var sig []byte
	if k.ed != nil {
		sig = ed25519.Sign(k.ed, []byte(input))
	} else {
		sum := sha256.Sum256([]byte(input))
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k.rsa, crypto.SHA256, sum[:]); err != nil {
			return nil, err
		}
	}
	sigcache.Add(k.pubID, input, sig)
	return sig, nil
}

// jwkJSON is one key of /convex/jwks, in the real plugin's shape: alg, then
// the public JWK (crv, x, kty for Ed25519; kty, n, e for RSA), then kid.
type jwkJSON struct {
	Alg string `json:"alg"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Kty string `json:"kty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid"`
}

func (k *signingKey) jwk() jwkJSON {
	b64 := base64.RawURLEncoding.EncodeToString
	if k.ed != nil {
		return jwkJSON{Alg: k.alg, Crv: "Ed25519", X: b64(k.ed.Public().(ed25519.PublicKey)), Kty: "OKP", Kid: k.kid}
	}
	pub := k.rsa.PublicKey
	return jwkJSON{Alg: k.alg, Kty: "RSA", N: b64(pub.N.Bytes()), E: b64(big.NewInt(int64(pub.E)).Bytes()), Kid: k.kid}
}

// jwtHeader is the real plugin's header: alg and kid, no typ.
type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// jwtClaims are the real plugin's claims, in its order: the user minus id
// and image, sessionId, iat, then sub, exp, iss, aud.
type jwtClaims struct {
	Iat           int64  `json:"iat"`
	Name          string `json:"name"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"emailVerified"`
	CreatedAt     string `json:"createdAt"`
	UpdatedAt     string `json:"updatedAt"`
	SessionID     string `json:"sessionId"`
	Sub           string `json:"sub"`
	Exp           int64  `json:"exp"`
	Iss           string `json:"iss"`
	Aud           string `json:"aud"`
}

// convexAudience is the applicationID of the Convex auth provider.
const convexAudience = "convex"

// mint signs a Convex JWT for a session; iss is the server origin
// (CONVEX_SITE_URL on the real server).
func (s *Server) mint(rs *resolvedSession, iss string) (string, error) {
	iat := s.now().Unix()
	claims := jwtClaims{
		Iat:           iat,
		Name:          rs.user.name,
		Email:         rs.user.email,
		EmailVerified: rs.user.emailVerified,
		CreatedAt:     isoTime(rs.user.createdAt),
		UpdatedAt:     isoTime(rs.user.updatedAt),
		SessionID:     rs.session.id,
		Sub:           rs.user.id,
		Exp:           iat + int64(s.ttl.Seconds()),
		Iss:           iss,
		Aud:           convexAudience,
	}
	mk := mintKey{alg: s.key.alg, kid: s.key.kid, pub: s.key.pubID, claims: claims}
	if tok, ok := minted.Get(mk); ok {
		return tok, nil
	}
	h, err := marshalJS(jwtHeader{Alg: s.key.alg, Kid: s.key.kid})
	if err != nil {
		return "", err
	}
	p, err := marshalJS(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding.EncodeToString
	input := enc(h) + "." + enc(p)
	sig, err := s.key.sign(input)
	if err != nil {
		return "", fmt.Errorf("authsim: sign: %w", err)
	}
	tok := input + "." + enc(sig)
	minted.Put(mk, tok)
	return tok, nil
}

// mintKey is everything a minted token is made of: the same key gives the
// same token, byte for byte (both algorithms sign deterministically).
type mintKey struct {
	alg, kid, pub string
	claims        jwtClaims
}

// minted remembers the tokens this process minted (at most 4096; then it
// starts over). A run mints the same token on every get-session within a
// second, and the runs of a batch on deterministic simulators mint the
// same tokens as each other.
var minted = memo.New[mintKey, string](4096)

// openIDConfiguration is the oidc-provider plugin's metadata with the Convex
// plugin's issuer and jwks_uri. id_token_signing_alg_values_supported is
// ["HS256"] because the plugin does not set useJWTPlugin.
func (c *call) openIDConfiguration() (any, *apiError) {
	base := c.origin + BasePath
	return openIDConfig{
		Issuer:                c.origin,
		AuthorizationEndpoint: base + "/oauth2/authorize",
		TokenEndpoint:         base + "/oauth2/token",
		UserinfoEndpoint:      base + "/oauth2/userinfo",
		JWKSURI:               c.origin + BasePath + "/convex/jwks",
		RegistrationEndpoint:  base + "/oauth2/register",
		EndSessionEndpoint:    base + "/oauth2/endsession",
		ScopesSupported:       []string{"openid", "profile", "email", "offline_access"},
		ResponseTypes:         []string{"code"},
		ResponseModes:         []string{"query"},
		GrantTypes:            []string{"authorization_code", "refresh_token"},
		ACRValues:             []string{"urn:mace:incommon:iap:silver", "urn:mace:incommon:iap:bronze"},
		SubjectTypes:          []string{"public"},
		IDTokenAlgs:           []string{"HS256"},
		TokenAuthMethods:      []string{"client_secret_basic", "client_secret_post", "none"},
		CodeChallengeMethods:  []string{"S256"},
		ClaimsSupported:       []string{"sub", "iss", "aud", "exp", "nbf", "iat", "jti", "email", "email_verified", "name"},
	}, nil
}

type openIDConfig struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	RegistrationEndpoint  string   `json:"registration_endpoint"`
	EndSessionEndpoint    string   `json:"end_session_endpoint"`
	ScopesSupported       []string `json:"scopes_supported"`
	ResponseTypes         []string `json:"response_types_supported"`
	ResponseModes         []string `json:"response_modes_supported"`
	GrantTypes            []string `json:"grant_types_supported"`
	ACRValues             []string `json:"acr_values_supported"`
	SubjectTypes          []string `json:"subject_types_supported"`
	IDTokenAlgs           []string `json:"id_token_signing_alg_values_supported"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
	ClaimsSupported       []string `json:"claims_supported"`
}
