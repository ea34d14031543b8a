package secretscan

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func jwt(sig bool) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","kid":"k1"}`))
	c := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u1","sessionId":"s1"}`))
	if !sig {
		return h + "." + c
	}
	return h + "." + c + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("x", 64)))
}

func TestDataFindsKnownValuesAndCompleteJWTs(t *testing.T) {
	secrets := []Secret{{"the password", "correct horse"}, {"session token S1", "AbCdEf0123456789AbCdEf0123456789"}}
	cases := []struct {
		name, data string
		want       []string
	}{
		{"clean", `{"kind":"fetch_resolved","token":{"fingerprint":"ab12cd"}}`, nil},
		{"password", "line1\n{\"password\":\"correct horse\"}", []string{"the password"}},
		{"token in a cookie", "cookie: better-auth.session_token=AbCdEf0123456789AbCdEf0123456789.sig", []string{"session token S1"}},
		{"complete jwt", `{"jwt":"` + jwt(true) + `"}`, []string{"a complete JWT"}},
		{"jwt without signature", `{"jwt":"` + jwt(false) + `"}`, nil},
		{"dotted words", "a.b.c version1.2.3 example.com.something-long-enough", nil},
	}
	for _, tc := range cases {
		got := Data(tc.name, []byte(tc.data), secrets)
		var what []string
		for _, f := range got {
			what = append(what, f.What)
		}
		if strings.Join(what, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: found %v, want %v", tc.name, what, tc.want)
		}
	}
}

func TestDirNamesTheFileAndLine(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ok.jsonl"), []byte("{}\n"), 0o600)
	os.MkdirAll(filepath.Join(dir, "sub"), 0o700)
	os.WriteFile(filepath.Join(dir, "sub", "leak.html"), []byte("<p>\n<p>"+jwt(true)), 0o600)
	got, n, err := Dir(dir, nil)
	if err != nil || n != 2 {
		t.Fatalf("Dir: %d files, %v", n, err)
	}
	if len(got) != 1 || !strings.HasSuffix(got[0].File, "leak.html") || got[0].Line != 2 {
		t.Fatalf("got %v", got)
	}
	if strings.Contains(got[0].String(), "eyJ") {
		t.Fatalf("a finding repeats the secret: %s", got[0])
	}
}
