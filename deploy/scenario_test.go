package deploy_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/otelsup"
	"github.com/supervisor-sdk/supervisor/otelsup/otelexport"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// exported runs a supervision tree that exercises every instrument (a
// flaky child restarted twice, a nested supervisor that melts down, a
// child abandoned at shutdown), exporting through otelexport's Prometheus
// reader, and returns the metric families the registry gathered: once
// while the tree runs (the state sets) and once after its shutdown (the
// abandoned counter), merged, with the text exposition of the first.
func exported(t *testing.T) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	// Pull only, whatever the machine's OTEL_* variables say.
	t.Setenv("OTEL_SDK_DISABLED", "false")
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	p, err := otelexport.Setup(ctx, otelexport.WithPrometheus(reg))
	if err != nil {
		t.Fatal(err)
	}
	a, err := otelsup.New(p.AdapterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	running := make(chan struct{})
	var once sync.Once
	root, err := sdk.New("root", append(a.Options(), sdk.WithEventHook(func(e sdk.Event) {
		if e.Type == sdk.EventChildRunning && e.Path == "/root/flaky" && e.Attempt == 3 {
			once.Do(func() { close(running) })
		}
	}))...)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := sdk.New("sub", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 0, Period: time.Minute}))
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var stuck sync.WaitGroup
	stuck.Add(1)
	fast := &sdk.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}
	var flaky int
	for _, err := range []error{
		sub.Add(context.Background(), sdk.Spec{Name: "x", Restart: sdk.Transient, Backoff: fast, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			return errors.New("boom") // the first restart melts sub down
		})}, "test", "declared by the test"),
		root.Add(context.Background(), sdk.Spec{Name: "flaky", Backoff: fast, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if flaky++; flaky <= 2 {
				return errors.New("not yet")
			}
			<-ctx.Done()
			return nil
		})}, "test", "declared by the test"),
		root.Add(context.Background(), sdk.Spec{Name: "sub", Restart: sdk.Temporary, Service: sub}, "test", "declared by the test"),
		root.Add(context.Background(), sdk.Spec{Name: "stuck", StopTimeout: 10 * time.Millisecond, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			defer stuck.Done()
			<-release // ignores its context: abandoned at shutdown
			return nil
		})}, "test", "declared by the test"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := root.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-running
	deadline := time.Now().Add(5 * time.Second)
	for !lifecycle.KindSupervisor.Terminal(sub.Health().State) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // the meltdown
	}
	fams := gather(t, reg)
	text := scrape(t, reg)
	if _, err := root.Shutdown(ctx, "test", "done"); !errors.Is(err, sdk.ErrAbandoned) {
		t.Errorf("Shutdown: %v, want the stuck child abandoned", err)
	}
	for name, f := range gather(t, reg) {
		if fams[name] == nil {
			fams[name] = f
		}
	}
	close(release)
	stuck.Wait()
	shutCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.Shutdown(shutCtx); err != nil {
		t.Error(err)
	}
	if err := a.Close(); err != nil {
		t.Error(err)
	}
	return fams, text
}

func gather(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// scrape returns the text exposition promhttp serves for reg.
func scrape(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}
