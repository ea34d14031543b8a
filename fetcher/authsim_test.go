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
