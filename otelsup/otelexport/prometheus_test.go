package otelexport

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// wantExposition checks a scrape of a supervisor's metrics: the pinned
// names, and no otel_scope_* label on any series.
func wantExposition(t *testing.T, text string, names ...string) {
	t.Helper()
	for _, n := range names {
		if !strings.Contains(text, "\n"+n+"{") && !strings.Contains(text, "\n"+n+" ") {
			t.Errorf("no %s series in:\n%s", n, text)
		}
	}
	if strings.Contains(text, "otel_scope_") {
		t.Errorf("series carry otel_scope_* labels:\n%s", text)
	}
}

var supervisorSeries = []string{
	"supervisor_child_status", "supervisor_status", "supervisor_child_restarts_total",
	"supervisor_child_attempt_duration_seconds_bucket", "target_info",
}

// TestPrometheusPull: WithPrometheus registers the metrics on the
// application's registry with the pinned names and no scope labels.
func TestPrometheusPull(t *testing.T) {
	cleanEnv(t)
	reg := prometheus.NewRegistry()
	p := setup(t, WithPrometheus(reg))
	runFlaky(t, adapter(t, p), 3, 10*time.Second)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	wantExposition(t, rec.Body.String(), supervisorSeries...)
}

// TestPrometheusExporterFromEnv: OTEL_METRICS_EXPORTER=prometheus serves
// the same exposition, with the Go and process collectors, on
// OTEL_EXPORTER_PROMETHEUS_HOST:PORT, and stops serving at Shutdown.
func TestPrometheusExporterFromEnv(t *testing.T) {
	port := freePort(t)
	cleanEnv(t, "OTEL_METRICS_EXPORTER=prometheus", "OTEL_EXPORTER_PROMETHEUS_HOST=127.0.0.1", "OTEL_EXPORTER_PROMETHEUS_PORT="+port)
	p := setup(t)
	url := "http://127.0.0.1:" + port + "/metrics"
	if got, want := p.String(), "traces: none; metrics: prometheus ("+url+")"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	runFlaky(t, adapter(t, p), 3, 10*time.Second)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	wantExposition(t, string(body), append(supervisorSeries, "go_goroutines", "process_cpu_seconds_total")...)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get(url); err == nil {
		t.Errorf("%s still served after Shutdown", url)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
