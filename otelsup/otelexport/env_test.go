package otelexport

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/goleak"
)

// TestNothingConfigured: with no OTEL_* variable, Setup builds no-op
// providers, starts no goroutine (no exporter, no connection attempt, no
// error logged later), and Shutdown returns at once. The bound is an
// assertion on purpose: a process that exports nothing must not wait.
func TestNothingConfigured(t *testing.T) {
	cleanEnv(t)
	errs := handleErrors(t)
	baseline := goleak.IgnoreCurrent()
	p, err := Setup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.TracerProvider.(tracenoop.TracerProvider); !ok {
		t.Errorf("TracerProvider is a %T, want the no-op one", p.TracerProvider)
	}
	if _, ok := p.MeterProvider.(metricnoop.MeterProvider); !ok {
		t.Errorf("MeterProvider is a %T, want the no-op one", p.MeterProvider)
	}
	if got, want := p.String(), "traces: none; metrics: none"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if err := goleak.Find(baseline); err != nil {
		t.Errorf("Setup with nothing configured started goroutines: %v", err)
	}
	runFlaky(t, adapter(t, p), 3, 10*time.Second)
	start := time.Now()
	err = p.Shutdown(context.Background())
	took := time.Since(start)
	t.Logf("Shutdown: %v in %s", err, took)
	if err != nil || took > 100*time.Millisecond {
		t.Errorf("Shutdown: %v after %s, want nil within 100ms", err, took)
	}
	if got := errs.all(); len(got) != 0 {
		t.Errorf("errors handled: %v", got)
	}
}

// TestOnlyPrometheus: WithPrometheus alone pulls the metrics and exports
// nothing, and its Shutdown returns at once too.
func TestOnlyPrometheus(t *testing.T) {
	cleanEnv(t)
	reg := prometheus.NewRegistry()
	p := setup(t, WithPrometheus(reg))
	if got, want := p.String(), "traces: none; metrics: prometheus (WithPrometheus)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	runFlaky(t, adapter(t, p), 2, 10*time.Second)
	if fams, err := reg.Gather(); err != nil || len(fams) == 0 {
		t.Errorf("Gather: %d families, %v", len(fams), err)
	}
	start := time.Now()
	if err := p.Shutdown(context.Background()); err != nil || time.Since(start) > 100*time.Millisecond {
		t.Errorf("Shutdown: %v after %s, want nil within 100ms", err, time.Since(start))
	}
}

// TestSDKDisabled: OTEL_SDK_DISABLED=true (in any case) wins over every
// other variable and option: no-op providers, nothing sent.
func TestSDKDisabled(t *testing.T) {
	for _, v := range []string{"true", "TRUE", " True "} {
		t.Run(v, func(t *testing.T) {
			col, endpoint := startGRPCCollector(t)
			cleanEnv(t, "OTEL_SDK_DISABLED="+v, "OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint, "OTEL_METRICS_EXPORTER=otlp")
			reg := prometheus.NewRegistry()
			p := setup(t, WithPrometheus(reg))
			if got, want := p.String(), "disabled (OTEL_SDK_DISABLED)"; got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
			if _, ok := p.TracerProvider.(tracenoop.TracerProvider); !ok {
				t.Errorf("TracerProvider is a %T, want the no-op one", p.TracerProvider)
			}
			runFlaky(t, adapter(t, p), 2, 10*time.Second)
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := len(col.spanNames()) + len(col.metricNames()); n != 0 {
				t.Errorf("%d spans and metrics sent with the SDK disabled", n)
			}
			if fams, _ := reg.Gather(); len(fams) != 0 {
				t.Errorf("%d metric families registered with the SDK disabled", len(fams))
			}
		})
	}
	t.Run("not a boolean", func(t *testing.T) {
		cleanEnv(t, "OTEL_SDK_DISABLED=1")
		errs := handleErrors(t)
		p := setup(t, WithPrometheus(prometheus.NewRegistry()))
		if strings.HasPrefix(p.String(), "disabled") {
			t.Errorf("OTEL_SDK_DISABLED=1 disabled the SDK (only true does)")
		}
		if got := errs.all(); len(got) != 1 || !strings.Contains(got[0].Error(), `OTEL_SDK_DISABLED="1"`) {
			t.Errorf("errors handled %v, want one naming OTEL_SDK_DISABLED=\"1\"", got)
		}
	})
}

// TestExporterNone: OTEL_TRACES_EXPORTER=none and OTEL_METRICS_EXPORTER=none
// each turn one signal off, whatever the endpoint says.
func TestExporterNone(t *testing.T) {
	for _, tc := range []struct {
		env              string
		describe         string
		spans, metricsOn bool
	}{
		{"OTEL_TRACES_EXPORTER=none", "traces: none; metrics: otlp (grpc)", false, true},
		{"OTEL_METRICS_EXPORTER=none", "traces: otlp (grpc); metrics: none", true, false},
	} {
		t.Run(tc.env, func(t *testing.T) {
			col, endpoint := startGRPCCollector(t)
			cleanEnv(t, tc.env, "OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint)
			p := setup(t)
			if got := p.String(); got != tc.describe {
				t.Errorf("String() = %q, want %q", got, tc.describe)
			}
			runFlaky(t, adapter(t, p), 2, 10*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if got := len(col.spanNames()) > 0; got != tc.spans {
				t.Errorf("spans received: %v, want %v", got, tc.spans)
			}
			if got := len(col.metricNames()) > 0; got != tc.metricsOn {
				t.Errorf("metrics received: %v, want %v", got, tc.metricsOn)
			}
		})
	}
}

// TestInvalidSelection: a value Setup cannot honour is an error that names
// the variable and its value, and Setup leaves nothing running.
func TestInvalidSelection(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want []string
	}{
		{[]string{"OTEL_TRACES_EXPORTER=prometheus"}, []string{`OTEL_TRACES_EXPORTER="prometheus"`, "unknown exporter"}},
		{[]string{"OTEL_METRICS_EXPORTER=otlp,console"}, []string{`OTEL_METRICS_EXPORTER="otlp,console"`, "one of none, otlp, prometheus or console"}},
		{[]string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL=http/json"}, []string{`OTEL_EXPORTER_OTLP_PROTOCOL="http/json"`, "invalid OTLP protocol"}},
		{[]string{"OTEL_METRICS_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=udp"}, []string{`OTEL_EXPORTER_OTLP_METRICS_PROTOCOL="udp"`, "metrics"}},
	} {
		t.Run(strings.Join(tc.env, " "), func(t *testing.T) {
			cleanEnv(t, tc.env...)
			p, err := Setup(context.Background())
			if err == nil {
				t.Fatalf("Setup succeeded: %s", p)
			}
			t.Logf("Setup: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestPrometheusPortInUse: the address OTEL_METRICS_EXPORTER=prometheus
// would serve on is taken; the error says which variables place it.
func TestPrometheusPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, port, _ := net.SplitHostPort(taken.Addr().String())
	cleanEnv(t, "OTEL_METRICS_EXPORTER=prometheus", "OTEL_EXPORTER_PROMETHEUS_HOST=127.0.0.1", "OTEL_EXPORTER_PROMETHEUS_PORT="+port)
	p, err := Setup(context.Background())
	if err == nil {
		t.Fatalf("Setup on a taken port succeeded: %s", p)
	}
	t.Logf("Setup: %v", err)
	if !strings.Contains(err.Error(), "OTEL_EXPORTER_PROMETHEUS_PORT") || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("Setup on a taken port: %v, want EADDRINUSE naming OTEL_EXPORTER_PROMETHEUS_PORT", err)
	}
}
