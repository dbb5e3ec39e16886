package sdk

import (
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// EventType names what happened.
type EventType uint8

const (
	EventChildAdded      EventType = iota + 1 // a child was declared
	EventChildStarting                        // an attempt is being launched
	EventChildRunning                         // the attempt's Serve is executing
	EventChildExited                          // an attempt ended; Exit classifies it
	EventChildPanicked                        // an attempt panicked; Err is a *PanicError with the stack
	EventChildBackoff                         // the next attempt is scheduled after Delay
	EventChildRestarting                      // the child is restarted; Cause says why
	EventChildStopping                        // the supervisor cancelled the attempt; Cause says why
	EventChildStopped                         // a stopped attempt returned within its stop timeout
	EventChildAbandoned                       // an attempt did not stop within its stop timeout (Waited)
	EventChildEnded                           // the child will not run again; To is completed, stopped or failed
	EventLateExit                             // an abandoned attempt returned late; it changes nothing
	EventMeltdown                             // the restart intensity was exceeded
	EventSupervisorState                      // the supervisor's own lifecycle moved (From → To)
	EventChildReady                           // the attempt signalled readiness
	EventChildPending                         // the child waits for its dependencies before starting
	EventChildStale                           // the child missed its heartbeat; it is stopped as failed
	EventCommand                              // an operator command arrived; RequestedBy and Cause say who and why
	EventCommandDone                          // an operator command completed, or failed with Err
	EventLateSignal                           // Ready or Heartbeat came from an attempt that has ended; it changes nothing
	EventHookPanicked                         // an event hook panicked; Err is a *PanicError, Cause names the event
	EventChildPaused                          // an operator paused the child; RequestedBy and Cause say who and why
	EventChildResumed                         // an operator resumed the child
)

var eventLabels = [...]string{
	EventChildAdded: "child_added", EventChildStarting: "child_starting", EventChildRunning: "child_running",
	EventChildExited: "child_exited", EventChildPanicked: "child_panicked", EventChildBackoff: "child_backoff",
	EventChildRestarting: "child_restarting", EventChildStopping: "child_stopping", EventChildStopped: "child_stopped",
	EventChildAbandoned: "child_abandoned", EventChildEnded: "child_ended", EventLateExit: "late_exit",
	EventMeltdown: "meltdown", EventSupervisorState: "supervisor_state",
	EventChildReady: "child_ready", EventChildPending: "child_pending", EventChildStale: "child_stale",
	EventCommand: "command", EventCommandDone: "command_done",
	EventLateSignal: "late_signal", EventHookPanicked: "hook_panicked",
	EventChildPaused: "child_paused", EventChildResumed: "child_resumed",
}

func (t EventType) String() string {
	if t > 0 && int(t) < len(eventLabels) {
		return eventLabels[t]
	}
	return fmt.Sprintf("event(%d)", uint8(t))
}

// Event is one thing that happened in a supervision tree. It is a value:
// observers may keep it.
type Event struct {
	Type EventType
	// Seq numbers the events of a tree, from 1, strictly increasing across
	// every observer of the root: a gap is an event this observer missed
	// (a full subscription buffer or hook queue).
	Seq uint64
	// Tree identifies the run of the tree the event belongs to, unique in
	// the process: a new Serve of the root is a new tree. Observers key
	// what they keep per tree by it, not by path, so that two trees with
	// the same names do not collide.
	Tree uint64
	Time time.Time
	// Path is the child's path (/root/api/http), or the supervisor's own for
	// supervisor-level events.
	Path string
	// Supervisor is the path of the supervisor that emitted the event.
	Supervisor string
	// Attempt counts the child's launches, from 1. Generation counts the
	// times the child was restarted because of something other than its
	// own exit (a sibling's failure, an operator), from 0.
	Attempt    uint64
	Generation uint64
	// From and To are the lifecycle states around the event. The events
	// that move a child (starting, running, ready, backoff, stopping,
	// ended) carry both, and each one's From is the previous one's To. The
	// others report a fact or a decision and carry From only, the state the
	// child is in: an attempt's end (exited, panicked, stopped, abandoned)
	// and restarting, whose move is the starting event that follows.
	From, To lifecycle.State
	Exit     ExitKind
	Err      error
	// Cause says in words why the supervisor acted.
	Cause string
	// Reason is why a child is restarted, on EventChildBackoff and
	// EventChildRestarting.
	Reason RestartReason
	// Origin is the path of the child whose exit led to the event: the
	// sibling of a scope restart, the child that melted its supervisor
	// down or returned ErrFatal.
	Origin string
	// Stop is the cause an attempt is stopped with, on EventChildStopping,
	// EventChildStopped and EventChildAbandoned, and the shutdown's, on the
	// supervisor's own events.
	Stop *StopCause
	// RequestedBy names who asked, for operator commands and shutdowns.
	RequestedBy string
	// Command is the operator command, for EventCommand and
	// EventCommandDone: restart, remove, pause or resume.
	Command string
	// Result is what became of the command, on EventCommandDone.
	Result CommandResult
	// Span is the span of the request that issued an operator command or
	// a Shutdown, when the call's context carried one: on EventCommand,
	// EventCommandDone, the EventSupervisorState to shutting_down of a
	// Shutdown, and the EventChildStopping of the stops they asked for.
	// [WithLogger] writes those records with it, so that a log
	// handler that reads the trace from the context (such as the
	// OpenTelemetry slog bridge) joins them to the request's trace.
	Span trace.SpanContext
	// ShutdownCause classifies a supervisor's shutdown, on the
	// EventSupervisorState that moves it to shutting_down and on its final
	// one.
	ShutdownCause Cause
	// Report is the supervisor's exit report, on its final
	// EventSupervisorState (to completed or failed).
	Report *Report
	// Delay is the scheduled backoff; Ran how long the attempt ran; Waited
	// how long the supervisor waited for a stop.
	Delay, Ran, Waited time.Duration
	// Restarts is the child's restart count so far; Failures the number
	// of consecutive abnormal exits (reset by a clean exit or a stable run).
	Restarts, Failures int
	// Crash is set on the EventChildPanicked of a panic that will crash the
	// process (WithPanicPassThrough): observers that buffer, such as span
	// exporters, should flush now.
	Crash bool
	// Readiness is set on the EventChildStarting and EventChildRunning of
	// a child that signals readiness (Spec.Readiness): its start is over
	// at its EventChildReady, not at EventChildRunning.
	Readiness bool
	// Dropped counts the tree's events that were not queued for its hooks
	// (a full hook queue, see WithHookQueue) before this one was
	// published. It only grows within a tree (Tree), so a hook learns how
	// many events it missed from the difference to the last one it saw.
	Dropped uint64
}

// String renders the event as one readable line.
func (e Event) String() string {
	s := fmt.Sprintf("%s %s", e.Type, e.Path)
	if e.Attempt > 0 {
		s += fmt.Sprintf(" attempt=%d", e.Attempt)
	}
	switch {
	case e.From != 0 && e.To != 0:
		s += fmt.Sprintf(" %s→%s", e.From, e.To)
	case e.To != 0:
		s += " →" + e.To.String()
	}
	if e.Exit != 0 {
		s += " exit=" + e.Exit.String()
	}
	if e.Delay > 0 || e.Type == EventChildBackoff {
		s += " delay=" + e.Delay.String()
	}
	if e.Reason != 0 {
		s += " reason=" + e.Reason.String()
	}
	if e.Origin != "" && e.Origin != e.Path && !strings.Contains(e.Cause, e.Origin) {
		s += " origin=" + e.Origin
	}
	if e.Command != "" {
		s += " command=" + e.Command
	}
	if e.Result != 0 {
		s += " result=" + e.Result.String()
	}
	if e.RequestedBy != "" && e.RequestedBy != e.Supervisor { // the supervisor's own decisions need no "by"
		s += fmt.Sprintf(" by=%q", e.RequestedBy)
	}
	if e.Cause != "" {
		s += fmt.Sprintf(" cause=%q", e.Cause)
	}
	if e.Err != nil {
		s += fmt.Sprintf(" err=%q", e.Err.Error())
	}
	return s
}
