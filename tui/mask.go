package tui

import (
	"net/url"
	"path/filepath"
	"strings"
)

// masker hides what should not be on a shared screen in demo mode: emails,
// ids and raw JWTs. Labels (S1, S2), fingerprints and times stay readable.
type masker struct{ on bool }

const maskDots = "•••"

func (m masker) email(s string) string {
	if !m.on || s == "" {
		return s
	}
	local, _, ok := strings.Cut(s, "@")
	if !ok || local == "" {
		return maskDots
	}
	return string([]rune(local)[:1]) + maskDots + "@" + maskDots
}

func (m masker) id(s string) string {
	if !m.on || s == "" {
		return s
	}
	return maskDots + maskDots
}

func (m masker) jwt(s string) string {
	if !m.on || s == "" {
		return s
	}
	return "eyJ" + maskDots + " (masked: demo mode)"
}

// url hides a URL's host (a deployment's or a company's name) and keeps
// its scheme and path, which say what kind of URL it is.
func (m masker) url(s string) string {
	if !m.on || s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return maskDots
	}
	return u.Scheme + "://" + maskDots + u.EscapedPath()
}

// path keeps a file's name and hides its directory (a home directory
// names the user).
func (m masker) path(s string) string {
	if !m.on || s == "" {
		return s
	}
	return maskDots + string(filepath.Separator) + filepath.Base(s)
}

// target is the target as the screen shows it: a real server's URL is
// masked in demo mode; the simulator's loopback address is not.
func (m *Model) target() string {
	if m.opts.RealTarget {
		return m.mask.url(m.opts.Target)
	}
	return m.opts.Target
}

// short shortens a long id to its head and tail so that it fits a column.
func short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 5 {
		return s
	}
	head := (n - 1) / 2
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}
