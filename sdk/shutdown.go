package sdk

import (
	"fmt"
	"slices"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// ShutdownOrder says how a supervisor stops its children.
type ShutdownOrder uint8

const (
	// StopInReverse stops children one at a time in reverse declaration
	// order, as OTP does: each child stops before the ones it was started
	// after.
	StopInReverse ShutdownOrder = iota
	// StopAllAtOnce cancels every child at once and waits for all of
	// them, each within its own stop timeout.
	StopAllAtOnce
)

// WithShutdownOrder sets how children stop. The default is StopInReverse.
func WithShutdownOrder(o ShutdownOrder) Option { return func(c *config) { c.shutdownOrder = o } }

// shutdown is a stop of the whole supervisor in progress.
type shutdown struct {
	cause      Cause
	by, reason string
	final      lifecycle.State
	queue      []*child // not yet asked to stop, in stop order
	waiting    map[*child]struct{}
	deadline   time.Time
	timer      *time.Timer
}

// beginShutdown starts stopping the supervisor. The first cause wins.
func (r *run) beginShutdown(cause Cause, by, reason string, final lifecycle.State, err error) {
	if r.shut != nil {
		return
	}
	from := r.lc.State()
	if _, _, e := r.lc.RequestShutdown(by, reason); e == nil && r.lc.State() != from {
		r.emit(Event{Type: EventSupervisorState, Path: r.path, From: from, To: r.lc.State(), Cause: reason, RequestedBy: by, ShutdownCause: cause, Err: err})
	}
	r.err = err
	r.shut = &shutdown{cause: cause, by: by, reason: reason, final: final,
		queue: slices.Clone(r.children), waiting: make(map[*child]struct{})}
	slices.Reverse(r.shut.queue)
	for _, p := range r.plans {
		if p.timer != nil {
			p.timer.Stop()
		}
	}
	r.failStarting(fmt.Errorf("sdk: supervisor %s shut down during start: %s", r.path, reason))
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
		case c.ended:
			if c.outcome == "" {
				c.outcome = OutcomeAlreadyExited
			}
		case c.running:
			if !c.stopping {
				r.stop(c, sh.reason)
			}
			sh.waiting[c] = struct{}{}
		default:
			c.outcome = OutcomeAlreadyExited
			r.end(c, lifecycle.ExitReport{State: lifecycle.StateStopped, Phase: "shutdown", Reason: sh.reason})
		}
	}
	if len(sh.waiting) > 0 || len(sh.queue) > 0 {
		return
	}
	if sh.timer != nil {
		sh.timer.Stop()
	}
	from := r.lc.State()
	rep := lifecycle.ExitReport{State: sh.final, Phase: "shutdown", Reason: sh.reason}
	if sh.final == lifecycle.StateFailed {
		rep.Recoverable = true
	}
	if _, err := r.lc.Finish(rep); err == nil {
		r.report = r.buildReport()
		r.emit(Event{Type: EventSupervisorState, Path: r.path, From: from, To: sh.final, Cause: sh.reason,
			RequestedBy: sh.by, ShutdownCause: sh.cause, Err: r.err, Report: r.report})
	} else {
		r.report = r.buildReport()
	}
}

// stoppedDuringShutdown is afterStop's shutdown branch.
func (r *run) stoppedDuringShutdown(c *child) {
	if !c.ended {
		r.end(c, lifecycle.ExitReport{State: lifecycle.StateStopped, Phase: "shutdown", Reason: r.shut.reason})
	}
	if _, ok := r.shut.waiting[c]; ok {
		delete(r.shut.waiting, c)
		r.shutdownNext()
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
	sh.timer = time.AfterFunc(d, func() { r.post(msg{kind: msgDeadline}) })
}

// abandonAll gives up on every child that is still running: the overall
// shutdown deadline has passed.
func (r *run) abandonAll() {
	sh := r.shut
	if sh == nil || r.report != nil {
		return
	}
	for _, c := range r.children {
		if !c.running {
			continue
		}
		if !c.stopping {
			r.stop(c, sh.reason)
		}
		r.abandon(c, "the shutdown deadline passed")
		delete(sh.waiting, c) // its late exit will be stale: nothing to wait for
	}
	r.shutdownNext()
}

// autoShutdown applies OTP's auto_shutdown after a significant child ended
// on its own.
func (r *run) autoShutdown(c *child) {
	if !c.spec.Significant {
		return
	}
	switch r.cfg.autoShutdown {
	case AnySignificant:
	case AllSignificant:
		for _, x := range r.children {
			if x.spec.Significant && !x.ended {
				return
			}
		}
	default:
		return
	}
	r.beginShutdown(CauseAutoShutdown, c.path, "significant child "+c.path+" ended", lifecycle.StateCompleted, nil)
}
