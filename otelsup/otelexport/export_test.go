package otelexport

import (
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"go.uber.org/goleak"
	"google.golang.org/grpc"

	"github.com/supervisor-sdk/supervisor/otelsup"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// collector is an in-process OTLP gRPC collector that keeps what it gets.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	colmetricpb.UnimplementedMetricsServiceServer

	mu      sync.Mutex
	traces  []*coltracepb.ExportTraceServiceRequest
	metrics []*colmetricpb.ExportMetricsServiceRequest
}

func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.traces = append(c.traces, req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// metricsService adapts the collector to the metrics service, whose
// Export method has the same name as the trace service's.
type metricsService struct{ *collector }

func (m metricsService) Export(_ context.Context, req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.metrics = append(m.metrics, req)
	return &colmetricpb.ExportMetricsServiceResponse{}, nil
}

// startCollector serves a collector on 127.0.0.1 and points the OTLP
// environment variables at it.
func startCollector(t *testing.T) *collector {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, c)
	colmetricpb.RegisterMetricsServiceServer(srv, metricsService{c})
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-served
	})
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+lis.Addr().String())
	t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
	return c
}

// runFlaky serves a tree whose child fails until its attempt n, and shuts
// it down once attempt n runs.
func runFlaky(t *testing.T, a *otelsup.Adapter, n int64, within time.Duration) *sdk.Report {
	t.Helper()
	running := make(chan struct{})
	root, err := sdk.New("root", append(a.Options(),
		sdk.WithIntensity(sdk.Intensity{MaxRestarts: 10000, Period: time.Minute}),
		sdk.WithEventHook(func(e sdk.Event) {
			if e.Type == sdk.EventChildRunning && e.Attempt == uint64(n) {
				close(running)
			}
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	if err := root.Add(sdk.Spec{Name: "flaky", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
		if calls.Add(1) < n {
			return errors.New("boom")
		}
		<-ctx.Done()
		return nil
	})}); err != nil {
		t.Fatal(err)
	}
	if err := root.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-running:
	case <-time.After(within):
		t.Errorf("attempt %d not running within %s: %d attempts", n, within, calls.Load())
	}
	rep, err := root.Shutdown(context.Background(), "test", "done")
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func attr(kvs []*commonpb.KeyValue, key string) *commonpb.AnyValue {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

func TestExportToCollector(t *testing.T) {
	col := startCollector(t)
	t.Setenv("OTEL_SERVICE_NAME", "otelexport-test")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "service.instance.id=inst-1")
	ctx := context.Background()
	p, err := Setup(ctx, WithPrometheus(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	a, err := otelsup.New(p.AdapterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	runFlaky(t, a, 3, 10*time.Second)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	col.mu.Lock()
	defer col.mu.Unlock()
	spans := make(map[string][]*tracepb.Span)
	for _, req := range col.traces {
		for _, rs := range req.ResourceSpans {
			if got := attr(rs.Resource.Attributes, "service.name").GetStringValue(); got != "otelexport-test" {
				t.Errorf("service.name = %q", got)
			}
			if got := attr(rs.Resource.Attributes, "service.instance.id").GetStringValue(); got != "inst-1" {
				t.Errorf("service.instance.id = %q", got)
			}
			for _, ss := range rs.ScopeSpans {
				if ss.Scope.Name != otelsup.ScopeName || ss.Scope.Version != otelsup.Version() {
					t.Errorf("scope %s %s", ss.Scope.Name, ss.Scope.Version)
				}
				for _, s := range ss.Spans {
					spans[s.Name] = append(spans[s.Name], s)
				}
			}
		}
	}
	for name, want := range map[string]int{otelsup.SpanStart: 1, otelsup.SpanShutdown: 1, otelsup.SpanChildAttempt: 3} {
		if got := len(spans[name]); got != want {
			t.Errorf("%d %s spans, want %d", got, name, want)
		}
	}
	attempts := spans[otelsup.SpanChildAttempt]
	slices.SortFunc(attempts, func(x, y *tracepb.Span) int {
		return int(attr(x.Attributes, string(otelsup.AttrChildAttempt)).GetIntValue() - attr(y.Attributes, string(otelsup.AttrChildAttempt)).GetIntValue())
	})
	for i, s := range attempts {
		wantLinks, wantCode, wantMsg := 2, tracepb.Status_STATUS_CODE_ERROR, "boom"
		if i == 0 {
			wantLinks = 1 // no previous attempt
		}
		if i == 2 {
			wantCode, wantMsg = tracepb.Status_STATUS_CODE_UNSET, ""
		}
		if len(s.Links) != wantLinks {
			t.Errorf("attempt %d: %d links, want %d", i+1, len(s.Links), wantLinks)
		}
		if s.Status.GetCode() != wantCode || s.Status.GetMessage() != wantMsg {
			t.Errorf("attempt %d: status %v %q, want %v %q", i+1, s.Status.GetCode(), s.Status.GetMessage(), wantCode, wantMsg)
		}
		if len(s.ParentSpanId) != 0 {
			t.Errorf("attempt %d has a parent", i+1)
		}
	}
	if sh := spans[otelsup.SpanShutdown]; len(sh) == 1 {
		evs := sh[0].Events
		last := evs[len(evs)-1]
		if last.Name != otelsup.SpanEventExitReport {
			t.Errorf("last shutdown event %q, want the exit report", last.Name)
		}
		for key, want := range map[string]string{"supervisor.report.state": "completed", "supervisor.report.cause": "operator", "supervisor.report.requested_by": "test"} {
			if got := attr(last.Attributes, key).GetStringValue(); got != want {
				t.Errorf("exit report %s = %q, want %q", key, got, want)
			}
		}
	}

	metrics := make(map[string]*metricpb.Metric)
	for _, req := range col.metrics {
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					metrics[m.Name] = m // cumulative: the last export wins
				}
			}
		}
	}
	for _, name := range []string{otelsup.MetricChildRestarts, otelsup.MetricChildExits, otelsup.MetricChildAttemptDuration, "supervisor.child.status", "supervisor.status"} {
		if metrics[name] == nil {
			t.Errorf("metric %s not exported; got %v", name, keys(metrics))
		}
	}
	if m := metrics[otelsup.MetricChildRestarts]; m != nil {
		var restarts int64
		for _, dp := range m.GetSum().GetDataPoints() {
			restarts += dp.GetAsInt()
		}
		if restarts != 2 {
			t.Errorf("%d restarts exported, want 2", restarts)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// closedPort points the OTLP variables at a port nothing listens on.
func closedPort(t *testing.T) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+addr)
	t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
}

// With the collector unreachable, supervision is unaffected and Shutdown
// of the providers returns within its deadline, although the exporters
// retry for longer.
func TestCollectorDown(t *testing.T) {
	closedPort(t)
	// Longer than the Shutdown deadline below, so the deadline is what
	// bounds Shutdown; shorter than the 10s default, so the export that
	// Shutdown leaves behind gives up soon (see waitExportsDone).
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) // expected failures
	ctx := context.Background()
	p, err := Setup(ctx, WithMaxQueueSize(64))
	if err != nil {
		t.Fatalf("Setup with the collector down: %v", err)
	}
	a, err := otelsup.New(p.AdapterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep := runFlaky(t, a, 200, 5*time.Second) // 199 restarts: many more spans than the queue holds
	t.Logf("199 restarts and a shutdown in %s", time.Since(start))
	if got := rep.Children[0].Restarts; got != 199 {
		t.Errorf("%d restarts, want 199", got)
	}
	const deadline = time.Second
	sctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	start = time.Now()
	err = p.Shutdown(sctx)
	took := time.Since(start)
	t.Logf("Shutdown: %v after %s", err, took)
	if err == nil {
		t.Error("Shutdown with the collector down reported no error")
	}
	if took > deadline+500*time.Millisecond {
		t.Errorf("Shutdown took %s, deadline %s", took, deadline)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitExportsDone(t, 5*time.Second)
}

// waitExportsDone waits for the goroutines of exports still in flight to
// end. A provider Shutdown that reaches its deadline returns at once, but
// the batch span processor's export in progress (and the gRPC connection
// it holds) ends only when the exporter's own timeout
// (OTEL_EXPORTER_OTLP_TIMEOUT) expires; then the exporter closes its
// connection and every goroutine ends. Waiting here, rather than ignoring
// gRPC's goroutines in TestMain, keeps the leak check exact.
func waitExportsDone(t *testing.T, within time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		err := goleak.Find()
		if err == nil {
			t.Logf("background exports ended %s after Shutdown", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > within {
			t.Errorf("goroutines still running %s after Shutdown: %v", within, err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A failed background export goes to the OpenTelemetry error handler.
func TestCollectorDownErrorHandler(t *testing.T) {
	closedPort(t)
	// Export in the background soon, and give each export little time, so
	// that a failed export reaches the error handler within the test.
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "300")
	var handled errorLog
	otel.SetErrorHandler(&handled)
	ctx := context.Background()
	p, err := Setup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, err := otelsup.New(p.AdapterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	runFlaky(t, a, 3, 5*time.Second)
	for wait := time.Now(); handled.count() == 0 && time.Since(wait) < 5*time.Second; {
		time.Sleep(10 * time.Millisecond)
	}
	if handled.count() == 0 {
		t.Error("no export error reached the OpenTelemetry error handler")
	}
	t.Logf("error handler: %d errors, first: %v", handled.count(), handled.first())
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_ = p.Shutdown(sctx)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {}))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}

type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) Handle(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errorLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.errs)
}

func (l *errorLog) first() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) == 0 {
		return nil
	}
	return l.errs[0]
}
