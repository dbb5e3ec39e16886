package probe_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/probe"
)

// failOnce fails its first attempt with err and then runs until stopped.
func failOnce(name string, backoff *sdk.Backoff, err error) sdk.Spec {
	failed := false
	return sdk.Spec{Name: name, Backoff: backoff, Service: sdk.ServiceFunc(func(ctx context.Context) error {
		if !failed {
			failed = true
			return err
		}
		<-ctx.Done()
		return nil
	})}
}

func TestStatuszFormatParameter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSupervisor(t, "app", nil, idle("a"))
		require.NoError(t, s.Start(context.Background()))
		h := probe.Handler(s)
		rec := do(h, http.MethodGet, "/statusz?format=json", browserAccept)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"), "?format wins over Accept")
		require.Contains(t, rec.Body.String(), `"events":[`)
		rec = do(h, http.MethodGet, "/statusz?format=html", "application/json")
		require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
		rec = do(h, http.MethodGet, "/statusz?format=xml", "")
		require.Equal(t, http.StatusBadRequest, rec.Code)
		require.Contains(t, rec.Body.String(), `unknown format "xml"`)
		shutdown(t, s)
	})
}

// A failed child and one in backoff are rows of their own classes; the
// recorder's events are listed, newest first; the page refreshes itself
// and can be paused.
func TestStatuszHighlightsAndEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := &sdk.Backoff{Initial: time.Minute, Max: time.Minute, Multiplier: 1}
		s := newSupervisor(t, "app", nil, idle("ok"), failOnce("flaky", slow, errors.New("refused")))
		require.NoError(t, s.Start(context.Background()))
		synctest.Wait()
		time.Sleep(10 * time.Second)
		h := probe.Handler(s, probe.WithRefresh(1500*time.Millisecond))
		page := do(h, http.MethodGet, "/statusz?format=html", "").Body.String()
		require.Contains(t, page, `<tr class="bad backoff"><td class="path" style="padding-left: 3em">/app/flaky</td><td class="state">backoff</td>`)
		require.Contains(t, page, `<td class="n">10s ago</td><td class="n">1</td><td class="n"></td><td class="n">in 50s</td>`, "last error at, failures, up, next restart")
		require.Contains(t, page, `<tr class=""><td class="path" style="padding-left: 3em">/app/ok</td>`)
		require.Contains(t, page, `<b class="problems">0 failed, 1 in backoff.</b>`)
		require.Contains(t, page, `<li><a href="?format=html&amp;page=1">/app/flaky</a>: backoff</li>`)
		require.Contains(t, page, `<tr class="bad"><td class="n">`, "the exit is highlighted among the events")
		require.Contains(t, page, `exit=error err=&#34;refused&#34;`)
		require.Less(t, strings.Index(page, "child_backoff /app/flaky"), strings.Index(page, "child_added /app/ok"), "newest first")
		require.Contains(t, page, `<button id="pause" type="button">Pause</button>`)
		require.Contains(t, page, `var every =  1500 `)
		require.Contains(t, page, `<noscript><meta http-equiv="refresh" content="1.5"></noscript>`)

		off := do(probe.Handler(s, probe.WithRefresh(0)), http.MethodGet, "/statusz?format=html", "").Body.String()
		require.NotContains(t, off, "<script>")
		require.NotContains(t, off, `id="pause"`)
		shutdown(t, s)
	})
}

// 10,000 children make pages of a bounded size; a failed child on a
// late page is listed on the first.
func TestStatuszPaginatesBigTrees(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 10_000
		specs := make([]sdk.Spec, 0, n)
		for i := range n - 1 {
			specs = append(specs, idle(fmt.Sprintf("c%05d", i)))
		}
		specs = append(specs, sdk.Spec{Name: "last", Restart: sdk.Temporary, Service: sdk.ServiceFunc(func(context.Context) error {
			return errors.New("broken")
		})})
		s := newSupervisor(t, "big", nil, specs...)
		go func() { _ = s.Serve(context.Background()) }()
		synctest.Wait()
		h := probe.Handler(s)

		first := do(h, http.MethodGet, "/statusz?format=html", "").Body.String()
		require.Less(t, len(first), 512<<10, "one page is bounded")
		require.Contains(t, first, "Rows 1–500 of 10001, page 1 of 21.")
		require.Contains(t, first, `<a rel="next" href="?format=html&amp;page=2">next</a>`)
		require.Equal(t, 500, strings.Count(first, `<td class="path"`))
		require.Contains(t, first, `<li><a href="?format=html&amp;page=21">/big/last</a>: failed</li>`)

		last := do(h, http.MethodGet, "/statusz?format=html&page=99", "").Body.String()
		require.Contains(t, last, "Rows 10001–10001 of 10001, page 21 of 21.", "clamped to the last page")
		require.Contains(t, last, `<tr class="bad failed"><td class="path" style="padding-left: 3em">/big/last</td>`)
		require.NotContains(t, last, "/big/c00000<")
		shutdown(t, s)
	})
}
