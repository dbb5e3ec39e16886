package otelsup

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// Two trees with the same names, on one adapter, do not meet: shutting
// one down leaves the other's spans alone, and the other's next attempt
// links to its own previous one. (Keyed by path alone, the first tree's
// end would end and drop the second tree's spans.)
func TestTwoTreesWithTheSameNames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newTraceEnv(t)
		var trees [2]*sdk.Supervisor
		for i := range trees {
			trees[i] = env.tree(t, idleChild("w"))
		}
		time.Sleep(time.Second)
		if _, err := trees[0].Shutdown(context.Background(), "ops", "first"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := cmdErr(trees[1].Restart(context.Background(), "w", "ops", "again")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if _, err := trees[1].Shutdown(context.Background(), "ops", "second"); err != nil {
			t.Fatal(err)
		}
		env.checkAllEnded(t)

		starts := env.starts(t, "/root/w")
		if len(starts) != 3 {
			t.Fatalf("%d start spans, want 3 (one in the first tree, two in the second)", len(starts))
		}
		second := starts[2]
		links := second.Links()
		if len(links) == 0 {
			t.Fatal("the second tree's restarted attempt has no links")
		}
		var prev sdktrace.ReadOnlySpan
		for _, s := range env.exits(t, "/root/w") {
			if s.SpanContext().SpanID() == links[0].SpanContext.SpanID() {
				prev = s
			}
		}
		if prev == nil || !prev.StartTime().Equal(second.StartTime()) {
			t.Fatalf("previous_attempt links to %v, want the second tree's exit at the restart", prev)
		}
		for _, s := range env.spans(SpanShutdown) {
			if s.EndTime().Sub(s.StartTime()) != 0 {
				t.Errorf("a shutdown span lasted %v: spans of one tree ended with the other", s.EndTime().Sub(s.StartTime()))
			}
		}
	})
}

// A child that signals readiness is started at ready: its start span
// covers the wait, and ends while the child runs on.
func TestStartSpanEndsAtReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newTraceEnv(t)
		root := env.tree(t, sdk.Spec{Name: "db", Readiness: true, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			time.Sleep(time.Second) // warming up
			sdk.Ready(ctx)
			<-ctx.Done()
			return nil
		})})
		synctest.Wait()
		starts := env.starts(t, "/root/db")
		if len(starts) != 1 {
			t.Fatalf("%d start spans ended while the child runs, want 1", len(starts))
		}
		eq(t, "start duration", starts[0].EndTime().Sub(starts[0].StartTime()), time.Second)
		evs := events(starts[0])
		eq(t, "last start event", evs[len(evs)-1],
			"supervisor.lifecycle.transition supervisor.lifecycle.from=running supervisor.lifecycle.kind=child supervisor.lifecycle.path=/root/db supervisor.lifecycle.reason=signalled ready supervisor.lifecycle.to=ready")
		if _, err := root.Shutdown(context.Background(), "ops", "done"); err != nil {
			t.Fatal(err)
		}
		env.checkAllEnded(t)
	})
}

// A panic that will crash the process (sdk.Event.Crash) ends the
// attempt's spans at once, with the standard exception event, and
// flushes the provider: the batch processor exports them before the
// process dies, without waiting for its schedule.
func TestCrashingPanicIsExportedAtOnce(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Hour)))
	defer tp.Shutdown(context.Background())
	a, err := New(WithTracerProvider(tp), WithMeterProvider(metricnoop.NewMeterProvider()))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	pe := &sdk.PanicError{Value: errors.New("nil map"), Stack: []byte("goroutine 7 [running]:\npanic(...)\nmain.serve()")}
	for _, e := range []sdk.Event{
		{Type: sdk.EventChildStarting, Tree: 1, Path: "/app/w", Supervisor: "/app", Attempt: 1},
		{Type: sdk.EventChildRunning, Tree: 1, Path: "/app/w", Supervisor: "/app", Attempt: 1, From: lifecycle.StateStarting, To: lifecycle.StateRunning},
		{Type: sdk.EventChildPanicked, Tree: 1, Path: "/app/w", Supervisor: "/app", Attempt: 1, Err: pe, Crash: true},
	} {
		a.hook(e)
	}
	var exit *tracetest.SpanStub
	got := exp.GetSpans()
	for i := range got {
		if got[i].Name == SpanChildExit {
			exit = &got[i]
		}
	}
	if exit == nil {
		t.Fatalf("exported %d spans, no exit span: the crash did not flush", len(got))
	}
	if exit.Status.Code != codes.Error || exit.Status.Description != pe.Error() {
		t.Errorf("exit status %v", exit.Status)
	}
	if len(exit.Events) != 1 || exit.Events[0].Name != semconv.ExceptionEventName {
		t.Fatalf("exit events %v, want one exception", exit.Events)
	}
	eq(t, "exception attributes", render(exit.Events[0].Attributes), "exception.message=sdk: panic: nil map exception.type=*errors.errorString")
	eq(t, "stack", attrsOf(exit.Events[0].Attributes)[string(semconv.ExceptionStacktraceKey)], string(pe.Stack))
	// The exit that follows, if the process lives that long, opens nothing.
	a.hook(sdk.Event{Type: sdk.EventChildExited, Tree: 1, Path: "/app/w", Supervisor: "/app", Attempt: 1, Exit: sdk.ExitPanic, Err: pe})
	_ = tp.ForceFlush(context.Background())
	if n := len(exp.GetSpans()); n != len(got) {
		t.Errorf("%d spans after the exit, want %d", n, len(got))
	}
}

// Events the hooks missed (a full hook queue) are counted per tree, from
// the sdk's count on the events that follow.
func TestDroppedEventsCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, reader := meteredAdapter(t)
		release := make(chan struct{})
		var mu sync.Mutex
		var first bool
		var last uint64
		slow := sdk.WithEventHook(func(e sdk.Event) {
			mu.Lock()
			wait := !first
			first = true
			last = e.Dropped
			mu.Unlock()
			if wait {
				<-release
			}
		})
		root, err := sdk.New("root", append([]sdk.Option{slow, sdk.WithHookQueue(2)}, a.Options()...)...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- root.Serve(ctx) }()
		for _, name := range []string{"a", "b", "c", "d"} {
			if err := root.Add(context.Background(), sdk.Spec{Name: name, Service: sdk.ServiceFunc(func(ctx context.Context) error {
				<-ctx.Done()
				return nil
			})}, "test", "declared by the test"); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		close(release)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if last == 0 {
			t.Fatal("no event was dropped; the test needs some")
		}
		own := collect(t, reader)[ScopeName]
		assertMetric(t, own, MetricEventsDropped, "{event}", counter(
			point(int64(last), lifecycle.AttrSupervisorPath.String("/root"), AttrObserver.String("hook"))))
	})
}

// Events that can come after a supervisor's run has ended (a late exit
// of an abandoned attempt, a late signal, a hook's panic) start no new
// run: a start span opened for them would never end.
func TestLateEventsOpenNoRun(t *testing.T) {
	env := newTraceEnv(t)
	for _, typ := range []sdk.EventType{sdk.EventLateExit, sdk.EventLateSignal, sdk.EventHookPanicked} {
		env.a.hook(sdk.Event{Type: typ, Tree: 9, Path: "/gone/w", Supervisor: "/gone", Attempt: 1})
	}
	if n := len(env.sr.Started()); n != 0 {
		t.Errorf("%d spans started for late events of an ended run, want 0", n)
	}
}

// A subscription's drops, as the sdk counts them, are reported under the
// name it was given, until it is no longer observed.
func TestSubscriptionDropsObserved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, reader := meteredAdapter(t)
		root, err := sdk.New("root", a.Options()...)
		if err != nil {
			t.Fatal(err)
		}
		sub := root.Subscribe(1) // never read: every event past the first is dropped
		defer sub.Close()
		stop := a.ObserveSubscription(root.Path(), "audit", sub)
		if err := root.Add(context.Background(), sdk.Spec{Name: "w", Service: sdk.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		})}, "test", "declared by the test"); err != nil {
			t.Fatal(err)
		}
		if err := root.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if sub.Dropped() == 0 {
			t.Fatal("the subscription dropped nothing; the test needs some")
		}
		own := collect(t, reader)[ScopeName]
		assertMetric(t, own, MetricEventsDropped, "{event}", counter(
			point(0, lifecycle.AttrSupervisorPath.String("/root"), AttrObserver.String("hook")),
			point(int64(sub.Dropped()), lifecycle.AttrSupervisorPath.String("/root"), AttrObserver.String("audit"))))
		stop()
		own = collect(t, reader)[ScopeName]
		assertMetric(t, own, MetricEventsDropped, "{event}", counter(
			point(0, lifecycle.AttrSupervisorPath.String("/root"), AttrObserver.String("hook"))))
		if _, err := root.Shutdown(context.Background(), "test", "done"); err != nil {
			t.Fatal(err)
		}
	})
}
