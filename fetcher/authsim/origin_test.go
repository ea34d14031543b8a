package authsim

import (
	"strings"
	"testing"
)

// TrustedOrigins work like Better Auth's trustedOrigins: the server's own
// origin and those listed pass the CSRF rule, any other is refused, and a
// listed value that is not an http(s) origin is refused at start.
func TestTrustedOrigins(t *testing.T) {
	if _, err := New(Options{TrustedOrigins: []string{"ftp://x"}}); err == nil || !strings.Contains(err.Error(), `trusted origin "ftp://x"`) {
		t.Fatalf("a bad trusted origin: %v", err)
	}
	_, ts := startSim(t, Options{TrustedOrigins: []string{"http://localhost:3210"}})
	for _, tc := range []struct {
		origin string
		status int
	}{{ts.URL, 200}, {"http://localhost:3210", 200}, {"http://LOCALHOST:3210/", 200}, {"http://localhost:3211", 403}, {"http://evil.example", 403}} {
		c := newClient(t, ts.URL)
		c.origin = tc.origin
		if r := c.call("POST", "/api/auth/sign-in/email", map[string]any{"email": DefaultEmail, "password": DefaultPassword}); r.status != tc.status {
			t.Errorf("sign-in with Origin %s: %d %s, want %d", tc.origin, r.status, r.raw, tc.status)
			continue
		}
		if tc.status != 200 {
			continue
		}
		// A cookie-bearing POST is where the CSRF rule bites.
		if r := c.call("POST", "/api/auth/sign-out", map[string]any{}); r.status != 200 {
			t.Errorf("sign-out with Origin %s: %d %s", tc.origin, r.status, r.raw)
		}
	}
}
