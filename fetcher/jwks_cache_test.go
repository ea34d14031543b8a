package fetcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// jwksServer is an in-memory JWKS endpoint: it counts requests, and each
// one waits for a value on answer before it is answered with the set.
type jwksServer struct {
	mu     sync.Mutex
	hits   int
	set    *JWKS
	answer chan struct{}
}

func (s *jwksServer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	s.mu.Lock()
	s.hits++
	s.mu.Unlock()
	select {
	case <-s.answer:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	s.mu.Lock()
	body, err := json.Marshal(s.set)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
}

func (s *jwksServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

// Two verifications that need the JWKS at the same time cost one request.
func TestConcurrentVerificationsFetchTheJWKSOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newEdKey(t, "k1")
		srv := &jwksServer{set: k.jwks(), answer: make(chan struct{})}
		c, err := New(Options{BaseURL: "http://auth.test/api/auth", Transport: srv})
		if err != nil {
			t.Fatal(err)
		}
		tok := k.sign(t, validClaims(time.Now()))
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				v, err := c.VerifierFor(context.Background(), "", "k1")
				if err == nil {
					_, err = v.Verify(tok)
				}
				errs <- err
			}()
		}
		synctest.Wait() // both callers wait: on the server, or on the other's fetch
		close(srv.answer)
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if n := srv.count(); n != 1 {
			t.Fatalf("two concurrent verifications made %d JWKS requests, want 1", n)
		}
	})
}

// A token whose kid the cached set lacks makes the client fetch the set
// again at once (the server may have rotated its keys), but a stream of
// such tokens costs one fetch per JWKSUnknownKidInterval.
func TestUnknownKidRefetchIsRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k1, k2, stray := newEdKey(t, "k1"), newEdKey(t, "k2"), newEdKey(t, "stray")
		srv := &jwksServer{set: k1.jwks(), answer: make(chan struct{})}
		close(srv.answer)
		c, err := New(Options{BaseURL: "http://auth.test/api/auth", Transport: srv})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		verify := func(k *testKey) error {
			v, err := c.VerifierFor(ctx, "", k.kid)
			if err != nil {
				return err
			}
			_, err = v.Verify(k.sign(t, validClaims(time.Now())))
			return err
		}
		if err := verify(k1); err != nil || srv.count() != 1 {
			t.Fatalf("first verification: %v, %d requests", err, srv.count())
		}
		// The server rotates to k2: the first k2 token refetches and verifies.
		srv.mu.Lock()
		srv.set = k2.jwks(k1)
		srv.mu.Unlock()
		if err := verify(k2); err != nil || srv.count() != 2 {
			t.Fatalf("after a key rotation: %v, %d requests", err, srv.count())
		}
		// Tokens with a kid the server never publishes: the first one
		// refetches, the rest within the interval do not.
		time.Sleep(JWKSUnknownKidInterval) // virtual time in the bubble
		for range 50 {
			if err := verify(stray); !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("stray kid: %v", err)
			}
		}
		if n := srv.count(); n != 3 {
			t.Fatalf("50 tokens with an unknown kid made %d requests in all, want 3", n)
		}
		time.Sleep(JWKSUnknownKidInterval)
		if err := verify(stray); !errors.Is(err, ErrUnknownKey) || srv.count() != 4 {
			t.Fatalf("after the interval: %v, %d requests, want 4", err, srv.count())
		}
	})
}
