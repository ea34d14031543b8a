package report

import (
	"fmt"
	"html/template"
	"strconv"
)

// num writes a coordinate.
func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"num": num,
	"add": func(a, b float64) float64 { return a + b },
	"sub": func(a, b float64) float64 { return a - b },
	"diamond": func(x, y float64) string {
		return fmt.Sprintf("%s,%s %s,%s %s,%s %s,%s", num(x), num(y-5), num(x+5), num(y), num(x), num(y+5), num(x-5), num(y))
	},
	"cross": func(x, y float64) string {
		return fmt.Sprintf("M%s %s L%s %s M%s %s L%s %s", num(x-4), num(y-4), num(x+4), num(y+4), num(x-4), num(y+4), num(x+4), num(y-4))
	},
}).Parse(pageHTML))

// The page. It loads nothing: the Content-Security-Policy allows only the
// inline style and script, and the SVG is inline.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 12px 16px; color: #111; background: #fff; }
h1 { font-size: 20px; margin: 0 0 6px; }
h2 { font-size: 16px; margin: 18px 0 6px; }
.facts { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 1px 14px; margin: 0; font-size: 13px; }
.facts dt { font-weight: 600; color: #374151; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.warning { border: 2px solid #b91c1c; background: #fef2f2; color: #7f1d1d; padding: 6px 10px; margin: 8px 0; font-weight: 600; }
.problems { border: 1px solid #b45309; background: #fffbeb; padding: 4px 10px; margin: 8px 0; }
.note { color: #4b5563; font-size: 12px; margin: 2px 0; }
.swim { display: flex; border: 1px solid #d1d5db; }
.swim .names { flex: none; border-right: 1px solid #d1d5db; background: #e8f0fe; }
.swim .scroll { overflow-x: auto; flex: auto; }
svg text { font: 11px monospace; fill: #111; }
svg .lane-name { font: 600 12px system-ui, sans-serif; }
svg .lane-note { font: 10px system-ui, sans-serif; fill: #6b7280; }
svg .group-name { font: 700 13px system-ui, sans-serif; }
.group-head { fill: #e5e7eb; }
.lane-bg { fill: #ffffff; }
.lane-bg-alt { fill: #f3f4f6; }
.session { fill: #2563eb; }
.request { fill: #0d9488; }
.request-failed { fill: #b45309; }
.request-discarded { fill: #9ca3af; }
.request-failed-mark { stroke: #7c2d12; stroke-width: 2; fill: none; }
.cache { fill: #7c3aed; }
.cache-stale { fill: #a21caf; }
.bar-text { fill: #111; }
.session + .bar-text, .request + .bar-text { fill: #111; }
.refresh { stroke: #93c5fd; stroke-width: 2; }
.poll { stroke: #1e3a8a; stroke-width: 2; }
.poll-failed { stroke: #b45309; stroke-width: 2; fill: none; }
.poll-pending { stroke: #9ca3af; stroke-width: 2; }
.joined { fill: #fbbf24; stroke: #78350f; }
.served { fill: #134e4a; stroke: #fff; }
.served-stale { fill: #fff; stroke: #e11d48; stroke-width: 2; }
.retry { stroke: #b45309; stroke-width: 2; stroke-dasharray: 2 2; }
.convex { stroke: #6b7280; stroke-width: 1.5; }
.query-ok { fill: #16a34a; }
.query-error { fill: #f97316; stroke: #7c2d12; }
.ph-authed { fill: #16a34a; }
.ph-loading { fill: #fde047; }
.ph-failing { fill: #f97316; }
.ph-signedout { fill: #9ca3af; }
.ph-unknown { fill: #e5e7eb; }
.phase-text { fill: #111; }
.violation-mark { fill: #e11d48; }
.violation-line { stroke: #e11d48; stroke-width: 2; }
.violation-text { fill: #9f1239; font-weight: 700; }
.flicker-bar { fill: #f59e0b; }
.flicker-band { fill: #f59e0b; fill-opacity: 0.16; }
.flicker-text { fill: #92400e; font-weight: 700; }
.none { fill: #6b7280; font-style: italic; }
.cut { stroke: #6b7280; stroke-dasharray: 4 3; }
.cut-text { fill: #374151; }
.tick { stroke: #6b7280; }
.tick-label { fill: #374151; font-size: 10px; }
.tick-text { fill: #1f2937; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 12px; margin: 6px 0; padding: 0; list-style: none; }
.legend svg { vertical-align: middle; margin-right: 4px; }
.findings li.violation { color: #9f1239; font-weight: 600; }
.findings li.flicker { color: #92400e; font-weight: 600; }
.filter { margin: 6px 0; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
.filter input[type=search] { width: 26em; }
table.events { border-collapse: collapse; font-size: 12px; width: 100%; }
table.events th, table.events td { border-bottom: 1px solid #e5e7eb; padding: 2px 6px; text-align: left; vertical-align: top; }
table.events th { position: sticky; top: 0; background: #f3f4f6; }
table.events td.sum { overflow-wrap: anywhere; }
tr.row-violation { background: #ffe4e6; }
tr.row-flicker { background: #fef3c7; }
tr.row-stale { background: #fdf2f8; }
tr:target { outline: 2px solid #111; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Secrets}}<p class="warning" id="secrets-warning">WARNING: {{.Secrets}}</p>{{end}}
<dl class="facts">{{range .Facts}}<dt>{{.Name}}</dt><dd>{{.Value}}</dd>{{end}}</dl>
{{if .Problems}}<div class="problems"><strong>Lines of the trace that could not be read</strong> (the report shows the rest):<ul>{{range .Problems}}<li>{{.}}</li>{{end}}</ul></div>{{end}}

<h2>Timeline</h2>
<p class="note">{{.AxisNote}}{{if .TimelineNote}} {{.TimelineNote}}{{end}} Hover over a mark for its details; click it to jump to its row in the table.</p>
<div class="swim" id="timeline">
<div class="names"><svg width="{{num .Drawing.LabelWidth}}" height="{{num .Drawing.Height}}" role="img" aria-label="lane names">
{{range .Drawing.Labels}}{{if .Group}}<text class="group-name" x="8" y="{{num (add .Y 16)}}">{{.Text}}</text>{{else}}<text class="lane-name" x="8" y="{{num (add .Y 13)}}">{{.Text}}</text>{{if .Note}}<text class="lane-note" x="8" y="{{num (add .Y 25)}}">{{.Note}}</text>{{end}}{{end}}
{{end}}</svg></div>
<div class="scroll"><svg id="lanes" width="{{num .Drawing.Width}}" height="{{num .Drawing.Height}}" role="img" aria-label="swimlane timeline">
{{range .Drawing.Shapes}}{{if .Link}}<a href="#{{.Link}}">{{end}}{{if eq .Kind "rect"}}<rect x="{{num .X}}" y="{{num .Y}}" width="{{num .W}}" height="{{num .H}}" class="{{.Class}}">{{if .Title}}<title>{{.Title}}</title>{{end}}</rect>{{else if eq .Kind "line"}}<line x1="{{num .X}}" y1="{{num .Y}}" x2="{{num .X2}}" y2="{{num .Y2}}" class="{{.Class}}">{{if .Title}}<title>{{.Title}}</title>{{end}}</line>{{else if eq .Kind "text"}}<text x="{{num .X}}" y="{{num .Y}}" class="{{.Class}}">{{.Text}}{{if .Title}}<title>{{.Title}}</title>{{end}}</text>{{else if eq .Kind "circle"}}<circle cx="{{num .X}}" cy="{{num .Y}}" r="4" class="{{.Class}}">{{if .Title}}<title>{{.Title}}</title>{{end}}</circle>{{else if eq .Kind "diamond"}}<polygon points="{{diamond .X .Y}}" class="{{.Class}}">{{if .Title}}<title>{{.Title}}</title>{{end}}</polygon>{{else if eq .Kind "cross"}}<path d="{{cross .X .Y}}" class="{{.Class}}">{{if .Title}}<title>{{.Title}}</title>{{end}}</path>{{end}}{{if .Link}}</a>{{end}}
{{end}}</svg></div>
</div>
<ul class="legend" id="legend">
<li><svg width="22" height="12"><rect width="22" height="12" class="session"/></svg>server session (S1, S2, …), first seen → rotated away or ended</li>
<li><svg width="10" height="14"><line x1="5" y1="1" x2="5" y2="13" class="poll"/></svg>get-session answer</li>
<li><svg width="12" height="12"><path d="M2 2 L10 10 M2 10 L10 2" class="poll-failed"/></svg>poll failed</li>
<li><svg width="22" height="12"><rect width="22" height="12" class="request"/></svg>token request, sent → answered</li>
<li><svg width="22" height="12"><rect width="22" height="12" class="request-failed"/></svg>request failed</li>
<li><svg width="22" height="12"><rect width="22" height="12" class="request-discarded"/></svg>result discarded by a guard</li>
<li><svg width="12" height="12"><polygon points="6,1 11,6 6,11 1,6" class="joined"/></svg>a call joined the request in flight</li>
<li><svg width="12" height="12"><circle cx="6" cy="6" r="4" class="served"/></svg>a call was served a token</li>
<li><svg width="12" height="12"><circle cx="6" cy="6" r="4" class="served-stale"/></svg>a call was served a STALE token</li>
<li><svg width="22" height="12"><rect width="22" height="12" class="cache"/></svg>the token cache holds a token</li>
<li><svg width="22" height="12"><rect width="22" height="12" class="cache-stale"/></svg>the cache holds a stale token</li>
<li><svg width="22" height="12"><rect width="22" height="12" class="ph-authed"/></svg>useConvexAuth authenticated</li>
<li><svg width="22" height="12"><rect width="22" height="12" class="ph-loading"/></svg>loading</li>
<li><svg width="22" height="12"><rect width="22" height="12" class="ph-failing"/></svg>not authenticated or the query fails</li>
<li><svg width="22" height="12"><rect width="22" height="12" class="ph-signedout"/></svg>signed out</li>
<li><svg width="10" height="14"><line x1="5" y1="1" x2="5" y2="13" class="convex"/></svg>Convex client step</li>
<li><svg width="12" height="12"><circle cx="6" cy="6" r="4" class="query-ok"/></svg><svg width="12" height="12"><circle cx="6" cy="6" r="4" class="query-error"/></svg>query result ok / error</li>
<li><svg width="14" height="14"><rect x="3" y="3" width="8" height="8" class="violation-mark"/><line x1="7" y1="0" x2="7" y2="14" class="violation-line"/></svg>VIOLATION, labelled with what broke</li>
<li><svg width="22" height="12"><rect width="22" height="12" class="flicker-band"/><rect y="8" width="22" height="4" class="flicker-bar"/></svg>FLICKER window, labelled with why</li>
<li><svg width="22" height="14"><line x1="11" y1="0" x2="11" y2="14" class="cut"/></svg>idle gap cut out</li>
</ul>

<h2>Findings</h2>
<p>{{.Violations}} violation{{if ne .Violations 1}}s{{end}}, {{.Flickers}} flicker window{{if ne .Flickers 1}}s{{end}}.</p>
{{if .Findings}}<ul class="findings" id="findings">{{range .Findings}}<li class="{{.Class}}"><a href="#{{.Link}}">{{.Time}}</a>{{if $.MultiDevice}} device {{.Device}}{{end}}: {{.Text}}</li>{{end}}</ul>{{end}}

<h2>Events</h2>
{{if .TableNote}}<p class="note">{{.TableNote}}</p>{{end}}
<div class="filter" id="filter">
<label>Filter <input type="search" id="filter-text" placeholder="text in any column, e.g. S1, #2, stale"></label>
<label>Kind <select id="filter-kind"><option value="">all kinds</option>{{range .Kinds}}<option value="{{.}}">{{.}}</option>{{end}}</select></label>
<span id="filter-count" class="note"></span>
</div>
<table class="events" id="events">
<thead><tr><th>seq</th><th>time</th>{{if .MultiDevice}}<th>device</th>{{end}}<th>kind</th><th>session</th><th>fetch</th><th>summary</th></tr></thead>
<tbody>
{{range .Rows}}<tr id="{{.ID}}" data-kind="{{.Kind}}"{{if .Class}} class="{{.Class}}"{{end}}><td>{{.Seq}}</td><td>{{.Time}}</td>{{if $.MultiDevice}}<td>{{.Device}}</td>{{end}}<td>{{.Kind}}</td><td>{{.Session}}</td><td>{{.Fetch}}</td><td class="sum">{{.Summary}}</td></tr>
{{end}}</tbody>
</table>
<script>
(function () {
  var text = document.getElementById("filter-text");
  var kind = document.getElementById("filter-kind");
  var count = document.getElementById("filter-count");
  var rows = document.getElementById("events").tBodies[0].rows;
  function apply() {
    var q = text.value.toLowerCase();
    var k = kind.value;
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = (k === "" || r.getAttribute("data-kind") === k) &&
        (q === "" || r.textContent.toLowerCase().indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) shown++;
    }
    count.textContent = shown + " of " + rows.length + " events shown";
  }
  // A link can open the report filtered: report.html?kind=violation&q=S1
  var params = new URLSearchParams(window.location.search);
  if (params.has("q")) text.value = params.get("q");
  if (params.has("kind")) kind.value = params.get("kind");
  // A click on a mark jumps to its row: show the row if the filter hid it.
  window.addEventListener("hashchange", function () {
    var r = document.getElementById(window.location.hash.slice(1));
    if (r && r.hidden) {
      text.value = "";
      kind.value = "";
      apply();
      r.scrollIntoView();
    }
  });
  text.addEventListener("input", apply);
  kind.addEventListener("change", apply);
  apply();
})();
</script>
</body>
</html>
`
