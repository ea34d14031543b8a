package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// unsignedJWT builds a compact JWT with a signature segment that verifies
// against nothing: decode without --jwks never looks at it.
func unsignedJWT(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	seg := func(v map[string]any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return seg(header) + "." + seg(claims) + "." + base64.RawURLEncoding.EncodeToString([]byte("not-a-signature"))
}

func claimsExpiringIn(d time.Duration) map[string]any {
	now := time.Now()
	return map[string]any{"sub": "u1", "sessionId": "s1", "aud": "convex", "iss": "http://127.0.0.1:3210",
		"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(d).Unix()}
}

// Without --jwks nothing is verified: decode says so, and a token that is
// wrong on its face (alg none, HMAC, expired) exits 1.
func TestDecodeWithoutJWKS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		alg     string
		exp     time.Duration
		code    int
		problem string
	}{
		{"EdDSA, fresh", "EdDSA", 10 * time.Minute, exitOK, ""},
		{"alg none", "none", 10 * time.Minute, exitFailed, "alg none: the token is not signed at all"},
		{"HS256", "HS256", 10 * time.Minute, exitFailed, "alg HS256: an HMAC secret"},
		{"expired", "RS256", -51 * time.Minute, exitFailed, "expired 51m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := unsignedJWT(t, map[string]any{"alg": tc.alg, "kid": "k1"}, claimsExpiringIn(tc.exp))
			code, out, errOut := runCLI(t, "", "decode", tok)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			if !strings.Contains(out, "signature     NOT VERIFIED: nothing was checked") {
				t.Errorf("output does not say nothing was verified:\n%s", out)
			}
			if tc.problem != "" && !strings.Contains(out, "problem       "+tc.problem) {
				t.Errorf("output does not give the problem %q:\n%s", tc.problem, out)
			}
			code, out, _ = runCLI(t, "", "decode", tok, "--json")
			var v map[string]any
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("--json: %v\n%s", err, out)
			}
			if code != tc.code || v["verified"] != false || v["signature_checked"] != false {
				t.Errorf("--json: exit %d, %v", code, v)
			}
			if p, _ := v["problem"].(string); tc.problem != "" && !strings.Contains(p, tc.problem) {
				t.Errorf("--json problem %q, want %q", p, tc.problem)
			}
		})
	}
}

// A token is data from a server: its header and claims must not reach the
// terminal as commands (OSC 52 clipboard, window title, clear screen, SGR
// blink and colour, a C1 CSI, BEL).
func TestDecodeEscapesTerminalControls(t *testing.T) {
	claims := claimsExpiringIn(10 * time.Minute)
	claims["sub"] = "u1\x1b]52;c;cHduZWQ=\x07"
	claims["iss"] = "\x1b]2;owned\x1b\\http://x"
	claims["name"] = "Mallory\x1b[2J\x1b[H"
	claims["email"] = "\x1b[5;31mm@x.test\x1b[0m"
	claims["note"] = "\u009b31m\u202eevil"
	tok := unsignedJWT(t, map[string]any{"alg": "EdDSA", "kid": "k1\x1b[8m", "typ": "JWT\a"}, claims)
	for _, args := range [][]string{{"decode", tok}, {"decode", tok, "--json"}} {
		code, out, errOut := runCLI(t, "", args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args[2:], code, errOut)
		}
		for _, bad := range []string{"\x1b", "\a", "\u009b", "\u202e"} {
			if strings.Contains(out, bad) {
				t.Errorf("%v: output holds %q:\n%q", args[2:], bad, out)
			}
		}
		if !strings.Contains(out, `\u001b]52;c;`) && !strings.Contains(out, `\x1b]52;c;`) {
			t.Errorf("%v: the escaped OSC 52 is not shown:\n%s", args[2:], out)
		}
	}
}

// decode takes the token in the forms a user copies it from: the token
// endpoint's JSON (one line or pretty-printed, as an argument or on
// stdin) and an Authorization header's Bearer prefix.
func TestDecodeInputForms(t *testing.T) {
	tok := unsignedJWT(t, map[string]any{"alg": "EdDSA", "kid": "k1", "typ": "JWT"}, claimsExpiringIn(10*time.Minute))
	for _, tc := range []struct {
		name, arg, stdin string
	}{
		{"token JSON", `{"token":"` + tok + `"}`, ""},
		{"Bearer", "Bearer " + tok, ""},
		{"bearer, lower case", "bearer  " + tok, ""},
		{"token JSON on stdin", "-", `{"token": "` + tok + `"}` + "\n"},
		{"pretty JSON on stdin", "", "{\n  \"token\": \"" + tok + "\"\n}\n"},
		{"Bearer on stdin", "-", "Bearer " + tok + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"decode"}
			if tc.arg != "" {
				args = append(args, tc.arg)
			}
			code, out, errOut := runCLI(t, tc.stdin, args...)
			if code != exitOK || !strings.Contains(out, "sessionId     s1") {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// A bad token gets one clean reason, not "malformed token: malformed: …".
func TestDecodeErrorsSayItOnce(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"not.a.jwt", "authscope: malformed token: payload is not base64url"},
		{"abc", "authscope: malformed token: 1 segments, want 3"},
		{`{"access":"x"}`, `authscope: malformed token: the JSON has no "token" string`},
		{`{"token":`, "authscope: malformed token: the input starts with { but is not a JSON object"},
	} {
		code, _, errOut := runCLI(t, "", "decode", tc.in)
		if code != exitFailed || !strings.HasPrefix(errOut, tc.want) || strings.Count(errOut, "malformed") != 1 {
			t.Errorf("%q: exit %d, %q; want 1 and %q", tc.in, code, errOut, tc.want)
		}
	}
}

// --json names the header fields as the token does, lower case like the
// claims.
func TestDecodeJSONHeaderKeys(t *testing.T) {
	tok := unsignedJWT(t, map[string]any{"alg": "EdDSA", "kid": "k1", "typ": "JWT"}, claimsExpiringIn(10*time.Minute))
	_, out, _ := runCLI(t, "", "decode", tok, "--json")
	var v struct {
		Header map[string]any `json:"header"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v.Header["alg"] != "EdDSA" || v.Header["kid"] != "k1" || v.Header["typ"] != "JWT" || v.Header["Alg"] != nil {
		t.Fatalf("header %v", v.Header)
	}
}

// A JWKS URL with a password (basic auth on the endpoint) is never quoted
// with it, whether the fetch fails or the URL does not parse.
func TestDecodeJWKSErrorHidesPassword(t *testing.T) {
	tok := unsignedJWT(t, map[string]any{"alg": "EdDSA", "kid": "k1"}, claimsExpiringIn(time.Hour))
	for _, u := range []string{"http://user:hunter2-secret@127.0.0.1:1/jwks", "http://user:hunter2-secret@127.0.0.1:1/%zz"} {
		code, out, errOut := runCLI(t, "", "decode", "--jwks", u, tok)
		if code != exitUsage || !strings.Contains(errOut, "fetch JWKS from http://user:xxxxx@127.0.0.1:1/") {
			t.Fatalf("%s: exit %d, stderr %q", u, code, errOut)
		}
		if strings.Contains(out+errOut, "hunter2-secret") {
			t.Fatalf("%s: the password shows: %q", u, errOut)
		}
	}
}
