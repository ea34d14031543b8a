package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/authscope/authscope/internal/termtext"
)

// confirmBox is the pending y/n question as a framed box at most width
// cells wide: the question wrapped, then the answers.
func (m *Model) confirmBox(width int) []string {
	st := m.styles
	w := min(64, width-4) // the box, borders included
	if w < 20 {
		w = width
	}
	inner := max(w-4, 1)
	var body []string
	body = append(body, wrap(termtext.Text(m.confirm.question), inner)...)
	body = append(body, "", "y yes, do it · n/esc cancel")
	head := "─ Confirm "
	out := []string{st.Prompt.Render("╭" + head + strings.Repeat("─", max(w-2-cellWidth(head), 0)) + "╮")}
	for _, l := range body {
		out = append(out, st.Prompt.Render("│")+" "+st.Value.Render(pad(fit(l, inner), inner))+" "+st.Prompt.Render("│"))
	}
	return append(out, st.Prompt.Render("╰"+strings.Repeat("─", max(w-2, 0))+"╯"))
}

// overlay draws box over lines, centred in a screen width cells wide and
// len(lines) tall; what it covers is not shown, the rest of each line is.
func overlay(lines, box []string, width int) []string {
	if len(box) == 0 || len(lines) == 0 {
		return lines
	}
	bw := 0
	for _, b := range box {
		bw = max(bw, cellWidth(b))
	}
	x := max((width-bw)/2, 0)
	y := max((len(lines)-len(box))/2, 0)
	out := append([]string(nil), lines...)
	for i, b := range box {
		if y+i >= len(out) {
			break
		}
		l := out[y+i]
		left := pad(ansi.Truncate(l, x, ""), x)
		right := ""
		if cellWidth(l) > x+bw {
			right = ansi.TruncateLeft(l, x+bw, "")
		}
		out[y+i] = left + pad(b, bw) + right
	}
	return out
}
