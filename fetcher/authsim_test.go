package fetcher

import (
	"net/http/httptest"
	"testing"

	"github.com/authscope/authscope/fetcher/authsim"
)

// startSim serves the simulator on loopback with its Origin set to the
// server's own URL, like a real deployment.
func startSim(t *testing.T, alg string) target {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	origin := "http://" + srv.Listener.Addr().String()
	sim, err := authsim.New(authsim.Options{Alg: alg, Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = sim
	srv.Start()
	t.Cleanup(srv.Close)
	return target{baseURL: origin + "/api/auth", origin: origin, alg: alg, convexURL: origin}
}

func TestClientAgainstSimulator(t *testing.T) {
	for _, alg := range []string{"EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			exerciseClient(t, startSim(t, alg))
		})
	}
}

func TestGatesAgainstSimulator(t *testing.T) {
	exerciseGates(t, startSim(t, "EdDSA"))
}

// A server that keeps the caller's session (better-auth PR #9345) answers
// change-password with token null and sets no cookie: the Backend takes
// that as a success, and the session it reads next is the same one.
func TestBackendChangePasswordPreservedSession(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	origin := "http://" + srv.Listener.Addr().String()
	sim, err := authsim.New(authsim.Options{Origin: origin, PreserveSession: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = sim
	srv.Start()
	t.Cleanup(srv.Close)
	email, password := sim.DefaultUser()
	b, err := NewBackend(BackendOptions{BaseURL: origin + "/api/auth", Email: email, Password: password, Issuer: origin})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := t.Context()
	if err := b.SignIn(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := b.GetSession(ctx)
	if err != nil || before == nil {
		t.Fatalf("get-session: %v %v", before, err)
	}
	if err := b.ChangePassword(ctx, true); err != nil {
		t.Fatalf("change-password answered token null: %v", err)
	}
	after, err := b.GetSession(ctx)
	if err != nil || after == nil || after.ID != before.ID {
		t.Fatalf("session after the change %+v (%v), want %s kept", after, err, before.ID)
	}
	if tok, err := b.FetchToken(ctx); err != nil || tok == nil || tok.SessionID != before.ID {
		t.Fatalf("token after the change %+v (%v)", tok, err)
	}
}
