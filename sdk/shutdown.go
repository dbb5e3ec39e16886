package sdk

import (
	"slices"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// shutdown is a stop of the whole supervisor in progress: children stop
// one at a time in reverse declaration order, each within its own stop
// timeout counted from its own stop request.
type shutdown struct {
	reason  string
	final   lifecycle.State
	queue   []*child
	current *child
}

// beginShutdown starts stopping the supervisor. The first cause wins.
func (r *run) beginShutdown(by, reason string, final lifecycle.State, err error) {
	if r.shut != nil {
		return
	}
	from := r.lc.State()
	if _, _, e := r.lc.RequestShutdown(by, reason); e == nil && r.lc.State() != from {
		r.emit(Event{Type: EventSupervisorState, Path: r.path, From: from, To: r.lc.State(), Cause: reason})
	}
	r.err = err
	r.shut = &shutdown{reason: reason, final: final, queue: slices.Clone(r.children)}
	slices.Reverse(r.shut.queue)
	for _, p := range r.plans {
		if p.timer != nil {
			p.timer.Stop()
		}
	}
	r.shutdownNext()
}

// shutdownNext stops the next child that still runs, or ends the
// supervisor when none is left.
func (r *run) shutdownNext() {
	sh := r.shut
	for sh.current == nil && len(sh.queue) > 0 {
		c := sh.queue[0]
		sh.queue = sh.queue[1:]
		c.plan = nil
		switch {
		case c.ended:
		case c.running:
			if !c.stopping {
				r.stop(c, sh.reason)
			}
			sh.current = c
		default:
			r.end(c, lifecycle.ExitReport{State: lifecycle.StateStopped, Phase: "shutdown", Reason: sh.reason})
		}
	}
	if sh.current != nil {
		return
	}
	from := r.lc.State()
	rep := lifecycle.ExitReport{State: sh.final, Phase: "shutdown", Reason: sh.reason}
	if sh.final == lifecycle.StateFailed {
		rep.Recoverable = true
	}
	if _, err := r.lc.Finish(rep); err == nil {
		r.emit(Event{Type: EventSupervisorState, Path: r.path, From: from, To: sh.final, Cause: sh.reason})
	}
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
	r.beginShutdown(c.path, "significant child "+c.path+" ended", lifecycle.StateCompleted, nil)
}
