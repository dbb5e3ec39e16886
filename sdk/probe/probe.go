package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// statusTimeout bounds how long a request waits for the supervisor's
// status: its goroutine answers between two events, so a long wait means
// that it is stuck, which is worth a 503 rather than a hung probe.
const statusTimeout = 2 * time.Second

// Handler serves, for Kubernetes and for people: GET /livez (200 "ok" while
// the supervisor is alive, see [lifecycle.Health].Alive, else 503 with its
// state), GET /readyz (200 when [sdk.Status].Ready, else 503 listing what is
// not ready), GET /statusz (the [sdk.Status] as indented JSON; when the
// client's Accept header prefers text/html, a small readable HTML page: a
// table of path, state, attempt, restarts, ready, last error and time in
// state, with nested supervisors indented). The paths are relative to where
// the handler is mounted (see [http.StripPrefix]).
//
// The handler is read-only: other methods get 405. It is safe to expose
// inside a cluster, but it reveals child names and error messages, so not
// to the internet (see the package documentation).
//
// /statusz serves a status at most a second old (see [WithStatusMaxAge]):
// however many clients ask, the tree is copied and the page rendered at
// most once per second, so that status readers cannot starve
// supervision. /livez and /readyz are always fresh.
func Handler(s *sdk.Supervisor, opts ...Option) http.Handler {
	h := &handler{s: s, maxAge: time.Second}
	for _, o := range opts {
		o(h)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", h.livez)
	mux.HandleFunc("GET /readyz", h.readyz)
	mux.HandleFunc("GET /statusz", h.statusz)
	return mux
}

// Option configures [Handler].
type Option func(*handler)

// WithStatusMaxAge sets how old a status /statusz may serve (default 1s);
// 0 makes every request take a fresh one.
func WithStatusMaxAge(d time.Duration) Option { return func(h *handler) { h.maxAge = max(d, 0) } }

type handler struct {
	s      *sdk.Supervisor
	maxAge time.Duration
	pages  pageCache
}

func (h *handler) livez(w http.ResponseWriter, _ *http.Request) {
	hl := h.s.Health()
	if hl.Alive {
		text(w, http.StatusOK, "ok")
		return
	}
	msg := stateLabel(hl.State)
	if hl.Exit != nil && hl.Exit.Reason != "" {
		msg += ": " + hl.Exit.Reason
	}
	text(w, http.StatusServiceUnavailable, msg)
}

func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	st, err := h.status(r)
	if err != nil {
		text(w, http.StatusServiceUnavailable, "status unavailable: "+err.Error())
		return
	}
	if st.Ready {
		text(w, http.StatusOK, "ok")
		return
	}
	var b strings.Builder
	b.WriteString("not ready\n")
	notReady(&b, st)
	text(w, http.StatusServiceUnavailable, strings.TrimSuffix(b.String(), "\n"))
}

// notReady writes a line for the supervisor when it is not alive (or has
// not finished starting), and one per child that keeps it from being
// ready, nested supervisors included.
func notReady(b *strings.Builder, st sdk.Status) {
	if st.Health.State != lifecycle.StateAlive {
		fmt.Fprintf(b, "%s: supervisor %s\n", st.Path, stateLabel(st.Health.State))
	}
	for _, c := range st.Children {
		if c.Supervisor != nil {
			if !c.Supervisor.Ready && c.Supervisor.Health.Alive {
				notReady(b, *c.Supervisor)
			}
			continue
		}
		if !c.DeclaresReadiness || c.Ready || c.Paused || terminal(c.State) {
			continue
		}
		fmt.Fprintf(b, "%s: %s", c.Path, stateLabel(c.State))
		if c.LastError != "" {
			fmt.Fprintf(b, " (last error: %s)", oneLine(c.LastError))
		}
		b.WriteByte('\n')
	}
}

func (h *handler) statusz(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept")
	html := prefersHTML(r.Header.Get("Accept"))
	p, err := h.pages.get(r.Context(), html, h.maxAge, func(ctx context.Context) (rendered, error) {
		return h.render(ctx, html)
	})
	if err != nil {
		text(w, http.StatusServiceUnavailable, "status unavailable: "+err.Error())
		return
	}
	noCache(w.Header())
	w.Header().Set("Content-Type", p.contentType)
	w.WriteHeader(p.code)
	_, _ = w.Write(p.body)
}

// render takes a status and renders it as JSON or HTML.
func (h *handler) render(ctx context.Context, html bool) (rendered, error) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	st, err := h.s.Status(ctx)
	if err != nil {
		return rendered{}, err
	}
	if html {
		var buf strings.Builder
		if err := pageTemplate.Execute(&buf, newPage(st, time.Now())); err != nil {
			return rendered{code: http.StatusInternalServerError, contentType: "text/plain; charset=utf-8",
				body: []byte("cannot render the status: " + err.Error())}, nil
		}
		return rendered{code: http.StatusOK, contentType: "text/html; charset=utf-8", body: []byte(buf.String())}, nil
	}
	body, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return rendered{code: http.StatusInternalServerError, contentType: "text/plain; charset=utf-8",
			body: []byte("cannot encode the status: " + err.Error())}, nil
	}
	return rendered{code: http.StatusOK, contentType: "application/json", body: append(body, '\n')}, nil
}

func (h *handler) status(r *http.Request) (sdk.Status, error) {
	ctx, cancel := context.WithTimeout(r.Context(), statusTimeout)
	defer cancel()
	return h.s.Status(ctx)
}

func text(w http.ResponseWriter, code int, body string) {
	noCache(w.Header())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

func noCache(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// stateLabel names a state, and the zero state of a supervisor that has
// not started.
func stateLabel(s lifecycle.State) string {
	if s == 0 {
		return "not started"
	}
	return s.String()
}

func terminal(s lifecycle.State) bool {
	return lifecycle.KindChild.Terminal(s)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// prefersHTML reports whether an Accept header ranks text/html above
// application/json, as a browser's does. A client that sends none, or
// "*/*" (curl), gets JSON.
func prefersHTML(accept string) bool {
	html := quality(accept, "text", "html")
	return html > 0 && html > quality(accept, "application", "json")
}

// quality returns the q-value that an Accept header gives to typ/sub: that
// of the most specific media range that matches it, 0 when none does.
func quality(accept, typ, sub string) float64 {
	best, bestRank := 0.0, -1
	for _, part := range strings.Split(accept, ",") {
		mediaRange, params, _ := strings.Cut(part, ";")
		t, s, ok := strings.Cut(strings.TrimSpace(mediaRange), "/")
		if !ok {
			continue
		}
		t, s = strings.ToLower(strings.TrimSpace(t)), strings.ToLower(strings.TrimSpace(s))
		rank := 0
		switch {
		case t == typ && s == sub:
			rank = 2
		case t == typ && s == "*":
			rank = 1
		case t == "*" && s == "*":
		default:
			continue
		}
		if rank <= bestRank {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
					q = f
				}
			}
		}
		best, bestRank = q, rank
	}
	return best
}

// page is what the HTML template shows.
type page struct {
	Path, State, Ready, Reason string
	Generated                  string
	Rows                       []row
}

type row struct {
	Indent                                int // in em
	Supervisor                            bool
	Path, State, Attempt, Restarts, Ready string
	LastError, InState                    string
	Bad                                   bool // failed, stale, or not ready
}

func newPage(st sdk.Status, now time.Time) page {
	p := page{
		Path:      st.Path,
		State:     stateLabel(st.Health.State),
		Ready:     yesNo(st.Ready),
		Generated: now.UTC().Format(time.RFC3339),
	}
	switch hl := st.Health; {
	case hl.Failure != nil:
		p.Reason = hl.Failure.Reason
	case hl.Exit != nil:
		p.Reason = hl.Exit.Reason
	case hl.Shutdown != nil:
		p.Reason = "shutdown requested by " + hl.Shutdown.RequestedBy + ": " + hl.Shutdown.Reason
	}
	p.Rows = append(p.Rows, row{
		Indent:     1,
		Supervisor: true,
		Path:       st.Path,
		State:      p.State,
		Ready:      p.Ready,
		LastError:  p.Reason,
		InState:    age(st.Health.Since, now),
		Bad:        !st.Ready,
	})
	p.Rows = appendRows(p.Rows, st, 1, now)
	return p
}

func appendRows(rows []row, st sdk.Status, depth int, now time.Time) []row {
	for _, c := range st.Children {
		rw := row{
			Indent:    1 + depth*2,
			Path:      c.Path,
			State:     stateLabel(c.State),
			Attempt:   strconv.FormatUint(c.Attempt, 10),
			Restarts:  strconv.Itoa(c.Restarts),
			Ready:     "–",
			LastError: c.LastError,
			InState:   age(c.Since, now),
			Bad:       c.State == lifecycle.StateFailed || c.State == lifecycle.StateBackoff,
		}
		switch {
		case c.Supervisor != nil:
			rw.Supervisor = true
			rw.Ready = yesNo(c.Supervisor.Ready)
			rw.Bad = rw.Bad || (c.Supervisor.Health.Alive && !c.Supervisor.Ready)
		case c.DeclaresReadiness:
			rw.Ready = yesNo(c.Ready)
			rw.Bad = rw.Bad || (!c.Ready && !c.Paused && !terminal(c.State))
		}
		if c.Paused {
			rw.State += " (paused)"
		}
		rows = append(rows, rw)
		if c.Supervisor != nil {
			rows = appendRows(rows, *c.Supervisor, depth+1, now)
		}
	}
	return rows
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// age formats how long ago since was, coarsely.
func age(since, now time.Time) string {
	if since.IsZero() {
		return ""
	}
	d := max(now.Sub(since), 0)
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	default:
		return d.Round(time.Minute).String()
	}
}

// pageTemplate escapes every value it shows: paths are restricted, but
// error texts are anything a child returned.
var pageTemplate = template.Must(template.New("statusz").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Path}} · status</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; }
th, td { padding: .3em .8em; text-align: left; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f4; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.err { font-family: ui-monospace, monospace; white-space: pre-wrap; max-width: 50em; }
tr.sup td.path { font-weight: bold; }
tr.bad td.state { color: #b00020; font-weight: bold; }
</style>
</head>
<body>
<h1>{{.Path}}</h1>
<p>State <b>{{.State}}</b>, ready <b>{{.Ready}}</b>{{if .Reason}} ({{.Reason}}){{end}}. Generated {{.Generated}}.</p>
<table>
<thead><tr><th>Path</th><th>State</th><th>Attempt</th><th>Restarts</th><th>Ready</th><th>Last error</th><th>Time in state</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr class="{{if .Supervisor}}sup{{end}}{{if .Bad}} bad{{end}}"><td class="path" style="padding-left: {{.Indent}}em">{{.Path}}</td><td class="state">{{.State}}</td><td class="n">{{.Attempt}}</td><td class="n">{{.Restarts}}</td><td>{{.Ready}}</td><td class="err">{{.LastError}}</td><td class="n">{{.InState}}</td></tr>
{{- end}}
</tbody>
</table>
</body>
</html>
`))
