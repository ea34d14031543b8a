package fetcher

import (
	"testing"

	"github.com/authscope/authscope/internal/realserver"
)

// These run against a real better-auth 1.6.34 + @convex-dev/better-auth 0.12.5
// server under Node. realserver.Start skips when node/npm are missing, unless
// AUTHSCOPE_REQUIRE_REAL_SERVER=1.

func startReal(t *testing.T, alg string) target {
	t.Helper()
	s := realserver.Start(t, realserver.Options{Alg: alg})
	return target{baseURL: s.BaseURL, origin: s.URL, alg: alg}
}

func TestClientAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node")
	}
	for _, alg := range []string{"EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			exerciseClient(t, startReal(t, alg))
		})
	}
}

func TestGatesAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node")
	}
	exerciseGates(t, startReal(t, "RS256"))
}
