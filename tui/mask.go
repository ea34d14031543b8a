package tui

import "strings"

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
