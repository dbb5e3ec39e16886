package sdk_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// benchTree starts a supervisor with n idle children on the given state
// metrics and returns once every child is inside Serve.
func benchTree(b *testing.B, n int, opts ...sdk.Option) *sdk.Supervisor {
	b.Helper()
	s, err := sdk.New("bench", opts...)
	require.NoError(b, err)
	var inside sync.WaitGroup
	inside.Add(n)
	svc := sdk.ServiceFunc(func(ctx context.Context) error {
		inside.Done()
		<-ctx.Done()
		return nil
	})
	for i := range n {
		if err := s.Add(context.Background(), sdk.Spec{Name: fmt.Sprintf("c%d", i), Service: svc}, "test", "declared by the test"); err != nil {
			b.Fatal(err)
		}
	}
	require.NoError(b, s.Start(context.Background()))
	inside.Wait()
	return s
}

// BenchmarkStatus measures one Status snapshot of a running supervisor:
// the round trip through its goroutine and the copy of every child's
// state. One op is one snapshot.
func BenchmarkStatus(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run(fmt.Sprintf("children=%d", n), func(b *testing.B) {
			sm := newMetrics(b)
			defer sm.Close()
			s := benchTree(b, n, sdk.WithStateMetrics(sm))
			ctx := context.Background()
			st, err := s.Status(ctx)
			require.NoError(b, err)
			require.Len(b, st.Children, n)
			require.True(b, st.Ready)

			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Status(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			_, err = s.Shutdown(ctx, "bench", "done")
			require.NoError(b, err)
		})
	}
}

// BenchmarkShutdown measures Shutdown of a supervisor whose children are
// all idle inside Serve, from the call to its return: n stop requests in
// reverse order, n exits, n ends and the report. One op is one shutdown;
// ns/child divides its time by the children.
func BenchmarkShutdown(b *testing.B) {
	for _, n := range []int{10000} {
		b.Run(fmt.Sprintf("children=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			base := runtime.NumGoroutine()
			ctx := context.Background()
			b.StopTimer()
			for range b.N {
				sm := newMetrics(b)
				s := benchTree(b, n, sdk.WithStateMetrics(sm))

				b.StartTimer()
				rep, err := s.Shutdown(ctx, "bench", "done")
				b.StopTimer()

				if err != nil {
					b.Fatal(err)
				}
				if len(rep.Children) != n || len(rep.Abandoned()) != 0 {
					b.Fatalf("report: %d children, abandoned %v", len(rep.Children), rep.Abandoned())
				}
				_ = sm.Close()
				// The next op starts from the same number of goroutines.
				for runtime.NumGoroutine() > base {
					runtime.Gosched()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*float64(n)), "ns/child")
		})
	}
}
