package probe_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/probe"
)

// browserAccept is what a browser sends for a page.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// do serves one request on h and returns the recorded response.
func do(h http.Handler, method, path, accept string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// newSupervisor returns a supervisor named name with the given children,
// not started.
func newSupervisor(t *testing.T, name string, opts []sdk.Option, specs ...sdk.Spec) *sdk.Supervisor {
	t.Helper()
	s, err := sdk.New(name, opts...)
	require.NoError(t, err)
	for _, spec := range specs {
		require.NoError(t, s.Add(context.Background(), spec, "test", "declared by the test"))
	}
	return s
}

// idle is a child that runs until it is stopped.
func idle(name string) sdk.Spec {
	return sdk.Spec{Name: name, Service: sdk.ServiceFunc(func(ctx context.Context) error {
		<-ctx.Done()
		return nil
	})}
}

// readyAfter is a child that declares readiness and becomes ready after d.
func readyAfter(name string, d time.Duration) sdk.Spec {
	return sdk.Spec{Name: name, Readiness: true, Service: sdk.ServiceFunc(func(ctx context.Context) error {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil
		}
		if err := sdk.Ready(ctx); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	})}
}

func shutdown(t *testing.T, s *sdk.Supervisor) {
	t.Helper()
	_, err := s.Shutdown(context.Background(), "test", "done")
	require.NoError(t, err)
}

func TestLiveAndReadyTransitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSupervisor(t, "app", nil, readyAfter("db", 5*time.Second), idle("worker"))
		h := probe.Handler(s)

		// Before Start: neither live nor ready.
		rec := do(h, http.MethodGet, "/livez", "")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "not started", rec.Body.String())
		rec = do(h, http.MethodGet, "/readyz", "")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Contains(t, rec.Body.String(), "/app: supervisor not started")

		started := make(chan error, 1)
		go func() { started <- s.Start(context.Background()) }()
		synctest.Wait()

		// Starting: live, not ready, and /readyz says what it waits for.
		rec = do(h, http.MethodGet, "/livez", "")
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "ok", rec.Body.String())
		require.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
		require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		rec = do(h, http.MethodGet, "/readyz", "")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "not ready\n/app: supervisor starting\n/app/db: running", rec.Body.String())

		time.Sleep(5 * time.Second)
		synctest.Wait()
		require.NoError(t, <-started)

		rec = do(h, http.MethodGet, "/readyz", "")
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "ok", rec.Body.String())
		rec = do(h, http.MethodGet, "/livez", "")
		require.Equal(t, http.StatusOK, rec.Code)

		shutdown(t, s)
		rec = do(h, http.MethodGet, "/livez", "")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "completed: done", rec.Body.String())
		rec = do(h, http.MethodGet, "/readyz", "")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Contains(t, rec.Body.String(), "/app: supervisor completed")
	})
}

func TestReadyzListsNestedAndFailingChildren(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// "flaky" becomes ready, then fails once it has: it is in backoff,
		// not ready, with its error.
		flaky := sdk.Spec{Name: "flaky", Readiness: true, Backoff: &sdk.Backoff{Initial: time.Minute, Max: time.Minute, Multiplier: 1},
			Service: sdk.ServiceFunc(func(ctx context.Context) error {
				if err := sdk.Ready(ctx); err != nil {
					return err
				}
				select {
				case <-time.After(time.Second):
					return errors.New("lost the connection\nto the primary")
				case <-ctx.Done():
					return nil
				}
			})}
		sub := newSupervisor(t, "sub", nil, readyAfter("cache", 10*time.Second))
		s := newSupervisor(t, "app", nil, idle("api"), flaky, sdk.Spec{Name: "sub", Service: sub})
		h := probe.Handler(s)

		require.NoError(t, s.Start(context.Background()), "Start waits for the nested supervisor's start")
		// Restart the nested supervisor: it is starting again, for 10s.
		require.NoError(t, cmdErr(s.Restart(context.Background(), "sub", "test", "again")))
		time.Sleep(2 * time.Second)
		synctest.Wait()

		rec := do(h, http.MethodGet, "/readyz", "")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "not ready\n"+
			"/app/flaky: backoff (last error: lost the connection to the primary)\n"+
			"/app/sub: supervisor starting\n"+
			"/app/sub/cache: running", rec.Body.String())

		time.Sleep(time.Minute)
		synctest.Wait()
		rec = do(h, http.MethodGet, "/readyz", "")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code, "flaky failed again")

		// Pause the flaky child: a paused child does not count.
		require.NoError(t, cmdErr(s.Pause(context.Background(), "flaky", "test", "quiet")))
		rec = do(h, http.MethodGet, "/readyz", "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		shutdown(t, s)
	})
}

func TestStatuszJSON(t *testing.T) {
	sub := newSupervisor(t, "sub", nil, idle("c"))
	s := newSupervisor(t, "app", nil, idle("a"), idle("b"), sdk.Spec{Name: "sub", Service: sub})
	require.NoError(t, s.Start(context.Background()))
	defer shutdown(t, s)

	srv := httptest.NewServer(probe.Handler(s))
	defer srv.Close()
	for _, accept := range []string{"", "*/*", "application/json", "application/json, text/html;q=0.5"} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/statusz", nil)
		require.NoError(t, err)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"), accept)
		require.Contains(t, resp.Header.Values("Vary"), "Accept")
		require.True(t, strings.HasPrefix(string(body), `{"path":"/app",`), "compact: a status of 10,000 children is large enough without indentation")

		var st sdk.Status
		require.NoError(t, json.Unmarshal(body, &st))
		require.Equal(t, "/app", st.Path)
		require.True(t, st.Ready)
		require.Equal(t, lifecycle.StateAlive, st.Health.State)
		var paths []string
		for _, c := range st.Children {
			paths = append(paths, c.Path)
			want := lifecycle.StateRunning
			if c.Path == "/app/sub" {
				want = lifecycle.StateReady // a nested supervisor is ready once started
			}
			require.Equal(t, want, c.State, c.Path)
			require.Equal(t, uint64(1), c.Attempt, c.Path)
		}
		require.Equal(t, []string{"/app/a", "/app/b", "/app/sub"}, paths)
		nested := st.Children[2].Supervisor
		require.NotNil(t, nested)
		require.Equal(t, "/app/sub", nested.Path)
		require.Len(t, nested.Children, 1)
		require.Equal(t, "/app/sub/c", nested.Children[0].Path)
	}
}

func TestStatuszHTMLEscapes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const evil = `<script>alert("x")</script> & co`
		failed := false
		bad := sdk.Spec{Name: "bad", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if !failed {
				failed = true
				return errors.New(evil)
			}
			<-ctx.Done()
			return nil
		})}
		sub := newSupervisor(t, "sub", nil, idle("deep"))
		s := newSupervisor(t, "app", nil, bad, sdk.Spec{Name: "sub", Service: sub})
		require.NoError(t, s.Start(context.Background()))
		synctest.Wait()
		time.Sleep(90 * time.Second)
		h := probe.Handler(s)

		for _, accept := range []string{browserAccept, "text/html", "text/*", "application/json;q=0.5, text/html"} {
			rec := do(h, http.MethodGet, "/statusz", accept)
			require.Equal(t, http.StatusOK, rec.Code)
			require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"), accept)
			page := rec.Body.String()
			// The page's own refresh script is the one <script> it has.
			require.Equal(t, 1, strings.Count(page, "<script>"), "the error text is not escaped")
			require.NotContains(t, page, "<script>alert", "the error text is not escaped")
			require.Contains(t, page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co")
			for _, want := range []string{
				"<th>Path</th><th>State</th><th>Attempt</th><th>Restarts</th><th>Ready</th><th>Last error</th><th>Time in state</th>",
				`<td class="path" style="padding-left: 1em">/app</td>`,
				`<td class="path" style="padding-left: 3em">/app/bad</td><td class="state">running</td><td class="n">2</td><td class="n">1</td>`,
				`<td class="path" style="padding-left: 3em">/app/sub</td>`,
				`<td class="path" style="padding-left: 5em">/app/sub/deep</td>`,
				`<td class="n">1m30s</td>`,
			} {
				require.Contains(t, page, want)
			}
		}
		shutdown(t, s)
	})
}

func TestReadOnly(t *testing.T) {
	s := newSupervisor(t, "app", nil, idle("a"))
	require.NoError(t, s.Start(context.Background()))
	defer shutdown(t, s)
	h := probe.Handler(s)

	for _, path := range []string{"/livez", "/readyz", "/statusz"} {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			rec := do(h, method, path, "")
			require.Equal(t, http.StatusMethodNotAllowed, rec.Code, method+" "+path)
			require.Contains(t, rec.Header().Get("Allow"), http.MethodGet, method+" "+path)
		}
		rec := do(h, http.MethodHead, path, "")
		require.Equal(t, http.StatusOK, rec.Code, "HEAD "+path)
	}
	require.Equal(t, http.StatusNotFound, do(h, http.MethodGet, "/", "").Code)
	require.Equal(t, http.StatusNotFound, do(h, http.MethodGet, "/healthz", "").Code)
}

func TestMountedUnderPrefix(t *testing.T) {
	s := newSupervisor(t, "app", nil, idle("a"))
	require.NoError(t, s.Start(context.Background()))
	defer shutdown(t, s)
	mux := http.NewServeMux()
	mux.Handle("/debug/", http.StripPrefix("/debug", probe.Handler(s)))

	for _, path := range []string{"/debug/livez", "/debug/readyz", "/debug/statusz"} {
		rec := do(mux, http.MethodGet, path, "")
		require.Equal(t, http.StatusOK, rec.Code, path)
	}
	require.Equal(t, http.StatusNotFound, do(mux, http.MethodGet, "/livez", "").Code)
}

// A hook that blocks does not hold the probes up: hooks run on the tree's
// own goroutine, so the supervisor answers at once. (A supervisor that
// could not answer would get 503 after 2s.)
func TestStatusWhileAHookBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		hook := sdk.WithEventHook(func(e sdk.Event) {
			if e.Type == sdk.EventCommand {
				<-gate
			}
		})
		s := newSupervisor(t, "app", []sdk.Option{hook}, idle("a"))
		require.NoError(t, s.Start(context.Background()))
		require.NoError(t, cmdErr(s.Restart(context.Background(), "a", "test", "block the hook")))
		synctest.Wait()
		h := probe.Handler(s)
		for _, path := range []string{"/readyz", "/statusz", "/livez"} {
			begin := time.Now()
			rec := do(h, http.MethodGet, path, "")
			require.Equal(t, http.StatusOK, rec.Code, path)
			require.Zero(t, time.Since(begin), path)
		}
		close(gate)
		shutdown(t, s)
	})
}

// The request's own context bounds the wait: a request whose context has
// ended gets 503 at once.
func TestStatusUsesRequestContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSupervisor(t, "app", nil, idle("a"))
		require.NoError(t, s.Start(context.Background()))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/readyz", nil)
		rec := httptest.NewRecorder()
		probe.Handler(s).ServeHTTP(rec, req)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "status unavailable: context canceled", rec.Body.String())
		shutdown(t, s)
	})
}

func TestStatuszHTMLNotStarted(t *testing.T) {
	s := newSupervisor(t, "app", nil, idle("a"))
	rec := do(probe.Handler(s), http.MethodGet, "/statusz", browserAccept)
	require.Equal(t, http.StatusOK, rec.Code)
	require.True(t, strings.Contains(rec.Body.String(), "State <b>not started</b>, ready <b>no</b>"), rec.Body.String())
}

// While shutting down the supervisor stays live (a stopping pod is not
// restarted), is not ready, and the page says who asked for the shutdown.
func TestShuttingDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := sdk.Spec{Name: "slow", StopTimeout: time.Minute, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(10 * time.Second) // drains
			return nil
		})}
		s := newSupervisor(t, "app", nil, slow)
		require.NoError(t, s.Start(context.Background()))
		h := probe.Handler(s)
		stopped := make(chan error, 1)
		go func() {
			_, err := s.Shutdown(context.Background(), "deployer", "rollout <v2>")
			stopped <- err
		}()
		synctest.Wait()

		require.Equal(t, http.StatusOK, do(h, http.MethodGet, "/livez", "").Code)
		rec := do(h, http.MethodGet, "/readyz", "")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "not ready\n/app: supervisor shutting_down", rec.Body.String())
		page := do(h, http.MethodGet, "/statusz", browserAccept).Body.String()
		require.Contains(t, page, "State <b>shutting_down</b>, ready <b>no</b> (shutdown requested by deployer: rollout &lt;v2&gt;)")
		require.Contains(t, page, `/app/slow</td><td class="state">stopping</td>`)

		require.NoError(t, <-stopped)
		require.Equal(t, http.StatusServiceUnavailable, do(h, http.MethodGet, "/livez", "").Code)
	})
}

// cmdErr drops a command's result: for tests that look only at its error.
func cmdErr(_ sdk.CommandResult, err error) error { return err }
