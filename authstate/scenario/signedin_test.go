package scenario_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher/target"
)

// signed_in checks whether the server knows a session for the client's
// cookies at the end: the late 401 of scenario 19 wipes the fresh cookie,
// so signed_in: true fails there; after a sign-out, signed_in: false holds.
func TestSignedInExpectation(t *testing.T) {
	for _, tc := range []struct {
		steps, expect string
		passed        bool
		got           string
	}{
		{"  - hold: token_request\n  - fetch: {as: late}\n  - rotate\n  - hold: none\n  - release: all\n  - await: late\n", "signed_in: true", false, "the server has no session for the client's cookies"},
		{"  - rotate\n", "signed_in: true", true, ""},
		{"  - sign_out\n", "signed_in: false", true, ""},
		{"  - rotate\n", "signed_in: false", false, "the server still has a session for the client's cookies (S2)"},
	} {
		sc, err := scenario.Parse("s.yaml", []byte("name: s\nsteps:\n"+tc.steps+"expect:\n  - "+tc.expect+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		res := scenario.Run(context.Background(), &target.Sim{}, sc, "hardened", scenario.Options{})
		if res.Passed != tc.passed || res.Err != "" {
			t.Errorf("%s after %q: passed=%v err=%q %+v", tc.expect, tc.steps, res.Passed, res.Err, res.Failures)
			continue
		}
		if !tc.passed && (len(res.Failures) != 1 || res.Failures[0].Got != tc.got || res.Failures[0].Expect != tc.expect) {
			t.Errorf("failures %+v, want %q: %q", res.Failures, tc.expect, tc.got)
		}
	}
	if _, err := scenario.Parse("s.yaml", []byte("name: s\nsteps: [rotate]\nexpect:\n  - signed_in: maybe\n")); err == nil || !strings.Contains(err.Error(), "signed_in must be true or false") {
		t.Errorf("signed_in: maybe: %v", err)
	}
}

// consumer: {socket_stopped: false} fails when the Convex client is left
// with a stopped socket (the #181 wedge of scenario 24) and holds after a
// plain rotation; it needs the Convex client model.
func TestSocketStoppedExpectation(t *testing.T) {
	wedge := "  - hold: token\n  - fault: {endpoint: query, status: 401}\n  - query\n  - rotate\n  - hold: none\n  - release: all\n"
	for _, tc := range []struct {
		steps  string
		passed bool
	}{{wedge, false}, {"  - rotate\n", true}} {
		sc, err := scenario.Parse("s.yaml", []byte("name: s\nstart: {consumer: true}\nsteps:\n"+tc.steps+"expect:\n  - consumer: {socket_stopped: false}\n"))
		if err != nil {
			t.Fatal(err)
		}
		res := scenario.Run(context.Background(), &target.Sim{}, sc, "hardened", scenario.Options{})
		if res.Passed != tc.passed || res.Err != "" {
			t.Errorf("after %q: passed=%v err=%q %+v", tc.steps, res.Passed, res.Err, res.Failures)
			continue
		}
		if !tc.passed && (len(res.Failures) != 1 || !strings.Contains(res.Failures[0].Got, "socket is stopped")) {
			t.Errorf("failures %+v, want the stopped socket named", res.Failures)
		}
	}
	for _, bad := range []string{"start: {consumer: false}\n", ""} {
		if _, err := scenario.Parse("s.yaml", []byte("name: s\n"+bad+"steps: [rotate]\nexpect:\n  - consumer: {socket_stopped: false}\n")); err == nil || !strings.Contains(err.Error(), "consumer") {
			t.Errorf("socket_stopped without the consumer: %v", err)
		}
	}
	if _, err := scenario.Parse("s.yaml", []byte("name: s\nstart: {consumer: true}\nsteps: [rotate]\nexpect:\n  - consumer: {socket_stopped: false, authenticated: true}\n")); err == nil || !strings.Contains(err.Error(), "exactly one") {
		t.Errorf("two consumer checks in one expectation: %v", err)
	}
}
