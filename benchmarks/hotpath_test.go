package benchmarks

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/otelsup"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// Hot paths of our SDK alone: health reads, event delivery and the OTel
// adapter. lib=mutex is the baseline design of the Rust crate the SDK is
// modelled on: a health read that takes the state's mutex and writes the
// time of the read (last_observed_at) on every call.

// mutexHealth is the baseline: every read locks, stamps and copies.
type mutexHealth struct {
	mu           sync.Mutex
	kind         lifecycle.Kind
	path         string
	state        lifecycle.State
	since        time.Time
	startedAt    time.Time
	lastObserved time.Time
}

func (m *mutexHealth) Health() lifecycle.Health {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastObserved = time.Now()
	return lifecycle.Health{
		Kind:      m.kind,
		Path:      m.path,
		Alive:     true,
		State:     m.state,
		Since:     m.since,
		StartedAt: m.startedAt,
	}
}

// sink keeps the compiler from discarding health reads.
var sink atomic.Uint32

// BenchmarkHealthRead: lifecycle.Machine.Health (lock-free seqlock
// snapshot) against the mutex baseline, from one goroutine and from
// GOMAXPROCS goroutines at once.
func BenchmarkHealthRead(b *testing.B) {
	m, err := lifecycle.New(lifecycle.KindChild, "/bench/c", lifecycle.WithStateMetrics(nil))
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Transition(lifecycle.StateRunning, "bench"); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	base := &mutexHealth{kind: lifecycle.KindChild, path: "/bench/c", state: lifecycle.StateRunning, since: now, startedAt: now}
	// Each reader calls its Health directly (not through a func value,
	// which would copy the returned struct once more).
	readers := []struct {
		lib      string
		serial   func(b *testing.B) lifecycle.State
		parallel func(pb *testing.PB) lifecycle.State
	}{
		{libOurs, func(b *testing.B) (st lifecycle.State) {
			for b.Loop() {
				st = m.Health().State
			}
			return st
		}, func(pb *testing.PB) (st lifecycle.State) {
			for pb.Next() {
				st = m.Health().State
			}
			return st
		}},
		{"mutex", func(b *testing.B) (st lifecycle.State) {
			for b.Loop() {
				st = base.Health().State
			}
			return st
		}, func(pb *testing.PB) (st lifecycle.State) {
			for pb.Next() {
				st = base.Health().State
			}
			return st
		}},
	}
	for _, r := range readers {
		b.Run("mode=serial/lib="+r.lib, func(b *testing.B) {
			b.ReportAllocs()
			sink.Store(uint32(r.serial(b)))
		})
	}
	for _, r := range readers {
		b.Run("mode=parallel/lib="+r.lib, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) { sink.Store(uint32(r.parallel(pb))) })
		})
	}
}

// BenchmarkSupervisorHealth: Supervisor.Health on a serving supervisor,
// serially and in parallel. It is Machine.Health behind the supervisor's
// mutex.
func BenchmarkSupervisorHealth(b *testing.B) {
	noLeaks(b)
	idle := newIdleGroup("c", 1)
	sup, err := sdk.New("bench", sdk.WithStateMetrics(nil))
	if err != nil {
		b.Fatal(err)
	}
	if err := sup.Add(context.Background(), sdk.Spec{Name: "c", Service: sdk.ServiceFunc(idle.children[0].fn)}, "test", "declared by the test"); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Serve(ctx) }()
	<-idle.all
	b.Run("mode=serial", func(b *testing.B) {
		b.ReportAllocs()
		var st lifecycle.State
		for b.Loop() {
			st = sup.Health().State
		}
		sink.Store(uint32(st))
	})
	b.Run("mode=parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var st lifecycle.State
			for pb.Next() {
				st = sup.Health().State
			}
			sink.Store(uint32(st))
		})
	})
	cancel()
	if err := <-done; err != nil {
		b.Error(err)
	}
}

// BenchmarkRestartObserver: the cost per restart of delivering the
// restart's events (exited, restarting, starting, running) to an
// observer: none, a hook that counts them, or a subscription drained by a
// goroutine. Same loop as BenchmarkRestartLatency/lib=ours.
func BenchmarkRestartObserver(b *testing.B) {
	ours := libs[0]
	b.Run("observer=none", func(b *testing.B) { benchCrashLoop(b, ours, 0) })
	b.Run("observer=hook", func(b *testing.B) {
		var events atomic.Int64
		benchCrashLoop(b, ours, 0, sdk.WithEventHook(func(sdk.Event) { events.Add(1) }))
		if events.Load() < int64(b.N) {
			b.Fatalf("the hook saw %d events for %d restarts", events.Load(), b.N)
		}
	})
	// A hook that blocks for the whole timed loop: hooks are delivered on
	// the feed's goroutine, so the loop restarts at its own pace and the
	// events that overflow the bounded queue are dropped (gaps in
	// Event.Seq), not waited for.
	b.Run("observer=blocked-hook", func(b *testing.B) {
		noLeaks(b)
		b.ReportAllocs()
		release := make(chan struct{})
		var seen atomic.Uint64
		hook := func(sdk.Event) {
			<-release
			seen.Add(1)
		}
		loop := newCrashLoop(b.N)
		sup := startOursWith(b, []*child{loop.child()}, true, nil, sdk.WithIntensity(neverMeltdown), sdk.WithEventHook(hook))
		<-loop.ready
		b.ResetTimer()
		close(loop.goc)
		<-loop.done
		b.StopTimer()
		close(release)
		sup.stop(b) // Serve flushes the hooks' queue before it returns
		if seen.Load() == 0 {
			b.Fatal("the hook saw no event")
		}
		// What the loop did not wait for: about 4 events per restart were
		// emitted, and the hook got its queue's worth.
		b.ReportMetric(float64(seen.Load())/float64(b.N), "delivered/op")
	})
	b.Run("observer=subscription", func(b *testing.B) {
		noLeaks(b)
		b.ReportAllocs()
		loop := newCrashLoop(b.N)
		sup, err := sdk.New("bench", sdk.WithIntensity(neverMeltdown))
		if err != nil {
			b.Fatal(err)
		}
		c := loop.child()
		if err := sup.Add(context.Background(), sdk.Spec{Name: c.name, Service: sdk.ServiceFunc(c.fn), Restart: sdk.Permanent, Backoff: sdk.NoBackoff(), FailureLimit: -1, StopTimeout: stopTimeout}, "test", "declared by the test"); err != nil {
			b.Fatal(err)
		}
		sub := sup.Subscribe(1024)
		drained := make(chan int)
		go func() {
			n := 0
			for range sub.C() {
				n++
			}
			drained <- n
		}()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sup.Serve(ctx) }()
		<-loop.ready
		b.ResetTimer()
		close(loop.goc)
		<-loop.done
		b.StopTimer()
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
		sub.Close()
		n := <-drained
		if n+int(sub.Dropped()) < b.N {
			b.Fatalf("the subscription saw %d events (%d dropped) for %d restarts", n, sub.Dropped(), b.N)
		}
		b.ReportMetric(float64(sub.Dropped())/float64(b.N), "dropped/op")
		sup.Close()
	})
}

// BenchmarkRestartOtel: the cost per restart of the otelsup adapter: none,
// the adapter on a no-op MeterProvider, and the adapter on an OTel SDK
// MeterProvider with a ManualReader (collected once, after the timed loop,
// to check that every restart was counted: so no event may be dropped for
// the hook, see benchCrashLoopSeen).
func BenchmarkRestartOtel(b *testing.B) {
	ours := libs[0]
	b.Run("adapter=none", func(b *testing.B) { benchCrashLoop(b, ours, 0) })
	b.Run("adapter=noop", func(b *testing.B) {
		a, err := otelsup.New(otelsup.WithMeterProvider(noop.NewMeterProvider()))
		if err != nil {
			b.Fatal(err)
		}
		benchCrashLoopWith(b, a.Options(), a.Close)
	})
	b.Run("adapter=sdk", func(b *testing.B) {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		a, err := otelsup.New(otelsup.WithMeterProvider(mp))
		if err != nil {
			b.Fatal(err)
		}
		benchCrashLoopSeen(b, a.Options(), a.Close)
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			b.Fatal(err)
		}
		if got := counterSum(rm, otelsup.MetricChildRestarts); got != int64(b.N) {
			b.Fatalf("%s = %d after %d restarts", otelsup.MetricChildRestarts, got, b.N)
		}
		if err := mp.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
	})
}

// benchCrashLoopWith is benchCrashLoop for our supervisor with exactly
// opts (the adapter brings its own state metrics); release runs after
// Serve has returned.
func benchCrashLoopWith(b *testing.B, opts []sdk.Option, release func() error) {
	noLeaks(b)
	b.ReportAllocs()
	loop := newCrashLoop(b.N)
	all := append([]sdk.Option{sdk.WithIntensity(neverMeltdown)}, opts...)
	sup := startOursWith(b, []*child{loop.child()}, true, release, all...)
	<-loop.ready
	b.ResetTimer()
	close(loop.goc)
	<-loop.done
	b.StopTimer()
	sup.stop(b)
}

func counterSum(rm metricdata.ResourceMetrics, name string) int64 {
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if s, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == name {
				for _, dp := range s.DataPoints {
					n += dp.Value
				}
			}
		}
	}
	return n
}

// BenchmarkMachineTransition: one lifecycle transition (running ↔
// starting), with no span bound and with a recording span of the OTel
// trace SDK bound (one span event per transition).
func BenchmarkMachineTransition(b *testing.B) {
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	for _, span := range []string{"none", "recording"} {
		b.Run("span="+span, func(b *testing.B) {
			b.ReportAllocs()
			m, err := lifecycle.New(lifecycle.KindChild, "/bench/c", lifecycle.WithStateMetrics(nil))
			if err != nil {
				b.Fatal(err)
			}
			if span == "recording" {
				_, s := tp.Tracer("bench").Start(context.Background(), "attempt")
				defer s.End()
				m.Bind(s)
			}
			to := [2]lifecycle.State{lifecycle.StateRunning, lifecycle.StateStarting}
			i := 0
			for b.Loop() {
				if err := m.Transition(to[i&1], "bench"); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
