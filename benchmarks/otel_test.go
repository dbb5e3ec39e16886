package benchmarks

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/supervisor-sdk/supervisor/otelsup"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// discardSpans is a span processor that drops every span: the cost
// measured is the adapter's and the trace SDK's recording, not an
// exporter's.
type discardSpans struct{}

func (discardSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discardSpans) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discardSpans) Shutdown(context.Context) error                  { return nil }
func (discardSpans) ForceFlush(context.Context) error                { return nil }

// otelProviders are the providers of a fully recording adapter: an SDK
// MeterProvider with a ManualReader and an always-sampling TracerProvider
// whose spans are discarded.
func otelProviders() (*sdkmetric.MeterProvider, *sdktrace.TracerProvider) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(discardSpans{}))
	return mp, tp
}

// BenchmarkOursOtelRestart: the cost per restart of the otelsup adapter
// recording both metrics and spans (see otelProviders), on the crash loop
// of BenchmarkRestartOtel. The hooks run on the tree's event goroutine,
// behind the loop: the hook queue is large enough that none is dropped,
// and the timer stops only once the adapter has seen the last restart, so
// its work is all counted.
func BenchmarkOursOtelRestart(b *testing.B) {
	mp, tp := otelProviders()
	a, err := otelsup.New(otelsup.WithMeterProvider(mp), otelsup.WithTracerProvider(tp))
	if err != nil {
		b.Fatal(err)
	}
	var running atomic.Int64
	caughtUp := make(chan struct{})
	want := int64(b.N) + 1                        // the first attempt, then one per restart
	seen := sdk.WithEventHook(func(e sdk.Event) { // after the adapter's
		if e.Type == sdk.EventChildRunning && running.Add(1) == want {
			close(caughtUp)
		}
	})
	noLeaks(b)
	b.ReportAllocs()
	loop := newCrashLoop(b.N)
	opts := append([]sdk.Option{sdk.WithIntensity(neverMeltdown), sdk.WithHookQueue(1 << 30)}, a.Options()...)
	sup := startOursWith(b, []*child{loop.child()}, true, a.Close, append(opts, seen)...)
	<-loop.ready
	b.ResetTimer()
	close(loop.goc)
	<-loop.done
	<-caughtUp
	b.StopTimer()
	sup.stop(b)
	_ = mp.Shutdown(context.Background())
	_ = tp.Shutdown(context.Background())
}

// BenchmarkOursOtelIdleChildHeap is BenchmarkIdleChildHeap for ours with
// the recording adapter: what the adapter holds per idle (running)
// child, open spans included.
func BenchmarkOursOtelIdleChildHeap(b *testing.B) {
	const n = 10000
	b.Run(fmt.Sprintf("children=%d/lib=ours-otel", n), func(b *testing.B) {
		noLeaks(b)
		b.ReportAllocs()
		mp, tp := otelProviders()
		defer func() { _ = mp.Shutdown(context.Background()); _ = tp.Shutdown(context.Background()) }()
		var heap float64
		base := runtime.NumGoroutine()
		for b.Loop() {
			settleGoroutines(b, base)
			before := memStats()
			a, err := otelsup.New(otelsup.WithMeterProvider(mp), otelsup.WithTracerProvider(tp))
			if err != nil {
				b.Fatal(err)
			}
			idle := newIdleGroup("c", n)
			sup := startOursWith(b, idle.children, true, a.Close, append([]sdk.Option{sdk.WithIntensity(neverMeltdown)}, a.Options()...)...)
			<-idle.all
			after := memStats()
			heap += float64(after.HeapAlloc) - float64(before.HeapAlloc)
			sup.stop(b)
		}
		b.ReportMetric(perChild(heap/float64(b.N), n), "heap-B/child")
	})
}
