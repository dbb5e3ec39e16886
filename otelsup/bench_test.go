package otelsup

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// discard is a span exporter that drops everything, so the benchmark
// measures the adapter and the SDK pipeline, not an exporter.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkRestart measures one restart of a child that fails at once (its
// exit, the restart decision and the relaunch: four events), with no
// adapter, with the adapter on no-op providers, and with the adapter on
// SDK providers (a BatchSpanProcessor to a discarding exporter, a
// ManualReader that is never collected). One op is one restart. With
// no-op providers the adapter must add no allocation.
func BenchmarkRestart(b *testing.B) {
	for _, mode := range []string{"none", "noop", "sdk"} {
		b.Run("adapter="+mode, func(b *testing.B) {
			var opts []sdk.Option
			switch mode {
			case "none":
				// The same no-op state sets the noop adapter installs, so the
				// difference is the adapter's hook.
				sm, err := lifecycle.NewStateMetrics(lifecycle.WithMeterProvider(metricnoop.NewMeterProvider()))
				if err != nil {
					b.Fatal(err)
				}
				defer sm.Close()
				opts = append(opts, sdk.WithStateMetrics(sm))
			case "noop":
				a, err := New(WithMeterProvider(metricnoop.NewMeterProvider()), WithTracerProvider(tracenoop.NewTracerProvider()))
				if err != nil {
					b.Fatal(err)
				}
				defer a.Close()
				opts = append(opts, a.Options()...)
			case "sdk":
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
				defer tp.Shutdown(context.Background())
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				defer mp.Shutdown(context.Background())
				a, err := New(WithMeterProvider(mp), WithTracerProvider(tp))
				if err != nil {
					b.Fatal(err)
				}
				defer a.Close()
				opts = append(opts, a.Options()...)
			}
			benchRestarts(b, opts)
		})
	}
}

func benchRestarts(b *testing.B, opts []sdk.Option) {
	b.ReportAllocs()
	s, err := sdk.New("bench", append(opts, sdk.WithIntensity(sdk.Intensity{MaxRestarts: 10000, Period: time.Nanosecond}))...)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	started, begin, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	errCrash := errors.New("crash")
	target := int64(b.N) + 1 // the first attempt plus b.N restarts
	var calls atomic.Int64
	if err := s.Add(context.Background(), sdk.Spec{Name: "crasher", Backoff: sdk.NoBackoff(), FailureLimit: -1, Service: sdk.ServiceFunc(func(ctx context.Context) error {
		switch n := calls.Add(1); {
		case n == 1:
			close(started)
			<-begin
		case n == target:
			close(done)
			<-ctx.Done()
			return nil
		}
		return errCrash
	})}, "test", "declared by the test"); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	<-started
	b.ResetTimer()
	close(begin)
	<-done
	b.StopTimer()
	cancel()
	if err := <-served; err != nil {
		b.Fatal(err)
	}
}
