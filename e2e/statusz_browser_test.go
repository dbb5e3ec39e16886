package e2e

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/probe"
)

// browser finds Chromium: $CHROMIUM, else chromium (Debian's package) or
// another Chrome on PATH.
func browser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "no chromium on PATH (apt-get install chromium, or set CHROMIUM)")
	return ""
}

// statusRow is one row of the /statusz children table, as the browser
// renders it.
type statusRow struct {
	Class string `json:"class"`
	Path  string `json:"path"`
	State string `json:"state"`
	Error string `json:"error"`
}

const rowsJS = `[...document.querySelectorAll('#children tbody tr')].map(r => ({
	class: r.className, path: r.cells[0].textContent, state: r.cells[1].textContent, error: r.cells[5].textContent}))`

// TestStatuszInBrowser loads /statusz of a running tree in headless
// Chromium: the table lists the children, a child in backoff is marked,
// and a child that fails later shows up failed, with its error, once the
// page has refreshed itself: the page is not reloaded (a value the test
// leaves in the page's window survives).
func TestStatuszInBrowser(t *testing.T) {
	exe := browser(t)

	fail := make(chan struct{})
	sup, err := sdk.New("app")
	if err != nil {
		t.Fatal(err)
	}
	specs := []sdk.Spec{
		{Name: "steady", Service: sdk.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil })},
		// Fails at once and waits an hour in backoff.
		{Name: "flaky", Backoff: &sdk.Backoff{Initial: time.Hour, Max: time.Hour, Multiplier: 1},
			Service: sdk.ServiceFunc(func(context.Context) error { return errors.New("connection refused") })},
		// Runs until the test says, then fails for good.
		{Name: "switch", Restart: sdk.Temporary, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			select {
			case <-fail:
				return errors.New("disk <full> & gone")
			case <-ctx.Done():
				return nil
			}
		})},
	}
	for _, s := range specs {
		if err := sup.Add(context.Background(), s, "e2e", "browser test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := sup.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = sup.Shutdown(context.Background(), "e2e", "test over") }()

	const refresh = 300 * time.Millisecond
	srv := httptest.NewServer(probe.Handler(sup, probe.WithRefresh(refresh), probe.WithStatusMaxAge(0)))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	start := time.Now()
	if err := chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/statusz"), // a browser's Accept header: the HTML page
		chromedp.WaitVisible(chromedp.ID("children")),
	); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(bctx, chromedp.Evaluate[[]statusRow](rowsJS))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.notReloaded = true`)); err != nil {
		t.Fatal(err)
	}
	byPath := map[string]statusRow{}
	for _, r := range rows {
		byPath[r.Path] = r
	}
	if len(rows) != 4 {
		t.Fatalf("want the supervisor and 3 children, got %+v", rows)
	}
	for path, want := range map[string]struct{ state, class string }{
		"/app/steady": {"running", ""},
		"/app/flaky":  {"backoff", "bad backoff"},
		"/app/switch": {"running", ""},
	} {
		if r := byPath[path]; r.State != want.state || r.Class != want.class {
			t.Errorf("%s: state %q class %q, want %q %q", path, r.State, r.Class, want.state, want.class)
		}
	}
	if got := byPath["/app/flaky"].Error; got != "connection refused" {
		t.Errorf("flaky's last error: %q", got)
	}

	// Make a child fail; the open page must show it by itself.
	changed := time.Now()
	close(fail)
	const failedJS = `(() => { const r = [...document.querySelectorAll('#children tbody tr')]
		.find(r => r.cells[0].textContent === '/app/switch'); return !!r && r.classList.contains('failed') })()`
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](failedJS,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the failed child did not appear on the open page: %v", err)
	}
	appeared := time.Since(changed)
	if rows, err = chromedp.Run(bctx, chromedp.Evaluate[[]statusRow](rowsJS)); err != nil {
		t.Fatal(err)
	}
	survived, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.notReloaded === true`))
	if err != nil {
		t.Fatal(err)
	}
	events, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("events")))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the failure appeared %v after it happened (refresh every %v); page test took %v",
		appeared.Round(time.Millisecond), refresh, time.Since(start).Round(time.Millisecond))
	if !survived {
		t.Error("the page was reloaded; it should refresh in place")
	}
	for _, r := range rows {
		if r.Path == "/app/switch" && (r.Error != "disk <full> & gone" || r.Class != "bad failed") {
			t.Errorf("switch row: %+v", r)
		}
	}
	if !strings.Contains(events, `child_exited /app/switch attempt=1 exit=error err="disk <full> & gone"`) {
		t.Errorf("the recent events do not show the failure:\n%s", events)
	}

	// The pause button stops the refresh and says so.
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("pause"))); err != nil {
		t.Fatal(err)
	}
	button, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("pause")))
	if err != nil {
		t.Fatal(err)
	}
	note, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("refresh")))
	if err != nil {
		t.Fatal(err)
	}
	if button != "Resume" || note != "paused" {
		t.Errorf("after pause: button %q, note %q", button, note)
	}

	// A page refreshing faster than its handler's status limit is
	// refused some refreshes (429), and says so instead of claiming to
	// be fresh.
	limited := httptest.NewServer(probe.Handler(sup, probe.WithRefresh(100*time.Millisecond), probe.WithStatusLimit(1)))
	defer limited.Close()
	const refusedJS = `document.getElementById('refresh').textContent === 'refresh failed (HTTP 429); retrying'`
	if err := chromedp.Do(bctx, chromedp.Navigate(limited.URL+"/statusz")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](refusedJS,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		note, _ := chromedp.Run(bctx, chromedp.Text(chromedp.ID("refresh")))
		t.Errorf("a refused refresh was not reported (note %q): %v", note, err)
	}
}
