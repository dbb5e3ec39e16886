package otelsup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// collect returns the metrics of reader by scope name, then instrument name.
func collect(t *testing.T, reader sdkmetric.Reader) map[string]map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect: %v", err)
	}
	out := make(map[string]map[string]metricdata.Metrics)
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name == ScopeName && (sm.Scope.Version != Version() || sm.Scope.SchemaURL != semconv.SchemaURL) {
			t.Errorf("scope %+v: want version %s and schema %s", sm.Scope, Version(), semconv.SchemaURL)
		}
		m := make(map[string]metricdata.Metrics)
		for _, x := range sm.Metrics {
			m[x.Name] = x
		}
		out[sm.Scope.Name] = m
	}
	return out
}

var cmpOpts = []metricdatatest.Option{metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars()}

func assertMetric(t *testing.T, got map[string]metricdata.Metrics, name, unit string, want metricdata.Aggregation) {
	t.Helper()
	m, ok := got[name]
	if !ok {
		t.Errorf("%s: not collected", name)
		return
	}
	if m.Unit != unit {
		t.Errorf("%s: unit %q, want %q", name, m.Unit, unit)
	}
	metricdatatest.AssertAggregationsEqual(t, want, m.Data, cmpOpts...)
}

// restartsOf is the restart points of a child: every reason, at 0 unless
// n says otherwise.
func restartsOf(path string, n map[sdk.RestartReason]int64) []metricdata.DataPoint[int64] {
	var pts []metricdata.DataPoint[int64]
	for r := sdk.ReasonNormal; r <= sdk.ReasonManual; r++ {
		if n[r] != 0 { // a series starts at its first restart
			pts = append(pts, point(n[r], lifecycle.AttrChildPath.String(path), AttrRestartReason.String(r.String())))
		}
	}
	return pts
}

// exitsOf is restartsOf for the exit kinds.
func exitsOf(path string, n map[sdk.ExitKind]int64) []metricdata.DataPoint[int64] {
	var pts []metricdata.DataPoint[int64]
	for k := sdk.ExitNormal; k <= sdk.ExitStale; k++ {
		if n[k] != 0 {
			pts = append(pts, point(n[k], lifecycle.AttrChildPath.String(path), AttrExitKind.String(k.String())))
		}
	}
	return pts
}

// meteredAdapter is an adapter on an SDK MeterProvider read by hand; both
// are shut down when the test ends.
func meteredAdapter(t *testing.T) (*Adapter, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	a, err := New(WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a, reader
}

func counter(points ...metricdata.DataPoint[int64]) metricdata.Sum[int64] {
	return metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true, DataPoints: points}
}

func point(v int64, kv ...attribute.KeyValue) metricdata.DataPoint[int64] {
	return metricdata.DataPoint[int64]{Attributes: attribute.NewSet(kv...), Value: v}
}

// hist is a data point of n attempts that all ran for d seconds.
func hist(n uint64, d float64, kv ...attribute.KeyValue) metricdata.HistogramDataPoint[float64] {
	return histOf(durationBounds, n, d, kv...)
}

// histOf is a data point of n measurements of d, with the buckets bounds.
func histOf(bounds []float64, n uint64, d float64, kv ...attribute.KeyValue) metricdata.HistogramDataPoint[float64] {
	buckets := make([]uint64, len(bounds)+1)
	i := 0
	for i < len(bounds) && d > bounds[i] {
		i++
	}
	buckets[i] = n
	return metricdata.HistogramDataPoint[float64]{
		Attributes: attribute.NewSet(kv...), Count: n, Sum: float64(n) * d,
		Bounds: bounds, BucketCounts: buckets,
		Min: metricdata.NewExtrema(d), Max: metricdata.NewExtrema(d),
	}
}

// stateSet is the expected state-set data of one machine.
func stateSet(kind lifecycle.Kind, pathKey, stateKey attribute.Key, path string, cur lifecycle.State) []metricdata.DataPoint[int64] {
	var pts []metricdata.DataPoint[int64]
	for _, s := range kind.States() {
		var v int64
		if s == cur {
			v = 1
		}
		pts = append(pts, point(v, pathKey.String(path), stateKey.String(s.String())))
	}
	return pts
}

func TestAdapterRealSupervisor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, reader := meteredAdapter(t)

		last := make(chan struct{}, 1)
		signal := func(e sdk.Event) {
			if e.Type == sdk.EventChildRunning && e.Path == "/root/flaky" && e.Attempt == 4 {
				last <- struct{}{}
			}
		}
		root, err := sdk.New("root", append(a.Options(), sdk.WithEventHook(signal))...)
		if err != nil {
			t.Fatal(err)
		}
		attempt := 0
		err = root.Add(context.Background(), sdk.Spec{
			Name:    "flaky",
			Restart: sdk.Transient,
			Backoff: &sdk.Backoff{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond, Multiplier: 1},
			Service: sdk.ServiceFunc(func(ctx context.Context) error {
				attempt++ // attempts never overlap
				switch attempt {
				case 1, 2:
					return errors.New("boom")
				case 3:
					panic("kaboom")
				}
				<-ctx.Done()
				return ctx.Err()
			}),
		}, "test", "declared by the test")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- root.Serve(ctx) }()
		<-last
		time.Sleep(time.Second) // the last attempt runs exactly 1s of bubble time
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Serve: %v", err)
		}

		got := collect(t, reader)
		own := got[ScopeName]
		path := lifecycle.AttrChildPath.String("/root/flaky")
		// A child's restart and exit series start at their first
		// occurrence; its abandoned series at its first abandonment.
		assertMetric(t, own, MetricChildRestarts, "{restart}", counter(
			restartsOf("/root/flaky", map[sdk.RestartReason]int64{sdk.ReasonError: 2, sdk.ReasonPanic: 1})...))
		assertMetric(t, own, MetricChildExits, "{exit}", counter(
			exitsOf("/root/flaky", map[sdk.ExitKind]int64{sdk.ExitError: 2, sdk.ExitPanic: 1, sdk.ExitStopped: 1})...))
		assertMetric(t, own, MetricChildAttemptDuration, "s", metricdata.Histogram[float64]{
			Temporality: metricdata.CumulativeTemporality,
			DataPoints: []metricdata.HistogramDataPoint[float64]{
				// A plain error's error.type is its type name, as semconv's.
				hist(2, 0, path, semconv.ErrorTypeKey.String("*errors.errorString")),
				hist(1, 0, path, semconv.ErrorTypeKey.String("panic")),
				hist(1, 1, path),
			},
		})
		assertMetric(t, own, MetricChildBackoffDelay, "s", metricdata.Histogram[float64]{
			Temporality: metricdata.CumulativeTemporality,
			DataPoints:  []metricdata.HistogramDataPoint[float64]{histOf(delayBounds, 3, 0.01, path)},
		})
		// The shutdown began at the cancel and took no bubble time.
		assertMetric(t, own, MetricShutdownDuration, "s", metricdata.Histogram[float64]{
			Temporality: metricdata.CumulativeTemporality,
			DataPoints: []metricdata.HistogramDataPoint[float64]{histOf(shutdownBounds, 1, 0,
				lifecycle.AttrSupervisorPath.String("/root"), AttrShutdownCause.String(string(sdk.CauseContext)))},
		})
		// The meltdowns of each supervisor are reported from its start.
		assertMetric(t, own, MetricMeltdowns, "{meltdown}", counter(point(0, lifecycle.AttrSupervisorPath.String("/root"))))
		if _, ok := own[MetricChildAbandoned]; ok {
			t.Error("an abandoned series for a child that was never abandoned")
		}
		assertMetric(t, own, MetricEventsDropped, "{event}", counter(
			point(0, lifecycle.AttrSupervisorPath.String("/root"), AttrObserver.String("hook"))))

		states := got[lifecycle.ScopeName]
		assertMetric(t, states, lifecycle.MetricChildStatus, "{child}", metricdata.Sum[int64]{
			Temporality: metricdata.CumulativeTemporality,
			DataPoints:  stateSet(lifecycle.KindChild, lifecycle.AttrChildPath, lifecycle.AttrChildState, "/root/flaky", lifecycle.StateStopped),
		})
		assertMetric(t, states, lifecycle.MetricSupervisorStatus, "{supervisor}", metricdata.Sum[int64]{
			Temporality: metricdata.CumulativeTemporality,
			DataPoints:  stateSet(lifecycle.KindSupervisor, lifecycle.AttrSupervisorPath, lifecycle.AttrSupervisorState, "/root", lifecycle.StateCompleted),
		})

		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if _, ok := collect(t, reader)[lifecycle.ScopeName]; ok {
			t.Error("state sets still reported after Close")
		}
	})
}

// A child stopped and restarted by one_for_all for its sibling's failure
// counts as a sibling restart.
func TestAdapterSiblingRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, reader := meteredAdapter(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stop := func(e sdk.Event) {
			if e.Type == sdk.EventChildRunning && e.Path == "/root/b" && e.Attempt == 2 {
				cancel()
			}
		}
		root, err := sdk.New("root", append(a.Options(), sdk.WithStrategy(sdk.OneForAll), sdk.WithEventHook(stop))...)
		if err != nil {
			t.Fatal(err)
		}
		failed := false
		for _, spec := range []sdk.Spec{
			{Name: "a", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
				if !failed {
					failed = true
					return errors.New("boom")
				}
				<-ctx.Done()
				return nil
			})},
			{Name: "b", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
				<-ctx.Done()
				return nil
			})},
		} {
			if err := root.Add(context.Background(), spec, "test", "declared by the test"); err != nil {
				t.Fatal(err)
			}
		}
		if err := root.Serve(ctx); err != nil {
			t.Fatalf("Serve: %v", err)
		}
		own := collect(t, reader)[ScopeName]
		assertMetric(t, own, MetricChildRestarts, "{restart}", counter(append(
			restartsOf("/root/a", map[sdk.RestartReason]int64{sdk.ReasonError: 1}),
			restartsOf("/root/b", map[sdk.RestartReason]int64{sdk.ReasonScope: 1})...)...))
	})
}

func TestAdapterMeltdownAndAbandoned(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	a, err := New(WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.hook(sdk.Event{Type: sdk.EventMeltdown, Path: "/root", Err: &sdk.MeltdownError{Path: "/root"}})
	a.hook(sdk.Event{Type: sdk.EventChildAbandoned, Path: "/root/slow"})
	a.hook(sdk.Event{Type: sdk.EventChildEnded, Path: "/root/slow"})
	own := collect(t, reader)[ScopeName]
	assertMetric(t, own, MetricMeltdowns, "{meltdown}", counter(point(1, lifecycle.AttrSupervisorPath.String("/root"))))
	assertMetric(t, own, MetricChildAbandoned, "{child}", counter(point(1, lifecycle.AttrChildPath.String("/root/slow"))))
	if n := len(a.add); n != 1 {
		t.Errorf("%d cached option sets after the child ended, want 1 (the supervisor's)", n)
	}
}

type typedErr struct{}

func (typedErr) Error() string     { return "typed" }
func (typedErr) ErrorType() string { return "typed" }

func TestErrorType(t *testing.T) {
	types := newErrorTypes()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errors.New("boom"), "*errors.errorString"},
		{fmt.Errorf("wrapped: %w", os.ErrNotExist), "*errors.errorString"},
		{&os.PathError{Op: "open", Path: "x", Err: os.ErrNotExist}, "*fs.PathError"},
		{nil, "_OTHER"},
		{&sdk.PanicError{Value: "x"}, "panic"},
		{&sdk.PanicError{Value: typedErr{}}, "panic"},
		{errors.Join(errors.New("a"), typedErr{}), "typed"},
		{&sdk.FatalError{Err: sdk.ErrFatal}, "fatal"},
		{fmt.Errorf("x: %w", sdk.ErrStale), "stale"},
		{sdk.ErrStartTimeout, "start_timeout"},
	} {
		if got, _ := types.of(tc.err); got != tc.want {
			t.Errorf("error.type of %v = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// The error.type values of one adapter are a closed set: past the bound,
// new ones are _OTHER, on the first attempt and every later one.
func TestErrorTypesBounded(t *testing.T) {
	types := newErrorTypes()
	seen := map[string]bool{}
	for i := range 100 {
		s, _ := types.of(namedErr(fmt.Sprint("t", i)))
		seen[s] = true
	}
	if len(seen) != maxErrorTypes+1 || !seen["_OTHER"] {
		t.Errorf("%d distinct values, want %d and _OTHER", len(seen), maxErrorTypes)
	}
	if s, v := types.of(namedErr("unseen")); s != "_OTHER" || v != slotOther {
		t.Errorf("a type past the bound = %q (slot %d), want _OTHER", s, v)
	}
	if s, _ := types.of(namedErr("t0")); s != "t0" {
		t.Errorf("a type within the bound = %q, want t0", s)
	}
}

type namedErr string

func (e namedErr) Error() string     { return string(e) }
func (e namedErr) ErrorType() string { return string(e) }

func hookAllocs(t *testing.T, a *Adapter) float64 {
	cycle := []sdk.Event{
		{Type: sdk.EventChildAdded, Path: "/root/y", Supervisor: "/root"},
		{Type: sdk.EventChildStarting, Path: "/root/y", Supervisor: "/root", Attempt: 1},
		{Type: sdk.EventChildRunning, Path: "/root/y", Supervisor: "/root", Attempt: 1, From: lifecycle.StateStarting, To: lifecycle.StateRunning},
		{Type: sdk.EventChildExited, Path: "/root/y", Supervisor: "/root", Attempt: 1, Exit: sdk.ExitError, Err: errors.New("boom"), Ran: time.Millisecond},
		{Type: sdk.EventChildBackoff, Path: "/root/y", Supervisor: "/root", Attempt: 1, Delay: time.Millisecond},
		{Type: sdk.EventChildRestarting, Path: "/root/y", Supervisor: "/root", Attempt: 1, Reason: sdk.ReasonError},
		{Type: sdk.EventChildStarting, Path: "/root/y", Supervisor: "/root", Attempt: 2},
	}
	exits := []sdk.Event{
		{Type: sdk.EventChildExited, Path: "/root/x", Attempt: 1, Exit: sdk.ExitError, Err: errors.New("boom"), Ran: time.Millisecond},
		{Type: sdk.EventChildExited, Path: "/root/x", Attempt: 1, Exit: sdk.ExitPanic, Err: &sdk.PanicError{Value: "x"}, Ran: time.Millisecond},
		{Type: sdk.EventChildExited, Path: "/root/x", Attempt: 1, Exit: sdk.ExitStopped, Ran: time.Second},
	}
	reasons := []sdk.RestartReason{sdk.ReasonError, sdk.ReasonPanic, sdk.ReasonScope}
	run := func() {
		for i, e := range exits {
			a.hook(e)
			a.hook(sdk.Event{Type: sdk.EventChildRestarting, Path: "/root/x", Attempt: 1, Reason: reasons[i]})
		}
		for _, e := range cycle {
			a.hook(e)
		}
	}
	run() // warm up: fills the caches
	return testing.AllocsPerRun(1000, run)
}

func TestHookAllocsNothing(t *testing.T) {
	a, err := New(WithMeterProvider(noop.NewMeterProvider()), WithTracerProvider(tracenoop.NewTracerProvider()))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if n := hookAllocs(t, a); n != 0 {
		t.Errorf("noop providers: %v allocations per run of events, want 0", n)
	}

	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer mp.Shutdown(context.Background())
	b, err := New(WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t.Logf("SDK meter provider, global tracer provider: %v allocations per run of events (reported, not asserted)", hookAllocs(t, b))
}
