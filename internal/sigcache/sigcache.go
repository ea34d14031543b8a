// Package sigcache remembers JWT signatures known to be valid: those this
// process made, and those it has checked. EdDSA and RS256 (PKCS #1 v1.5)
// signatures are deterministic, so signing the same input with the same key
// again gives the same bytes, and a signature that verified once verifies
// again. A scenario run mints and checks the same few tokens many times
// over (the simulator signs a token on every get-session, the client and
// the Convex model check each token they receive); the cache lets each
// signature be computed and checked once.
//
// Keys are named by an id of the public key (see PublicID), so a signature
// is only ever reused with the key it was made or checked with. The cache
// is bounded: when it is full it starts over.
package sigcache

import (
	"crypto/ed25519"
	"crypto/rsa"
	"strconv"

	"github.com/authscope/authscope/internal/memo"
)

// maxEntries bounds the cache; an entry is a token's signing input and
// signature (well under a kilobyte each).
const maxEntries = 4096

type entryKey struct {
	pub   string // PublicID of the key
	input string // the JWT's header.payload
}

// known maps a key and a signing input to the signature.
var known = memo.New[entryKey, string](maxEntries)

// PublicID names a public key (ed25519.PublicKey or *rsa.PublicKey) for
// the cache; "" for anything else, which the cache ignores.
func PublicID(pub any) string {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return "EdDSA:" + string(k)
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return ""
		}
		return "RS256:" + strconv.Itoa(k.E) + ":" + string(k.N.Bytes())
	}
	return ""
}

// Signature returns the signature remembered for input under the key pub
// names, if any.
func Signature(pub, input string) ([]byte, bool) {
	if pub == "" {
		return nil, false
	}
	sig, ok := known.Get(entryKey{pub, input})
	if !ok {
		return nil, false
	}
	return []byte(sig), true
}

// Known reports whether sig is a signature of input under the key pub
// names that this process made or has verified.
func Known(pub, input string, sig []byte) bool {
	if pub == "" {
		return false
	}
	s, ok := known.Get(entryKey{pub, input})
	return ok && s == string(sig)
}

// Add remembers that sig is a valid signature of input under the key pub
// names: call it only with a signature just made with the matching
// private key, or just verified with pub.
func Add(pub, input string, sig []byte) {
	if pub == "" {
		return
	}
	known.Put(entryKey{pub, input}, string(sig))
}
