package report

import (
	"fmt"
	"math"
	"time"
)

// The x axis follows the engine clock in event order. A scenario's clock
// is virtual, so a whole race often happens at one instant; a live run
// can sit idle for minutes between two clicks. Neither reads well on a
// linear scale, so every event takes one step, the time between two
// events adds room on a logarithmic scale, and a long idle gap is cut out
// and marked with its length.
const (
	// gapCut is the idle time above which a gap is cut out.
	gapCut = 2 * time.Second
	// cutWidth is the room a cut gap takes.
	cutWidth = 56.0
	// logScale is the room 1 ms adds: log2(1+ms) × logScale, so 1 ms adds
	// 12 px, 10 ms 41 px, 1 s 120 px.
	logScale = 12.0
	// maxStep and minStep bound the room one event takes; many events
	// get narrower steps so the drawing stays a sensible width.
	maxStep = 12.0
	minStep = 2.5
	// stepBudget is the width the steps alone may take before they shrink.
	stepBudget = 12000.0
)

// axis places events on the x axis.
type axis struct {
	x    []float64 // x of each event, in order
	end  float64   // the right edge of the drawing area
	cuts []cut
	t0   time.Time
}

// cut is an idle gap cut out of the axis.
type cut struct {
	X   float64 // where the cut mark is drawn
	Gap time.Duration
}

// newAxis lays out n events at the times at, from x0.
func newAxis(at []time.Time, x0 float64) axis {
	a := axis{x: make([]float64, len(at))}
	if len(at) == 0 {
		a.end = x0 + 4*maxStep
		return a
	}
	a.t0 = at[0]
	step := math.Max(minStep, math.Min(maxStep, stepBudget/float64(len(at))))
	x := x0 + step
	for i, t := range at {
		if i > 0 {
			d := t.Sub(at[i-1])
			switch {
			case d >= gapCut:
				a.cuts = append(a.cuts, cut{X: x + cutWidth/2, Gap: d})
				x += cutWidth
			case d > 0:
				x += logScale * math.Log2(1+float64(d)/float64(time.Millisecond))
			}
			x += step
		}
		a.x[i] = x
	}
	a.end = x + 2*step
	return a
}

// rel is a time relative to the first event, for the axis and the table.
func rel(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "−", -d
	}
	switch {
	case d < time.Second:
		return fmt.Sprintf("%s%.3f ms", sign, float64(d)/float64(time.Millisecond))
	case d < time.Minute:
		return fmt.Sprintf("%s%.3f s", sign, d.Seconds())
	}
	return sign + d.Round(time.Millisecond).String()
}

// words says a duration for a cut mark: "4.2 s", "3m10s".
func words(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Microsecond).String()
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}
