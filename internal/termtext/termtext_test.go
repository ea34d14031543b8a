package termtext

import (
	"encoding/json"
	"strings"
	"testing"
)

// hostile holds what a token, a server or a file could use to act on a
// terminal: OSC 52 (set the clipboard), OSC 2 (window title), clear screen,
// SGR blink and colour, a C1 CSI, BEL, backspace, DEL, a bidi override and
// a byte that is not UTF-8.
const hostile = "a\x1b]52;c;cHduZWQ=\x07b\x1b]2;owned\x1b\\c\x1b[2J\x1b[5;31md\u009b31me\bf\x7fg\u202eh\xffi\r\nj"

func assertInert(t *testing.T, got string) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\x07", "\b", "\x7f", "\u009b", "\u202e", "\r", "\xff"} {
		if strings.Contains(got, bad) {
			t.Errorf("%q still holds %q", got, bad)
		}
	}
}

func TestLineEscapesEveryControl(t *testing.T) {
	got := Line(hostile)
	assertInert(t, got)
	if strings.Contains(got, "\n") {
		t.Errorf("Line kept a newline: %q", got)
	}
	want := `a\x1b]52;c;cHduZWQ=\x07b\x1b]2;owned\x1b\c\x1b[2J\x1b[5;31md\u009b31me\x08f\x7fg\u202eh\xffi\r\nj`
	if got != want {
		t.Errorf("Line:\n got %s\nwant %s", got, want)
	}
}

func TestTextKeepsNewlines(t *testing.T) {
	got := Text("one\x1b[2J\ntwo")
	if got != "one\\x1b[2J\ntwo" {
		t.Errorf("Text = %q", got)
	}
}

func TestPlainTextUnchanged(t *testing.T) {
	for _, s := range []string{"", "alice@example.com", "S1 → S2 · ✗░█", "日本語 👩‍💻", "http://127.0.0.1:3210"} {
		if got := Line(s); got != s {
			t.Errorf("Line(%q) = %q", s, got)
		}
		if !Safe(s) {
			t.Errorf("Safe(%q) = false", s)
		}
	}
	if Safe(hostile) {
		t.Error("Safe(hostile) = true")
	}
}

func TestJSONStaysEquivalent(t *testing.T) {
	in := map[string]string{"k": hostile, "name": "Zoë"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := JSON(b)
	assertInert(t, string(out))
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("escaped JSON does not parse: %v\n%s", err, out)
	}
	// encoding/json turned the invalid byte into U+FFFD; everything else
	// decodes to what was encoded.
	if want := strings.ToValidUTF8(hostile, "\ufffd"); back["k"] != want || back["name"] != "Zoë" {
		t.Errorf("round trip changed the value: %q", back)
	}
}

func FuzzLine(f *testing.F) {
	f.Add(hostile)
	f.Add("plain")
	f.Fuzz(func(t *testing.T, s string) {
		got := Line(s)
		for _, r := range got {
			if unsafeRune(r) {
				t.Fatalf("Line(%q) = %q holds %U", s, got, r)
			}
		}
		if Safe(s) != (got == s) {
			t.Fatalf("a safe string changed: %q → %q", s, got)
		}
	})
}
