package otelsup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// traceEnv is an adapter whose spans go to a synchronous recorder.
type traceEnv struct {
	sr *tracetest.SpanRecorder
	tp *sdktrace.TracerProvider
	a  *Adapter
}

func newTraceEnv(t *testing.T) *traceEnv {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	a, err := New(WithTracerProvider(tp), WithMeterProvider(metricnoop.NewMeterProvider()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return &traceEnv{sr: sr, tp: tp, a: a}
}

// tree starts a supervisor named root on env's adapter, with the
// children of specs.
func (e *traceEnv) tree(t *testing.T, specs ...sdk.Spec) *sdk.Supervisor {
	t.Helper()
	root, err := sdk.New("root", e.a.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range specs {
		if err := root.Add(context.Background(), spec, "test", "declared by the test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := root.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return root
}

// idleChild is a child that runs until it is stopped.
func idleChild(name string) sdk.Spec {
	return sdk.Spec{Name: name, Service: sdk.ServiceFunc(func(ctx context.Context) error {
		<-ctx.Done()
		return nil
	})}
}

// spans returns the ended spans named name, in the order they ended.
func (e *traceEnv) spans(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range e.sr.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// starts returns the ended start spans of path's attempts, by attempt
// number.
func (e *traceEnv) starts(t *testing.T, path string) []sdktrace.ReadOnlySpan {
	t.Helper()
	return e.attemptSpans(SpanChildStart, path)
}

// exits is starts for the exit spans.
func (e *traceEnv) exits(t *testing.T, path string) []sdktrace.ReadOnlySpan {
	t.Helper()
	return e.attemptSpans(SpanChildExit, path)
}

func (e *traceEnv) attemptSpans(name, path string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range e.spans(name) {
		if attrsOf(s.Attributes())[string(lifecycle.AttrChildPath)] == path {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b sdktrace.ReadOnlySpan) int {
		return strings.Compare(fmt.Sprintf("%09s", attrsOf(a.Attributes())[string(AttrChildAttempt)]), fmt.Sprintf("%09s", attrsOf(b.Attributes())[string(AttrChildAttempt)]))
	})
	return out
}

// one returns the only ended span named name whose attribute key is val.
func (e *traceEnv) one(t *testing.T, name string, key attribute.Key, val string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range e.spans(name) {
		if attrsOf(s.Attributes())[string(key)] == val {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s spans with %s=%s, want 1", len(found), name, key, val)
	}
	return found[0]
}

// checkAllEnded fails if a span the adapter started is still open.
func (e *traceEnv) checkAllEnded(t *testing.T) {
	t.Helper()
	ended := make(map[trace.SpanID]bool)
	for _, s := range e.sr.Ended() {
		ended[s.SpanContext().SpanID()] = true
	}
	for _, s := range e.sr.Started() {
		if !ended[s.SpanContext().SpanID()] {
			t.Errorf("span %s %v still open", s.Name(), attrsOf(s.Attributes()))
		}
	}
}

func attrsOf(kvs []attribute.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

// render renders attributes as sorted k=v pairs, without the stack trace.
func render(kvs []attribute.KeyValue) string {
	var parts []string
	for _, kv := range kvs {
		if kv.Key == semconv.ExceptionStacktraceKey {
			continue
		}
		parts = append(parts, string(kv.Key)+"="+kv.Value.Emit())
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func events(s sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, ev := range s.Events() {
		out = append(out, strings.TrimSpace(ev.Name+" "+render(ev.Attributes)))
	}
	return out
}

// links renders the links of s as "type→name of the linked span".
func (e *traceEnv) links(s sdktrace.ReadOnlySpan) []string {
	names := make(map[trace.SpanID]string)
	for _, x := range e.sr.Started() {
		a := attrsOf(x.Attributes())
		label := x.Name()
		switch x.Name() {
		case SpanChildStart:
			label = a[string(lifecycle.AttrChildPath)] + "#" + a[string(AttrChildAttempt)]
		case SpanChildExit:
			label = a[string(lifecycle.AttrChildPath)] + "#" + a[string(AttrChildAttempt)] + " exit"
		case SpanStart, SpanShutdown:
			label += " " + a[string(lifecycle.AttrSupervisorPath)]
		case SpanCommand:
			label += " " + a[string(AttrCommand)] + " " + a[string(lifecycle.AttrChildPath)]
		}
		names[x.SpanContext().SpanID()] = label
	}
	var out []string
	for _, l := range s.Links() {
		out = append(out, attrsOf(l.Attributes)[string(AttrLinkType)]+"→"+names[l.SpanContext.SpanID()])
	}
	return out
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func eqList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func status(t *testing.T, s sdktrace.ReadOnlySpan, code codes.Code, desc, errType string) {
	t.Helper()
	a := attrsOf(s.Attributes())
	if s.Status().Code != code || s.Status().Description != desc {
		t.Errorf("%s %v: status %v %q, want %v %q", s.Name(), a, s.Status().Code, s.Status().Description, code, desc)
	}
	if got, ok := a[string(semconv.ErrorTypeKey)]; got != errType || ok != (errType != "") {
		t.Errorf("%s %v: error.type %q, want %q", s.Name(), a, got, errType)
	}
}

func isRoot(t *testing.T, s sdktrace.ReadOnlySpan) {
	t.Helper()
	if s.Parent().IsValid() {
		t.Errorf("%s has a parent, want a root", s.Name())
	}
}

// serve runs root until stop returns, then cancels its context and waits.
func serve(t *testing.T, root *sdk.Supervisor, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.Serve(ctx) }()
	stop()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// onEvent returns a hook that signals ch when match is true.
func onEvent(ch chan<- struct{}, match func(sdk.Event) bool) sdk.Option {
	return sdk.WithEventHook(func(e sdk.Event) {
		if match(e) {
			ch <- struct{}{}
		}
	})
}

func TestSpansAttemptsStartShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newTraceEnv(t)
		last := make(chan struct{}, 1)
		root, err := sdk.New("root", append(env.a.Options(), onEvent(last, func(e sdk.Event) bool {
			return e.Type == sdk.EventChildRunning && e.Attempt == 3
		}))...)
		if err != nil {
			t.Fatal(err)
		}
		attempt := 0
		if err := root.Add(context.Background(), sdk.Spec{
			Name:    "flaky",
			Restart: sdk.Transient,
			Backoff: &sdk.Backoff{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond, Multiplier: 1},
			Service: sdk.ServiceFunc(func(ctx context.Context) error {
				attempt++
				switch attempt {
				case 1:
					return errors.New("boom")
				case 2:
					panic("kaboom")
				}
				<-ctx.Done()
				return ctx.Err()
			}),
		}, "test", "declared by the test"); err != nil {
			t.Fatal(err)
		}
		serve(t, root, func() {
			<-last
			time.Sleep(time.Second)
			// A running child is visible already: its start span has
			// ended, and it holds no open span.
			if n := len(env.starts(t, "/root/flaky")); n != 3 {
				t.Errorf("%d start spans ended while attempt 3 runs, want 3", n)
			}
			for _, s := range env.sr.Started() {
				if s.Name() == SpanChildStart || s.Name() == SpanChildExit {
					if ro := s.(sdktrace.ReadOnlySpan); ro.EndTime().IsZero() {
						t.Errorf("%s %v open while the child runs", s.Name(), attrsOf(ro.Attributes()))
					}
				}
			}
		})
		env.checkAllEnded(t)

		for _, s := range env.sr.Ended() {
			sc := s.InstrumentationScope()
			if sc.Name != ScopeName || sc.Version != Version() || sc.SchemaURL != semconv.SchemaURL {
				t.Errorf("%s: scope %+v", s.Name(), sc)
			}
			isRoot(t, s)
		}
		starts, exits := env.starts(t, "/root/flaky"), env.exits(t, "/root/flaky")
		if len(starts) != 3 || len(exits) != 3 {
			t.Fatalf("%d start and %d exit spans, want 3 each", len(starts), len(exits))
		}
		traces := make(map[trace.TraceID]bool)
		for i := range starts {
			traces[starts[i].SpanContext().TraceID()] = true
			traces[exits[i].SpanContext().TraceID()] = true
			base := fmt.Sprintf("supervisor.child.attempt=%d supervisor.child.generation=0 supervisor.child.path=/root/flaky", i+1)
			eq(t, fmt.Sprintf("start %d attributes", i+1), render(starts[i].Attributes()), base+" supervisor.path=/root")
			status(t, starts[i], codes.Unset, "", "")
			want := base + " supervisor.exit.kind=" + []string{"error", "panic", "stopped"}[i] + " supervisor.path=/root"
			if i < 2 {
				want = "error.type=" + []string{"*errors.errorString", "panic"}[i] + " " + want
			}
			eq(t, fmt.Sprintf("exit %d attributes", i+1), render(exits[i].Attributes()), want)
			eqList(t, fmt.Sprintf("exit %d links", i+1), env.links(exits[i]), []string{fmt.Sprintf("attempt_start→/root/flaky#%d", i+1)})
		}
		eq(t, "distinct traces", len(traces), 6)
		status(t, exits[0], codes.Error, "boom", "*errors.errorString")
		status(t, exits[1], codes.Error, "sdk: panic: kaboom", "panic")
		status(t, exits[2], codes.Unset, "", "")

		eqList(t, "start 1 links", env.links(starts[0]), []string{"supervisor_start→supervisor.start /root"})
		eqList(t, "start 2 links", env.links(starts[1]), []string{"previous_attempt→/root/flaky#1 exit", "supervisor_start→supervisor.start /root"})
		eqList(t, "start 3 links", env.links(starts[2]), []string{"previous_attempt→/root/flaky#2 exit", "supervisor_start→supervisor.start /root"})

		tr := func(from, to, reason string) string {
			return "supervisor.lifecycle.transition supervisor.lifecycle.from=" + from + " supervisor.lifecycle.kind=child supervisor.lifecycle.path=/root/flaky supervisor.lifecycle.reason=" + reason + " supervisor.lifecycle.to=" + to
		}
		eqList(t, "start 1 events", events(starts[0]), []string{tr("starting", "running", "attempt launched")})
		eqList(t, "start 2 events", events(starts[1]), []string{tr("backoff", "starting", "restart after an error"), tr("starting", "running", "attempt launched")})
		eqList(t, "exit 1 events", events(exits[0]), []string{
			"supervisor.restart.scheduled supervisor.restart.attempt=2 supervisor.restart.cause=/root/flaky supervisor.restart.delay=0.01 supervisor.restart.reason=error",
			tr("running", "backoff", "error"),
		})
		eqList(t, "exit 2 events", events(exits[1]), []string{
			"exception exception.message=sdk: panic: kaboom exception.type=string",
			"supervisor.restart.scheduled supervisor.restart.attempt=3 supervisor.restart.cause=/root/flaky supervisor.restart.delay=0.01 supervisor.restart.reason=panic",
			tr("running", "backoff", "panic"),
		})
		stack := ""
		for _, ev := range exits[1].Events() {
			if ev.Name == semconv.ExceptionEventName {
				stack = attrsOf(ev.Attributes)[string(semconv.ExceptionStacktraceKey)]
			}
		}
		if !strings.Contains(stack, "panic(") || !strings.Contains(stack, "otelsup.TestSpansAttemptsStartShutdown") {
			t.Errorf("panic stack trace:\n%s", stack)
		}
		eqList(t, "exit 3 events", events(exits[2]), []string{
			"supervisor.child.stopping supervisor.reason=context ended: context canceled",
			"supervisor.lifecycle.transition supervisor.lifecycle.from=running supervisor.lifecycle.kind=child supervisor.lifecycle.path=/root/flaky supervisor.lifecycle.reason=context ended: context canceled supervisor.lifecycle.requested_by=context supervisor.lifecycle.to=stopping",
			"supervisor.child.stopped supervisor.stop.waited=0",
			tr("stopping", "stopped", "context ended: context canceled"),
		})
		eq(t, "start 3 duration", starts[2].EndTime().Sub(starts[2].StartTime()), 0)
		eq(t, "attempt 3 ran, between its spans", exits[2].StartTime().Sub(starts[2].EndTime()), time.Second)
		eq(t, "exit 1 duration", exits[0].EndTime().Sub(exits[0].StartTime()), 0)
		eq(t, "backoff between attempts 1 and 2", starts[1].StartTime().Sub(exits[0].EndTime()), 10*time.Millisecond)

		start := env.one(t, SpanStart, lifecycle.AttrSupervisorPath, "/root")
		status(t, start, codes.Unset, "", "")
		eq(t, "start attributes", render(start.Attributes()), "supervisor.path=/root")
		eqList(t, "start events", events(start), []string{
			"supervisor.child.started supervisor.child.attempt=1 supervisor.child.path=/root/flaky",
			"supervisor.lifecycle.transition supervisor.lifecycle.from=starting supervisor.lifecycle.kind=supervisor supervisor.lifecycle.path=/root supervisor.lifecycle.reason=children started supervisor.lifecycle.to=alive",
		})
		eqList(t, "start links", env.links(start), nil)

		shut := env.one(t, SpanShutdown, lifecycle.AttrSupervisorPath, "/root")
		status(t, shut, codes.Unset, "", "")
		eq(t, "shutdown attributes", render(shut.Attributes()),
			"supervisor.path=/root supervisor.reason=context ended: context canceled supervisor.requested_by=context supervisor.shutdown.cause=context")
		eqList(t, "shutdown links", env.links(shut), []string{"supervisor_start→supervisor.start /root"})
		eqList(t, "shutdown events", events(shut), []string{
			"supervisor.lifecycle.transition supervisor.lifecycle.from=alive supervisor.lifecycle.kind=supervisor supervisor.lifecycle.path=/root supervisor.lifecycle.reason=context ended: context canceled supervisor.lifecycle.requested_by=context supervisor.lifecycle.to=shutting_down",
			"supervisor.child.stopped supervisor.child.path=/root/flaky supervisor.stop.waited=0",
			"supervisor.lifecycle.transition supervisor.lifecycle.from=shutting_down supervisor.lifecycle.kind=supervisor supervisor.lifecycle.path=/root supervisor.lifecycle.reason=context ended: context canceled supervisor.lifecycle.to=completed",
			"supervisor.exit_report supervisor.report.abandoned=0 supervisor.report.cause=context supervisor.report.children=1 supervisor.report.reason=context ended: context canceled supervisor.report.requested_by=context supervisor.report.state=completed",
		})
		if !shut.EndTime().Equal(exits[2].EndTime()) {
			t.Errorf("shutdown ended at %v, the last attempt at %v", shut.EndTime(), exits[2].EndTime())
		}
		eq(t, "spans", len(env.sr.Ended()), 8)
	})
}

// A child stopped with a heartbeat it missed is stale: the stale event,
// its stop and error.type "stale"; its restart is on the next attempt.
func TestSpansStaleChild(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newTraceEnv(t)
		second := make(chan struct{}, 1)
		root, err := sdk.New("root", append(env.a.Options(), onEvent(second, func(e sdk.Event) bool {
			return e.Type == sdk.EventChildRunning && e.Attempt == 2
		}))...)
		if err != nil {
			t.Fatal(err)
		}
		attempt := 0
		if err := root.Add(context.Background(), sdk.Spec{Name: "beat", StaleAfter: time.Second, Backoff: sdk.NoBackoff(), StopTimeout: time.Second,
			Service: sdk.ServiceFunc(func(ctx context.Context) error {
				attempt++
				if attempt == 1 {
					<-ctx.Done() // never beats
					time.Sleep(100 * time.Millisecond)
					return ctx.Err()
				}
				<-ctx.Done()
				return nil
			})}, "test", "declared by the test"); err != nil {
			t.Fatal(err)
		}
		serve(t, root, func() { <-second })
		env.checkAllEnded(t)
		exits := env.exits(t, "/root/beat")
		if len(exits) != 2 {
			t.Fatalf("%d exits, want 2", len(exits))
		}
		reason := "sdk: no heartbeat within stale-after: last heartbeat 1s ago (stale after 1s)"
		status(t, exits[0], codes.Error, reason, "stale")
		eq(t, "exit kind", attrsOf(exits[0].Attributes())[string(AttrExitKind)], "stale")
		eqList(t, "stale exit events", events(exits[0]), []string{
			"supervisor.child.stale supervisor.reason=" + reason,
			"supervisor.child.stopping supervisor.reason=" + reason,
			"supervisor.lifecycle.transition supervisor.lifecycle.from=running supervisor.lifecycle.kind=child supervisor.lifecycle.path=/root/beat supervisor.lifecycle.reason=" + reason + " supervisor.lifecycle.requested_by=supervisor supervisor.lifecycle.to=stopping",
			"supervisor.child.stopped supervisor.stop.waited=0.1",
			"supervisor.restart.scheduled supervisor.restart.attempt=2 supervisor.restart.cause=/root/beat supervisor.restart.delay=0 supervisor.restart.reason=stale",
			"supervisor.lifecycle.transition supervisor.lifecycle.from=stopping supervisor.lifecycle.kind=child supervisor.lifecycle.path=/root/beat supervisor.lifecycle.reason=stale supervisor.lifecycle.to=backoff",
		})
		// The exit span covers the stop: from the missed heartbeat to the
		// restart decision.
		eq(t, "stale exit duration", exits[0].EndTime().Sub(exits[0].StartTime()), 100*time.Millisecond)
		eq(t, "stale exit start", exits[0].StartTime().Sub(env.starts(t, "/root/beat")[0].EndTime()), time.Second)
	})
}

// A child that does not stop within its stop timeout during a shutdown
// whose deadline passes is abandoned: on its attempt span and on the
// shutdown span, and in the exit report.
func TestSpansAbandoned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newTraceEnv(t)
		root, err := sdk.New("root", env.a.Options()...)
		if err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		for _, name := range []string{"stuck", "fine"} {
			if err := root.Add(context.Background(), sdk.Spec{Name: name, StopTimeout: 2 * time.Second, Service: sdk.ServiceFunc(func(ctx context.Context) error {
				<-ctx.Done()
				if name == "stuck" {
					<-release
				}
				return nil
			})}, "test", "declared by the test"); err != nil {
				t.Fatal(err)
			}
		}
		if err := root.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, err = root.Shutdown(context.Background(), "ops", "maintenance")
		if !errors.Is(err, sdk.ErrAbandoned) {
			t.Fatalf("Shutdown: %v, want abandoned", err)
		}
		close(release)
		synctest.Wait()
		env.checkAllEnded(t)

		stuck := env.exits(t, "/root/stuck")[0]
		status(t, stuck, codes.Error, "abandoned: did not stop within 2s", "abandoned")
		eqList(t, "stuck events", events(stuck), []string{
			"supervisor.child.stopping supervisor.reason=maintenance",
			"supervisor.lifecycle.transition supervisor.lifecycle.from=running supervisor.lifecycle.kind=child supervisor.lifecycle.path=/root/stuck supervisor.lifecycle.reason=maintenance supervisor.lifecycle.requested_by=ops supervisor.lifecycle.to=stopping",
			"supervisor.child.abandoned supervisor.reason=did not stop within 2s supervisor.stop.waited=2",
		})
		fine := env.exits(t, "/root/fine")[0]
		status(t, fine, codes.Unset, "", "")

		shut := env.one(t, SpanShutdown, lifecycle.AttrSupervisorPath, "/root")
		status(t, shut, codes.Error, "children abandoned: /root/stuck", "abandoned")
		eq(t, "shutdown attributes", render(shut.Attributes()),
			"error.type=abandoned supervisor.path=/root supervisor.reason=maintenance supervisor.requested_by=ops supervisor.shutdown.cause=operator")
		evs := events(shut)
		eqList(t, "shutdown events", evs[1:], []string{
			"supervisor.child.stopped supervisor.child.path=/root/fine supervisor.stop.waited=0",
			"supervisor.child.abandoned supervisor.child.path=/root/stuck supervisor.reason=did not stop within 2s supervisor.stop.waited=2",
			"supervisor.lifecycle.transition supervisor.lifecycle.from=shutting_down supervisor.lifecycle.kind=supervisor supervisor.lifecycle.path=/root supervisor.lifecycle.reason=maintenance supervisor.lifecycle.to=completed",
			"supervisor.exit_report supervisor.report.abandoned=1 supervisor.report.abandoned_paths=[\"/root/stuck\"] supervisor.report.cause=operator supervisor.report.children=2 supervisor.report.failed=1 supervisor.report.reason=maintenance supervisor.report.requested_by=ops supervisor.report.state=completed",
		})
		eq(t, "shutdown duration", shut.EndTime().Sub(shut.StartTime()), 2*time.Second)
	})
}

func TestSpansCommands(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newTraceEnv(t)
		root, err := sdk.New("root", env.a.Options()...)
		if err != nil {
			t.Fatal(err)
		}
		slowStop := func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(100 * time.Millisecond)
			return nil
		}
		var stuck sync.WaitGroup
		release := make(chan struct{})
		for _, spec := range []sdk.Spec{
			{Name: "w", Service: sdk.ServiceFunc(slowStop)},
			{Name: "gone", Service: sdk.ServiceFunc(slowStop)},
			{Name: "stuck", StopTimeout: time.Second, Service: sdk.ServiceFunc(func(ctx context.Context) error {
				stuck.Add(1)
				defer stuck.Done()
				<-ctx.Done()
				<-release
				return nil
			})},
		} {
			if err := root.Add(context.Background(), spec, "test", "declared by the test"); err != nil {
				t.Fatal(err)
			}
		}
		ctx := context.Background()
		if err := root.Start(ctx); err != nil {
			t.Fatal(err)
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Second)
		must(cmdErr(root.Restart(ctx, "w", "alice", "new config")))
		time.Sleep(time.Second)
		// Two pauses while the first waits for the stop: they merge.
		paused := make(chan error, 2)
		go func() { paused <- cmdErr(root.Pause(ctx, "w", "alice", "investigate")) }()
		synctest.Wait()
		go func() { paused <- cmdErr(root.Pause(ctx, "w", "bob", "me too")) }()
		must(<-paused)
		must(<-paused)
		if err := cmdErr(root.Restart(ctx, "w", "carol", "oops")); err == nil {
			t.Fatal("restart of a paused child succeeded")
		}
		must(cmdErr(root.Resume(ctx, "w", "alice", "done")))
		must(cmdErr(root.Resume(ctx, "w", "alice", "again"))) // not paused: nothing to do
		must(cmdErr(root.Remove(ctx, "gone", "alice", "retired")))
		if err := cmdErr(root.Restart(ctx, "nope", "alice", "typo")); !errors.Is(err, sdk.ErrUnknownChild) {
			t.Fatalf("restart of an unknown child: %v", err)
		}
		if err := cmdErr(root.Pause(ctx, "stuck", "alice", "stop it")); !errors.Is(err, sdk.ErrAbandoned) {
			t.Fatalf("pause of a stuck child: %v", err)
		}
		close(release)
		stuck.Wait()
		if _, err := root.Shutdown(ctx, "ops", "end of test"); !errors.Is(err, sdk.ErrAbandoned) {
			t.Fatalf("Shutdown: %v", err)
		}
		env.checkAllEnded(t)

		cmds := env.spans(SpanCommand)
		var got []string
		for _, s := range cmds {
			a := attrsOf(s.Attributes())
			got = append(got, fmt.Sprintf("%s %s by=%s outcome=%s status=%v:%s error.type=%s dur=%v",
				a[string(AttrCommand)], a[string(lifecycle.AttrChildPath)], a[string(AttrRequestedBy)], a[string(AttrCommandOutcome)],
				s.Status().Code, s.Status().Description, a[string(semconv.ErrorTypeKey)], s.EndTime().Sub(s.StartTime())))
			isRoot(t, s)
		}
		eqList(t, "command spans", got, []string{
			"restart /root/w by=alice outcome=done status=Unset: error.type= dur=100ms",
			// bob's pause joined alice's: the sdk merged it at once.
			"pause /root/w by=bob outcome=merged status=Unset: error.type= dur=0s",
			"pause /root/w by=alice outcome=done status=Unset: error.type= dur=100ms",
			"restart /root/w by=carol outcome=rejected status=Error:sdk: child /root/w is paused; resume it error.type=rejected dur=0s",
			"resume /root/w by=alice outcome=done status=Unset: error.type= dur=0s",
			"resume /root/w by=alice outcome=done status=Unset: error.type= dur=0s", // not paused: the sdk does nothing, successfully
			"remove /root/gone by=alice outcome=done status=Unset: error.type= dur=100ms",
			"restart /root/nope by=alice outcome=rejected status=Error:sdk: no such child: \"nope\" under /root error.type=rejected dur=0s",
			"pause /root/stuck by=alice outcome=abandoned status=Error:sdk: 1 children did not stop and were abandoned: [/root/stuck] error.type=abandoned dur=1s",
		})

		restart := cmds[0]
		eq(t, "restart attributes", render(restart.Attributes()),
			"supervisor.child.attempt=2 supervisor.child.path=/root/w supervisor.command.outcome=done supervisor.command=restart supervisor.path=/root supervisor.reason=new config supervisor.requested_by=alice")
		eqList(t, "restart links", env.links(restart), []string{"target_attempt→/root/w#1"})
		starts, exits := env.starts(t, "/root/w"), env.exits(t, "/root/w")
		if len(starts) != 3 {
			t.Fatalf("%d attempts of /root/w, want 3", len(starts))
		}
		eq(t, "attempt 2 generation", attrsOf(starts[1].Attributes())[string(AttrChildGeneration)], "1")
		eqList(t, "attempt 2 links", env.links(starts[1]), []string{
			"previous_attempt→/root/w#1 exit", "supervisor_start→supervisor.start /root", "command→supervisor.command restart /root/w",
		})
		ev := events(exits[0])
		eq(t, "attempt 1 restart event", ev[len(ev)-1],
			"supervisor.restart.scheduled supervisor.restart.attempt=2 supervisor.restart.cause=restart requested by alice: new config supervisor.restart.delay=0 supervisor.restart.reason=manual")
		eqList(t, "attempt 3 links", env.links(starts[2]), []string{
			"previous_attempt→/root/w#2 exit", "supervisor_start→supervisor.start /root", "command→supervisor.command resume /root/w",
		})
		eqList(t, "pause events", events(cmds[2]), []string{"supervisor.command.merged supervisor.reason=me too supervisor.requested_by=bob"})
		status(t, exits[0], codes.Unset, "", "")
	})
}

// A child that fails before it is ready fails the start: the start span
// and the shutdown span say so.
func TestSpansStartFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newTraceEnv(t)
		root, err := sdk.New("root", env.a.Options()...)
		if err != nil {
			t.Fatal(err)
		}
		if err := root.Add(context.Background(), sdk.Spec{Name: "db", Readiness: true, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			return errors.New("no disk")
		})}, "test", "declared by the test"); err != nil {
			t.Fatal(err)
		}
		var se *sdk.StartError
		if err := root.Start(context.Background()); !errors.As(err, &se) {
			t.Fatalf("Start: %v", err)
		}
		env.checkAllEnded(t)
		desc := "sdk: child /root/db failed to start: no disk"
		start := env.one(t, SpanStart, lifecycle.AttrSupervisorPath, "/root")
		status(t, start, codes.Error, "shut down before it was alive: "+desc, "start_failure")
		shut := env.one(t, SpanShutdown, lifecycle.AttrSupervisorPath, "/root")
		status(t, shut, codes.Error, desc, "start_failure")
		evs := events(shut)
		eq(t, "exit report", evs[len(evs)-1],
			"supervisor.exit_report supervisor.report.abandoned=0 supervisor.report.cause=start_failure supervisor.report.children=1 supervisor.report.error="+desc+
				" supervisor.report.failed=1 supervisor.report.reason="+desc+" supervisor.report.requested_by=/root/db supervisor.report.state=failed")
		// A child that fails before it is ready fails its start span too.
		status(t, env.starts(t, "/root/db")[0], codes.Error, "no disk", "*errors.errorString")
		db := env.exits(t, "/root/db")[0]
		status(t, db, codes.Error, "no disk", "*errors.errorString")
		// The child's end is on its exit: it exits and ends at once.
		eq(t, "last attempt event", events(db)[len(events(db))-1],
			"supervisor.lifecycle.transition supervisor.lifecycle.from=running supervisor.lifecycle.kind=child supervisor.lifecycle.path=/root/db supervisor.lifecycle.reason=no disk supervisor.lifecycle.to=failed")
	})
}

// A meltdown of a nested supervisor: its start span links to its attempt
// as a child of the root, and its shutdown fails with error.type meltdown.
func TestSpansNestedMeltdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newTraceEnv(t)
		root, err := sdk.New("root", append(env.a.Options(), sdk.WithIntensity(sdk.Intensity{MaxRestarts: 5, Period: time.Minute}))...)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := sdk.New("sub", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 0, Period: time.Minute}))
		if err != nil {
			t.Fatal(err)
		}
		failed := false
		if err := sub.Add(context.Background(), sdk.Spec{Name: "x", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if !failed {
				failed = true
				time.Sleep(time.Second)
				return errors.New("boom")
			}
			<-ctx.Done()
			return nil
		})}, "test", "declared by the test"); err != nil {
			t.Fatal(err)
		}
		if err := root.Add(context.Background(), sdk.Spec{Name: "sub", Backoff: sdk.NoBackoff(), Service: sub}, "test", "declared by the test"); err != nil {
			t.Fatal(err)
		}
		serve(t, root, func() { time.Sleep(2 * time.Second) })
		env.checkAllEnded(t)

		subAtt := env.exits(t, "/root/sub")
		if len(subAtt) != 2 {
			t.Fatalf("%d attempts of /root/sub, want 2", len(subAtt))
		}
		status(t, subAtt[0], codes.Error, "sdk: supervisor /root/sub: restart 1 within 1m0s would exceed the limit of 0 (meltdown)", "meltdown")
		var starts []sdktrace.ReadOnlySpan
		for _, s := range env.spans(SpanStart) {
			if attrsOf(s.Attributes())[string(lifecycle.AttrSupervisorPath)] == "/root/sub" {
				starts = append(starts, s)
			}
		}
		if len(starts) != 2 {
			t.Fatalf("%d start spans of /root/sub, want one per Serve: 2", len(starts))
		}
		eqList(t, "nested start links", env.links(starts[0]), []string{"parent_attempt→/root/sub#1"})
		eqList(t, "second nested start links", env.links(starts[1]), []string{"parent_attempt→/root/sub#2"})

		var shuts []sdktrace.ReadOnlySpan
		for _, s := range env.spans(SpanShutdown) {
			if attrsOf(s.Attributes())[string(lifecycle.AttrSupervisorPath)] == "/root/sub" {
				shuts = append(shuts, s)
			}
		}
		if len(shuts) != 2 {
			t.Fatalf("%d shutdown spans of /root/sub, want 2", len(shuts))
		}
		status(t, shuts[0], codes.Error, "sdk: supervisor /root/sub: restart 1 within 1m0s would exceed the limit of 0 (meltdown)", "meltdown")
		eq(t, "meltdown cause", attrsOf(shuts[0].Attributes())[string(AttrShutdownCause)], "meltdown")
		eq(t, "second run cause", attrsOf(shuts[1].Attributes())[string(AttrShutdownCause)], "parent")
		status(t, shuts[1], codes.Unset, "", "")
		x := env.starts(t, "/root/sub/x")
		if len(x) != 2 {
			t.Fatalf("%d attempts of /root/sub/x, want 2 (one per run)", len(x))
		}
		eqList(t, "second run's attempt links: no previous attempt across runs", env.links(x[1]), []string{"supervisor_start→supervisor.start /root/sub"})
		eq(t, "restart of the nested supervisor", events(subAtt[0])[0],
			"supervisor.restart.scheduled supervisor.restart.attempt=2 supervisor.restart.cause=/root/sub supervisor.restart.delay=0 supervisor.restart.reason=error")
	})
}

// one_for_all: the sibling's new attempt says it restarted for a sibling.
func TestSpansSiblingRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newTraceEnv(t)
		second := make(chan struct{}, 1)
		root, err := sdk.New("root", append(env.a.Options(), sdk.WithStrategy(sdk.OneForAll), onEvent(second, func(e sdk.Event) bool {
			return e.Type == sdk.EventChildRunning && e.Path == "/root/b" && e.Attempt == 2
		}))...)
		if err != nil {
			t.Fatal(err)
		}
		failed := false
		for _, spec := range []sdk.Spec{
			{Name: "a", Backoff: &sdk.Backoff{Initial: time.Second, Max: time.Second, Multiplier: 1}, Service: sdk.ServiceFunc(func(ctx context.Context) error {
				if !failed {
					failed = true
					return errors.New("boom")
				}
				<-ctx.Done()
				return nil
			})},
			{Name: "b", Service: sdk.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil })},
		} {
			if err := root.Add(context.Background(), spec, "test", "declared by the test"); err != nil {
				t.Fatal(err)
			}
		}
		serve(t, root, func() { <-second })
		env.checkAllEnded(t)
		b := env.exits(t, "/root/b")
		eqList(t, "b's first exit", events(b[0]), []string{
			"supervisor.child.stopping supervisor.reason=/root/a exited (error)",
			"supervisor.lifecycle.transition supervisor.lifecycle.from=running supervisor.lifecycle.kind=child supervisor.lifecycle.path=/root/b supervisor.lifecycle.reason=/root/a exited (error) supervisor.lifecycle.requested_by=/root supervisor.lifecycle.to=stopping",
			"supervisor.child.stopped supervisor.stop.waited=0",
			"supervisor.restart.scheduled supervisor.restart.attempt=2 supervisor.restart.cause=/root/a supervisor.restart.delay=1 supervisor.restart.reason=sibling",
			"supervisor.lifecycle.transition supervisor.lifecycle.from=stopping supervisor.lifecycle.kind=child supervisor.lifecycle.path=/root/b supervisor.lifecycle.reason=sibling supervisor.lifecycle.to=backoff",
		})
		eq(t, "b's generation", attrsOf(env.starts(t, "/root/b")[1].Attributes())[string(AttrChildGeneration)], "1")
		a := env.exits(t, "/root/a")
		eq(t, "a's restart", events(a[0])[0],
			"supervisor.restart.scheduled supervisor.restart.attempt=2 supervisor.restart.cause=/root/a supervisor.restart.delay=1 supervisor.restart.reason=error")
	})
}

// Close ends the spans still open and stops tracing.
func TestCloseEndsOpenSpans(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newTraceEnv(t)
		root, err := sdk.New("root", env.a.Options()...)
		if err != nil {
			t.Fatal(err)
		}
		if err := root.Add(context.Background(), sdk.Spec{Name: "w", Service: sdk.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil })}, "test", "declared by the test"); err != nil {
			t.Fatal(err)
		}
		if err := root.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(env.sr.Ended()); n != 2 {
			t.Fatalf("%d spans ended while running, want the supervisor's and the child's start spans", n)
		}
		if err := env.a.Close(); err != nil {
			t.Fatal(err)
		}
		env.checkAllEnded(t)
		before := len(env.sr.Started())
		if _, err := root.Shutdown(context.Background(), "ops", "done"); err != nil {
			t.Fatal(err)
		}
		if n := len(env.sr.Started()); n != before {
			t.Errorf("%d spans started after Close", n-before)
		}
	})
}

// With the default global TracerProvider and no SDK installed, tracing
// costs nothing; once a provider is installed, the same adapter traces.
func TestGlobalTracerProvider(t *testing.T) {
	if !isGlobalDefault(otel.GetTracerProvider()) {
		t.Skip("a global TracerProvider is installed already (-count > 1)")
	}
	a, err := New(WithMeterProvider(metricnoop.NewMeterProvider()))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if n := hookAllocs(t, a); n != 0 {
		t.Errorf("default global TracerProvider, no SDK: %v allocations per run of events, want 0", n)
	}
	explicit, err := New(WithMeterProvider(metricnoop.NewMeterProvider()), WithTracerProvider(otel.GetTracerProvider()))
	if err != nil {
		t.Fatal(err)
	}
	defer explicit.Close()
	if explicit.tr.unset != nil {
		t.Error("an explicitly passed global provider is skipped")
	}

	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer tp.Shutdown(context.Background())
	otel.SetTracerProvider(tp)
	for _, e := range []sdk.Event{
		{Type: sdk.EventChildStarting, Path: "/g/x", Supervisor: "/g", Attempt: 7},
		{Type: sdk.EventChildExited, Path: "/g/x", Supervisor: "/g", Attempt: 7, Exit: sdk.ExitNormal},
		{Type: sdk.EventChildEnded, Path: "/g/x", Supervisor: "/g", Attempt: 7, From: lifecycle.StateRunning, To: lifecycle.StateCompleted},
	} {
		a.hook(e)
	}
	var names []string
	for _, s := range sr.Ended() {
		names = append(names, s.Name())
	}
	eqList(t, "spans once an SDK is installed", names, []string{SpanChildStart, SpanChildExit})
}

// The shutdown cause is the sdk's, not a guess from requestedBy: an
// operator who calls himself "signal" is an operator; a fatal child and a
// significant child's end are named as such, with the supervisor's error
// on the failed shutdown and in the exit report.
func TestSpansShutdownCause(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      []sdk.Option
		spec      sdk.Spec
		operator  bool // shut down with Shutdown(ctx, "signal", "pretend")
		cause     string
		status    string // shutdown span: "" (Unset) or the description of Error
		errType   string
		by        string
		exitError string
	}{
		{
			name:     "operator named signal",
			spec:     sdk.Spec{Name: "w", Service: sdk.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil })},
			operator: true, cause: "operator", by: "signal",
		},
		{
			name: "fatal child",
			spec: sdk.Spec{Name: "w", Service: sdk.ServiceFunc(func(ctx context.Context) error {
				time.Sleep(time.Second)
				return fmt.Errorf("disk gone: %w", sdk.ErrFatal)
			})},
			cause: "fatal_child", by: "/root/w", errType: "fatal",
			status:    "sdk: child /root/w stopped the tree: disk gone: sdk: fatal, stop this tree",
			exitError: "sdk: child /root/w stopped the tree: disk gone: sdk: fatal, stop this tree",
		},
		{
			name: "significant child",
			opts: []sdk.Option{sdk.WithAutoShutdown(sdk.AnySignificant)},
			spec: sdk.Spec{Name: "w", Restart: sdk.Transient, Significant: true, Service: sdk.ServiceFunc(func(ctx context.Context) error {
				time.Sleep(time.Second)
				return nil
			})},
			cause: "auto_shutdown", by: "/root/w",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				env := newTraceEnv(t)
				root, err := sdk.New("root", append(env.a.Options(), tc.opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				if err := root.Add(context.Background(), tc.spec, "test", "declared by the test"); err != nil {
					t.Fatal(err)
				}
				if err := root.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				var rep *sdk.Report
				if tc.operator {
					time.Sleep(time.Second)
					rep, _ = root.Shutdown(context.Background(), "signal", "pretend")
				} else {
					rep, _ = root.Wait(context.Background())
				}
				env.checkAllEnded(t)
				eq(t, "report cause", string(rep.Cause), tc.cause)
				shut := env.one(t, SpanShutdown, lifecycle.AttrSupervisorPath, "/root")
				eq(t, "shutdown cause", attrsOf(shut.Attributes())[string(AttrShutdownCause)], tc.cause)
				if tc.status == "" {
					status(t, shut, codes.Unset, "", "")
				} else {
					status(t, shut, codes.Error, tc.status, tc.errType)
				}
				evs := shut.Events()
				last := attrsOf(evs[len(evs)-1].Attributes)
				eq(t, "exit report cause", last[string(AttrReportCause)], tc.cause)
				eq(t, "exit report requested_by", last[string(AttrReportRequestedBy)], tc.by)
				eq(t, "exit report error", last[string(AttrReportError)], tc.exitError)
				eq(t, "exit report state", last[string(AttrReportState)], rep.State.String())
			})
		})
	}
}

// Commands end on their EventCommandDone. A command the sdk answers at
// once (busy, shutting down) gets its own span even while a command of the
// same child waits; a duplicate is merged only while the supervisor runs.
// A command that waited when the shutdown began is interrupted, one that
// arrived during it rejected.
func TestSpansCommandDoneMatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newTraceEnv(t)
		root, err := sdk.New("root", env.a.Options()...)
		if err != nil {
			t.Fatal(err)
		}
		if err := root.Add(context.Background(), sdk.Spec{Name: "w", StopTimeout: 5 * time.Second, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(time.Second) // a slow stop
			return nil
		})}, "test", "declared by the test"); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := root.Start(ctx); err != nil {
			t.Fatal(err)
		}
		paused := make(chan error, 1)
		go func() { paused <- cmdErr(root.Pause(ctx, "w", "alice", "first")) }()
		synctest.Wait() // the pause waits for the stop
		if err := cmdErr(root.Remove(ctx, "w", "bob", "busy?")); err == nil {
			t.Fatal("remove while a pause waits succeeded")
		}
		shut := make(chan struct{})
		go func() {
			_, _ = root.Shutdown(ctx, "ops", "bye")
			close(shut)
		}()
		synctest.Wait() // shutting down, the pause still waits
		if err := cmdErr(root.Pause(ctx, "w", "carol", "again")); !errors.Is(err, sdk.ErrSupervisorDone) {
			t.Fatalf("pause during the shutdown: %v", err)
		}
		if err := <-paused; !errors.Is(err, sdk.ErrSupervisorDone) {
			t.Fatalf("first pause: %v, want the shutdown to take over", err)
		}
		<-shut
		env.checkAllEnded(t)
		var got []string
		for _, s := range env.spans(SpanCommand) {
			a := attrsOf(s.Attributes())
			got = append(got, fmt.Sprintf("%s by=%s outcome=%s status=%v:%s dur=%v events=%d",
				a[string(AttrCommand)], a[string(AttrRequestedBy)], a[string(AttrCommandOutcome)],
				s.Status().Code, s.Status().Description, s.EndTime().Sub(s.StartTime()), len(s.Events())))
		}
		eqList(t, "command spans", got, []string{
			"remove by=bob outcome=rejected status=Error:sdk: child /root/w is busy with pause dur=0s events=0",
			// carol's pause, sent during the shutdown, is refused without
			// reaching the supervisor: there is no event, and no span.
			"pause by=alice outcome=interrupted status=Error:sdk: supervisor is not running dur=1s events=0",
		})
	})
}

// cmdErr drops a command's result: for tests that look only at its error.
func cmdErr(_ sdk.CommandResult, err error) error { return err }
