package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/supervisor-sdk/supervisor/otelsup"
	"github.com/supervisor-sdk/supervisor/otelsup/otelexport"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// TestPrometheusChildFailedAlert serves a supervision tree's metrics
// (otelexport.WithPrometheus), has the Debian prometheus binary scrape them
// every second with the shipped rules, fails a temporary child (it ends
// failed: a temporary child is never restarted), and asks Prometheus'
// query API for the failed state and the alerts API for
// SupervisedChildFailed firing.
func TestPrometheusChildFailedAlert(t *testing.T) {
	ctx := context.Background()

	// The metrics endpoint.
	reg := prometheus.NewRegistry()
	t.Setenv("OTEL_SDK_DISABLED", "false")
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	t.Setenv("OTEL_METRICS_EXPORTER", "none") // pulled through reg only
	p, err := otelexport.Setup(ctx, otelexport.WithPrometheus(reg))
	if err != nil {
		t.Fatal(err)
	}
	a, err := otelsup.New(p.AdapterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	root, err := sdk.New("root", a.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	fail := make(chan struct{})
	for _, spec := range []sdk.Spec{
		{Name: "api", Service: sdk.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil })},
		{Name: "db", Restart: sdk.Temporary, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			select {
			case <-fail:
				return errors.New("disk full")
			case <-ctx.Done():
				return nil
			}
		})},
	} {
		if err := root.Add(context.Background(), spec, "test", "declared by the test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := root.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := root.Shutdown(ctx, "e2e", "test over"); err != nil {
			t.Error(err)
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := errors.Join(srv.Shutdown(sctx), p.Shutdown(sctx), a.Close()); err != nil {
			t.Error(err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	})

	// Prometheus, scraping it every second with the rules.
	prom, api := startPrometheus(t, ln.Addr().String())

	// Healthy first: the child runs, nothing fires.
	failed := `supervisor_child_status{supervisor_child_path="/root/db",supervisor_child_state="failed"}`
	waitFor(t, prom, 30*time.Second, "the running state scraped", func(ctx context.Context) error {
		return wantSample(ctx, api, `supervisor_child_status{supervisor_child_path="/root/db",supervisor_child_state="running"}`, "1")
	})
	var alerts alertsResponse
	if err := getJSON(ctx, api+"/api/v1/alerts", &alerts); err != nil {
		t.Fatal(err)
	}
	if len(alerts.Data.Alerts) != 0 {
		t.Fatalf("alerts before the failure: %+v", alerts.Data.Alerts)
	}

	close(fail) // db returns an error; temporary, it ends failed
	failedAt := time.Now()
	var sample string
	waitFor(t, prom, 30*time.Second, "the failed state scraped", func(ctx context.Context) error {
		if err := wantSample(ctx, api, failed, "1"); err != nil {
			return err
		}
		sample = lastQuery
		return nil
	})
	t.Logf("GET /api/v1/query?query=%s after %s:\n%s", failed, time.Since(failedAt).Round(time.Millisecond), sample)

	firing, all := firingAlert(t, prom, api, "SupervisedChildFailed")
	t.Logf("GET /api/v1/alerts after %s: %s %s labels=%v annotations=%v value=%s",
		time.Since(failedAt).Round(time.Millisecond), firing.Labels["alertname"], firing.State, firing.Labels, firing.Annotations, firing.Value)
	want := map[string]string{
		"alertname": "SupervisedChildFailed", "severity": "page", "job": "supervisor", "instance": ln.Addr().String(),
		"supervisor_child_path": "/root/db", "supervisor_child_state": "failed",
	}
	if fmt.Sprint(firing.Labels) != fmt.Sprint(want) {
		t.Errorf("alert labels %v, want %v (and no otel_scope_* label)", firing.Labels, want)
	}
	if got := firing.Annotations["summary"]; got != "Supervised child /root/db has failed" {
		t.Errorf("summary %q", got)
	}
	for _, al := range all {
		if al.Labels["alertname"] != "SupervisedChildFailed" {
			t.Errorf("unexpected alert %s (%s): %v", al.Labels["alertname"], al.State, al.Labels)
		}
	}
}

// lastQuery is the body of the last query wantSample made.
var lastQuery string

// wantSample queries expr and wants exactly one sample, with value want.
func wantSample(ctx context.Context, api, expr, want string) error {
	var resp struct {
		Status string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	code, body, err := get(ctx, api+"/api/v1/query?query="+url.QueryEscape(expr))
	if err != nil {
		return err
	}
	lastQuery = strings.TrimSpace(string(body))
	if code != http.StatusOK {
		return fmt.Errorf("query %s: %d %s", expr, code, body)
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return err
	}
	if len(resp.Data.Result) != 1 || fmt.Sprint(resp.Data.Result[0].Value[1]) != want {
		return fmt.Errorf("%s = %+v, want one sample %s", expr, resp.Data.Result, want)
	}
	return nil
}

type alert struct {
	Labels      map[string]string
	Annotations map[string]string
	State       string
	Value       string
}

type alertsResponse struct {
	Data struct {
		Alerts []alert
	}
}
