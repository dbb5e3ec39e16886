package probe

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
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
// not ready), GET /statusz (the [sdk.Status] as compact JSON; when the
// client's Accept header prefers text/html, or with ?format=html, a page
// for a person to leave open). The paths are relative to where the handler
// is mounted (see [http.StripPrefix]).
//
// With ?verbose, /livez and /readyz list each check, as the Kubernetes API
// server does: a line "[+]name ok" or "[-]name failed: reason" per check
// (the supervisor, then for /readyz every nested supervisor and every
// child that declares readiness and counts), then "livez check passed" or
// "... failed"; the status code is the same as without it.
//
// The /statusz page shows a table of every child (state, attempt,
// restarts, readiness, last error and when, time in state, failures in a
// row, uptime, next restart while in backoff, who paused it), with
// nested supervisors indented and failed, backoff and paused rows marked
// by the CSS classes failed, backoff and paused; the flight recorder's
// recent events of the whole tree, newest first (see
// [sdk.WithFlightRecorder]); and it refreshes itself (see [WithRefresh])
// with a button to pause. A tree of more than 500 rows is paginated
// (?page=N), and every failed or backoff child is listed, with a link to
// its page, at the top of each page. ?format=json (or an Accept header
// that does not prefer HTML) gives the whole status as JSON.
//
// The handler is read-only: other methods get 405. It is safe to expose
// inside a cluster, but it reveals child names and error messages, so not
// to the internet (see the package documentation).
//
// Status readers cannot starve supervision: /statusz serves a status at
// most a second old (see [WithStatusMaxAge]), so that however many clients
// ask, the tree is copied and each page rendered at most once a second;
// the page is sent gzipped to clients that accept it (Go's HTTP client and
// browsers do), compressed once per rendering; and at most 20 responses a
// second are sent, the requests beyond waiting their turn or, after a
// second, refused with 429 (see [WithStatusLimit]). /livez and /readyz are
// always fresh and never limited.
func Handler(s *sdk.Supervisor, opts ...Option) http.Handler {
	h := &handler{s: s, maxAge: time.Second, refresh: defaultRefresh, limit: newStatusLimit(defaultStatusLimit)}
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

// defaultRefresh is how often an open /statusz page refreshes itself.
const defaultRefresh = 5 * time.Second

// WithRefresh sets how often an open /statusz page in a browser fetches
// itself again (default 5s); 0 turns the refresh off. The page has a
// button to pause it.
func WithRefresh(d time.Duration) Option { return func(h *handler) { h.refresh = max(d, 0) } }

// WithStatusMaxAge sets how old a status /statusz may serve (default 1s);
// 0 makes every request take a fresh one.
func WithStatusMaxAge(d time.Duration) Option { return func(h *handler) { h.maxAge = max(d, 0) } }

type handler struct {
	s       *sdk.Supervisor
	maxAge  time.Duration
	refresh time.Duration
	pages   pageCache
	limit   *statusLimit
}

func (h *handler) livez(w http.ResponseWriter, r *http.Request) {
	hl := h.s.Health()
	if verbose(r) {
		writeChecks(w, "livez", liveChecks(hl))
		return
	}
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
	switch {
	case verbose(r):
		writeChecks(w, "readyz", readyChecks(st, nil))
	case st.Ready: // the probe's usual answer walks nothing
		text(w, http.StatusOK, "ok")
	default:
		writeFailed(w, readyChecks(st, nil))
	}
}

func (h *handler) statusz(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept")
	w.Header().Add("Vary", "Accept-Encoding")
	q := r.URL.Query()
	var html bool
	switch f := q.Get("format"); f {
	case "":
		html = prefersHTML(r.Header.Get("Accept"))
	case "html":
		html = true
	case "json":
	default:
		text(w, http.StatusBadRequest, "unknown format "+strconv.Quote(f)+": want json or html")
		return
	}
	if !h.limit.admit(w, r) {
		return
	}
	key, pageNo := "json", 1
	if html {
		pageNo, _ = strconv.Atoi(q.Get("page"))
		pageNo = max(pageNo, 1)
		key = "html:" + strconv.Itoa(pageNo)
	}
	base := url.Values{}
	if f := q.Get("format"); f != "" {
		base.Set("format", f)
	}
	p, err := h.pages.get(r.Context(), key, h.maxAge, func(ctx context.Context) (rendered, error) {
		return h.render(ctx, html, pageNo, base)
	})
	if err != nil {
		text(w, http.StatusServiceUnavailable, "status unavailable: "+err.Error())
		return
	}
	noCache(w.Header())
	w.Header().Set("Content-Type", p.contentType)
	body := p.body
	if p.gzip != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		if gz := p.gzip.of(p.body); gz != nil {
			body = gz
			w.Header().Set("Content-Encoding", "gzip")
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(p.code)
	_, _ = w.Write(body)
}

// render takes a status and renders it as JSON or HTML.
func (h *handler) render(ctx context.Context, html bool, pageNo int, base url.Values) (rendered, error) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	st, err := h.s.Status(ctx)
	if err != nil {
		return rendered{}, err
	}
	if html {
		var buf strings.Builder
		if err := pageTemplate.Execute(&buf, newPage(st, time.Now(), pageNo, h.refresh, base)); err != nil {
			return rendered{code: http.StatusInternalServerError, contentType: "text/plain; charset=utf-8",
				body: []byte("cannot render the status: " + err.Error())}, nil
		}
		return rendered{code: http.StatusOK, contentType: "text/html; charset=utf-8", body: []byte(buf.String())}, nil
	}
	body, err := json.Marshal(st)
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

func allOK(checks []check) bool {
	for _, c := range checks {
		if !c.ok {
			return false
		}
	}
	return true
}
