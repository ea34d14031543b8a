package target

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://localhost:3000/api/auth", "http://localhost:3000/api/auth"},
		{"http://user:hunter2@host/api/auth", "http://user:xxxxx@host/api/auth"},
		{"https://u:hunter2@host/%zz", "https://u:xxxxx@host/%zz"},
		{"https://u:hun ter2@host", "https://u:xxxxx@host"},
		{"u:hunter2@host/api", "u:xxxxx@host/api"},
		{"https://hunter2@host", "https://xxxxx@host"},
		{"https://host/a@b", "https://host/a@b"},
	} {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A target that does not parse must not have its password quoted in the
// error, which url.Error would do.
func TestNormalizeBaseURLHidesPassword(t *testing.T) {
	for _, raw := range []string{"https://u:hunter2@host/%zz", "https://u:hun ter2@host", "ftp://u:hunter2@host", "u:hunter2@host"} {
		_, err := NormalizeBaseURL(raw)
		if err == nil {
			t.Fatalf("%q: no error", raw)
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "hun ter2") {
			t.Errorf("%q: the error quotes the password: %v", raw, err)
		}
	}
}
