package report

import (
	"fmt"
	"math"
	"time"

	"github.com/authscope/authscope/trace"
)

// axisH is the height of the time labels above the lanes.
const axisH = 36.0

// laneMinH leaves room for a lane's name and note.
const laneMinH = 30.0

// layout draws the events of every device on one shared time axis, one
// group of lanes per device.
func layout(evs []trace.Event, devices []int, multi bool) drawing {
	at := make([]time.Time, len(evs))
	for i, e := range evs {
		at[i] = e.At
	}
	ax := newAxis(at, 0)
	d := drawing{LabelWidth: labelWidth, Cuts: len(ax.cuts)}

	byDevice := map[int][]placed{}
	for i, e := range evs {
		dev := deviceOf(e)
		byDevice[dev] = append(byDevice[dev], placed{ev: e.Event, x: ax.x[i], link: anchor(i)})
	}

	width := ax.end
	y := axisH
	var back, spans, front []shape
	for gi, dev := range devices {
		if gi > 0 {
			y += groupGap
		}
		if multi {
			d.Labels = append(d.Labels, laneLabel{Text: fmt.Sprintf("Device %d", dev), Y: y, H: groupHead, Group: true})
			back = append(back, shape{Kind: "rect", X: 0, Y: y, H: groupHead, Class: "group-head"})
			y += groupHead
		}
		top := y
		lanes := deviceLanes(byDevice[dev], ax.end)
		for li, l := range lanes {
			h := math.Max(float64(l.rows)*rowH, laneMinH)
			d.Labels = append(d.Labels, laneLabel{Text: l.label, Note: l.note, Y: y, H: h})
			class := "lane-bg"
			if li%2 == 1 {
				class = "lane-bg-alt"
			}
			back = append(back, shape{Kind: "rect", X: 0, Y: y, H: h, Class: class})
			for _, it := range l.items {
				s := it.s
				dy := y + float64(it.row)*rowH
				s.Y += dy
				if s.Kind == "line" {
					s.Y2 += dy
				}
				front = append(front, s)
				width = math.Max(width, rightEdge(s))
			}
			for _, s := range l.spans {
				spans = append(spans, s)
			}
			y += h + laneGap
		}
		bottom := y - laneGap
		// Flicker windows and violations cross every lane of the device.
		for i := range spans {
			if spans[i].Y == 0 && spans[i].Y2 == 0 && spans[i].H == 0 {
				if spans[i].Kind == "line" {
					spans[i].Y, spans[i].Y2 = top, bottom
				} else {
					spans[i].Y, spans[i].H = top, bottom-top
				}
			}
		}
	}
	height := y + 4
	width += 24

	// Full-width backgrounds now that the width is known.
	for i := range back {
		back[i].W = width
	}
	var axisShapes []shape
	lastCut := math.Inf(-1)
	for _, c := range ax.cuts {
		title := words(c.Gap) + " with no event, cut out"
		axisShapes = append(axisShapes, shape{Kind: "line", X: c.X, Y: 2, X2: c.X, Y2: height, Class: "cut", Title: title})
		if label := "≈ " + words(c.Gap) + " idle"; c.X > lastCut {
			axisShapes = append(axisShapes, shape{Kind: "text", X: c.X + 3, Y: 10, Class: "cut-text", Text: label, Title: title})
			lastCut = c.X + textWidth(label) + 8
		}
	}
	axisShapes = append(axisShapes, ticks(evs, ax)...)

	// Bands under everything, violation lines over the bars.
	var bands, lines []shape
	for _, s := range spans {
		if s.Kind == "line" {
			lines = append(lines, s)
		} else {
			bands = append(bands, s)
		}
	}
	d.Shapes = append(d.Shapes, back...)
	d.Shapes = append(d.Shapes, bands...)
	d.Shapes = append(d.Shapes, axisShapes...)
	d.Shapes = append(d.Shapes, front...)
	d.Shapes = append(d.Shapes, lines...)
	d.Width, d.Height = width, height
	return d
}

// rightEdge is how far right a shape reaches, counting a text's length.
func rightEdge(s shape) float64 {
	switch s.Kind {
	case "rect":
		return s.X + s.W
	case "text":
		return s.X + textWidth(s.Text)
	case "line":
		return math.Max(s.X, s.X2)
	}
	return s.X + 6
}

// ticks labels the axis where the clock moved, no closer than 90 px.
func ticks(evs []trace.Event, ax axis) []shape {
	var out []shape
	last := math.Inf(-1)
	var prev time.Time
	for i, e := range evs {
		x := ax.x[i]
		if i > 0 && !e.At.After(prev) {
			continue
		}
		prev = e.At
		if x-last < 90 {
			continue
		}
		last = x
		label := rel(e.At.Sub(ax.t0))
		out = append(out,
			shape{Kind: "line", X: x, Y: axisH - 8, X2: x, Y2: axisH - 2, Class: "tick"},
			shape{Kind: "text", X: x + 2, Y: axisH - 11, Class: "tick-label", Text: label})
	}
	return out
}
