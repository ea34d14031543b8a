package sigcache

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"testing"
)

func TestKnownIsExact(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, otherID := PublicID(pub), PublicID(other)
	if id == "" || id == otherID {
		t.Fatalf("ids %q and %q: want two different non-empty ids", id, otherID)
	}
	sig := []byte("signature bytes")
	Add(id, "header.payload", sig)
	if !Known(id, "header.payload", sig) {
		t.Fatal("an added signature is not known")
	}
	if got, ok := Signature(id, "header.payload"); !ok || string(got) != string(sig) {
		t.Fatalf("Signature = %q, %v", got, ok)
	}
	for name, known := range map[string]bool{
		"another signature": Known(id, "header.payload", []byte("signature bytez")),
		"another input":     Known(id, "header.payload2", sig),
		"another key":       Known(otherID, "header.payload", sig),
		"no key":            Known("", "header.payload", sig),
	} {
		if known {
			t.Errorf("%s is known", name)
		}
	}
}

func TestPublicIDOfRSAKeys(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	a := k.PublicKey
	b := k.PublicKey
	b.E = 3
	if PublicID(&a) == "" || PublicID(&a) == PublicID(&b) {
		t.Errorf("the exponent is not part of the id: %q", PublicID(&b))
	}
	if PublicID("not a key") != "" || PublicID((*rsa.PublicKey)(nil)) != "" {
		t.Error("an unknown key has an id")
	}
}

func TestTheCacheIsBounded(t *testing.T) {
	for i := 0; i < 3*maxEntries; i++ {
		Add("k", fmt.Sprint(i), []byte("s"))
	}
	if n := known.Len(); n > maxEntries {
		t.Fatalf("%d entries, want at most %d", known.Len(), maxEntries)
	}
}
