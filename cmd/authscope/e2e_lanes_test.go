package main

import (
	"path/filepath"
	"testing"
)

// TestE2ELanesInTmux presses w during the README's stale-token recipe, in
// a 140×45 pane: the event log becomes the lanes while a request is held
// (drawn in flight, with the second call joined) and the Convex flicker
// window is open; the lanes follow the live events as the held S1 answer
// is released and served stale (the finding in words under the axis); w
// brings the log back.
func TestE2ELanesInTmux(t *testing.T) {
	bin, dir := buildForTmux(t)
	s := startTmuxSize(t, bin, dir, 140, 45, "--log-file", filepath.Join(dir, "authscope.log"))
	s.waitScreen("first screen", "S1", "policy pr329")
	playToTheJoinedFetch(s)
	s.keys("w")
	s.waitScreen("w", "── Lanes", "server sessions", "S1 ended", "time →")
	// The held request, with the second t joined (◆), still in flight.
	s.waitMatch("w: the held request", `(?m)^#\d+ for call\d+ \+ call\d+ .*◆═+`)
	s.waitMatch("w: the flicker window", `░ \d+– flicker still open: Better Auth says signed in, but`)
	s.keys("R")
	s.waitMatch("R in the lanes", `✗ \d+ stale token served to call\d+: bound to S1, which has ended \(now S2\)`)
	s.waitScreen("R in the lanes", "S1's token, stale")
	s.keys("w")
	s.waitScreen("w again", "── Events")
	s.keys("q")
	s.waitExit(dir)
}
