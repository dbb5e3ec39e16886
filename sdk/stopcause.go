package sdk

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/trace"
)

// stopKind says what the supervisor is doing to a child when it stops the
// child's attempt. Users tell kinds apart with errors.Is and the sentinels
// below; [StopCause.Kind] gives the label for telemetry and logs.
type stopKind uint8

const (
	// stopShutdown: the supervisor is shutting down; Cause says why.
	stopShutdown stopKind = iota + 1
	// stopScopeRestart: a sibling's exit restarts the child's scope.
	stopScopeRestart
	// stopRestart, stopRemove, stopPause: an operator's command.
	stopRestart
	stopRemove
	stopPause
	// stopStale and stopStartTimeout are failures of the child, handled
	// by its restart type.
	stopStale
	stopStartTimeout
)

var stopKindLabels = [...]string{
	stopShutdown: "shutdown", stopScopeRestart: "scope_restart", stopRestart: "restart",
	stopRemove: "remove", stopPause: "pause", stopStale: "stale", stopStartTimeout: "start_timeout",
}

func (k stopKind) String() string {
	if k > 0 && int(k) < len(stopKindLabels) {
		return stopKindLabels[k]
	}
	return fmt.Sprintf("stop(%d)", uint8(k))
}

// Sentinels matched by a [*StopCause], one per way an attempt can be
// stopped; every StopCause also matches [ErrStopped].
var (
	// ErrShutdown is matched by the cause of every stop of a shutting-down
	// supervisor, whatever the shutdown's [Cause].
	ErrShutdown = errors.New("sdk: supervisor shutting down")
	// ErrContextDone is matched when the supervisor shuts down because the
	// context it was served with ended (its caller cancelled it, or its
	// parent supervisor stopped it); the cause wraps that context's cause.
	ErrContextDone = errors.New("sdk: the supervisor's context ended")
	// ErrAutoShutdown is matched when significant children ended the
	// supervisor ([WithAutoShutdown]).
	ErrAutoShutdown = errors.New("sdk: auto-shutdown after significant children ended")
	// ErrStartFailed is matched when the supervisor's start failed (a
	// child that declares readiness failed before it became ready), by the
	// stop causes of the siblings it started and by a [*StartError].
	ErrStartFailed = errors.New("sdk: supervisor start failed")
	// ErrScopeRestart is matched when a sibling's exit restarts the
	// child's strategy scope (one_for_all, rest_for_one): the child runs
	// again once its scope has stopped.
	ErrScopeRestart = errors.New("sdk: restarted with a sibling")
	// ErrRestartRequested is matched when an operator asked for a restart
	// ([Supervisor.Restart]).
	ErrRestartRequested = errors.New("sdk: restart requested")
	// ErrRemoved is matched when an operator removed the child
	// ([Supervisor.Remove]).
	ErrRemoved = errors.New("sdk: removed")
	// ErrPaused is matched when an operator paused the child
	// ([Supervisor.Pause]).
	ErrPaused = errors.New("sdk: paused")
)

// StopCause is what context.Cause returns for the context of an attempt
// the supervisor stopped: why, on whose request, and on account of which
// child. It matches [ErrStopped], the sentinel of its kind, and for a
// shutdown the sentinel of its cause, with [errors.Is]:
//
//	stop                                     Kind()          matches (besides ErrStopped)
//	Shutdown, NotifyShutdown                 shutdown        ErrShutdown
//	Serve's context ended / parent stopped   shutdown        ErrShutdown, ErrContextDone, and the context's cause (Unwrap)
//	meltdown (restart intensity)             shutdown        ErrShutdown, ErrMeltdown; Origin: the child whose exit was one too many
//	a child returned ErrFatal                shutdown        ErrShutdown; Cause CauseFatal; Origin: that child
//	significant children ended               shutdown        ErrShutdown, ErrAutoShutdown; Origin: the child that ended last
//	the supervisor's start failed            shutdown        ErrShutdown, ErrStartFailed; Origin: the child that failed
//	a sibling's exit restarts the scope      scope_restart   ErrScopeRestart; Origin: the sibling
//	Restart                                  restart         ErrRestartRequested
//	Remove                                   remove          ErrRemoved
//	Pause                                    pause           ErrPaused
//	no heartbeat within StaleAfter           stale           ErrStale (a failure; Unwrap gives the detail)
//	not ready within StartTimeout            start_timeout   ErrStartTimeout (a failure)
//
// A StopCause is shared by every attempt stopped for the same reason and
// must not be modified.
type StopCause struct {
	kind stopKind
	// Cause classifies a shutdown.
	Cause Cause
	// RequestedBy and Reason are who asked and why: the operator's words
	// for a command or a shutdown, the supervisor's for its own decisions.
	RequestedBy, Reason string
	// Origin is the path of the child whose exit led to the stop, when one
	// did.
	Origin string
	// Err is the underlying cause: the ended context's cause for
	// CauseContext and CauseParent, the failure for a missed heartbeat or
	// start timeout.
	Err error
	// span is the span of the call that asked for the stop (a command or
	// Shutdown), when its context carried one: the events of the stop
	// carry it.
	span trace.SpanContext
}

// Kind is the stop's label, as the table above gives it: shutdown,
// scope_restart, restart, remove, pause, stale or start_timeout. It is
// bounded, for telemetry.
func (c *StopCause) Kind() string { return c.kind.String() }

func (c *StopCause) Error() string {
	s := "sdk: stopped by supervisor: " + c.kind.String()
	if c.kind == stopShutdown && c.Cause != "" {
		s += " (" + string(c.Cause) + ")"
	}
	if c.RequestedBy != "" {
		s += " requested by " + c.RequestedBy
	}
	if c.Reason != "" {
		s += ": " + c.Reason
	}
	if c.Err != nil && (c.kind != stopShutdown || c.Cause == CauseContext || c.Cause == CauseParent) {
		s += ": " + c.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause, see [StopCause.Err].
func (c *StopCause) Unwrap() error { return c.Err }

// Is reports whether target is ErrStopped or a sentinel of the stop's
// kind or shutdown cause (see the table at [StopCause]).
func (c *StopCause) Is(target error) bool {
	if target == ErrStopped {
		return true
	}
	switch c.kind {
	case stopShutdown:
		if target == ErrShutdown {
			return true
		}
		switch c.Cause {
		case CauseContext, CauseParent:
			return target == ErrContextDone
		case CauseMeltdown:
			return target == ErrMeltdown
		case CauseAutoShutdown:
			return target == ErrAutoShutdown
		case CauseStartFailure:
			return target == ErrStartFailed
		}
	case stopScopeRestart:
		return target == ErrScopeRestart
	case stopRestart:
		return target == ErrRestartRequested
	case stopRemove:
		return target == ErrRemoved
	case stopPause:
		return target == ErrPaused
	case stopStale:
		return target == ErrStale
	case stopStartTimeout:
		return target == ErrStartTimeout
	}
	return false
}

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (c *StopCause) ErrorType() string { return "stopped" }

// failure reports whether the stop is a failure of the child (handled by
// its restart type) rather than a decision about it.
func (c *StopCause) failure() bool { return c.kind == stopStale || c.kind == stopStartTimeout }
