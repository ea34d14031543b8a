package fetcher

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzResponses feeds arbitrary bodies, statuses and content types to every
// Client method and QueryConvex: each must return a value or one of the
// documented errors, and never panic.
func FuzzResponses(f *testing.F) {
	for _, s := range []string{
		"null", "{}", "[]", `{"token":null,"user":` + userJSON + `}`, `{"session":` + sessionJSON + `,"user":` + userJSON + `}`,
		`[` + sessionJSON + `]`, `{"keys":[{"kid":"a","kty":"OKP"}]}`, `{"status":true}`, `{"success":true}`,
		`{"token":"a.b.c"}`, `{"status":"success","value":null}`, `{"status":"error","errorMessage":"x"}`,
		`{"code":"X","message":"\u001b[2J"}`, "\xff\xfe", `{"session":{"id":"s","userId":"u","expiresAt":1e300},"user":{"id":"u"}}`,
	} {
		f.Add([]byte(s), 200, "application/json")
	}
	f.Add([]byte(`{"message":"Unauthorized","code":"UNAUTHORIZED"}`), 401, "application/json")
	f.Add([]byte(`{"status":"error","errorMessage":"x"}`), 560, "application/json; charset=utf-8")
	f.Add([]byte(`<html>`), 502, "text/html")
	f.Fuzz(func(t *testing.T, body []byte, status int, ct string) {
		if status < 100 || status > 999 {
			status = 200
		}
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			h := http.Header{}
			h.Set("Content-Type", ct)
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)),
				ContentLength: -1, Request: r}, nil
		})
		c, err := New(Options{BaseURL: "http://sim.test/api/auth", Transport: rt, MaxBody: 4096})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("one input took %v", d)
			}
		}()
		check := func(err error) {
			var he *HTTPError
			if err != nil && !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrBodyTooLarge) && !errors.As(err, &he) {
				t.Fatalf("untyped error %v (%T)", err, err)
			}
			_ = Reason(err)
		}
		_, err = c.SignUp(ctx, "e", "p", "n")
		check(err)
		_, err = c.SignIn(ctx, "e", "p")
		check(err)
		check(c.SignOut(ctx))
		_, err = c.GetSession(ctx)
		check(err)
		_, err = c.ChangePassword(ctx, "a", "b", true)
		check(err)
		_, err = c.ListSessions(ctx)
		check(err)
		check(c.RevokeSession(ctx, "t"))
		check(c.RevokeSessions(ctx))
		check(c.RevokeOtherSessions(ctx))
		_, err = c.ConvexToken(ctx)
		check(err)
		if ks, err := c.JWKS(ctx); err == nil {
			_, _ = (&Verifier{Keys: ks}).Verify("eyJhbGciOiJFZERTQSIsImtpZCI6ImEifQ.e30.AA")
		} else {
			check(err)
		}
		_, err = QueryConvex(ctx, &http.Client{Transport: rt}, "http://sim.test", "a:b", nil, "")
		check(err)
	})
}
