// Package termtext makes text that came from a server or a file safe to
// write to a terminal.
//
// A token claim, an email, an error body or a scenario name is data; a
// terminal treats some of its characters as commands: ESC and the C1
// controls start sequences that set the clipboard (OSC 52), the window
// title or the colours, or clear the screen; BEL, backspace and carriage
// return move or hide text; bidi overrides reorder what is shown. Every
// such character is replaced by a visible escape (\x1b, \u009b, \u202e),
// so the reader sees that it was there and nothing acts on it.
package termtext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Line returns s with every control character escaped, newlines and tabs
// included: the result is one line of plain text.
func Line(s string) string { return escape(s, false) }

// Text is Line, but keeps newlines, for messages of several lines.
func Text(s string) string { return escape(s, true) }

// Safe reports whether s can be written to a terminal as it is, one line.
func Safe(s string) bool { return firstUnsafe(s, false) < 0 }

// unsafeRune reports whether a terminal may act on r rather than show it.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f: // C0, DEL, C1
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, // bidi marks
		r >= 0x202a && r <= 0x202e, // bidi embeddings and overrides
		r >= 0x2066 && r <= 0x2069, // bidi isolates
		r == 0x2028, r == 0x2029:   // line and paragraph separators
		return true
	}
	return false
}

// firstUnsafe is the byte index of the first byte or rune to escape, or -1.
func firstUnsafe(s string, keepNewline bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		if unsafeRune(r) && !(keepNewline && r == '\n') {
			return i
		}
		i += n
	}
	return -1
}

func escape(s string, keepNewline bool) string {
	i := firstUnsafe(s, keepNewline)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' && keepNewline:
			b.WriteByte('\n')
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// JSON makes encoded JSON safe for a terminal without changing what it
// decodes to. encoding/json already escapes the C0 controls; this escapes
// what it leaves raw (DEL, the C1 controls, bidi controls) as \uXXXX. Such
// characters can only occur inside JSON strings, where \uXXXX means the
// same character.
func JSON(b []byte) []byte {
	s := string(b)
	i := firstUnsafe(s, true)
	if i < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+12)
	out = append(out, s[:i]...)
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			out = append(out, `\ufffd`...)
		case unsafeRune(r) && r != '\n':
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, s[i:i+n]...)
		}
		i += n
	}
	return out
}
