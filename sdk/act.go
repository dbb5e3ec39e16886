package sdk

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// onExit is where an attempt's exit enters the loop: classify, decide,
// act.
func (r *run) onExit(a *attemptCtx, x *exitMsg) {
	if x.crash != nil {
		// The attempt's goroutine re-panics once the events are out.
		defer func() {
			x.crashSeq = r.feed.last()
			close(x.crash)
		}()
	}
	c := a.c
	if !c.current(a) {
		r.lateExit(c, a, x)
		return
	}
	cx := classify(c, x, r.now()-c.startedAt)
	r.act(c, &cx, r.decide(c, &cx, r.stamp()))
}

// lateExit handles the exit of an attempt that is no longer current: one
// that was abandoned (or replaced) and came back late. It changes nothing
// but the record that its goroutine has left Serve.
func (r *run) lateExit(c *child, a *attemptCtx, x *exitMsg) {
	if c.rare != nil && c.rare.stuck == a.rn {
		c.rare.stuck = nil
	}
	var err error = x.err
	if x.panic != nil {
		err = x.panic
	}
	r.emit(Event{Type: EventLateExit, Path: c.path, Attempt: a.n, Err: err,
		Cause: fmt.Sprintf("attempt %d returned after it was abandoned", a.n)})
}

// act does what was decided about the exit x of c's live attempt.
func (r *run) act(c *child, x *classified, d action) {
	from := c.state()
	st := r.attemptOver(c)
	r.recordExit(c, x, from)
	if st.cause != nil && d != actStopped {
		// Stopped as a failure (or it returned on its own as the stop came):
		// the stop is over too.
		c.stopWaited = r.now() - st.at
		r.emit(Event{Type: EventChildStopped, Path: c.path, Attempt: c.attempt, From: from, Waited: c.stopWaited, Stop: st.cause})
	}
	switch d {
	case actStopped:
		c.outcome, c.stopWaited = OutcomeGraceful, r.now()-st.at
		r.emit(Event{Type: EventChildStopped, Path: c.path, Attempt: c.attempt, From: from, Waited: c.stopWaited, Stop: st.cause})
		r.carryOn(c, st, false)
	case actEnd:
		if r.shut != nil {
			c.outcome = OutcomeAlreadyExited // it ended on its own while its siblings were being stopped
		}
		r.endOwn(c, x)
		r.releaseStop(c, st)
		r.autoShutdown(c)
	case actStartFailed:
		r.endOwn(c, x)
		r.releaseStop(c, st)
		r.startFailed(c, x.err)
	case actFatal:
		r.endOwn(c, x)
		r.releaseStop(c, st)
		origin := originOf(c.path, x.err)
		r.beginShutdown(&StopCause{kind: stopShutdown, Cause: CauseFatal, RequestedBy: c.path, Reason: "fatal error from child: " + x.err.Error(), Origin: origin},
			lifecycle.StateFailed, &FatalError{Child: c.path, Origin: origin, Err: x.err})
	case actMeltdown, actFailureLimit:
		r.endOwn(c, x)
		r.releaseStop(c, st)
		now := r.stamp()
		origin := originOf(c.path, x.err)
		me := &MeltdownError{Path: r.path, Restarts: r.window.count(now), Intensity: r.cfg.intensity, Origin: origin}
		why := fmt.Sprintf("meltdown: more than %d restarts in %s (last: %s)", r.cfg.intensity.MaxRestarts, r.cfg.intensity.Period, c.path)
		what := c.path + " exceeded the restart intensity"
		if d == actFailureLimit {
			me.Child, me.Failures = c.path, c.backoff.consecutive()
			what = fmt.Sprintf("%s failed %d times in a row, its failure limit", c.path, me.Failures)
			why = "meltdown: " + what
		}
		r.emit(Event{Type: EventMeltdown, Path: r.path, Origin: origin, Err: x.err, Failures: me.Failures, Cause: what})
		r.beginShutdown(&StopCause{kind: stopShutdown, Cause: CauseMeltdown, RequestedBy: r.path, Origin: origin, Reason: why},
			lifecycle.StateFailed, me)
	case actRestart:
		r.restart(c, reasonOf(x.kind), "")
		r.releaseStop(c, st)
	}
}

// attemptOver ends c's live attempt as far as the loop is concerned: the
// attempt is fenced off (whatever it says from now on changes nothing),
// its timers are disarmed, and the restart plan that waited for it stops
// waiting. It returns what the attempt's stop was for; the caller moves
// the child on from there.
func (r *run) attemptOver(c *child) stopping {
	a := c.live
	a.over.Store(true)
	a.cancel(ErrAttemptEnded)
	c.live = nil
	r.disarmAttempt(c)
	r.disarm(c, clockStop)
	st := c.stop
	c.stop = stopping{}
	if st.plan != nil {
		st.plan.waiting--
	}
	return st
}

// ErrAttemptEnded is the cause of an attempt's context once the attempt
// has returned on its own: what a goroutine the attempt left behind sees.
// (An attempt the supervisor stopped keeps its [*StopCause].)
var ErrAttemptEnded = errors.New("sdk: attempt ended")

// recordExit keeps what the exit says about the child (its failure count,
// last error and panic) and reports the exit.
func (r *run) recordExit(c *child, x *classified, from lifecycle.State) {
	switch {
	case x.kind.Abnormal():
		c.backoff.record(true, x.ran)
		c.lastErr = x.err
	case x.kind == ExitNormal:
		c.backoff.record(false, x.ran)
		if x.err != nil {
			c.lastErr = x.err
		}
	}
	if x.panic != nil {
		c.rareFields().lastPanic, c.lastErr = x.panic, x.panic // a panic while stopping too
		r.emit(Event{Type: EventChildPanicked, Path: c.path, Attempt: c.attempt, Err: x.panic, Ran: x.ran, Failures: c.backoff.consecutive(),
			Crash: r.cfg.passPanics && !x.panicFromRestartIf})
	}
	r.emit(Event{Type: EventChildExited, Path: c.path, Attempt: c.attempt, Generation: c.generation, From: from,
		Exit: x.kind, Err: x.err, Ran: x.ran, Failures: c.backoff.consecutive()})
}

// releaseStop carries on with a failure stop's plan or command once the
// child has decided for itself (its exit was its own, or the failure it was
// stopped for).
func (r *run) releaseStop(c *child, st stopping) {
	if st.cmd != nil {
		r.commandDone(st.cmd, c.path, CommandAccepted, ErrChildExited)
	}
	if st.plan != nil {
		r.planNext(st.plan)
	}
	if r.shut != nil {
		r.shutStopped(c)
	}
}

// endOwn ends a child that exited on its own and will not run again.
func (r *run) endOwn(c *child, x *classified) {
	rep := lifecycle.ExitReport{State: lifecycle.StateCompleted, Phase: "run", Reason: "returned"}
	if x.kind.Abnormal() {
		rep = lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "run", Reason: x.err.Error(), Panic: x.kind == ExitPanic, Recoverable: true}
	} else if x.err != nil {
		rep.Reason = x.err.Error()
	}
	r.end(c, rep)
}

// end finishes the child's lifecycle; its goroutine ends too, once no
// attempt holds it.
func (r *run) end(c *child, rep lifecycle.ExitReport) {
	from := c.state()
	r.leavePlan(c)
	r.disarmAttempt(c)
	if !r.finishChild(c, rep) {
		return
	}
	retireRunner(c.rn)
	r.emit(Event{Type: EventChildEnded, Path: c.path, Attempt: c.attempt, From: from, To: rep.State, Cause: rep.Reason, Restarts: int(c.restarts)})
	if r.cfg.removeEnded && r.shut == nil && c.outcome != OutcomeAbandoned {
		r.forget(c) // an abandoned child stays, so the report names it
		r.omitted++
	}
}

// forget removes an ended child from the supervisor, its spec included, and
// retires its metric series.
func (r *run) forget(c *child) {
	r.children = slices.DeleteFunc(r.children, func(x *child) bool { return x == c })
	r.s.mu.Lock()
	r.s.decls = slices.DeleteFunc(r.s.decls, func(d *decl) bool { return d == c.decl })
	delete(r.s.names, c.spec.Name)
	r.s.mu.Unlock()
	c.lc.Close()
	r.s.series.remove(c.lc)
}

// restart runs c again: alone after its backoff, or with its strategy
// scope (see scopeRestart). why and origin say what caused it.
func (r *run) restart(c *child, why RestartReason, origin string) {
	delay := c.backoff.delay()
	c.why, c.origin = why, origin
	if r.cfg.strategy != OneForOne || c.plan != nil {
		if scope := r.scope(c); len(scope) > 1 || c.plan != nil {
			r.scopeRestart(c, scope, delay)
			return
		}
	}
	// A lone restart needs no plan: wait in backoff, then launch.
	r.park(c, delay)
	if delay <= 0 {
		r.relaunch(c)
		return
	}
	r.arm(c, clockWait, delay)
}

func (r *run) onWaitDue(c *child, attempt uint64) {
	if c.attempt != attempt || c.state() != lifecycle.StateBackoff || c.plan != nil {
		return // superseded: launched, paused, ended or taken into a plan meanwhile
	}
	r.relaunch(c)
}

// park moves a child whose attempt is over to backoff, where it waits for
// its restart, and reports the delay it waits (0 included).
func (r *run) park(c *child, delay time.Duration) {
	from := c.state()
	r.move(c, lifecycle.StateBackoff, c.why.String())
	r.emit(Event{Type: EventChildBackoff, Path: c.path, Attempt: c.attempt, Generation: c.generation, From: from, To: lifecycle.StateBackoff,
		Delay: delay, Reason: c.why, Origin: c.origin, Restarts: int(c.restarts), Failures: c.backoff.consecutive()})
}

// relaunch starts a child waiting in backoff, once its dependencies are up.
func (r *run) relaunch(c *child) { r.relaunchBecause(c, "") }

// relaunchBecause is relaunch with the words of an operator's command;
// an automatic restart says why in its Reason alone.
func (r *run) relaunchBecause(c *child, cause string) {
	r.emit(Event{Type: EventChildRestarting, Path: c.path, Attempt: c.attempt, Generation: c.generation, From: c.state(),
		Reason: c.why, Origin: c.origin, Cause: cause, Restarts: int(c.restarts), Failures: c.backoff.consecutive()})
	if cause == "" {
		cause = restartCauses[c.why]
	}
	r.launchWhenDepsUp(c, cause)
}

// restartCauses are the causes of automatic restarts, built once.
var restartCauses = [...]string{
	ReasonNormal: "restart after a clean exit", ReasonError: "restart after an error", ReasonPanic: "restart after a panic",
	ReasonStale: "restart after a missed heartbeat", ReasonScope: "restart with a sibling", ReasonManual: "restart requested",
}

// autoShutdown applies OTP's auto_shutdown after a significant child ended
// on its own.
func (r *run) autoShutdown(c *child) {
	if !c.spec.Significant || r.shut != nil {
		return
	}
	switch r.cfg.autoShutdown {
	case AnySignificant:
	case AllSignificant:
		for _, x := range r.children {
			if x.spec.Significant && !x.ended() {
				return
			}
		}
	default:
		return
	}
	r.beginShutdown(&StopCause{kind: stopShutdown, Cause: CauseAutoShutdown, RequestedBy: c.path, Origin: c.path, Reason: "significant child " + c.path + " ended"},
		lifecycle.StateCompleted, nil)
}
