package main

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// cleanEnv unsets every OTEL_* variable for the test (t.Setenv restores
// them), then sets the given KEY=value pairs.
func cleanEnv(t *testing.T, kv ...string) {
	t.Helper()
	for _, e := range os.Environ() {
		if k, _, _ := strings.Cut(e, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for _, e := range kv {
		k, v, _ := strings.Cut(e, "=")
		t.Setenv(k, v)
	}
}

// tracesOnlyCollector is an OTLP gRPC endpoint with a trace service and
// no metrics service, as Jaeger's all-in-one is: a metrics export fails
// with Unimplemented. It counts both.
type tracesOnlyCollector struct {
	coltracepb.UnimplementedTraceServiceServer
	spans, metricCalls atomic.Int64
}

func (c *tracesOnlyCollector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans.Add(int64(len(ss.Spans)))
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func startTracesOnlyCollector(t *testing.T) (*tracesOnlyCollector, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := &tracesOnlyCollector{}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
		c.metricCalls.Add(1)
		return status.Error(codes.Unimplemented, "unknown service")
	}))
	coltracepb.RegisterTraceServiceServer(srv, c)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-served
	})
	return c, "http://" + lis.Addr().String()
}

// errorLog keeps the errors the OpenTelemetry SDK reports.
type errorLog struct {
	mu   sync.Mutex
	errs []string
}

func (l *errorLog) Handle(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err.Error())
}

func (l *errorLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}

func handleErrors(t *testing.T) *errorLog {
	l := &errorLog{}
	otel.SetErrorHandler(l)
	t.Cleanup(func() { otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) })
	return l
}

// Against an endpoint without a metrics service (Jaeger's all-in-one),
// the spans arrive, each failed metrics export is reported, and the run
// still ends without an error: the exit status is the tree's.
func TestQuickstartAgainstTracesOnlyCollector(t *testing.T) {
	col, endpoint := startTracesOnlyCollector(t)
	cleanEnv(t, "OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint, "OTEL_METRIC_EXPORT_INTERVAL=100")
	errs := handleErrors(t)
	var out syncBuffer
	require.NoError(t, run(context.Background(), &out, options{addr: "127.0.0.1:0", runFor: 500 * time.Millisecond}))
	text := out.String()
	require.Contains(t, text, "telemetry: traces: otlp (grpc); metrics: prometheus (WithPrometheus), otlp (grpc)\n")
	require.Contains(t, text, "telemetry: the last export failed: ")
	require.Contains(t, text, "Unimplemented")
	require.Positive(t, col.spans.Load(), "spans exported")
	require.Positive(t, col.metricCalls.Load(), "metrics exports attempted")
	t.Logf("%d spans exported, %d metrics exports refused, %d errors handled", col.spans.Load(), col.metricCalls.Load(), len(errs.all()))
}

// OTEL_METRICS_EXPORTER=none silences the metrics export: no attempt, no
// error, and /metrics still serves them.
func TestQuickstartMetricsExporterNone(t *testing.T) {
	col, endpoint := startTracesOnlyCollector(t)
	cleanEnv(t, "OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint, "OTEL_METRICS_EXPORTER=none", "OTEL_METRIC_EXPORT_INTERVAL=100")
	errs := handleErrors(t)
	var out syncBuffer
	require.NoError(t, run(context.Background(), &out, options{addr: "127.0.0.1:0", runFor: 500 * time.Millisecond}))
	text := out.String()
	require.Contains(t, text, "telemetry: traces: otlp (grpc); metrics: prometheus (WithPrometheus)\n")
	require.NotContains(t, text, "telemetry: the last export failed")
	require.Positive(t, col.spans.Load(), "spans exported")
	require.Zero(t, col.metricCalls.Load(), "metrics exports attempted")
	require.Empty(t, errs.all())
}
