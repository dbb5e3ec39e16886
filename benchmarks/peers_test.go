package benchmarks

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// BenchmarkRestartLatency: one child fails (returns an error) over and
// over; one op is one restart, from the failed attempt's return to the next
// attempt running. Restarts follow one another, so this is both the latency
// of a restart and the inverse of crash-loop throughput. lib=floor is the
// harness alone: a loop that calls the failing function under
// defer/recover and "restarts" it.
func BenchmarkRestartLatency(b *testing.B) {
	for _, l := range libs {
		b.Run("lib="+l.name, func(b *testing.B) { benchCrashLoop(b, l, 0) })
	}
	b.Run("lib="+libFloor, benchFloor)
}

// BenchmarkCrashLoopSiblings is BenchmarkRestartLatency in a supervisor
// that also has 999 idle children blocked on their context: a supervisor
// whose restart cost grows with its number of children shows it here.
func BenchmarkCrashLoopSiblings(b *testing.B) {
	for _, l := range libs {
		b.Run("siblings=999/lib="+l.name, func(b *testing.B) { benchCrashLoop(b, l, 999) })
	}
	b.Run("siblings=999/lib="+libFloor, benchFloor)
}

func benchCrashLoop(b *testing.B, l lib, siblings int, opts ...sdk.Option) {
	noLeaks(b)
	b.ReportAllocs()
	idle := newIdleGroup("idle", siblings)
	loop := newCrashLoop(b.N)
	sup := l.start(b, append(idle.children, loop.child()), opts...)
	<-idle.all
	<-loop.ready
	b.ResetTimer()
	close(loop.goc)
	<-loop.done
	b.StopTimer()
	sup.stop(b)
}

// benchFloor is the cost of the harness itself: call the child's function
// under defer/recover, see the error, call it again.
func benchFloor(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	var fn func(context.Context) error = func(context.Context) error { return errFail }
	for b.Loop() {
		if err := safeCall(fn, ctx); err == nil {
			b.Fatal("the floor's child did not fail")
		}
	}
}

//go:noinline
func safeCall(fn func(context.Context) error, ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(ctx)
}

// BenchmarkStartStop: one op builds a supervisor with N idle children,
// starts it, waits until every child runs, cancels it and waits until it
// has returned. Besides time and allocations per op it reports B/child
// (bytes allocated per child over the whole op) and goroutines/child
// (goroutines alive while all children run, per child).
func BenchmarkStartStop(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, l := range append(libs, oursNoMetrics) {
			b.Run(fmt.Sprintf("children=%d/lib=%s", n, l.name), func(b *testing.B) {
				noLeaks(b)
				b.ReportAllocs()
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				g0 := runtime.NumGoroutine()
				goroutines := 0
				for b.Loop() {
					idle := newIdleGroup("c", n)
					sup := l.start(b, idle.children)
					<-idle.all
					goroutines += runtime.NumGoroutine() - g0
					sup.stop(b)
				}
				runtime.ReadMemStats(&ms1)
				ops := float64(b.N)
				b.ReportMetric(perChild(float64(ms1.TotalAlloc-ms0.TotalAlloc)/ops, n), "B/child")
				b.ReportMetric(perChild(float64(goroutines)/ops, n), "goroutines/child")
			})
		}
	}
}

// BenchmarkShutdown: the time from cancelling the supervisor's context to
// its Serve (oversight: Start) returning, with N running idle children.
// Building and starting the supervisor is not timed. lib=ours-allatonce
// stops the children the way suture does (see oursAllAtOnce).
func BenchmarkShutdown(b *testing.B) {
	const n = 1000
	for _, l := range append(libs, oursAllAtOnce) {
		b.Run(fmt.Sprintf("children=%d/lib=%s", n, l.name), func(b *testing.B) {
			noLeaks(b)
			b.ReportAllocs()
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				idle := newIdleGroup("c", n)
				sup := l.start(b, idle.children)
				<-idle.all
				b.StartTimer()
				sup.stop(b)
				b.StopTimer()
			}
		})
	}
}

// BenchmarkIdleChildHeap: the live heap held per idle child. One op starts
// N idle children and, once all run, collects twice and reads HeapAlloc;
// heap-B/child is its growth over the same reading taken before the
// supervisor was built, divided by N. stack-B/child is the same for
// StackInuse: goroutine stacks are not heap, and every library here runs
// each child on a goroutine of its own. sec/op is the whole cycle,
// collections included, and means little.
func BenchmarkIdleChildHeap(b *testing.B) {
	const n = 10000
	for _, l := range append(libs, oursNoMetrics) {
		b.Run(fmt.Sprintf("children=%d/lib=%s", n, l.name), func(b *testing.B) {
			noLeaks(b)
			b.ReportAllocs()
			var heap, stack float64
			base := runtime.NumGoroutine()
			for b.Loop() {
				// The previous round's children must have gone before the
				// baseline is read: their goroutines still alive made the
				// samples step down round after round.
				settleGoroutines(b, base)
				before := memStats()
				idle := newIdleGroup("c", n)
				sup := l.start(b, idle.children)
				<-idle.all
				after := memStats()
				heap += float64(after.HeapAlloc) - float64(before.HeapAlloc)
				stack += float64(after.StackInuse) - float64(before.StackInuse)
				sup.stop(b)
			}
			ops := float64(b.N)
			b.ReportMetric(perChild(heap/ops, n), "heap-B/child")
			b.ReportMetric(perChild(stack/ops, n), "stack-B/child")
		})
	}
}

// BenchmarkRetainedAfterServe: the heap still held once a supervisor of N
// idle children has been started, stopped and dropped, per child. Ours
// calls Supervisor.Close after Serve; lib=ours-noclose does not, and shows
// that a dropped supervisor's machines leave the process-wide
// lifecycle.StateMetrics once the collector has found it unreachable.
func BenchmarkRetainedAfterServe(b *testing.B) {
	const n = 1000
	noClose := lib{"ours-noclose", func(tb testing.TB, children []*child, _ ...sdk.Option) supervisor {
		return startOursWith(tb, children, false, nil, sdk.WithIntensity(neverMeltdown))
	}}
	for _, l := range append(libs, noClose) {
		b.Run(fmt.Sprintf("children=%d/lib=%s", n, l.name), func(b *testing.B) {
			noLeaks(b)
			warmGoroutines(b, 2*n)
			b.ReportAllocs()
			var retained float64
			for b.Loop() {
				before := settledMemStats()
				idle := newIdleGroup("c", n)
				sup := l.start(b, idle.children)
				<-idle.all
				sup.stop(b)
				idle, sup = nil, supervisor{}
				after := settledMemStats()
				retained += float64(after.HeapAlloc) - float64(before.HeapAlloc)
			}
			b.ReportMetric(perChild(retained/float64(b.N), n), "retained-B/child")
		})
	}
}
