package otelexport

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/supervisor-sdk/supervisor/otelsup"
)

// TestExportToCollector runs a restart episode and checks what an OTLP
// gRPC collector receives: the spans of every attempt with their links
// and status, the exit report, the resource, and the metrics. gRPC is the
// protocol when none is configured, whether OTEL_*_EXPORTER is unset or
// says otlp.
func TestExportToCollector(t *testing.T) {
	for name, exporters := range map[string][]string{
		"exporters unset": nil,
		"exporters otlp":  {"OTEL_TRACES_EXPORTER=otlp", "OTEL_METRICS_EXPORTER=otlp"},
	} {
		t.Run(name, func(t *testing.T) {
			col, endpoint := startGRPCCollector(t)
			cleanEnv(t, append(exporters, "OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint,
				"OTEL_SERVICE_NAME=otelexport-test", "OTEL_RESOURCE_ATTRIBUTES=service.instance.id=inst-1")...)
			p := setup(t, WithPrometheus(prometheus.NewRegistry()))
			if got, want := p.String(), "traces: otlp (grpc); metrics: prometheus (WithPrometheus), otlp (grpc)"; got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
			a := adapter(t, p)
			runFlaky(t, a, 3, 10*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			checkEpisode(t, col)
		})
	}
}

// checkEpisode checks what runFlaky(…, 3, …) exported.
func checkEpisode(t *testing.T, col *received) {
	t.Helper()
	for _, res := range col.resources() {
		if got := attr(res.Attributes, "service.name"); got != "otelexport-test" {
			t.Errorf("service.name = %q", got)
		}
		if got := attr(res.Attributes, "service.instance.id"); got != "inst-1" {
			t.Errorf("service.instance.id = %q, want OTEL_RESOURCE_ATTRIBUTES' inst-1", got)
		}
	}
	col.mu.Lock()
	spans := make(map[string][]*tracepb.Span)
	for _, req := range col.traces {
		for _, rs := range req.ResourceSpans {
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
	col.mu.Unlock()
	for name, want := range map[string]int{otelsup.SpanStart: 1, otelsup.SpanShutdown: 1, otelsup.SpanChildStart: 3, otelsup.SpanChildExit: 3} {
		if got := len(spans[name]); got != want {
			t.Errorf("%d %s spans, want %d", got, name, want)
		}
	}
	byAttempt := func(x, y *tracepb.Span) int {
		return int(intAttr(x, string(otelsup.AttrChildAttempt)) - intAttr(y, string(otelsup.AttrChildAttempt)))
	}
	starts, exits := spans[otelsup.SpanChildStart], spans[otelsup.SpanChildExit]
	slices.SortFunc(starts, byAttempt)
	slices.SortFunc(exits, byAttempt)
	for i, s := range starts {
		wantLinks := 2 // the previous attempt's exit, the supervisor's start
		if i == 0 {
			wantLinks = 1 // no previous attempt
		}
		if len(s.Links) != wantLinks {
			t.Errorf("start %d: %d links, want %d", i+1, len(s.Links), wantLinks)
		}
		if s.Status.GetCode() != tracepb.Status_STATUS_CODE_UNSET {
			t.Errorf("start %d: status %v, want unset (it was up)", i+1, s.Status.GetCode())
		}
	}
	for i, s := range exits {
		wantCode, wantMsg := tracepb.Status_STATUS_CODE_ERROR, "boom"
		if i == 2 {
			wantCode, wantMsg = tracepb.Status_STATUS_CODE_UNSET, ""
		}
		if len(s.Links) != 1 { // its attempt's start
			t.Errorf("exit %d: %d links, want 1", i+1, len(s.Links))
		}
		if s.Status.GetCode() != wantCode || s.Status.GetMessage() != wantMsg {
			t.Errorf("exit %d: status %v %q, want %v %q", i+1, s.Status.GetCode(), s.Status.GetMessage(), wantCode, wantMsg)
		}
	}
	if sh := spans[otelsup.SpanShutdown]; len(sh) == 1 {
		evs := sh[0].Events
		last := evs[len(evs)-1]
		if last.Name != otelsup.SpanEventExitReport {
			t.Errorf("last shutdown event %q, want the exit report", last.Name)
		}
		for key, want := range map[string]string{"supervisor.report.state": "completed", "supervisor.report.cause": "operator", "supervisor.report.requested_by": "test"} {
			if got := attr(last.Attributes, key); got != want {
				t.Errorf("exit report %s = %q, want %q", key, got, want)
			}
		}
	}
	got := col.metricNames()
	for _, name := range []string{otelsup.MetricChildRestarts, otelsup.MetricChildExits, otelsup.MetricChildAttemptDuration, "supervisor.child.status", "supervisor.status"} {
		if !got[name] {
			t.Errorf("metric %s not exported; got %v", name, got)
		}
	}
}

func intAttr(s *tracepb.Span, key string) int64 {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value.GetIntValue()
		}
	}
	return 0
}

// TestExportOverHTTP: OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf sends both
// signals to /v1/traces and /v1/metrics of the endpoint.
func TestExportOverHTTP(t *testing.T) {
	col, endpoint := startHTTPCollector(t)
	cleanEnv(t, "OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_SERVICE_NAME=otelexport-test", "OTEL_RESOURCE_ATTRIBUTES=service.instance.id=inst-1")
	p := setup(t)
	if got, want := p.String(), "traces: otlp (http/protobuf); metrics: otlp (http/protobuf)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	runFlaky(t, adapter(t, p), 3, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	checkEpisode(t, col)
}

// TestTracesEndpointAlone: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT exports the
// traces, and only them.
func TestTracesEndpointAlone(t *testing.T) {
	col, endpoint := startGRPCCollector(t)
	cleanEnv(t, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="+endpoint)
	p := setup(t)
	if got, want := p.String(), "traces: otlp (grpc); metrics: none"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	runFlaky(t, adapter(t, p), 2, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := len(col.spanNames()); n != 6 {
		t.Errorf("%d spans received, want 6 (start, 2 attempts of a start and an exit each, shutdown): %q", n, col.spanNames())
	}
	if got := col.metricNames(); len(got) != 0 {
		t.Errorf("metrics received without a metrics endpoint: %v", got)
	}
}
