package sdk

import (
	"errors"
	"time"
)

// action is what the supervisor does about an attempt's exit.
type action uint8

const (
	// actStopped: the supervisor's own stop is done; carry on with what
	// it was for (a scope restart, a command, the shutdown).
	actStopped action = iota + 1
	// actEnd: the child will not run again.
	actEnd
	// actStartFailed: a child that declares readiness failed before it
	// became ready during the start: the start fails.
	actStartFailed
	// actFatal: the child returned ErrFatal: the supervisor shuts down.
	actFatal
	// actMeltdown: restarting would exceed the restart intensity.
	actMeltdown
	// actFailureLimit: the child failed FailureLimit times in a row: the
	// supervisor gives up, as on a meltdown.
	actFailureLimit
	// actRestart: run the child (and its strategy scope) again.
	actRestart
)

// decide chooses what to do about the exit x of c's live attempt, in this
// order: the supervisor's own stop; an exit during shutdown; a failed
// start; ErrFatal; the restart type; a scope restart already under way;
// the child's failure limit; the restart intensity. Only a restart
// after a failure is recorded in the intensity window, as OTP counts only
// restarts.
func (r *run) decide(c *child, x *classified, now time.Time) action {
	switch {
	case x.kind == ExitStopped:
		return actStopped
	case r.shut != nil:
		return actEnd
	case r.startup && c.spec.Readiness && !c.wasReady:
		return actStartFailed
	case errors.Is(x.err, ErrFatal):
		return actFatal
	case !wantsRestart(&c.spec, x):
		return actEnd
	case c.plan != nil:
		// A scope restart already waits for this child: its exit is part
		// of that one restart, which the intensity counted once.
		return actRestart
	case x.kind.Abnormal() && c.spec.FailureLimit > 0 && c.backoff.after(x.ran) >= c.spec.FailureLimit:
		// A persistent fault, however slowly the backoff lets it loop:
		// restarting it further is not going to help here.
		return actFailureLimit
	case x.kind.Abnormal() && r.window.record(now):
		return actMeltdown
	}
	return actRestart
}

// wantsRestart is the decision table of exit kind × restart type for an
// exit the child made on its own.
func wantsRestart(spec *Spec, x *classified) bool {
	if errors.Is(x.err, ErrDoNotRestart) {
		return false
	}
	switch spec.Restart {
	case Permanent:
		return true
	case Transient:
		return x.kind.Abnormal()
	case Custom:
		return x.verdict == verdictRestart
	}
	return false
}
