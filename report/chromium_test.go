package report

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium finds a headless-capable Chromium, or skips the test (fails
// it when AUTHSCOPE_REQUIRE_BROWSER=1, as in .ci/run).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("AUTHSCOPE_REQUIRE_BROWSER") == "1" {
		t.Fatal("no Chromium found, and AUTHSCOPE_REQUIRE_BROWSER=1 requires it (.ci/run installs Debian's chromium package)")
	}
	t.Skip("no Chromium installed; set AUTHSCOPE_REQUIRE_BROWSER=1 to require it")
	return ""
}

// browse runs headless Chromium on a file with the network unreachable
// and returns its stdout and stderr.
func browse(t *testing.T, bin, file string, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--no-default-browser-check",
		"--user-data-dir=" + t.TempDir(),
		"--enable-logging=stderr", "--v=0",
		// No network: every host resolves to nothing and every request
		// goes to a proxy that does not exist.
		"--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--force-device-scale-factor=1", "--hide-scrollbars",
	}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+file)...)
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, tail(errb.String()))
	}
	return out.String(), errb.String()
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}

// consoleLines are the page's console messages in Chromium's log: the
// report logs nothing, so any line is an error (a script error, a blocked
// load, a CSP violation).
var consoleLine = regexp.MustCompile(`(?m)^.*:CONSOLE[^\n]*$`)

// rgb is a colour of the report's stylesheet.
type rgb struct{ r, g, b uint8 }

// The lane colours of the stylesheet (template.go).
var (
	colSession   = rgb{0x25, 0x63, 0xeb}
	colRequest   = rgb{0x0d, 0x94, 0x88}
	colCache     = rgb{0x7c, 0x3a, 0xed}
	colViolation = rgb{0xe1, 0x1d, 0x48}
	colFlicker   = rgb{0xf5, 0x9e, 0x0b}
	colAuthed    = rgb{0x16, 0xa3, 0x4a}
	colLoading   = rgb{0xfd, 0xe0, 0x47}
	colNames     = rgb{0xe8, 0xf0, 0xfe} // the lane-name column's background
)

// region is a box of the screenshot.
type region struct{ x0, y0, x1, y1 int }

// find returns how many pixels of colour c (within a small tolerance) lie
// in r, and the box they span.
func find(img image.Image, r region, c rgb) (int, region) {
	n := 0
	box := region{x0: 1 << 30, y0: 1 << 30, x1: -1, y1: -1}
	for y := r.y0; y < r.y1; y++ {
		for x := r.x0; x < r.x1; x++ {
			if is(img, x, y, c) {
				n++
				box.x0, box.y0 = min(box.x0, x), min(box.y0, y)
				box.x1, box.y1 = max(box.x1, x), max(box.y1, y)
			}
		}
	}
	return n, box
}

// is reports whether the pixel at x, y has colour c, within a small
// tolerance for rendering.
func is(img image.Image, x, y int, c rgb) bool {
	pr, pg, pb, _ := img.At(x, y).RGBA()
	near := func(a uint32, b uint8) bool {
		d := int(a>>8) - int(b)
		return d >= -4 && d <= 4
	}
	return near(pr, c.r) && near(pg, c.g) && near(pb, c.b)
}

// longestRun finds the tallest vertical run of colour c in r: its x and
// its y range.
func longestRun(img image.Image, r region, c rgb) (bx, by0, by1 int) {
	for x := r.x0; x < r.x1; x++ {
		start := -1
		for y := r.y0; y <= r.y1; y++ {
			if y < r.y1 && is(img, x, y, c) {
				if start < 0 {
					start = y
				}
				continue
			}
			if start >= 0 && y-start > by1-by0 {
				bx, by0, by1 = x, start, y
			}
			start = -1
		}
	}
	return bx, by0, by1
}

// tallestRun is the longest vertical run of colour c in r: a violation
// line crosses the lanes, a label does not.
func tallestRun(img image.Image, r region, c rgb) int {
	best := 0
	for x := r.x0; x < r.x1; x++ {
		run := 0
		for y := r.y0; y < r.y1; y++ {
			if is(img, x, y, c) {
				run++
				best = max(best, run)
			} else {
				run = 0
			}
		}
	}
	return best
}

// The report opens in headless Chromium with no network: no console
// message, the filter script runs, and the screenshot shows the lanes
// drawn in order with the violation and the flicker window marked.
func TestReportInHeadlessChromium(t *testing.T) {
	bin := chromium(t)
	for _, tc := range []struct {
		scenario, policy string
		kind             string // a kind to filter by
		violation        bool
		flicker          bool
	}{
		{"01-late-fetch-overwrite", "v0.12", "violation", true, false},
		{"20-rotation-flicker", "v0.12", "flicker", false, true},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			tr := record(t, tc.scenario, tc.policy)
			// What the filter script writes, unfiltered and by kind. (A
			// consumer scenario's event count varies with the machine's
			// load: a poll or a query more or less.)
			evs := tr.Events()
			ofKind := 0
			for _, e := range evs {
				if e.Kind.String() == tc.kind {
					ofKind++
				}
			}
			if ofKind == 0 {
				t.Fatalf("no %s event recorded", tc.kind)
			}
			all := fmt.Sprintf("%d of %d events shown", len(evs), len(evs))
			filtered := fmt.Sprintf("%d of %d events shown", ofKind, len(evs))
			file := filepath.Join(t.TempDir(), "report.html")
			if err := os.WriteFile(file, []byte(render(t, tr)), 0o644); err != nil {
				t.Fatal(err)
			}

			dom, stderr := browse(t, bin, file, "--dump-dom")
			if lines := consoleLine.FindAllString(stderr, -1); len(lines) > 0 {
				t.Errorf("console messages:\n%s", strings.Join(lines, "\n"))
			}
			if !strings.Contains(dom, `<span id="filter-count" class="note">`+all+`</span>`) {
				i := strings.Index(dom, `id="filter-count"`)
				t.Errorf("the filter script did not run: no %q in the DOM (%d bytes; at the count: %.120q)\nchromium's log:\n%s", all, len(dom), dom[max(i, 0):], tail(stderr))
			}

			// The filter works: opened with ?kind=…, the report shows
			// only the rows of that kind.
			dom, stderr = browse(t, bin, file+"?kind="+tc.kind, "--dump-dom")
			if lines := consoleLine.FindAllString(stderr, -1); len(lines) > 0 {
				t.Errorf("console messages:\n%s", strings.Join(lines, "\n"))
			}
			if !strings.Contains(dom, `<span id="filter-count" class="note">`+filtered+`</span>`) {
				i := strings.Index(dom, `id="filter-count"`)
				t.Errorf("filtered by kind %s: no %q in the DOM (at the count: %.80q)", tc.kind, filtered, dom[max(i, 0):])
			}
			shown := regexp.MustCompile(`<tr id="e\d+" data-kind="([a-z_]+)"[^>]*>`).FindAllStringSubmatch(dom, -1)
			hidden := regexp.MustCompile(`<tr id="e\d+" data-kind="[a-z_]+"[^>]* hidden=""`).FindAllString(dom, -1)
			visible := 0
			for _, m := range shown {
				if !strings.Contains(m[0], "hidden") {
					visible++
					if m[1] != tc.kind {
						t.Errorf("filtered by kind %s, a %s row is visible", tc.kind, m[1])
					}
				}
			}
			if visible == 0 || len(hidden) == 0 {
				t.Errorf("filtered by kind %s: %d rows visible, %d hidden", tc.kind, visible, len(hidden))
			}

			shot := filepath.Join(t.TempDir(), "shot.png")
			_, stderr = browse(t, bin, file, "--screenshot="+shot, "--window-size=1600,1100")
			if lines := consoleLine.FindAllString(stderr, -1); len(lines) > 0 {
				t.Errorf("console messages:\n%s", strings.Join(lines, "\n"))
			}
			f, err := os.Open(shot)
			if err != nil {
				t.Fatalf("no screenshot: %v", err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatalf("screenshot is no PNG: %v", err)
			}
			full := region{0, 0, img.Bounds().Dx(), img.Bounds().Dy()}

			// The timeline is where the lane-name column is: the tallest
			// run of its background; the lanes are to its right. (The
			// legend below repeats the colours, so everything is looked
			// for inside that box only.)
			x, y0, y1 := longestRun(img, full, colNames)
			if y1-y0 < 150 {
				t.Fatalf("no lane-name column on the screenshot (tallest run of its background %d px)", y1-y0)
			}
			right := x
			for right < full.x1 && is(img, right, y0+2, colNames) {
				right++
			}
			lanes := region{right + 2, y0, full.x1, y1}
			t.Logf("timeline at y %d..%d, lanes from x %d", lanes.y0, lanes.y1, lanes.x0)

			midY := func(c rgb, what string) int {
				t.Helper()
				n, box := find(img, lanes, c)
				if n < 60 {
					t.Errorf("%s lane: %d px of its colour in the timeline, want bars drawn", what, n)
					return -1
				}
				return (box.y0 + box.y1) / 2
			}
			s, r, c := midY(colSession, "sessions"), midY(colRequest, "token requests"), midY(colCache, "cache")
			if s >= 0 && r >= 0 && c >= 0 && !(s < r && r < c) {
				t.Errorf("lanes out of order: sessions at y %d, requests at %d, cache at %d; want top to bottom", s, r, c)
			}
			if tc.violation {
				if run := tallestRun(img, lanes, colViolation); run < 80 {
					t.Errorf("no violation line across the lanes: tallest run of its colour %d px", run)
				}
			}
			if tc.flicker {
				if n, _ := find(img, lanes, colFlicker); n < 100 {
					t.Errorf("no flicker window marked: %d px of its colour", n)
				}
				a, l := midY(colAuthed, "Convex authenticated"), midY(colLoading, "Convex loading")
				if a >= 0 && l >= 0 && (a < c || l < c) {
					t.Errorf("the Convex lane (y %d, %d) is not below the cache (y %d)", a, l, c)
				}
			}
		})
	}
}
