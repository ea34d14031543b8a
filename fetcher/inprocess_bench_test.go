package fetcher_test

import (
	"context"
	"testing"

	"github.com/authscope/authscope/fetcher"
	"github.com/authscope/authscope/fetcher/authsim"
)

// newInProcessBackend is a signed-in client of a simulator it reaches
// through an authsim.RoundTripper.
func newInProcessBackend(tb testing.TB) *fetcher.Backend {
	tb.Helper()
	const origin = "http://127.0.0.1:1"
	srv, err := authsim.New(authsim.Options{Origin: origin})
	if err != nil {
		tb.Fatal(err)
	}
	email, password := srv.DefaultUser()
	b, err := fetcher.NewBackend(fetcher.BackendOptions{
		BaseURL: origin + "/api/auth", Email: email, Password: password, Issuer: origin,
		ConvexURL: origin, Transport: &authsim.RoundTripper{Handler: srv, Inline: true},
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := b.SignIn(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkInProcessCalls measures single calls of a client against an
// in-process simulator: the cost of the HTTP layer and the server's
// handler per request, without a scenario around them.
func BenchmarkInProcessCalls(b *testing.B) {
	ctx := context.Background()
	be := newInProcessBackend(b)
	b.Run("jwks", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := be.Client().JWKS(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get-session", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if s, err := be.GetSession(ctx); err != nil || s == nil {
				b.Fatal(s, err)
			}
		}
	})
	b.Run("token", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if tok, err := be.FetchToken(ctx); err != nil || !tok.Verified {
				b.Fatal(tok, err)
			}
		}
	})
}
