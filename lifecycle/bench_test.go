package lifecycle_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// Sinks keep the compiler from discarding the reads being measured.
var (
	sinkHealth lifecycle.Health
	sinkBool   bool
)

func benchMachine(b *testing.B, opts ...lifecycle.Option) *lifecycle.Machine {
	m := newMachine(b, lifecycle.KindChild, "/root/api", opts...)
	require.NoError(b, m.Transition(lifecycle.StateRunning, "launched"))
	return m
}

func BenchmarkHealth(b *testing.B) {
	m := benchMachine(b)
	b.ReportAllocs()
	// Use a field rather than storing the whole report in a global: that
	// store (a 100-byte copy with write barriers) would cost more than the
	// read being measured. Health is not inlined, so the whole read runs.
	n := 0
	for b.Loop() {
		if m.Health().Alive {
			n++
		}
	}
	sinkBool = n > 0
}

func BenchmarkHealthParallel(b *testing.B) {
	m := benchMachine(b)
	b.ReportAllocs()
	var alive atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		n := int64(0)
		for pb.Next() {
			if m.Health().Alive {
				n++
			}
		}
		alive.Add(n)
	})
	sinkBool = alive.Load() > 0
}

func BenchmarkAlive(b *testing.B) {
	m := benchMachine(b)
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = m.Alive()
	}
}

func BenchmarkAliveParallel(b *testing.B) {
	m := benchMachine(b)
	b.ReportAllocs()
	var alive atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		n := int64(0)
		for pb.Next() {
			if m.Alive() {
				n++
			}
		}
		alive.Add(n)
	})
	sinkBool = alive.Load() > 0
}

// mutexHealth reproduces the Rust seed's design, the baseline the lock-free
// reads replace: every read takes the lock, stamps lastObserved and copies
// the report out.
type mutexHealth struct {
	mu           sync.Mutex
	lastObserved time.Time
	report       lifecycle.Health
}

func newMutexHealth() *mutexHealth {
	now := time.Now().UTC()
	return &mutexHealth{report: lifecycle.Health{
		Kind: lifecycle.KindChild, Path: "/root/api", Alive: true,
		State: lifecycle.StateRunning, Since: now, StartedAt: now,
	}}
}

func (h *mutexHealth) Health() lifecycle.Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastObserved = time.Now()
	return h.report
}

func (h *mutexHealth) set(s lifecycle.State) {
	h.mu.Lock()
	h.report.State, h.report.Since = s, time.Now().UTC()
	h.mu.Unlock()
}

func BenchmarkBaselineMutexHealth(b *testing.B) {
	h := newMutexHealth()
	b.ReportAllocs()
	for b.Loop() {
		sinkHealth = h.Health()
	}
}

func BenchmarkBaselineMutexHealthParallel(b *testing.B) {
	h := newMutexHealth()
	b.ReportAllocs()
	var alive atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		n := int64(0)
		for pb.Next() {
			if h.Health().Alive {
				n++
			}
		}
		alive.Add(n)
	})
	sinkBool = alive.Load() > 0
}

// loopAfter gives the next state of the restart loop running → ready →
// backoff → starting → running, which a child can repeat forever.
var loopAfter = [...]lifecycle.State{
	lifecycle.StateRunning:  lifecycle.StateReady,
	lifecycle.StateReady:    lifecycle.StateBackoff,
	lifecycle.StateBackoff:  lifecycle.StateStarting,
	lifecycle.StateStarting: lifecycle.StateRunning,
}

// runWriter calls step in a loop on its own goroutine until stop is called;
// stop reports how many steps ran, to show the writer really competed.
func runWriter(step func()) (stop func() int64) {
	var n atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			step()
			n.Add(1)
		}
	})
	return func() int64 {
		close(done)
		wg.Wait()
		return n.Load()
	}
}

// Readers must not slow down when a writer is publishing; compare with
// BenchmarkHealthParallel and the mutex baseline below.
func BenchmarkHealthParallelWithWriter(b *testing.B) {
	m := benchMachine(b)
	stop := runWriter(func() {
		if err := m.Transition(loopAfter[m.State()], "cycle"); err != nil {
			panic(err)
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	var states atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		n := int64(0)
		for pb.Next() {
			n += int64(m.Health().State)
		}
		states.Add(n)
	})
	b.StopTimer()
	b.ReportMetric(float64(stop())/float64(b.N), "transitions/op")
	sinkBool = states.Load() > 0
}

func BenchmarkBaselineMutexHealthParallelWithWriter(b *testing.B) {
	h := newMutexHealth()
	var cur atomic.Uint32
	cur.Store(uint32(lifecycle.StateRunning))
	stop := runWriter(func() {
		next := loopAfter[cur.Load()]
		cur.Store(uint32(next))
		h.set(next)
	})
	b.ReportAllocs()
	b.ResetTimer()
	var states atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		n := int64(0)
		for pb.Next() {
			n += int64(h.Health().State)
		}
		states.Add(n)
	})
	b.StopTimer()
	b.ReportMetric(float64(stop())/float64(b.N), "transitions/op")
	sinkBool = states.Load() > 0
}

// benchTransitions measures one transition per op around the legal loop.
func benchTransitions(b *testing.B, m *lifecycle.Machine) {
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Transition(loopAfter[m.State()], "cycle"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransition(b *testing.B) {
	b.Run("noop/unbound", func(b *testing.B) {
		benchTransitions(b, benchMachine(b))
	})
	b.Run("noop/span", func(b *testing.B) {
		m := benchMachine(b)
		m.Bind(trace.SpanFromContext(context.Background()))
		benchTransitions(b, m)
	})
	b.Run("noop/metrics", func(b *testing.B) {
		sm, err := lifecycle.NewStateMetrics(lifecycle.WithMeterProvider(noop.NewMeterProvider()))
		require.NoError(b, err)
		b.Cleanup(func() { require.NoError(b, sm.Close()) })
		m := benchMachine(b, lifecycle.WithStateMetrics(sm))
		m.Bind(trace.SpanFromContext(context.Background()))
		benchTransitions(b, m)
	})
	b.Run("sdk", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider()
		b.Cleanup(func() { require.NoError(b, tp.Shutdown(context.Background())) })
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() { require.NoError(b, mp.Shutdown(context.Background())) })
		sm, err := lifecycle.NewStateMetrics(lifecycle.WithMeterProvider(mp))
		require.NoError(b, err)
		b.Cleanup(func() { require.NoError(b, sm.Close()) })

		m := benchMachine(b, lifecycle.WithStateMetrics(sm))
		_, span := tp.Tracer("bench").Start(context.Background(), "attempt")
		b.Cleanup(func() { span.End() })
		require.True(b, span.IsRecording())
		m.Bind(span)
		benchTransitions(b, m)
	})
}

// BenchmarkHealthFirstReadAfterTransition is the other side of the cache:
// the first read after a transition builds the snapshot (one allocation).
// Each op is one transition followed by one read.
func BenchmarkHealthFirstReadAfterTransition(b *testing.B) {
	m := benchMachine(b)
	b.ReportAllocs()
	next := [...]lifecycle.State{lifecycle.StateReady, lifecycle.StateBackoff, lifecycle.StateStarting, lifecycle.StateRunning}
	i, n := 0, 0
	for b.Loop() {
		if err := m.Transition(next[i], "bench"); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(next)
		if m.Health().Alive {
			n++
		}
	}
	sinkBool = n > 0
}
