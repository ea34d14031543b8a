package report

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authscope/authscope/authstate"
	"github.com/authscope/authscope/internal/secretscan"
	"github.com/authscope/authscope/trace"
)

// laneNames are the lane titles of one device, top to bottom.
var laneNames = []string{"Findings", "Server sessions", "Session poller", "fetchAccessToken calls", "Token cache", "Convex client"}

// timeline is the swimlane SVG of a report, without the legend.
func timeline(html string) string {
	i := strings.Index(html, `<svg id="lanes"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(html[i:], "</svg>")
	return html[i : i+j]
}

// countClass counts the shapes of one class in a report's timeline.
func countClass(html, class string) int {
	return strings.Count(timeline(html), `class="`+class+`"`)
}

// Every shipped scenario's report draws a lane for each actor the run
// involved, with that actor's bars in it.
func TestReportLanesForEveryActor(t *testing.T) {
	for _, tc := range []struct {
		scenario, policy string
		consumer         bool
		classes          []string // shapes the lanes must hold
	}{
		{"01-late-fetch-overwrite", "v0.12", false, []string{"session", "poll", "request", "served", "served-stale", "cache", "cache-stale", "violation-mark", "violation-line"}},
		{"03-rotation-in-flight", "v0.12", false, []string{"session", "request", "joined", "served-stale", "cache-stale", "violation-mark"}},
		{"12-transient-token-failure", "v0.12", false, []string{"session", "request", "request-failed", "cache"}},
		{"20-rotation-flicker", "v0.12", true, []string{"session", "request", "cache", "ph-authed", "ph-failing", "ph-loading", "convex", "query-ok", "query-error", "flicker-band", "flicker-bar"}},
		{"23-transient-failure-signs-convex-out", "v0.12", true, []string{"request-failed", "ph-authed", "query-ok"}},
	} {
		t.Run(tc.scenario+"/"+tc.policy, func(t *testing.T) {
			html := render(t, record(t, tc.scenario, tc.policy))
			for _, name := range laneNames {
				want := 1
				if name == "Convex client" && !tc.consumer {
					want = 0
				}
				if got := strings.Count(html, `class="lane-name" x="8" y=`) - 0; got < 5 {
					t.Fatalf("%d lanes drawn, want at least 5", got)
				}
				if got := strings.Count(html, ">"+name+"</text>"); got != want {
					t.Errorf("lane %q drawn %d times, want %d", name, got, want)
				}
			}
			for _, c := range tc.classes {
				if countClass(html, c) == 0 {
					t.Errorf("no %q shape in the timeline", c)
				}
			}
		})
	}
}

// Violations are labelled in words, in the timeline and in the findings
// list, and a policy that fixes the case shows none.
func TestReportViolationsInWords(t *testing.T) {
	html := render(t, record(t, "01-late-fetch-overwrite", "v0.12"))
	for _, want := range []string{
		"VIOLATION late overwrite of the cache: late request #1 overwrote a newer cache value (written by request #2)",
		"VIOLATION stale token served: served first a token bound to S1, which the client already knows is gone (now S2)",
		"2 violations, 0 flicker windows.",
		"S1 (gone)",
		"S1&#39;s token",
		"STALE",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// The labels sit in the timeline (SVG text), not only in the list.
	if !regexp.MustCompile(`<text [^>]*class="violation-text">VIOLATION stale token served`).MatchString(html) {
		t.Error("the timeline does not label the stale token in words")
	}
	if n := countClass(html, "violation-line"); n != 2 {
		t.Errorf("%d violation lines across the lanes, want 2", n)
	}

	fixed := render(t, record(t, "01-late-fetch-overwrite", "pr329"))
	if strings.Contains(timeline(fixed), "VIOLATION") || countClass(fixed, "violation-mark") != 0 {
		t.Error("pr329 fixes this case, but its report marks a violation")
	}
	if !strings.Contains(fixed, "no violation and no flicker window in this trace") || !strings.Contains(fixed, "0 violations, 0 flicker windows.") {
		t.Error("a clean run's report does not say it found nothing")
	}
	if !strings.Contains(fixed, "discarded") {
		t.Error("pr329 drops the late result; the request lane does not say so")
	}
}

// A flicker window is shaded across the lanes and labelled with why it
// opened and how long it lasted.
func TestReportFlickerWindow(t *testing.T) {
	html := render(t, record(t, "20-rotation-flicker", "v0.12"))
	for _, want := range []string{
		"FLICKER window: Better Auth says signed in, but the query fails",
		"FLICKER window opens: Better Auth says signed in, but the query fails: error: Uncaught ConvexError: Unauthenticated",
		"FLICKER window closes: flicker over after",
		"0 violations, 1 flicker window.",
		"useConvexAuth: not authenticated or query failing",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := countClass(html, "flicker-band"); n != 1 {
		t.Errorf("%d flicker bands, want 1", n)
	}
}

// The file loads nothing: no external script, style, image or font, and
// no URL at all unless the trace itself held one.
func TestReportSelfContained(t *testing.T) {
	for _, sc := range []string{"01-late-fetch-overwrite", "20-rotation-flicker"} {
		html := render(t, record(t, sc, "v0.12"))
		for _, bad := range []string{"<script src", "<link", " src=", "@import", "url(", "http://", "https://", "//fonts.", "<iframe", "<img"} {
			if strings.Contains(strings.ToLower(html), bad) {
				t.Errorf("%s: report contains %q", sc, bad)
			}
		}
		if !strings.Contains(html, `<meta http-equiv="Content-Security-Policy" content="default-src 'none';`) {
			t.Errorf("%s: no Content-Security-Policy that forbids loading", sc)
		}
		if n := strings.Count(html, "<script"); n != 1 {
			t.Errorf("%s: %d script elements, want the one inline filter", sc, n)
		}
	}
}

// The event table has a row per event, a text filter and a kind filter
// listing the kinds present, and the script that applies them.
func TestReportFilterMarkup(t *testing.T) {
	tr := record(t, "20-rotation-flicker", "v0.12")
	html := render(t, tr)
	evs := tr.Events()
	if n := strings.Count(html, "<tr id=\"e"); n != len(evs) {
		t.Errorf("%d table rows, want one per event (%d)", n, len(evs))
	}
	for _, want := range []string{
		`<input type="search" id="filter-text"`,
		`<select id="filter-kind"><option value="">all kinds</option>`,
		`<option value="flicker">flicker</option>`,
		`<option value="consumer_state">consumer_state</option>`,
		`data-kind="flicker" class="row-flicker"`,
		`<span id="filter-count"`,
		`text.addEventListener("input", apply)`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(html, `<option value="violation">`) {
		t.Error("the kind filter offers violation, which this trace does not have")
	}
	// Every mark in the timeline links to a row that exists.
	for _, m := range regexp.MustCompile(`<a href="#(e\d+)">`).FindAllStringSubmatch(html, -1) {
		if !strings.Contains(html, `<tr id="`+m[1]+`"`) {
			t.Fatalf("timeline links to #%s, which is no row", m[1])
		}
	}
}

// Strings from the trace are escaped wherever they land: the title, the
// facts, the timeline's text and tooltips, the table.
func TestReportEscapesHostileStrings(t *testing.T) {
	const hostile = `<script>alert(1)</script>`
	tr := record(t, "03-rotation-in-flight", "v0.12")
	tr.Header.Scenario = `x"><script>alert(1)</script>`
	tr.Header.Policy = hostile
	tr.Header.Options = map[string]string{hostile: hostile}
	for _, e := range tr.Entries {
		ev := e.Event
		if ev.Session == "S1" {
			ev.Session = hostile
		}
		if ev.From == "S1" {
			ev.From = hostile
		}
		if ev.Token != nil && ev.Token.Session == "S1" {
			tok := *ev.Token
			tok.Session = hostile
			ev.Token = &tok
		}
		ev.Detail += ` <img src=x onerror=alert(2)>`
		ev.Call += `"onmouseover="alert(3)`
	}
	html := render(t, tr)
	if n := strings.Count(html, "<script"); n != 1 {
		t.Errorf("%d script elements, want only the report's own", n)
	}
	for _, bad := range []string{"<script>alert(1)", "<img src=x", `"onmouseover="alert(3)`} {
		if strings.Contains(html, bad) {
			t.Errorf("report carries %q unescaped", bad)
		}
	}
	if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile session label is not shown escaped")
	}
	if !strings.Contains(html, "&lt;img src=x onerror=alert(2)&gt;") {
		t.Error("the hostile detail is not shown escaped")
	}
}

// A report removes every complete JWT and cookie value it is given,
// wherever the trace held it; a JWT without its signature (the trace's
// redacted form) stays.
func TestReportRedactsSecrets(t *testing.T) {
	const (
		jwt      = "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1MSIsInNlc3Npb25JZCI6InMxIn0.c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1sZWFr"
		unsigned = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MiJ9."
		cookieV  = "Zk9vQmFyU2Vzc2lvblRva2VuVmFsdWU"
	)
	tr := record(t, "01-late-fetch-overwrite", "v0.12")
	tr.Header.Secrets = true
	tr.Header.Warning = "raw JWTs kept, e.g. " + jwt
	tr.Header.Target.Host = "example.test better-auth.session_token=" + cookieV
	tr.Header.Options = map[string]string{"cookie": "Cookie: a=" + cookieV + "; b=c"}
	tr.Problems = []trace.Problem{{Line: 9, Err: "bad line with " + jwt}}
	for i, e := range tr.Entries {
		ev := e.Event
		switch i % 4 {
		case 0:
			ev.Detail = "token was " + jwt
		case 1:
			ev.Reason = "Set-Cookie: __Secure-better-auth.session_token=" + cookieV + "; Path=/"
			ev.Detail = ""
		case 2:
			ev.Call = "call " + jwt
		case 3:
			ev.Detail = "kept without signature: " + unsigned
		}
		if ev.Token != nil {
			tok := *ev.Token
			tok.Problem = "bearer " + jwt
			ev.Token = &tok
		}
	}
	html := render(t, tr)
	for _, secret := range []string{"c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1sZWFr", cookieV} {
		if strings.Contains(html, secret) {
			t.Errorf("report holds the secret %q", secret)
		}
	}
	if fs := secretscan.Data("report.html", []byte(html), []secretscan.Secret{{Name: "the cookie value", Value: cookieV}}); len(fs) > 0 {
		t.Errorf("secretscan: %v", fs)
	}
	for _, want := range []string{removedJWT, "session_token=" + removedCookie, "kept without signature: " + unsigned, `id="secrets-warning"`, "raw JWTs were kept"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// setStrings appends add to every string field of the struct v points to,
// and of the structs it points to.
func setStrings(v reflect.Value, add string) {
	v = v.Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + add)
		case reflect.Pointer:
			if !f.IsNil() && f.Elem().Kind() == reflect.Struct {
				c := reflect.New(f.Elem().Type())
				c.Elem().Set(f.Elem())
				setStrings(c, add)
				f.Set(c)
			}
		case reflect.Struct:
			if f.Type() != reflect.TypeOf(time.Time{}) {
				setStrings(f.Addr(), add)
			}
		case reflect.Map:
			if f.Type() == reflect.TypeOf(map[string]string{}) {
				f.Set(reflect.ValueOf(map[string]string{"k" + add: "v" + add}))
			}
		}
	}
}

// Whatever string field of a header or an event holds a complete JWT, the
// report does not.
func TestReportRedactsEveryField(t *testing.T) {
	const sig = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo"
	const jwt = " eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0." + sig
	for _, sc := range []string{"01-late-fetch-overwrite", "20-rotation-flicker"} {
		tr := record(t, sc, "v0.12")
		setStrings(reflect.ValueOf(&tr.Header), jwt)
		for _, e := range tr.Entries {
			setStrings(reflect.ValueOf(&e.Event.Event), jwt)
		}
		tr.Entries = append(tr.Entries, trace.Entry{Event: &trace.Event{Event: authstate.Event{Kind: authstate.KindViolation, Cause: "x" + jwt}}})
		html := render(t, tr)
		if strings.Contains(html, sig) {
			i := strings.Index(html, sig)
			t.Errorf("%s: the report holds a JWT's signature: …%s…", sc, html[max(0, i-200):i])
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text, S1 → S2", "plain text, S1 → S2"},
		{"Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature_1", "Bearer [JWT removed]"},
		{"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0."},
		{"cookie: better-auth.session_token=abc.def; x=y", "cookie: [removed]"},
		{"sent better-auth.session_token=abc.def and more", "sent better-auth.session_token=[removed] and more"},
		{"better-auth.session_data=xyz", "better-auth.session_data=[removed]"},
		{"useConvexAuth: isLoading=false isAuthenticated=true", "useConvexAuth: isLoading=false isAuthenticated=true"},
	} {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Two devices get a group of lanes each, and the table says which device.
func TestReportMultiDevice(t *testing.T) {
	a := record(t, "01-late-fetch-overwrite", "v0.12")
	b := record(t, "20-rotation-flicker", "v0.12")
	tr := &trace.Trace{Header: a.Header}
	tr.Header.Devices = 2
	for i := 0; i < max(len(a.Entries), len(b.Entries)); i++ {
		if i < len(a.Entries) {
			tr.Entries = append(tr.Entries, a.Entries[i])
		}
		if i < len(b.Entries) {
			ev := *b.Entries[i].Event
			ev.Device = 2
			tr.Entries = append(tr.Entries, trace.Entry{Event: &ev})
		}
	}
	html := render(t, tr)
	for _, want := range []string{">Device 1</text>", ">Device 2</text>", "<th>device</th>"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(html, ">Server sessions</text>"); n != 2 {
		t.Errorf("%d session lanes, want one per device", n)
	}
	if n := strings.Count(html, ">Convex client</text>"); n != 1 {
		t.Errorf("%d Convex lanes, want 1 (only device 2 has a consumer)", n)
	}
	// Device 1's violations stay in device 1's group: above device 2's title.
	d2 := strings.Index(html, ">Device 2</text>")
	d := build(tr)
	var dev2Y float64
	for _, l := range d.Drawing.Labels {
		if l.Group && l.Text == "Device 2" {
			dev2Y = l.Y
		}
	}
	if d2 < 0 || dev2Y == 0 {
		t.Fatal("no device 2 group")
	}
	for _, s := range d.Drawing.Shapes {
		if s.Class == "violation-line" && s.Y2 > dev2Y {
			t.Errorf("a violation of device 1 crosses into device 2's lanes (y %v..%v, device 2 from %v)", s.Y, s.Y2, dev2Y)
		}
		if s.Class == "flicker-band" && s.Y < dev2Y {
			t.Errorf("device 2's flicker window is drawn over device 1's lanes")
		}
	}
}

// synthetic is a trace of n events, one every gap.
func synthetic(n int, gap func(i int) time.Duration) *trace.Trace {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tr := &trace.Trace{Header: trace.Header{Type: trace.TypeHeader, Version: 1, Command: "tui", Policy: "v0.12", Started: t0}}
	at := t0
	for i := range n {
		if i > 0 {
			at = at.Add(gap(i))
		}
		ev := authstate.Event{Seq: uint64(i + 1), At: at, Kind: authstate.KindSessionObserved, Session: "S1", Reason: "confirmed", Detail: "session confirmed (S1)"}
		if i%3 == 1 {
			ev = authstate.Event{Seq: uint64(i + 1), At: at, Kind: authstate.KindFetchStarted, Fetch: i, Call: fmt.Sprintf("c%d", i), Session: "S1"}
		}
		if i%3 == 2 {
			ev = authstate.Event{Seq: uint64(i + 1), At: at, Kind: authstate.KindFetchResolved, Fetch: i - 1, Session: "S1", Token: &authstate.TokenInfo{Session: "S1", Fingerprint: "abcd"}}
		}
		tr.Entries = append(tr.Entries, trace.Entry{Line: i + 2, Event: &trace.Event{Event: ev}})
	}
	return tr
}

// Long idle gaps are cut out, marked with their length and said in the
// note; a race of a millisecond keeps its room.
func TestReportCutsIdleGaps(t *testing.T) {
	gaps := []time.Duration{0, time.Millisecond, 10 * time.Minute, time.Millisecond, 5 * time.Second, 0}
	tr := synthetic(len(gaps), func(i int) time.Duration { return gaps[i] })
	at := make([]time.Time, 0, len(gaps))
	for _, e := range tr.Events() {
		at = append(at, e.At)
	}
	ax := newAxis(at, 0)
	if len(ax.cuts) != 2 {
		t.Fatalf("%d cuts, want 2 (10 min and 5 s)", len(ax.cuts))
	}
	long, short5 := ax.x[2]-ax.x[1], ax.x[4]-ax.x[3]
	if long != short5 {
		t.Errorf("a 10-minute gap takes %v px and a 5 s gap %v px; both are cut to the same width", long, short5)
	}
	if ms := ax.x[1] - ax.x[0]; ms < maxStep+logScale-0.01 {
		t.Errorf("a 1 ms race takes %v px, want at least %v", ms, maxStep+logScale)
	}
	if same := ax.x[5] - ax.x[4]; same != maxStep {
		t.Errorf("two events at one instant are %v px apart, want one step (%v)", same, maxStep)
	}
	html := render(t, tr)
	for _, want := range []string{"≈ 10m0s idle", "≈ 5.0 s idle", "Idle gaps of 2.0 s or more are cut out (2 here)"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// A long trace still gives a report: the timeline and the table are
// bounded and say so.
func TestReportBoundsALongTrace(t *testing.T) {
	defer func(a, b int) { maxTimelineEvents, maxTableRows = a, b }(maxTimelineEvents, maxTableRows)
	maxTimelineEvents, maxTableRows = 300, 1000
	tr := synthetic(maxTableRows+10, func(int) time.Duration { return time.Millisecond })
	start := time.Now()
	var b bytes.Buffer
	if err := HTML(&b, tr); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events: %d bytes in %s", maxTableRows+10, b.Len(), time.Since(start))
	html := b.String()
	for _, want := range []string{
		fmt.Sprintf("The timeline draws the first %d of %d events", maxTimelineEvents, maxTableRows+10),
		fmt.Sprintf("The table shows the first %d of %d events", maxTableRows, maxTableRows+10),
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(html, "<tr id="); n != maxTableRows {
		t.Errorf("%d rows, want %d", n, maxTableRows)
	}
}

// Events out of their usual order, unknown kinds and missing fields give
// a report, not a panic.
func TestReportOddTraces(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	odd := []authstate.Event{
		{Kind: authstate.KindFlicker, Reason: "closed", At: at},
		{Kind: authstate.KindFetchResolved, Fetch: 7, At: at},
		{Kind: authstate.KindTokenServed, Fetch: 9, At: at},
		{Kind: authstate.KindTokenServed, Call: "c", Source: "cache", At: at},
		{Kind: authstate.KindSessionEnded, At: at},
		{Kind: authstate.KindSessionRotated, Session: "S3", From: "S9", At: at.Add(-time.Hour)},
		{Kind: authstate.KindCacheCleared, At: at},
		{Kind: authstate.KindConsumerState, At: at},
		{Kind: authstate.Kind(200), Detail: "from the future", At: at},
		{Kind: authstate.KindViolation, Cause: "new-invariant", At: at},
		{Kind: authstate.KindFlicker, Reason: "open", At: at},
	}
	tr := &trace.Trace{}
	for i := range odd {
		tr.Entries = append(tr.Entries, trace.Entry{Event: &trace.Event{Event: odd[i], Device: -3}})
	}
	tr.Entries = append(tr.Entries, trace.Entry{Input: &trace.Input{Kind: "fetch"}})
	html := render(t, tr)
	for _, want := range []string{"kind(200)", "VIOLATION violation new-invariant", "still open at the end of the trace", "11 events, 1 inputs"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// An empty trace and no trace at all.
	if html := render(t, &trace.Trace{}); !strings.Contains(html, "0 violations, 0 flicker windows.") {
		t.Error("an empty trace's report does not say it holds nothing")
	}
	if err := HTML(&bytes.Buffer{}, nil); err == nil {
		t.Error("HTML(nil) did not fail")
	}
}

// The header facts are shown, each named.
func TestReportHeaderFacts(t *testing.T) {
	tr := record(t, "01-late-fetch-overwrite", "v0.12")
	tr.Header.Commit = "abc1234"
	tr.Header.Target = trace.Target{Kind: "url", Host: "127.0.0.1:3210"}
	tr.Header.Demo = true
	tr.Header.Options = map[string]string{"poll": "1s", "pr83": "off"}
	html := render(t, tr)
	for _, want := range []string{
		"<dt>authscope</dt><dd>test (commit abc1234)</dd>",
		"<dt>Command</dt><dd>run</dd>",
		"<dt>Policy</dt><dd>v0.12</dd>",
		"<dt>Scenario</dt><dd>01-late-fetch-overwrite.yaml</dd>",
		"<dt>Target</dt><dd>url, host 127.0.0.1:3210</dd>",
		"<dt>Upstream versions</dt><dd>@convex-dev/better-auth 0.12, convex 1.45.0</dd>",
		"<dt>Options</dt><dd>poll 1s, pr83 off</dd>",
		"<dt>Started</dt><dd>2026-03-04 05:06:07.000 UTC</dd>",
		"<dt>Devices</dt><dd>1</dd>",
		"<dt>Secrets kept</dt><dd>no:",
		"<dt>Demo masking</dt><dd>on: emails and ids are masked</dd>",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(html, "secrets-warning") {
		t.Error("a warning about secrets on a trace that kept none")
	}
}

// When the session whose token the cache holds goes away, the cache lane
// says from that point that it holds a stale token, and the last value's
// label is drawn however long it runs.
func TestReportCacheGoesStale(t *testing.T) {
	html := timeline(render(t, record(t, "04-rapid-rotation", "v0.12")))
	for _, want := range []string{
		`class="bar-text">S1&#39;s token STALE: S1 has rotated away<title>`,
		`class="cache-stale"><title>the cache still holds S1&#39;s token STALE: S1 has rotated away</title>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	// pr329 holds the stale token only until the next call sees the
	// rotation and clears the cache; no call gets it.
	fixed := render(t, record(t, "04-rapid-rotation", "pr329"))
	if !strings.Contains(timeline(fixed), "the cache still holds S1&#39;s token STALE: S1 has rotated away; cleared: rotation detected at fetch start (S1 → S2)") {
		t.Error("pr329: the cache lane does not show the stale token cleared at the next fetch")
	}
	if n := countClass(fixed, "served-stale"); n != 0 {
		t.Errorf("pr329: %d calls marked as served a stale token, want 0", n)
	}
}

// BenchmarkHTML measures a report of a long live session: 100k events, of
// which the timeline draws the first 5000 and the table 50 000.
//
//	go test -run '^$' -bench HTML -benchtime 3x ./report/
func BenchmarkHTML(b *testing.B) {
	tr := synthetic(100_000, func(i int) time.Duration { return time.Duration(i%7) * time.Millisecond })
	var size int
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if err := HTML(&buf, tr); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size)/1e6, "MB")
}
