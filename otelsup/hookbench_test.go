package otelsup

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// dropSpans is a span processor that drops every span at its end.
type dropSpans struct{}

func (dropSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (dropSpans) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (dropSpans) Shutdown(context.Context) error                  { return nil }
func (dropSpans) ForceFlush(context.Context) error                { return nil }

// BenchmarkHookRestart is the adapter's own cost per restart, on the hook
// alone: the events of one restart after an error (exited, backoff,
// restarting, starting, running) fed to the hook, with an SDK
// MeterProvider (ManualReader) and an always-sampling TracerProvider whose
// spans are dropped. benchmarks/BenchmarkOursOtelRestart measures the
// same through a real supervisor.
func BenchmarkHookRestart(b *testing.B) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer mp.Shutdown(context.Background())
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(dropSpans{}))
	defer tp.Shutdown(context.Background())
	a, err := New(WithMeterProvider(mp), WithTracerProvider(tp))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	boom := errors.New("boom")
	ev := func(typ sdk.EventType, attempt uint64) sdk.Event {
		return sdk.Event{Type: typ, Tree: 1, Path: "/root/x", Supervisor: "/root", Attempt: attempt, Time: time.Now()}
	}
	a.hook(sdk.Event{Type: sdk.EventChildAdded, Tree: 1, Path: "/root/x", Supervisor: "/root"})
	a.hook(ev(sdk.EventChildStarting, 1))
	b.ReportAllocs()
	n := uint64(1)
	for b.Loop() {
		x := ev(sdk.EventChildExited, n)
		x.Exit, x.Err, x.From = sdk.ExitError, boom, lifecycle.StateRunning
		a.hook(x)
		bo := ev(sdk.EventChildBackoff, n)
		bo.Reason, bo.From, bo.To, bo.Delay = sdk.ReasonError, lifecycle.StateRunning, lifecycle.StateBackoff, time.Millisecond
		a.hook(bo)
		r := ev(sdk.EventChildRestarting, n)
		r.Reason, r.From = sdk.ReasonError, lifecycle.StateBackoff
		a.hook(r)
		n++
		s := ev(sdk.EventChildStarting, n)
		s.From, s.To, s.Cause = lifecycle.StateBackoff, lifecycle.StateStarting, "restart after an error"
		a.hook(s)
		run := ev(sdk.EventChildRunning, n)
		run.From, run.To = lifecycle.StateStarting, lifecycle.StateRunning
		a.hook(run)
	}
}

// BenchmarkHookIdleChild is the heap the adapter and the SDK providers
// hold per running child, on the hook alone: each op declares, starts and
// runs 1000 children (the events fed to the hook, no supervisor), then
// reads the heap after two collections. Most of it is the metric SDK's
// cost of the series reported at 0 from the declaration, and most of
// that their exemplar reservoirs (exemplars=off shows the difference).
func BenchmarkHookIdleChild(b *testing.B) {
	for _, ex := range []string{"on", "off"} {
		b.Run("exemplars="+ex, func(b *testing.B) {
			opts := []sdkmetric.Option{sdkmetric.WithReader(sdkmetric.NewManualReader())}
			if ex == "off" {
				opts = append(opts, sdkmetric.WithExemplarFilter(exemplar.AlwaysOffFilter))
			}
			benchIdleChild(b, opts)
		})
	}
}

func benchIdleChild(b *testing.B, opts []sdkmetric.Option) {
	const n = 1000
	var heap float64
	for b.Loop() {
		b.StopTimer()
		before := heapAlloc()
		mp := sdkmetric.NewMeterProvider(opts...)
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(dropSpans{}))
		a, err := New(WithMeterProvider(mp), WithTracerProvider(tp))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := range n {
			path := "/root/c" + strconv.Itoa(i)
			for _, e := range []sdk.Event{
				{Type: sdk.EventChildAdded, Tree: 1, Path: path, Supervisor: "/root"},
				{Type: sdk.EventChildStarting, Tree: 1, Path: path, Supervisor: "/root", Attempt: 1, From: lifecycle.StateStarting, To: lifecycle.StateStarting},
				{Type: sdk.EventChildRunning, Tree: 1, Path: path, Supervisor: "/root", Attempt: 1, From: lifecycle.StateStarting, To: lifecycle.StateRunning},
			} {
				a.hook(e)
			}
		}
		b.StopTimer()
		heap += float64(heapAlloc() - before)
		_ = a.Close()
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
		b.StartTimer()
	}
	b.ReportMetric(heap/float64(b.N)/n, "heap-B/child")
}

func heapAlloc() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
