package sdk

import (
	"slices"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// ShutdownOrder says how a supervisor stops its children, when it shuts
// down and when a sibling's exit restarts a scope.
type ShutdownOrder uint8

const (
	// StopInReverse stops children one at a time in reverse start order,
	// as OTP does: each child stops before the ones it was started after,
	// and a child's dependents always stop before it.
	StopInReverse ShutdownOrder = iota
	// StopAllAtOnce cancels every child at once and waits for all of
	// them, each within its own stop timeout.
	StopAllAtOnce
)

// WithShutdownOrder sets how children stop. The default is StopInReverse.
func WithShutdownOrder(o ShutdownOrder) Option { return func(c *config) { c.shutdownOrder = o } }

// shutdown is a stop of the whole supervisor in progress.
type shutdown struct {
	cause    *StopCause // what every child stopped by the shutdown is told
	final    lifecycle.State
	queue    []*child // not yet asked to stop, in stop order
	waiting  map[*child]struct{}
	deadline time.Time
	timer    *time.Timer
}

// beginShutdown starts stopping the supervisor. The first cause wins.
func (r *run) beginShutdown(cause *StopCause, final lifecycle.State, err error) {
	if r.shut != nil {
		return
	}
	from := r.lc.State()
	if _, _, e := r.lc.RequestShutdown(cause.RequestedBy, cause.Reason); e == nil && r.lc.State() != from {
		r.emit(Event{Type: EventSupervisorState, Path: r.path, From: from, To: r.lc.State(), Cause: cause.Reason,
			RequestedBy: cause.RequestedBy, ShutdownCause: cause.Cause, Origin: cause.Origin, Stop: cause, Err: err, Span: cause.span})
	} else if e != nil {
		reportBug(e)
	}
	r.err = err
	r.shut = &shutdown{cause: cause, final: final, queue: r.stopOrder(r.children), waiting: make(map[*child]struct{})}
	r.shutting.Store(true)
	for _, p := range r.plans {
		p.disarm()
		p.done = true
		for _, c := range p.members {
			c.plan = nil // the shutdown decides for them now
		}
	}
	r.plans = nil
	r.failStarting(cause)
	r.shutdownNext()
}

// shutdownNext asks the next children to stop, or ends the supervisor when
// nothing is left to wait for.
func (r *run) shutdownNext() {
	sh := r.shut
	for len(sh.queue) > 0 && (r.cfg.shutdownOrder == StopAllAtOnce || len(sh.waiting) == 0) {
		c := sh.queue[0]
		sh.queue = sh.queue[1:]
		c.plan = nil
		switch {
		case c.ended():
			if c.outcome == "" {
				c.outcome = OutcomeAlreadyExited
			}
		case c.isLive():
			if !c.isStopping() {
				r.stop(c, sh.cause, nil, nil)
			}
			sh.waiting[c] = struct{}{}
		default:
			// Waiting to start, in backoff, or paused: nothing runs.
			c.outcome = OutcomeAlreadyExited
			if c.attempt == 0 {
				c.outcome = OutcomeNeverStarted
			}
			r.end(c, lifecycle.ExitReport{State: lifecycle.StateStopped, Phase: "shutdown", Reason: sh.cause.Reason})
		}
	}
	if len(sh.waiting) > 0 || len(sh.queue) > 0 || r.report != nil {
		return
	}
	if sh.timer != nil {
		sh.timer.Stop()
	}
	from := r.lc.State()
	rep := lifecycle.ExitReport{State: sh.final, Phase: "shutdown", Reason: sh.cause.Reason}
	if sh.final == lifecycle.StateFailed {
		rep.Recoverable = true
	}
	if _, err := r.lc.Finish(rep); err != nil {
		reportBug(err)
	}
	r.report = r.buildReport()
	r.emit(Event{Type: EventSupervisorState, Path: r.path, From: from, To: sh.final, Cause: sh.cause.Reason,
		RequestedBy: sh.cause.RequestedBy, ShutdownCause: sh.cause.Cause, Origin: sh.cause.Origin, Stop: sh.cause, Err: r.err, Report: r.report})
}

// shutStopped records that c, which the shutdown may be waiting for, has
// stopped or ended.
func (r *run) shutStopped(c *child) {
	if _, ok := r.shut.waiting[c]; ok {
		delete(r.shut.waiting, c)
		r.shutdownNext()
	}
}

// onShutdownRequest handles Shutdown (and NotifyShutdown): the first
// request starts the shutdown, a later one may tighten its deadline.
func (r *run) onShutdownRequest(cmd *command) {
	r.beginShutdown(cmd.cause, lifecycle.StateCompleted, nil)
	if !cmd.deadline.IsZero() {
		r.tighten(cmd.deadline)
	}
}

// tighten sets the overall shutdown deadline, if it is earlier than the
// one in force. When it passes, every child still running is abandoned.
func (r *run) tighten(deadline time.Time) {
	sh := r.shut
	if sh == nil || r.report != nil || (!sh.deadline.IsZero() && !deadline.Before(sh.deadline)) {
		return
	}
	sh.deadline = deadline
	if sh.timer != nil {
		sh.timer.Stop()
	}
	d := time.Until(deadline)
	if d <= 0 {
		r.abandonAll()
		return
	}
	sh.timer = r.after(d, msg{kind: msgDeadline})
}

// abandonAll gives up on every child that is still running: the overall
// shutdown deadline has passed.
func (r *run) abandonAll() {
	sh := r.shut
	if sh == nil || r.report != nil {
		return
	}
	if !r.hurried {
		r.hurried = true
		close(r.hurry) // nobody waits for the hooks either
	}
	for _, c := range sh.queue {
		if c.isLive() && !c.isStopping() {
			r.stop(c, sh.cause, nil, nil)
			sh.waiting[c] = struct{}{}
		}
	}
	for _, c := range slices.Clone(r.children) {
		if c.isLive() {
			r.abandon(c, "the shutdown deadline passed")
		}
	}
	r.shutdownNext()
}
