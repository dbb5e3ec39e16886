package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// newMetrics returns state metrics on a no-op meter provider. Benchmarks
// close them after each supervisor, so that the supervisor's lifecycle
// machines (which a supervisor never unregisters itself) do not accumulate
// across iterations as they would in the process-wide registry; the cost
// of registering them is still measured.
func newMetrics(b *testing.B) *lifecycle.StateMetrics {
	b.Helper()
	sm, err := lifecycle.NewStateMetrics(lifecycle.WithMeterProvider(noop.NewMeterProvider()))
	require.NoError(b, err)
	return sm
}

// BenchmarkRestartLatency measures one restart of a child that fails at
// once: exit message, classification, intensity bookkeeping, backoff (none)
// and relaunch on the child's parked goroutine. One op is one restart. With
// idle siblings, the cost must not grow: one_for_one touches only the
// failed child.
func BenchmarkRestartLatency(b *testing.B) {
	for _, tc := range []struct {
		siblings int
		panics   bool
	}{{0, false}, {999, false}, {0, true}} {
		siblings := tc.siblings
		name := fmt.Sprintf("siblings=%d", siblings)
		if tc.panics {
			// A crash loop of panics costs about what one of errors does:
			// the captured stack is sized to the stack, not the bound.
			name += "/panic"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			sm := newMetrics(b)
			defer sm.Close()
			s, err := sdk.New("bench",
				sdk.WithIntensity(sdk.Intensity{MaxRestarts: 10000, Period: time.Nanosecond}),
				sdk.WithStateMetrics(sm))
			require.NoError(b, err)

			var started sync.WaitGroup
			started.Add(siblings + 1)
			for i := range siblings {
				require.NoError(b, s.Add(context.Background(), sdk.Spec{Name: fmt.Sprintf("idle-%d", i), Service: sdk.ServiceFunc(func(ctx context.Context) error {
					started.Done()
					<-ctx.Done()
					return nil
				})}, "test", "declared by the test"))
			}
			begin, done := make(chan struct{}), make(chan struct{})
			errCrash := errors.New("crash")
			target := int64(b.N) + 1 // the first attempt plus b.N restarts
			var calls atomic.Int64
			require.NoError(b, s.Add(context.Background(), sdk.Spec{Name: "crasher", Backoff: sdk.NoBackoff(), FailureLimit: -1, Service: sdk.ServiceFunc(func(ctx context.Context) error {
				switch n := calls.Add(1); {
				case n == 1:
					started.Done()
					<-begin
				case n == target:
					close(done)
					<-ctx.Done()
					return nil
				}
				if tc.panics {
					panic(errCrash)
				}
				return errCrash
			})}, "test", "declared by the test"))

			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- s.Serve(ctx) }()
			started.Wait()
			b.ResetTimer()
			close(begin)
			<-done
			b.StopTimer()
			cancel()
			require.NoError(b, <-served)
			require.Equal(b, target, calls.Load())
		})
	}
}

// BenchmarkStartStop measures a full life of a supervisor with N idle
// children: Add them, Serve until every one runs, cancel, and wait for
// Serve to return. It reports the time, the memory allocated and the
// goroutines held per child.
func BenchmarkStartStop(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("children=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("c%d", i)
			}
			idleSvc := sdk.ServiceFunc(idle)
			base := runtime.NumGoroutine()
			var goroutines int64
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			allocBefore := ms.TotalAlloc
			b.ResetTimer()

			for range b.N {
				var running atomic.Int64
				all := make(chan struct{})
				sm := newMetrics(b)
				// The hook must see every child's running event: a queue
				// of the default size would drop some of the burst, and
				// the op would wait forever.
				s, err := sdk.New("bench", sdk.WithStateMetrics(sm), sdk.WithHookQueue(8*n), sdk.WithEventHook(func(e sdk.Event) {
					if e.Type == sdk.EventChildRunning && running.Add(1) == int64(n) {
						close(all)
					}
				}))
				if err != nil {
					b.Fatal(err)
				}
				for _, name := range names {
					if err := s.Add(context.Background(), sdk.Spec{Name: name, Service: idleSvc}, "test", "declared by the test"); err != nil {
						b.Fatal(err)
					}
				}
				ctx, cancel := context.WithCancel(context.Background())
				served := make(chan error, 1)
				go func() { served <- s.Serve(ctx) }()
				<-all
				goroutines += int64(runtime.NumGoroutine() - base)
				cancel()
				if err := <-served; err != nil {
					b.Fatal(err)
				}
				_ = sm.Close()

				// Let the children's goroutines finish before the next op,
				// so that it counts only its own.
				b.StopTimer()
				for runtime.NumGoroutine() > base {
					runtime.Gosched()
				}
				b.StartTimer()
			}

			b.StopTimer()
			runtime.ReadMemStats(&ms)
			perChild := float64(b.N) * float64(n)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/perChild, "ns/child")
			b.ReportMetric(float64(ms.TotalAlloc-allocBefore)/perChild, "B/child")
			b.ReportMetric(float64(goroutines)/perChild, "goroutines/child")
		})
	}
}
