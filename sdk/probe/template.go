package probe

import (
	"html/template"
	"strconv"
)

// pageTemplate escapes every value it shows: paths are restricted, but
// error texts and event lines are anything a child returned.
//
// The page refreshes itself: a small script fetches the same URL every
// RefreshMillis and swaps in the new <main>, so that the pause button, the
// scroll position and the page number stay put; without JavaScript a meta
// refresh reloads the page instead.
var pageTemplate = template.Must(template.New("statusz").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Path}} · status</title>
{{- if .RefreshMillis}}
<noscript><meta http-equiv="refresh" content="{{.RefreshSeconds}}"></noscript>
{{- end}}
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { padding: .3em .8em; text-align: left; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f4; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.path { white-space: nowrap; }
td.err { font-family: ui-monospace, monospace; white-space: pre-wrap; max-width: 50em; }
tr.sup td.path { font-weight: bold; }
tr.bad td.state { color: #b00020; font-weight: bold; }
tr.failed { background: #fde2e4; }
tr.backoff { background: #fff3cd; }
tr.paused { background: #eef; }
#controls { position: sticky; top: 0; background: #fff; padding: .3em 0; }
</style>
</head>
<body>
<div id="controls">
{{- if .RefreshMillis}}<button id="pause" type="button">Pause</button> <span id="refresh">refreshing every {{.RefreshSeconds}}s</span>{{end -}}
</div>
<main id="status" data-generated="{{.Generated}}">
<h1>{{.Path}}</h1>
<p>State <b>{{.State}}</b>, ready <b>{{.Ready}}</b>{{if .Reason}} ({{.Reason}}){{end}}. Generated {{.Generated}}.
{{- if or .Failed .Backoff}} <b class="problems">{{.Failed}} failed, {{.Backoff}} in backoff.</b>{{end}}</p>
{{- if .Problems}}
<ul id="problems">
{{- range .Problems}}
<li><a href="{{.URL}}">{{.Path}}</a>: {{.State}}</li>
{{- end}}
</ul>
{{- end}}
{{- if gt .Pages 1}}
<p class="pages">Rows {{.From}}–{{.To}} of {{.Total}}, page {{.Page}} of {{.Pages}}.
{{- if .PrevURL}} <a rel="prev" href="{{.PrevURL}}">previous</a>{{end}}
{{- if .NextURL}} <a rel="next" href="{{.NextURL}}">next</a>{{end}}</p>
{{- end}}
<table id="children">
<thead><tr><th>Path</th><th>State</th><th>Attempt</th><th>Restarts</th><th>Ready</th><th>Last error</th><th>Time in state</th><th>Last error at</th><th>Failures in a row</th><th>Up</th><th>Next restart</th><th>Paused by</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr class="{{.Class}}"><td class="path" style="padding-left: {{.Indent}}em">{{.Path}}</td><td class="state">{{.State}}</td><td class="n">{{.Attempt}}</td><td class="n">{{.Restarts}}</td><td>{{.Ready}}</td><td class="err">{{.LastError}}</td><td class="n">{{.InState}}</td><td class="n">{{.ErrorAge}}</td><td class="n">{{.Failures}}</td><td class="n">{{.Up}}</td><td class="n">{{.NextRestart}}</td><td>{{.PausedBy}}</td></tr>
{{- end}}
</tbody>
</table>
<h2>Recent events</h2>
{{- if .Events}}
<table id="events">
<thead><tr><th>#</th><th>Time (UTC)</th><th>Type</th><th>Path</th><th>Event</th></tr></thead>
<tbody>
{{- range .Events}}
<tr class="{{.Bad}}"><td class="n">{{.Seq}}</td><td>{{.Time}}</td><td>{{.Type}}</td><td>{{.Path}}</td><td class="err">{{.Text}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p>None recorded (see sdk.WithFlightRecorder).</p>
{{- end}}
</main>
{{- if .RefreshMillis}}
<script>
(function () {
  var every = {{.RefreshMillis}}, paused = false;
  var button = document.getElementById("pause"), note = document.getElementById("refresh");
  button.addEventListener("click", function () {
    paused = !paused;
    button.textContent = paused ? "Resume" : "Pause";
    note.textContent = paused ? "paused" : "refreshing every " + every / 1000 + "s";
  });
  setInterval(function () {
    if (paused) return;
    fetch(location.href, {headers: {Accept: "text/html"}, cache: "no-store"})
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
      .then(function (text) {
        var next = new DOMParser().parseFromString(text, "text/html").getElementById("status");
        if (next && !paused) document.getElementById("status").replaceWith(next);
        if (!paused) note.textContent = "refreshing every " + every / 1000 + "s";
      })
      .catch(function (e) { note.textContent = "refresh failed (" + e.message + "); retrying"; });
  }, every);
})();
</script>
{{- end}}
</body>
</html>
`))

// RefreshSeconds is the refresh interval for people and meta refresh.
func (p page) RefreshSeconds() string {
	return strconv.FormatFloat(float64(p.RefreshMillis)/1000, 'f', -1, 64)
}
