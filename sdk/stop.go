package sdk

import (
	"fmt"
	"slices"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// stop cancels c's live attempt with cause and arms its stop timeout,
// counted from now. p or cmd, when set, is what waits for the stop; the
// shutdown waits for its own.
func (r *run) stop(c *child, cause *StopCause, p *restartPlan, cmd *command) {
	from := c.state()
	c.stop = stopping{cause: cause, at: r.now(), plan: p, cmd: cmd}
	if p != nil {
		p.waiting++
	}
	// The attempt's own clocks no longer apply: it is on its way out.
	r.disarm(c, clockStart)
	r.disarm(c, clockStale)
	r.move(c, lifecycle.StateStopping, cause.Reason)
	r.emit(Event{Type: EventChildStopping, Path: c.path, Attempt: c.attempt, From: from, To: lifecycle.StateStopping,
		Cause: cause.Reason, RequestedBy: cause.RequestedBy, Origin: cause.Origin, Stop: cause, Span: cause.span})
	c.live.cancel(cause)
	if c.spec.StopTimeout > 0 {
		r.arm(c, clockStop, c.spec.StopTimeout)
	}
}

func (r *run) onStopTimeout(c *child, attempt uint64) {
	if c.live == nil || c.live.n != attempt || !c.isStopping() {
		return // it stopped in time; the timer raced the exit
	}
	r.abandon(c, fmt.Sprintf("did not stop within %s", c.spec.StopTimeout))
}

// abandon gives up on a stopping attempt that has not returned. The
// attempt is reported and fenced off: its goroutine may still be inside
// Serve, so it keeps the runner, and whatever it says later changes
// nothing. The child then ends failed, and never runs again under this
// supervisor, unless its spec says ReplaceStuck and the stop was for a
// restart: then the restart goes on with a new attempt.
func (r *run) abandon(c *child, why string) {
	from := c.state()
	c.rareFields().stuck = c.rn
	retireRunner(c.rn)
	c.rn = nil
	st := r.attemptOver(c)
	c.outcome, c.stopWaited = OutcomeAbandoned, r.now()-st.at
	r.lost = append(r.lost, c.path)
	r.emit(Event{Type: EventChildAbandoned, Path: c.path, Attempt: c.attempt, From: from, Waited: c.stopWaited, Cause: why, Stop: st.cause})
	replace := c.spec.ReplaceStuck && r.shut == nil &&
		(st.plan != nil && c.plan == st.plan || st.cmd != nil && st.cmd.op == opRestart)
	if !replace {
		r.end(c, lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "stop", Reason: why + "; abandoned"})
	}
	r.carryOn(c, st, !replace)
}

// carryOn continues what c's stop was for, once its attempt is over: the
// command waiting for it, the scope restart, or the shutdown. lost says
// the attempt was abandoned and the child has ended.
func (r *run) carryOn(c *child, st stopping, lost bool) {
	switch {
	case st.cmd != nil:
		r.finishCommand(c, st.cmd, lost)
	case r.shut != nil:
		if !c.ended() {
			r.end(c, lifecycle.ExitReport{State: lifecycle.StateStopped, Phase: "shutdown", Reason: r.shut.cause.Reason})
		}
	case st.plan != nil:
		switch {
		case c.ended():
		case c.plan == st.plan:
			r.park(c, st.plan.delay)
		default:
			// A temporary child stopped for a sibling is not restarted.
			r.end(c, lifecycle.ExitReport{State: lifecycle.StateStopped, Phase: "restart", Reason: "temporary child stopped for a sibling: " + st.cause.Reason})
		}
	}
	if st.plan != nil {
		r.planNext(st.plan)
	}
	if r.shut != nil {
		r.shutStopped(c)
	}
}

// stopOrder returns the children of set in the order they must stop:
// reverse start order, with every child's dependents before it (a child
// restarted alone starts again late, but still depends on what it
// depended on). Children that never started come last.
func (r *run) stopOrder(set []*child) []*child {
	if len(set) < 2 {
		return set
	}
	out := slices.Clone(set)
	slices.SortFunc(out, func(a, b *child) int { return byStartOrder(b, a) })
	hasDeps := false
	for _, c := range out {
		if len(c.spec.DependsOn) > 0 {
			hasDeps = true
			break
		}
	}
	if !hasDeps {
		return out
	}
	in := make(map[*child]bool, len(out))
	for _, c := range out {
		in[c] = true
	}
	dependents := make(map[string][]*child)
	for _, c := range out {
		for _, d := range c.spec.DependsOn {
			dependents[d] = append(dependents[d], c)
		}
	}
	seen := make(map[*child]bool, len(out))
	ordered := make([]*child, 0, len(out))
	var visit func(c *child)
	visit = func(c *child) {
		if seen[c] {
			return
		}
		seen[c] = true
		for _, d := range dependents[c.spec.Name] {
			if in[d] {
				visit(d)
			}
		}
		ordered = append(ordered, c)
	}
	for _, c := range out {
		visit(c)
	}
	return ordered
}
