package sdk_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// BenchmarkShutdownUnderCommandStorm: the shutdown of 1,652 idle
// children with a 2s deadline, alone and while 50 goroutines call Restart
// and Add as fast as they can (issue 17: the storm pushed 655 children
// past the deadline; 0.30s without it). One op is one shutdown;
// shutdown-ms is its time and abandoned the children it gave up on.
func BenchmarkShutdownUnderCommandStorm(b *testing.B) {
	for _, callers := range []int{0, 50} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			b.ReportAllocs()
			var took time.Duration
			abandoned := 0
			for range b.N {
				b.StopTimer()
				sm := newMetrics(b)
				s := benchTree(b, 1652, sdk.WithStateMetrics(sm))
				stop := make(chan struct{})
				var storm sync.WaitGroup
				for range callers {
					storm.Go(func() {
						for {
							select {
							case <-stop:
								return
							default:
							}
							_, _ = s.Restart(context.Background(), "c0", "storm", "now")
							_ = s.Add(context.Background(), sdk.Spec{Name: "late", Service: idleService}, "storm", "now")
						}
					})
				}
				runtime.Gosched()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				b.StartTimer()
				start := time.Now()
				rep, err := s.Shutdown(ctx, "bench", "done")
				took += time.Since(start)
				b.StopTimer()
				cancel()
				close(stop)
				storm.Wait()
				require.NoError(b, err)
				abandoned += len(rep.Abandoned())
				_ = sm.Close()
			}
			b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "shutdown-ms")
			b.ReportMetric(float64(abandoned)/float64(b.N), "abandoned")
		})
	}
}

// BenchmarkUnreadSubscriptionOfPanics: a Subscribe(4096) that is never
// read, filled by a child that panics in a crash loop (issue 17: 52 MiB
// held, each event pinning its 64 KiB stack buffer). One op is one such
// run; heap-B/event is the heap growth (the tree, its flight recorder and
// the full buffer) divided by the events buffered.
func BenchmarkUnreadSubscriptionOfPanics(b *testing.B) {
	const buffer = 4096
	var held int64
	for range b.N {
		s, err := sdk.New("bench", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 10000, Period: time.Nanosecond}))
		require.NoError(b, err)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		sub := s.Subscribe(buffer)
		add(b, s, sdk.Spec{Name: "crasher", Backoff: sdk.NoBackoff(), FailureLimit: -1, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if len(sub.C()) == buffer {
				<-ctx.Done()
				return nil
			}
			panic("crash")
		})})
		require.NoError(b, s.Start(context.Background()))
		for len(sub.C()) < buffer {
			time.Sleep(time.Millisecond)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held += int64(after.HeapAlloc) - int64(before.HeapAlloc)
		_, err = s.Shutdown(context.Background(), "bench", "done")
		require.NoError(b, err)
		sub.Close()
		require.NoError(b, s.Close())
	}
	b.ReportMetric(float64(held)/float64(b.N)/buffer, "heap-B/event")
}
