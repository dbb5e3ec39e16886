package lifecycle_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// newRecorder returns a tracer whose ended spans land in the recorder.
func newRecorder(t *testing.T) (*tracetest.SpanRecorder, trace.Tracer) {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { require.NoError(t, tp.Shutdown(context.Background())) })
	return sr, tp.Tracer("lifecycle-test")
}

// endedEvents ends span and returns the events the SDK recorded on it.
func endedEvents(t *testing.T, sr *tracetest.SpanRecorder, span trace.Span) []sdktrace.Event {
	t.Helper()
	span.End()
	for _, s := range sr.Ended() {
		if s.SpanContext().SpanID() == span.SpanContext().SpanID() {
			return s.Events()
		}
	}
	require.FailNow(t, "span not recorded")
	return nil
}

func transitionEvent(at time.Time, kind lifecycle.Kind, path string, from, to lifecycle.State, reason string,
	extra ...attribute.KeyValue,
) sdktrace.Event {
	return sdktrace.Event{
		Name: lifecycle.EventTransition,
		Time: at,
		Attributes: append([]attribute.KeyValue{
			lifecycle.AttrKind.String(kind.String()),
			lifecycle.AttrPath.String(path),
			lifecycle.AttrFrom.String(from.String()),
			lifecycle.AttrTo.String(to.String()),
			lifecycle.AttrReason.String(reason),
		}, extra...),
	}
}

func TestEmitTransitionEvents(t *testing.T) {
	sr, tracer := newRecorder(t)
	clock := newFakeClock()
	m := newMachine(t, lifecycle.KindSupervisor, "/root", lifecycle.WithClock(clock.Now))
	_, span := tracer.Start(context.Background(), "supervise")
	m.Bind(span)

	t1 := clock.Advance(time.Second)
	require.NoError(t, m.Transition(lifecycle.StateAlive, "children started"))
	t2 := clock.Advance(time.Second)
	_, _, err := m.RequestShutdown("operator", "maintenance")
	require.NoError(t, err)
	t3 := clock.Advance(time.Second)
	_, err = m.Finish(lifecycle.ExitReport{State: lifecycle.StateCompleted, Phase: "shutdown", Reason: "all children stopped"})
	require.NoError(t, err)

	require.Equal(t, []sdktrace.Event{
		transitionEvent(t1, lifecycle.KindSupervisor, "/root", lifecycle.StateStarting, lifecycle.StateAlive, "children started"),
		transitionEvent(t2, lifecycle.KindSupervisor, "/root", lifecycle.StateAlive, lifecycle.StateShuttingDown, "maintenance",
			lifecycle.AttrRequestedBy.String("operator")),
		transitionEvent(t3, lifecycle.KindSupervisor, "/root", lifecycle.StateShuttingDown, lifecycle.StateCompleted, "all children stopped"),
	}, endedEvents(t, sr, span))
}

func TestEmitChildEvents(t *testing.T) {
	sr, tracer := newRecorder(t)
	clock := newFakeClock()
	m := newMachine(t, lifecycle.KindChild, "/root/api", lifecycle.WithClock(clock.Now))
	_, span := tracer.Start(context.Background(), "attempt")
	m.Bind(span)

	t1 := clock.Advance(time.Second)
	require.NoError(t, m.Transition(lifecycle.StateRunning, ""))
	t2 := clock.Advance(time.Second)
	_, err := m.Finish(lifecycle.ExitReport{State: lifecycle.StateFailed, Reason: "exit 1"})
	require.NoError(t, err)

	// An empty reason is still present, so every event has the same shape.
	require.Equal(t, []sdktrace.Event{
		transitionEvent(t1, lifecycle.KindChild, "/root/api", lifecycle.StateStarting, lifecycle.StateRunning, ""),
		transitionEvent(t2, lifecycle.KindChild, "/root/api", lifecycle.StateRunning, lifecycle.StateFailed, "exit 1"),
	}, endedEvents(t, sr, span))
}

// spySpan counts AddEvent calls, which the SDK would never show for a span
// that is not recording.
type spySpan struct {
	trace.Span
	recording bool
	added     []string
}

func (s *spySpan) IsRecording() bool { return s.recording }

func (s *spySpan) AddEvent(name string, _ ...trace.EventOption) { s.added = append(s.added, name) }

// Events go only to the bound span, never to whatever span happens to be
// active elsewhere.
func TestEmitNothingWithoutSpan(t *testing.T) {
	sr, tracer := newRecorder(t)
	m := newMachine(t, lifecycle.KindChild, "/root/x")
	_, span := tracer.Start(context.Background(), "unbound")

	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	_, _, err := m.RequestShutdown("operator", "maintenance")
	require.NoError(t, err)
	_, err = m.Finish(lifecycle.ExitReport{State: lifecycle.StateStopped})
	require.NoError(t, err)

	require.Empty(t, endedEvents(t, sr, span))
}

func TestEmitNothingOnNonRecordingSpan(t *testing.T) {
	m := newMachine(t, lifecycle.KindChild, "/root/x")
	idle := &spySpan{Span: noop.Span{}}
	m.Bind(idle)
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	_, _, err := m.RequestShutdown("operator", "maintenance")
	require.NoError(t, err)
	require.Empty(t, idle.added)

	// Control: the same spy, recording, does receive the event.
	live := &spySpan{Span: noop.Span{}, recording: true}
	m.Bind(live)
	_, err = m.Finish(lifecycle.ExitReport{State: lifecycle.StateStopped})
	require.NoError(t, err)
	require.Equal(t, []string{lifecycle.EventTransition}, live.added)
}

func TestEmitNothingOnFailedCalls(t *testing.T) {
	sr, tracer := newRecorder(t)
	m := newMachine(t, lifecycle.KindChild, "/root/x")
	_, span := tracer.Start(context.Background(), "attempt")
	m.Bind(span)

	require.Error(t, m.Transition(lifecycle.StateReady, "illegal from starting"))
	require.Error(t, m.Transition(lifecycle.StateCompleted, "terminal via Transition"))
	_, err := m.Finish(lifecycle.ExitReport{State: lifecycle.StateRunning})
	require.Error(t, err)
	_, _, err = m.RequestShutdown("", "no one")
	require.Error(t, err)

	require.Empty(t, endedEvents(t, sr, span))
}

// Only real transitions are events: a request recorded while already
// stopping, a repeated request and a repeated Finish change no state.
func TestEmitNothingWithoutStateChange(t *testing.T) {
	sr, tracer := newRecorder(t)
	m := newMachine(t, lifecycle.KindChild, "/root/x")
	require.NoError(t, m.Transition(lifecycle.StateStopping, "sibling restart"))
	_, span := tracer.Start(context.Background(), "stop")
	m.Bind(span)

	_, _, err := m.RequestShutdown("operator", "maintenance")
	require.NoError(t, err)
	_, _, err = m.RequestShutdown("signal", "SIGTERM")
	require.NoError(t, err)
	_, err = m.Finish(lifecycle.ExitReport{State: lifecycle.StateStopped, Reason: "stopped"})
	require.NoError(t, err)
	_, err = m.Finish(lifecycle.ExitReport{State: lifecycle.StateFailed, Reason: "late"})
	require.NoError(t, err)

	events := endedEvents(t, sr, span)
	require.Len(t, events, 1)
	require.Contains(t, events[0].Attributes, lifecycle.AttrTo.String("stopped"))
}

func TestEmitRebind(t *testing.T) {
	sr, tracer := newRecorder(t)
	clock := newFakeClock()
	m := newMachine(t, lifecycle.KindChild, "/root/x", lifecycle.WithClock(clock.Now))

	_, first := tracer.Start(context.Background(), "attempt-1")
	m.Bind(first)
	t1 := clock.Advance(time.Second)
	require.NoError(t, m.Transition(lifecycle.StateRunning, "attempt 1"))

	_, second := tracer.Start(context.Background(), "attempt-2")
	m.Bind(second)
	t2 := clock.Advance(time.Second)
	require.NoError(t, m.Transition(lifecycle.StateBackoff, "exit 1"))

	m.Bind(nil)
	require.NoError(t, m.Transition(lifecycle.StateStarting, "retry"))

	require.Equal(t, []sdktrace.Event{
		transitionEvent(t1, lifecycle.KindChild, "/root/x", lifecycle.StateStarting, lifecycle.StateRunning, "attempt 1"),
	}, endedEvents(t, sr, first))
	require.Equal(t, []sdktrace.Event{
		transitionEvent(t2, lifecycle.KindChild, "/root/x", lifecycle.StateRunning, lifecycle.StateBackoff, "exit 1"),
	}, endedEvents(t, sr, second))
}
