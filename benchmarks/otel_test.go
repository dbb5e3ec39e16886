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
// of BenchmarkRestartOtel, counting the adapter's work (see
// benchCrashLoopSeen). The queued events of the backlog are counted too:
// the hooks run behind the loop.
func BenchmarkOursOtelRestart(b *testing.B) {
	mp, tp := otelProviders()
	a, err := otelsup.New(otelsup.WithMeterProvider(mp), otelsup.WithTracerProvider(tp))
	if err != nil {
		b.Fatal(err)
	}
	benchCrashLoopSeen(b, a.Options(), a.Close)
	_ = mp.Shutdown(context.Background())
	_ = tp.Shutdown(context.Background())
}

// benchCrashLoopSeen is benchCrashLoopWith for an observer that must see
// every restart: the hook queue is large enough that no event is dropped,
// and the timer stops only once the hooks in opts have seen the last
// restart (a hook of its own, after theirs, says so), so their work is
// all counted.
func benchCrashLoopSeen(b *testing.B, opts []sdk.Option, release func() error) {
	var running atomic.Int64
	caughtUp := make(chan struct{})
	want := int64(b.N) + 1 // the first attempt, then one per restart
	seen := sdk.WithEventHook(func(e sdk.Event) {
		if e.Type == sdk.EventChildRunning && running.Add(1) == want {
			close(caughtUp)
		}
	})
	noLeaks(b)
	b.ReportAllocs()
	loop := newCrashLoop(b.N)
	all := append([]sdk.Option{sdk.WithIntensity(neverMeltdown), sdk.WithHookQueue(1 << 30)}, opts...)
	sup := startOursWith(b, []*child{loop.child()}, true, release, append(all, seen)...)
	<-loop.ready
	b.ResetTimer()
	close(loop.goc)
	<-loop.done
	<-caughtUp
	b.StopTimer()
	sup.stop(b)
}

// BenchmarkOursOtelIdleChildHeap is BenchmarkIdleChildHeap for ours with
// the recording adapter: what the supervisor, the adapter and the SDK
// providers hold per idle (running) child, open spans and metric series
// included.
func BenchmarkOursOtelIdleChildHeap(b *testing.B) {
	const n, batch = 10000, 500
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
			// The heap is read once the adapter has seen every child run,
			// not merely once they run: its hook runs behind them. The
			// children are added in batches of 500 while the tree serves,
			// each once the adapter has seen the last one run, so that the
			// hooks' queue (default size) drops nothing and holds no
			// start burst of 10,000 children's events: that array is the
			// tree's, bounded by the queue's limit, not a cost per child.
			var running atomic.Int64
			seen := make(chan struct{}, 1)
			hook := sdk.WithEventHook(func(e sdk.Event) {
				if e.Type == sdk.EventChildRunning && running.Add(1)%batch == 0 {
					seen <- struct{}{}
				}
			})
			idle := newIdleGroup("c", n)
			opts := append([]sdk.Option{sdk.WithIntensity(neverMeltdown)}, a.Options()...)
			sup := startOursWith(b, nil, true, a.Close, append(opts, hook)...)
			for i, c := range idle.children {
				if err := sup.sup.Add(context.Background(), oursSpec(c), "bench", "added by the benchmark"); err != nil {
					b.Fatal(err)
				}
				if (i+1)%batch == 0 {
					<-seen
				}
			}
			<-idle.all
			after := memStats()
			heap += float64(after.HeapAlloc) - float64(before.HeapAlloc)
			sup.stop(b)
		}
		b.ReportMetric(perChild(heap/float64(b.N), n), "heap-B/child")
	})
}
