package sdk

import (
	"errors"
	"fmt"
)

// StopKind says what the supervisor is doing to a child when it stops the
// child's attempt.
type StopKind uint8

const (
	// StopShutdown: the supervisor is shutting down and the child will not
	// run again under it; [StopCause.Cause] says why the supervisor shuts
	// down.
	StopShutdown StopKind = iota + 1
	// StopScopeRestart: a sibling's exit restarts the child's strategy
	// scope (one_for_all, rest_for_one); the child runs again once its
	// scope has stopped. [StopCause.Origin] names the sibling.
	StopScopeRestart
	// StopRestart: an operator asked for a restart ([Supervisor.Restart]).
	StopRestart
	// StopRemove: an operator removed the child ([Supervisor.Remove]).
	StopRemove
	// StopPause: an operator paused the child ([Supervisor.Pause]).
	StopPause
	// StopStale: the child sent no [Heartbeat] within its StaleAfter. It is
	// a failure, handled by the child's restart type.
	StopStale
	// StopStartTimeout: the child did not signal [Ready] within its
	// StartTimeout after the supervisor's start. It is a failure, handled by
	// the child's restart type.
	StopStartTimeout
)

var stopKindLabels = [...]string{
	StopShutdown: "shutdown", StopScopeRestart: "scope_restart", StopRestart: "restart",
	StopRemove: "remove", StopPause: "pause", StopStale: "stale", StopStartTimeout: "start_timeout",
}

func (k StopKind) String() string {
	if k > 0 && int(k) < len(stopKindLabels) {
		return stopKindLabels[k]
	}
	return fmt.Sprintf("stop(%d)", uint8(k))
}

// Sentinels matched by a [*StopCause], one per way an attempt can be
// stopped; every StopCause also matches [ErrStopped].
var (
	// ErrShutdown is matched by the cause of every stop of kind
	// [StopShutdown], whatever the shutdown's [Cause].
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
	// ErrScopeRestart is matched by a stop of kind [StopScopeRestart].
	ErrScopeRestart = errors.New("sdk: restarted with a sibling")
	// ErrRestartRequested is matched by a stop of kind [StopRestart].
	ErrRestartRequested = errors.New("sdk: restart requested")
	// ErrRemoved is matched by a stop of kind [StopRemove].
	ErrRemoved = errors.New("sdk: removed")
	// ErrPaused is matched by a stop of kind [StopPause].
	ErrPaused = errors.New("sdk: paused")
)

// StopCause is what context.Cause returns for the context of an attempt
// the supervisor stopped: why, on whose request, and on account of which
// child. It matches [ErrStopped], the sentinel of its kind, and for a
// shutdown the sentinel of its cause, with [errors.Is]:
//
//	stop                                     Kind              matches (besides ErrStopped)
//	Shutdown, NotifyShutdown                 StopShutdown      ErrShutdown
//	Serve's context ended / parent stopped   StopShutdown      ErrShutdown, ErrContextDone, and the context's cause (Unwrap)
//	meltdown (restart intensity)             StopShutdown      ErrShutdown, ErrMeltdown; Origin: the child whose exit was one too many
//	a child returned ErrFatal                StopShutdown      ErrShutdown; Cause CauseFatal; Origin: that child
//	significant children ended               StopShutdown      ErrShutdown, ErrAutoShutdown; Origin: the child that ended last
//	the supervisor's start failed            StopShutdown      ErrShutdown, ErrStartFailed; Origin: the child that failed
//	a sibling's exit restarts the scope      StopScopeRestart  ErrScopeRestart; Origin: the sibling
//	Restart                                  StopRestart       ErrRestartRequested
//	Remove                                   StopRemove        ErrRemoved
//	Pause                                    StopPause         ErrPaused
//	no heartbeat within StaleAfter           StopStale         ErrStale (a failure; Unwrap gives the detail)
//	not ready within StartTimeout            StopStartTimeout  ErrStartTimeout (a failure)
//
// A StopCause is shared by every attempt stopped for the same reason and
// must not be modified.
type StopCause struct {
	Kind StopKind
	// Cause classifies a shutdown, for Kind StopShutdown.
	Cause Cause
	// RequestedBy and Reason are who asked and why: the operator's words
	// for a command or a shutdown, the supervisor's for its own decisions.
	RequestedBy, Reason string
	// Origin is the path of the child whose exit led to the stop, when one
	// did.
	Origin string
	// Err is the underlying cause: the ended context's cause for
	// CauseContext and CauseParent, the failure for StopStale and
	// StopStartTimeout.
	Err error
}

func (c *StopCause) Error() string {
	s := "sdk: stopped by supervisor: " + c.Kind.String()
	if c.Kind == StopShutdown && c.Cause != "" {
		s += " (" + string(c.Cause) + ")"
	}
	if c.RequestedBy != "" {
		s += " requested by " + c.RequestedBy
	}
	if c.Reason != "" {
		s += ": " + c.Reason
	}
	if c.Err != nil && (c.Kind != StopShutdown || c.Cause == CauseContext || c.Cause == CauseParent) {
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
	switch c.Kind {
	case StopShutdown:
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
	case StopScopeRestart:
		return target == ErrScopeRestart
	case StopRestart:
		return target == ErrRestartRequested
	case StopRemove:
		return target == ErrRemoved
	case StopPause:
		return target == ErrPaused
	case StopStale:
		return target == ErrStale
	case StopStartTimeout:
		return target == ErrStartTimeout
	}
	return false
}

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (c *StopCause) ErrorType() string { return "stopped" }

// failure reports whether the stop is a failure of the child (handled by
// its restart type) rather than a decision about it.
func (c *StopCause) failure() bool { return c.Kind == StopStale || c.Kind == StopStartTimeout }
