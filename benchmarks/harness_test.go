package benchmarks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cirello.io/oversight"
	"github.com/thejerf/suture/v4"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// The libraries under test, as the value of the lib= key of every
// same-work sub-benchmark, so that benchstat -col /lib puts them side by
// side.
const (
	libOurs      = "ours"
	libSuture    = "suture"
	libOversight = "oversight"
	libFloor     = "floor"
)

// stopTimeout is every library's per-child (suture: per-supervisor) stop
// timeout. No benchmark child ever needs it: they all return as soon as
// their context is cancelled.
const stopTimeout = 5 * time.Second

// errFail is what a crashing child returns.
var errFail = errors.New("bench: attempt failed")

// child is one supervised function, given to every library in its own
// shape.
type child struct {
	name string
	fn   func(ctx context.Context) error
}

// Serve and String make a child a suture.Service with a name (without
// String suture names it with fmt's %#v).
func (c *child) Serve(ctx context.Context) error { return c.fn(ctx) }
func (c *child) String() string                  { return c.name }

// supervisor is one library's supervisor, serving in the background.
type supervisor struct {
	// stop cancels the supervisor's context and waits until its Serve (or
	// Start) has returned.
	stop func(tb testing.TB)
	// sup is ours, for a benchmark that adds children while it serves;
	// nil for the peers.
	sup *sdk.Supervisor
}

// lib starts a supervisor of one library over children, configured so that
// every library does the same work: restart every exit at once (no backoff,
// no pause, no give-up) and allow stopTimeout per child to stop.
type lib struct {
	name  string
	start func(tb testing.TB, children []*child, opts ...sdk.Option) supervisor
}

var libs = []lib{
	{libOurs, startOurs},
	{libSuture, startSuture},
	{libOversight, startOversight},
}

// oursNoMetrics is ours without state metrics (sdk.WithStateMetrics(nil)),
// to show what registering every machine with a lifecycle.StateMetrics
// costs. It is not one of the compared libraries.
var oursNoMetrics = lib{"ours-nometrics", func(tb testing.TB, children []*child, opts ...sdk.Option) supervisor {
	return startOurs(tb, children, append([]sdk.Option{sdk.WithStateMetrics(nil)}, opts...)...)
}}

// oursAllAtOnce stops its children as suture does: all cancelled at once,
// then waited for (sdk.StopAllAtOnce), instead of OTP's one at a time in
// reverse start order, our default.
var oursAllAtOnce = lib{"ours-allatonce", func(tb testing.TB, children []*child, opts ...sdk.Option) supervisor {
	return startOurs(tb, children, append([]sdk.Option{sdk.WithShutdownOrder(sdk.StopAllAtOnce)}, opts...)...)
}}

// neverMeltdown is our intensity for the crash loops: a meltdown would
// need 101 restarts within one nanosecond, so it never happens, as with
// suture's threshold of 1e18 and oversight's NeverHalt. (MaxRestarts is
// kept small because the restart window holds one time per tolerated
// restart.)
var neverMeltdown = sdk.Intensity{MaxRestarts: 100, Period: time.Nanosecond}

// startOurs: a one_for_one supervisor with its default options but for
// the intensity; each child permanent, NoBackoff, StopTimeout 5s. Its state
// metrics are the default ones (the process-wide lifecycle.StateMetrics on
// the global MeterProvider, a no-op here); Supervisor.Close retires its
// machines once Serve has returned, as its documentation asks of a
// supervisor that is thrown away.
func startOurs(tb testing.TB, children []*child, opts ...sdk.Option) supervisor {
	tb.Helper()
	all := append([]sdk.Option{sdk.WithIntensity(neverMeltdown)}, opts...)
	return startOursWith(tb, children, true, nil, all...)
}

// oursSpec is our spec of a harness child.
func oursSpec(c *child) sdk.Spec {
	return sdk.Spec{
		Name:        c.name,
		Service:     sdk.ServiceFunc(c.fn),
		Restart:     sdk.Permanent,
		Backoff:     sdk.NoBackoff(),
		StopTimeout: stopTimeout,
		// Same work as the peers, which never give up on a child.
		FailureLimit: -1,
	}
}

// startOursWith starts our supervisor with exactly opts. After Serve has
// returned, stop calls Supervisor.Close if closeSup, then release if it is
// not nil.
func startOursWith(tb testing.TB, children []*child, closeSup bool, release func() error, opts ...sdk.Option) supervisor {
	tb.Helper()
	sup, err := sdk.New("bench", opts...)
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range children {
		err := sup.Add(context.Background(), oursSpec(c), "bench", "declared by the benchmark")
		if err != nil {
			tb.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Serve(ctx) }()
	return supervisor{sup: sup, stop: func(tb testing.TB) {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("ours: Serve: %v", err)
		}
		if closeSup {
			sup.Close()
		}
		if release != nil {
			if err := release(); err != nil {
				tb.Error(err)
			}
		}
	}}
}

// startSuture: suture's failure counter never reaches its threshold
// (FailureThreshold 1e18, and FailureDecay 1ns halves it away between two
// failures), so it never pauses; were it to, the pause would be 1ns without
// jitter. The event hook is a no-op (the default logs every failure).
// Timeout is the one stop timeout of the whole supervisor.
func startSuture(tb testing.TB, children []*child, _ ...sdk.Option) supervisor {
	tb.Helper()
	sup := suture.New("bench", suture.Spec{
		EventHook:        func(suture.Event) {},
		FailureThreshold: 1e18,
		FailureDecay:     1e-9, // seconds
		FailureBackoff:   time.Nanosecond,
		BackoffJitter:    suture.NoJitter{},
		Timeout:          stopTimeout,
	})
	for _, c := range children {
		sup.Add(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := sup.ServeBackground(ctx)
	return supervisor{stop: func(tb testing.TB) {
		cancel()
		if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
			tb.Errorf("suture: Serve: %v", err)
		}
	}}
}

// startOversight: a one_for_one tree that never halts (NeverHalt: no
// restart-intensity bookkeeping at all, which a huge MaxR would still do,
// growing a slice per restart); each child permanent with
// Shutdown Timeout(5s), oversight's only bounded stop timeout. oversight
// has no backoff.
func startOversight(tb testing.TB, children []*child, _ ...sdk.Option) supervisor {
	tb.Helper()
	specs := make([]oversight.ChildProcessSpecification, len(children))
	for i, c := range children {
		specs[i] = oversight.ChildProcessSpecification{
			Name:     c.name,
			Restart:  oversight.Permanent(),
			Start:    c.fn,
			Shutdown: oversight.Timeout(stopTimeout),
		}
	}
	tree := oversight.New(
		oversight.NeverHalt(),
		oversight.WithRestartStrategy(oversight.OneForOne()),
		oversight.Process(specs...),
	)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tree.Start(ctx) }()
	return supervisor{stop: func(tb testing.TB) {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			tb.Errorf("oversight: Start: %v", err)
		}
	}}
}

// idleGroup is n children that block on their context, and a channel that
// is closed when all n are running.
type idleGroup struct {
	children []*child
	running  atomic.Int64
	n        int64
	all      chan struct{}
}

func newIdleGroup(prefix string, n int) *idleGroup {
	g := &idleGroup{n: int64(n), all: make(chan struct{})}
	if n == 0 {
		close(g.all)
	}
	g.children = make([]*child, n)
	for i := range g.children {
		g.children[i] = &child{name: fmt.Sprintf("%s-%d", prefix, i), fn: g.serve}
	}
	return g
}

func (g *idleGroup) serve(ctx context.Context) error {
	if g.running.Add(1) == g.n {
		close(g.all)
	}
	<-ctx.Done()
	return ctx.Err()
}

// crashLoop is a child whose attempts 1..fails+1 are timed: attempt 1
// reports that it runs and waits for go; it and the next fails-1 attempts
// return errFail at once; attempt fails+1 closes done and idles. So between
// go and done the supervisor performs exactly fails restarts, one after
// another.
type crashLoop struct {
	fails   int64
	attempt atomic.Int64
	ready   chan struct{} // attempt 1 runs
	goc     chan struct{}
	done    chan struct{} // attempt fails+1 runs
}

func newCrashLoop(fails int) *crashLoop {
	return &crashLoop{fails: int64(fails), ready: make(chan struct{}), goc: make(chan struct{}), done: make(chan struct{})}
}

func (c *crashLoop) child() *child { return &child{name: "crasher", fn: c.serve} }

func (c *crashLoop) serve(ctx context.Context) error {
	k := c.attempt.Add(1)
	switch {
	case k == 1:
		close(c.ready)
		select {
		case <-c.goc:
		case <-ctx.Done():
			return ctx.Err()
		}
		if c.fails == 0 {
			close(c.done)
			break
		}
		return errFail
	case k <= c.fails:
		return errFail
	case k == c.fails+1:
		close(c.done)
	}
	<-ctx.Done()
	return ctx.Err()
}

// noLeaks records the goroutines before a benchmark and, at its end,
// waits until no more remain than before, failing with a goroutine dump if
// some are left after 10s. It spins on runtime.Gosched, not on sleeps:
// goroutines of a supervisor that has returned only need to be scheduled to
// finish.
func noLeaks(b *testing.B) {
	b.Helper()
	before := runtime.NumGoroutine()
	b.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				var buf bytes.Buffer
				_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
				b.Fatalf("%d goroutines left behind (had %d before):\n%s", runtime.NumGoroutine()-before, before, buf.String())
			}
			runtime.Gosched()
		}
	})
}

// settleGoroutines waits until no more than n goroutines run.
func settleGoroutines(b *testing.B, n int) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			b.Fatalf("%d goroutines still running, want at most %d", runtime.NumGoroutine(), n)
		}
		runtime.Gosched()
	}
}

// warmGoroutines runs n goroutines to their end, so that the runtime's
// free list holds n goroutine records. The runtime never frees a goroutine
// record (about 500 B): without this, whichever library first reaches a
// new peak of goroutines in the process is charged for records that every
// later library reuses.
func warmGoroutines(b *testing.B, n int) {
	b.Helper()
	base := runtime.NumGoroutine()
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(n)
	for range n {
		go func() {
			started.Done()
			<-release
		}()
	}
	started.Wait()
	close(release)
	settleGoroutines(b, base)
}

// settledMemStats is memStats once the runtime has run the cleanups that
// a collection queued (runtime.AddCleanup), which it does on goroutines of
// its own that nothing can wait on: a few rounds of collecting and
// yielding let them run before the last collection counts.
func settledMemStats() runtime.MemStats {
	for range 5 {
		runtime.GC()
		runtime.Gosched()
	}
	return memStats()
}

// memStats returns the runtime's memory statistics after two collections,
// so that only live memory is counted.
func memStats() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// perChild divides a counter delta by the number of children, clamped at
// zero for deltas that noise made negative.
func perChild(delta float64, children int) float64 {
	return math.Max(delta, 0) / float64(children)
}
