package otelsup

import (
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// childState holds the open spans of one child's current attempt. An
// attempt is two bounded spans: its start (launch to running, or to ready
// for a child that signals readiness) and its exit (the first sign of its
// end to what the supervisor decided next). Between them a healthy child
// holds no open span at all.
type childState struct {
	start   trace.Span        // open until running/ready, or the attempt's end
	startSC trace.SpanContext // the current attempt's start span
	exit    trace.Span        // open until the decision that follows the exit
	exitOf  uint64            // the attempt an exit span was opened for (it may have ended)
	lastSC  trace.SpanContext // the previous attempt's last span, for the next attempt's link
	// attrs are the current attempt's span attributes, shared by its start
	// and exit spans (the trace SDK copies them; they are never written).
	attrs   []attribute.KeyValue
	attrsOf uint64 // the attempt attrs are of
}

// onChild follows the events of a child's attempts; it reports whether
// the event announces a crash (a pass-through panic).
func (t *tracing) onChild(s *supState, e sdk.Event) (crash bool) {
	k := key{e.Tree, e.Path}
	cs := t.kids[k]
	if cs == nil {
		switch e.Type {
		case sdk.EventChildStarting:
			cs = &childState{}
			t.kids[k] = cs
		default:
			return false // nothing open: the sdk's facts are on metrics
		}
	}
	switch e.Type {
	case sdk.EventChildStarting:
		t.onStarting(s, cs, e)
	case sdk.EventChildRunning:
		transition(cs.start, lifecycle.KindChild, e.Path, e.From, e.To, or(e.Cause, "attempt launched"), "", e.Time)
		if s.start != nil {
			event(s.start, SpanEventChildStarted, e.Time,
				lifecycle.AttrChildPath.String(e.Path), AttrChildAttempt.Int64(int64(e.Attempt)))
		}
		if !e.Readiness {
			cs.endStart(e.Time)
		}
	case sdk.EventChildReady:
		event(cs.start, SpanEventChildReady, e.Time)
		transition(cs.start, lifecycle.KindChild, e.Path, e.From, e.To, "signalled ready", "", e.Time)
		cs.endStart(e.Time)
		if s.start != nil {
			event(s.start, SpanEventChildReady, e.Time, lifecycle.AttrChildPath.String(e.Path))
		}
	case sdk.EventChildStale:
		event(t.openExit(s, cs, e), SpanEventChildStale, e.Time, AttrReason.String(errText(e.Err)))
	case sdk.EventChildStopping:
		x := t.openExit(s, cs, e)
		event(x, SpanEventChildStopping, e.Time, AttrReason.String(e.Cause))
		transition(x, lifecycle.KindChild, e.Path, e.From, e.To, e.Cause, e.RequestedBy, e.Time)
	case sdk.EventChildPanicked:
		return t.onPanicked(s, cs, e)
	case sdk.EventChildExited:
		t.onExited(s, cs, e)
	case sdk.EventChildStopped:
		event(cs.exit, SpanEventChildStopped, e.Time, AttrStopWaited.Float64(e.Waited.Seconds()))
		if s.shut != nil {
			event(s.shut, SpanEventChildStopped, e.Time, lifecycle.AttrChildPath.String(e.Path), AttrStopWaited.Float64(e.Waited.Seconds()))
		}
	case sdk.EventChildAbandoned:
		t.onAbandoned(s, cs, e)
	case sdk.EventChildBackoff, sdk.EventChildRestarting:
		// The supervisor's decision closes the exit: why the child runs
		// again and after what delay. (A restart after a backoff has
		// closed it at the backoff already.)
		if x := cs.exit; recording(x) {
			x.AddEvent(SpanEventRestartScheduled, trace.WithTimestamp(e.Time), trace.WithAttributes(
				AttrRestartDelay.Float64(e.Delay.Seconds()),
				AttrRestartReason.String(e.Reason.String()),
				AttrRestartAttempt.Int64(int64(e.Attempt+1)),
				AttrRestartCause.String(restartCause(e))))
			transition(x, lifecycle.KindChild, e.Path, e.From, e.To, e.Reason.String(), "", e.Time)
		}
		cs.endExit(e.Time)
	case sdk.EventChildPaused:
		transition(cs.exit, lifecycle.KindChild, e.Path, e.From, e.To, e.Cause, e.RequestedBy, e.Time)
		cs.endExit(e.Time)
	case sdk.EventChildEnded:
		transition(cs.exit, lifecycle.KindChild, e.Path, e.From, e.To, e.Cause, "", e.Time)
		cs.endAll(e.Time)
		delete(t.kids, k)
	}
	return false
}

func or(s, dflt string) string {
	if s != "" {
		return s
	}
	return dflt
}

// restartCause is the sdk's cause of a restart: the operator's words for
// a manual restart, else the child whose exit caused it.
func restartCause(e sdk.Event) string {
	switch {
	case e.Cause != "":
		return e.Cause
	case e.Origin != "":
		return e.Origin
	}
	return e.Path
}

// onStarting starts the start span of a new attempt, linked to the
// previous attempt's last span, the supervisor's start span and the
// command that launched it.
func (t *tracing) onStarting(s *supState, cs *childState, e sdk.Event) {
	cs.endAll(e.Time) // the previous attempt's exit, still open if no decision closed it
	links := make([]trace.Link, 0, 3)
	links = link(cs.lastSC, LinkPreviousAttempt, links)
	links = link(s.startSC, LinkSupervisorStart, links)
	// A restart or resume launches the attempt before it completes.
	cmd := t.cmds[key{e.Tree, e.Path}]
	for cmd != nil && cmd.op != opRestart && cmd.op != opResume {
		cmd = cmd.prev
	}
	if cmd != nil {
		cmd.launched = e.Attempt
		links = link(cmd.span.SpanContext(), LinkCommand, links)
	}
	cs.attrs, cs.attrsOf = attemptAttrs(s, e), e.Attempt
	cs.start = t.start(SpanChildStart, e.Time, links, cs.attrs...)
	cs.startSC, cs.lastSC, cs.exitOf = cs.start.SpanContext(), cs.start.SpanContext(), 0
	transition(cs.start, lifecycle.KindChild, e.Path, e.From, e.To, or(e.Cause, "launch"), "", e.Time)
}

func attemptAttrs(s *supState, e sdk.Event) []attribute.KeyValue {
	return []attribute.KeyValue{
		lifecycle.AttrChildPath.String(e.Path),
		lifecycle.AttrSupervisorPath.String(s.path),
		AttrChildAttempt.Int64(int64(e.Attempt)),
		AttrChildGeneration.Int64(int64(e.Generation)),
	}
}

// openExit returns the exit span of e's attempt, starting it at the first
// sign of the end (a stop, a missed heartbeat, a panic, the exit itself).
// It returns nil once that span has ended: the events left of the attempt
// have nowhere to go.
func (t *tracing) openExit(s *supState, cs *childState, e sdk.Event) trace.Span {
	if cs.exitOf == e.Attempt && e.Attempt != 0 {
		return cs.exit
	}
	cs.endExit(e.Time)
	cs.exitOf = e.Attempt
	attrs := cs.attrs
	if cs.attrsOf != e.Attempt {
		attrs = attemptAttrs(s, e) // an exit without its start (not from the sdk)
	}
	cs.exit = t.start(SpanChildExit, e.Time, link(cs.startSC, LinkAttemptStart, nil), attrs...)
	cs.lastSC = cs.exit.SpanContext()
	return cs.exit
}

// onPanicked records the panic as the standard exception event on the
// exit span. When the panic will crash the process (Crash) the attempt's
// spans end now, with the panic as their error: no later event may come.
func (t *tracing) onPanicked(s *supState, cs *childState, e sdk.Event) bool {
	x := t.openExit(s, cs, e)
	if recording(x) {
		x.AddEvent(semconv.ExceptionEventName, trace.WithTimestamp(e.Time), trace.WithAttributes(exceptionAttrs(e.Err)...))
	}
	if !e.Crash {
		return false
	}
	typ, _ := t.types.of(e.Err)
	if recording(x) {
		x.SetAttributes(AttrExitKind.String(sdk.ExitPanic.String()))
	}
	fail(x, errText(e.Err), typ)
	fail(cs.start, errText(e.Err), typ)
	cs.endAll(e.Time)
	return true
}

// exceptionAttrs are the semconv exception attributes of a panic: the
// panic value's type, the message, and the stack of the panicking
// goroutine as the sdk captured it (bounded), not the hook's.
func exceptionAttrs(err error) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 3)
	typ := "panic"
	if pe, ok := err.(*sdk.PanicError); ok {
		typ = fmt.Sprintf("%T", pe.Value)
		if len(pe.Stack) > 0 {
			attrs = append(attrs, semconv.ExceptionStacktrace(string(pe.Stack)))
		}
	}
	return append(attrs, semconv.ExceptionType(typ), semconv.ExceptionMessage(errText(err)))
}

// onExited sets how the attempt ended on its exit span. A start span still
// open (a child that never got to running or ready) ends here, failed if
// the attempt failed.
func (t *tracing) onExited(s *supState, cs *childState, e sdk.Event) {
	if cs.exitOf == e.Attempt && cs.exit == nil {
		return // ended at a crash already
	}
	x := t.openExit(s, cs, e)
	if recording(x) {
		x.SetAttributes(AttrExitKind.String(e.Exit.String()))
	}
	if e.Exit.Abnormal() {
		typ, _ := t.types.of(e.Err)
		fail(x, errText(e.Err), typ)
		fail(cs.start, errText(e.Err), typ)
	}
	cs.endStart(e.Time)
}

func (t *tracing) onAbandoned(s *supState, cs *childState, e sdk.Event) {
	waited := AttrStopWaited.Float64(e.Waited.Seconds())
	if x := cs.exit; x != nil {
		event(x, SpanEventChildAbandoned, e.Time, waited, AttrReason.String(e.Cause))
		fail(x, "abandoned: "+e.Cause, t.types.named("abandoned"))
	}
	cs.endAll(e.Time)
	if s.shut != nil {
		event(s.shut, SpanEventChildAbandoned, e.Time,
			lifecycle.AttrChildPath.String(e.Path), waited, AttrReason.String(e.Cause))
	}
}

func (cs *childState) endStart(at time.Time) {
	end(cs.start, at)
	cs.start = nil
}

func (cs *childState) endExit(at time.Time) {
	end(cs.exit, at)
	cs.exit = nil
}

func (cs *childState) endAll(at time.Time) {
	cs.endStart(at)
	cs.endExit(at)
}
