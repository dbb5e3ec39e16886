package sdk

import (
	"fmt"
	"time"
)

// An attempt's exit goes through three stages, each in its own file:
// classify (this file) judges how the attempt ended, decide (decide.go)
// chooses what the supervisor does about it, and act (act.go) does it.

// classified is an attempt's exit as the supervisor judges it.
type classified struct {
	kind ExitKind
	// err is what the exit stands for: the error Serve returned, its
	// panic, or the failure the supervisor stopped it for.
	err   error
	panic *PanicError
	ran   time.Duration
	// stopped is the supervisor's stop the exit answered, for ExitStopped.
	stopped *StopCause
	verdict verdict
	// panicFromRestartIf: the panic is RestartIf's, not the attempt's (it
	// is recovered either way).
	panicFromRestartIf bool
}

// classify judges how the live attempt of c ended. The supervisor's own
// knowledge decides: an attempt it stopped is ExitStopped whatever Serve
// returned, except that an attempt stopped as a failure (no heartbeat, not
// ready in time) ends with that failure, unless it returned on its own
// before it saw the stop.
func classify(c *child, x *exitMsg, ran time.Duration) classified {
	out := classified{ran: ran, panic: x.panic, verdict: x.verdict, kind: x.ownKind(), err: x.failure()}
	if c.isStopping() {
		switch sc := c.stop.cause; {
		case !sc.failure() || c.stop.cmd != nil: // a command took a failure stop over
			out.kind, out.stopped = ExitStopped, sc
		case x.saw == sc && sc.kind == stopStale:
			out.kind, out.err = ExitStale, sc.Err
		case x.saw == sc:
			out.kind, out.err = ExitError, sc.Err
		}
	}
	if out.verdict == verdictPanicked && out.kind != ExitStopped {
		// RestartIf panicked: the child cannot be judged, and ends failed
		// with the predicate's panic.
		out.kind, out.panic, out.panicFromRestartIf = ExitPanic, x.verdictPanic, true
		out.err = x.verdictPanic
	}
	return out
}

// verdict is RestartIf's answer.
type verdict uint8

const (
	verdictNone     verdict = iota // not asked
	verdictRestart                 // true
	verdictStay                    // false
	verdictPanicked                // it panicked
)

// evalRestartIf asks a Custom child's predicate, recovering a panic.
func evalRestartIf(f func(Exit) bool, e Exit, pe **PanicError) (v verdict) {
	defer func() {
		if p := recover(); p != nil {
			*pe = newPanicError(fmt.Sprintf("RestartIf panicked: %v", p))
			v = verdictPanicked
		}
	}()
	if f(e) {
		return verdictRestart
	}
	return verdictStay
}
