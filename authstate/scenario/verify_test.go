package scenario_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/authstate/scenario"
	"github.com/authscope/authscope/fetcher"
	"github.com/authscope/authscope/fetcher/authsim"
)

// riggedSim is a target whose simulator is tampered with: its token answers
// rewritten, its server-side controls set before the run.
type riggedSim struct {
	opts    authsim.Options
	setup   func(*authsim.Server)
	rewrite func(jwt string) string
}

func (r *riggedSim) Name() string { return "rigged simulator" }

func (r *riggedSim) Open(ctx context.Context) (scenario.Client, error) {
	var sim *authsim.Server
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.rewrite == nil || req.URL.Path != "/api/auth/convex/token" {
			sim.ServeHTTP(w, req)
			return
		}
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		var answer struct {
			Token string `json:"token"`
		}
		if rec.Code == http.StatusOK && json.Unmarshal(body, &answer) == nil && answer.Token != "" {
			body, _ = json.Marshal(map[string]string{"token": r.rewrite(answer.Token)})
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	origin := "http://" + ts.Listener.Addr().String()
	opts := r.opts
	opts.Origin = origin
	var err error
	if sim, err = authsim.New(opts); err != nil {
		return nil, err
	}
	if r.setup != nil {
		r.setup(sim)
	}
	ts.Start()
	email, password := sim.DefaultUser()
	b, err := fetcher.NewBackend(fetcher.BackendOptions{BaseURL: origin + "/api/auth", Email: email, Password: password, Issuer: origin})
	if err != nil {
		ts.Close()
		return nil, err
	}
	b.OnClose(ts.Close)
	return b, nil
}

// withHeader replaces a JWT's header, keeping its claims and signature.
func withHeader(jwt, header string) string {
	parts := strings.SplitN(jwt, ".", 3)
	parts[0] = base64.RawURLEncoding.EncodeToString([]byte(header))
	return strings.Join(parts, ".")
}

const verifyScenario = `
name: every token the client serves was verified
steps:
  - fetch: {as: first}
  - await: first
expect:
  - no_violations: true
`

// TestUnverifiedTokenIsAViolation: a token that fails verification against
// the server's JWKS (the JWKS unreachable, alg none, an unknown key, or a
// token that expired 51 minutes ago by a server clock that is behind) is
// an invariant violation with the reason when it is served. v0.12 and
// pr329 do not verify, so they serve it and the violation shows; hardened
// never serves it, and an expired token's own iat does not make it look
// fresh.
func TestUnverifiedTokenIsAViolation(t *testing.T) {
	sc, err := scenario.Parse("verify.yaml", []byte(verifyScenario))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		tg   *riggedSim
		why  string
		// hardenedGets is what hardened's call returns: "current" once a
		// retry verifies, "none" when no token ever does, "" either (a JWKS
		// cache may or may not fetch the keys again for the retry).
		hardenedGets string
	}{
		{"jwks fault", &riggedSim{setup: func(s *authsim.Server) {
			s.FailNth(authsim.EndpointJWKS, 1, authsim.Fault{Status: http.StatusServiceUnavailable})
		}}, "jwks: HTTP 503", ""},
		{"alg none", &riggedSim{rewrite: func(jwt string) string {
			return strings.Join(strings.SplitN(withHeader(jwt, `{"alg":"none","typ":"JWT"}`), ".", 3)[:2], ".") + "."
		}}, "none", "none"},
		{"unknown kid", &riggedSim{rewrite: func(jwt string) string {
			return withHeader(jwt, `{"alg":"EdDSA","kid":"rotated-away"}`)
		}}, "unknown kid", "none"},
		{"expired 51 minutes ago", &riggedSim{opts: authsim.Options{Now: func() time.Time {
			return time.Now().Add(-66 * time.Minute)
		}}}, "expired 51m", "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, pol := range authstate.PolicyNames() {
				var mu sync.Mutex
				var events []authstate.Event
				res := scenario.Run(context.Background(), tc.tg, sc, pol, scenario.Options{OnEvent: func(ev authstate.Event) {
					mu.Lock()
					events = append(events, ev)
					mu.Unlock()
				}})
				if res.Err != "" {
					t.Fatalf("%s: run error %s", pol, res.Err)
				}
				mu.Lock()
				var violation *authstate.Event
				var served []authstate.Event
				for i, ev := range events {
					switch ev.Kind {
					case authstate.KindViolation:
						if violation == nil {
							violation = &events[i]
						}
					case authstate.KindTokenServed:
						served = append(served, ev)
					}
				}
				mu.Unlock()
				if pol == "hardened" {
					if !res.Passed || violation != nil {
						t.Errorf("hardened: passed=%v %+v violation %+v", res.Passed, res.Failures, violation)
					}
					for _, ev := range served {
						if ev.Token != nil && !ev.Token.Verified {
							t.Errorf("hardened served a token that failed verification: %s", ev.Detail)
						}
						if got := ev.Token != nil; tc.hardenedGets != "" && got != (tc.hardenedGets == "current") {
							t.Errorf("hardened: %s; want a token: %v", ev.Detail, tc.hardenedGets == "current")
						}
					}
					continue
				}
				if res.Passed || len(res.Failures) == 0 {
					t.Errorf("%s passed; the served token failed verification", pol)
					continue
				}
				if got := res.Failures[0].Got; !strings.Contains(got, "failed verification") || !strings.Contains(got, tc.why) {
					t.Errorf("%s: failure %q; want the verification failure and %q", pol, got, tc.why)
				}
				if violation == nil || violation.Cause != "unverified" || !strings.Contains(violation.Reason, tc.why) {
					t.Errorf("%s: violation %+v; want %s with %q", pol, violation, "unverified", tc.why)
				}
			}
		})
	}
}
