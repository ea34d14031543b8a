package tui

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/authscope/authscope/internal/termtext"
)

// safe escapes what a terminal would act on (see termtext): every string
// that came from a server, a token or a file goes through it before it is
// styled and shown.
func safe(s string) string { return termtext.Line(s) }

// humanDur is a short duration for a narrow column: 850ms, 1.2s, 30s, 1m,
// 14m07s, 2h, 6d23h. A whole minute or hour drops its zero part.
func humanDur(d time.Duration) string {
	if d < 0 {
		// The most negative duration has no positive twin: -d is d.
		if d == math.MinInt64 {
			d++
		}
		return "-" + humanDur(-d)
	}
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second && d%time.Second != 0:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour && d%time.Minute == 0:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// relTime says when t is relative to now: "in 14m07s" or "3.2s ago".
func relTime(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := t.Sub(now)
	if d > 0 {
		return "in " + humanDur(d)
	}
	return humanDur(-d) + " ago"
}

// clock is a wall-clock time of day with the zone, for claims and expiries.
func clock(t time.Time, wide bool) string {
	if t.IsZero() {
		return "(missing)"
	}
	if wide {
		return t.Format("2006-01-02 15:04:05 MST")
	}
	return t.Format("15:04:05 MST")
}

// fit cuts s (which may hold ANSI styling) to width cells.
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if len(s) <= width || cellWidth(s) <= width {
		// A string of n bytes is at most n cells wide.
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// pad right-pads s with spaces to width cells (it never cuts).
func pad(s string, width int) string {
	if w := cellWidth(s); w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// cellWidth is cellWidth(s), quicker for what the panels are made
// of: printable ASCII, the CSI sequences of styles, and a few symbols
// one cell wide (rules, dots, arrows, ticks, the strip's blocks, the
// spinner). Anything else is measured by ansi.StringWidth.
func cellWidth(s string) int {
	w := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f:
			w++
			i++
		case c == 0x1b && i+1 < len(s) && s[i+1] == '[':
			// CSI: parameters and intermediates, then a final byte.
			j := i + 2
			for j < len(s) && s[j] >= 0x20 && s[j] <= 0x3f {
				j++
			}
			if j >= len(s) || s[j] < 0x40 || s[j] > 0x7e {
				return ansi.StringWidth(s)
			}
			i = j + 1
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(s[i:])
			if !oneCell(r) {
				return ansi.StringWidth(s)
			}
			w++
			i += n
		default:
			return ansi.StringWidth(s)
		}
	}
	return w
}

// oneCell reports whether r is one of the symbols the panels draw that
// take one cell and never join the rune after them into a cluster.
func oneCell(r rune) bool {
	switch {
	case r >= 0x2500 && r <= 0x259f: // box drawing, block elements
		return true
	case r >= 0x2800 && r <= 0x28ff: // braille (the spinner)
		return true
	}
	switch r {
	case '·', '…', '›', '→', '←', '✓', '✗', '•', '×', '¼', '½', '⏸', '▶':
		return true
	}
	return false
}

// title is a panel title followed by a rule to the full width.
func title(st Styles, name, extra string, width int) string {
	head := "── " + name + " "
	if extra != "" {
		head += extra + " "
	}
	s := st.Title.Render(head)
	if rest := width - cellWidth(head); rest > 0 {
		s += st.Rule.Render(strings.Repeat("─", rest))
	}
	return fit(s, width)
}

// joinItems packs items into as few lines of width cells as it can,
// separated by sep; an item wider than a line is cut.
func joinItems(items []string, sep string, width int) []string {
	var lines []string
	var cur strings.Builder
	curW, sepW := 0, cellWidth(sep)
	for _, it := range items {
		if it == "" {
			continue
		}
		w := cellWidth(it)
		switch {
		case curW == 0:
		case curW+sepW+w <= width:
			cur.WriteString(sep)
			curW += sepW
		default:
			lines = append(lines, fit(cur.String(), width))
			cur.Reset()
			curW = 0
		}
		cur.WriteString(it)
		curW += w
	}
	if curW > 0 {
		lines = append(lines, fit(cur.String(), width))
	}
	return lines
}

// wrap breaks plain text into lines of at most width cells, hard-breaking
// words longer than a line (a JWT has no spaces).
func wrap(s string, width int) []string {
	if width <= 0 {
		return nil
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		w := ansi.Wrap(para, width, "")
		out = append(out, strings.Split(w, "\n")...)
	}
	return out
}

// hardWrap cuts s into lines of exactly width cells (the last may be
// shorter), for strings without word boundaries such as a JWT.
func hardWrap(s string, width int) []string {
	if width <= 0 {
		return nil
	}
	return strings.Split(ansi.Hardwrap(s, width, true), "\n")
}
