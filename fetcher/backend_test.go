package fetcher_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authscope/authscope/fetcher"
	"github.com/authscope/authscope/fetcher/authsim"
	"github.com/authscope/authscope/fetcher/target"
)

// A backend started from a session cookie (no password) is signed in as
// that session, and refuses to rotate with a clear error.
func TestBackendFromSessionCookie(t *testing.T) {
	srv, origin, stop, err := target.StartSim(authsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	email, pw := srv.DefaultUser()
	ctx := context.Background()
	first, err := fetcher.NewBackend(fetcher.BackendOptions{BaseURL: origin + "/api/auth", Email: email, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.SignIn(ctx); err != nil {
		t.Fatal(err)
	}
	want, err := first.GetSession(ctx)
	if err != nil || want == nil {
		t.Fatalf("first session: %v %v", want, err)
	}
	var cookie string
	for _, c := range first.Client().Cookies() {
		if strings.HasSuffix(c.Name, "session_token") {
			cookie = c.Value
		}
	}
	b, err := fetcher.NewBackend(fetcher.BackendOptions{BaseURL: origin + "/api/auth", SessionCookie: cookie})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SignIn(ctx); err != nil {
		t.Fatalf("sign in with a cookie: %v", err)
	}
	got, err := b.GetSession(ctx)
	if err != nil || got == nil || got.ID != want.ID {
		t.Fatalf("cookie client sees %+v (%v), want session %s", got, err, want.ID)
	}
	tok, err := b.FetchToken(ctx)
	if err != nil || !tok.Verified || tok.SessionID != want.ID {
		t.Fatalf("token from the cookie client: %+v %v", tok, err)
	}
	if err := b.ChangePassword(ctx, true); !errors.Is(err, fetcher.ErrNoPassword) {
		t.Fatalf("rotation without a password: %v", err)
	}
}
