package sdk

import (
	"cmp"
	"slices"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// restartPlan is one restart of a strategy scope: stop the live siblings
// of the scope (one at a time in stop order, or all at once, as the
// shutdown order says), then, once none is left running and the delay has
// elapsed, start the members again in start order. Overlapping restarts
// merge into one plan, so no child is ever started twice.
//
// The plan is the one owner of its bookkeeping: it knows whom it waits for
// (waiting counts the children whose stop names it, see stopping.plan),
// and every way such a stop ends (return, failure, abandonment, a command
// taking over) releases it through attemptOver or releasePlanStop.
type restartPlan struct {
	members []*child // to restart, in start order
	queue   []*child // still to be asked to stop, in stop order
	waiting int
	delay   time.Duration
	cause   *StopCause // what the stopped siblings are told
	// arm numbers the timer's armings: the message of a superseded timer
	// (merged, re-armed, cancelled) names an old number and changes
	// nothing.
	arm   uint64
	timer *time.Timer
	due   time.Duration // since the run's epoch, while the timer is armed
	done  bool          // executed, merged away or cancelled by shutdown
}

// scope returns the children that restart with c under the strategy, c
// included. Children that are ended, paused or still waiting for their
// dependencies are in no scope: nothing is running there to restart.
func (r *run) scope(c *child) []*child {
	if r.cfg.strategy == OneForOne {
		return []*child{c}
	}
	out := []*child{c}
	for _, x := range r.children {
		if x == c || !(x.isLive() || x.state() == lifecycle.StateBackoff) {
			continue
		}
		if r.cfg.strategy == RestForOne && !startedAfter(x, c) {
			continue
		}
		out = append(out, x)
	}
	return out
}

// startedAfter reports whether x comes after c in the start order.
func startedAfter(x, c *child) bool {
	if x.started == 0 || c.started == 0 {
		return x.declared > c.declared
	}
	return x.started > c.started
}

// scopeRestart restarts c's scope after delay: c, whose attempt is over,
// waits in backoff while its live siblings are stopped.
func (r *run) scopeRestart(c *child, scope []*child, delay time.Duration) {
	p := c.plan
	for _, x := range scope {
		if x.plan != nil && x.plan != p {
			if p == nil {
				p = x.plan
			} else {
				p = r.merge(p, x.plan)
			}
		}
	}
	if p == nil {
		p = &restartPlan{cause: &StopCause{kind: stopScopeRestart, RequestedBy: r.path, Origin: c.path,
			Reason: c.path + " exited (" + c.why.String() + ")"}}
		r.plans = append(r.plans, p)
	}
	// A new failure in the scope restarts the wait: the plan's delay is
	// the longest of its members', counted from the latest failure, and a
	// timer armed before (even one that has already fired) is superseded.
	p.disarm()
	p.delay = max(p.delay, delay)
	r.join(p, c, true)
	for _, x := range scope {
		if x == c {
			continue
		}
		if x.plan != p && x.spec.Restart != Temporary {
			// OTP: a temporary child stopped for a sibling is not
			// restarted; every other one is, as a new generation.
			x.generation++
			x.why, x.origin = ReasonScope, c.path
			r.join(p, x, !x.isLive())
		}
		switch {
		case x.isStopping():
			if x.stop.plan == nil && x.stop.cmd == nil {
				x.stop.plan = p // already stopping (a failure): the plan waits for it too
				p.waiting++
			}
		case x.isLive() && !slices.Contains(p.queue, x):
			p.queue = append(p.queue, x)
		}
	}
	p.queue = r.stopOrder(p.queue)
	r.planNext(p)
}

// join adds c to p's members, in start order, and parks it when its
// attempt is over.
func (r *run) join(p *restartPlan, c *child, over bool) {
	if c.plan != p {
		c.plan = p
		r.disarm(c, clockWait) // its lone restart becomes part of the plan
		i, _ := slices.BinarySearchFunc(p.members, c, byStartOrder)
		p.members = slices.Insert(p.members, i, c)
	}
	if over {
		// A member whose attempt is over (it may have exited on its own
		// while waiting for its turn to be stopped) waits in backoff.
		p.queue = slices.DeleteFunc(p.queue, func(x *child) bool { return x == c })
		r.park(c, p.delay)
	}
}

// byStartOrder orders children as they first started; those that never
// did come after, in declaration order.
func byStartOrder(a, b *child) int {
	switch {
	case a.started == 0 && b.started == 0:
		return cmp.Compare(a.declared, b.declared)
	case a.started == 0:
		return 1
	case b.started == 0:
		return -1
	}
	return cmp.Compare(a.started, b.started)
}

// merge folds plan q into p and returns p.
func (r *run) merge(p, q *restartPlan) *restartPlan {
	q.disarm()
	q.done = true
	p.disarm() // re-armed with the merged delay once nothing is left to stop
	for _, m := range q.members {
		m.plan = nil
		r.join(p, m, false) // already parked, or still stopping
	}
	for _, x := range q.queue {
		if !slices.Contains(p.queue, x) {
			p.queue = append(p.queue, x)
		}
	}
	p.queue = r.stopOrder(p.queue)
	p.delay = max(p.delay, q.delay)
	for _, x := range r.children {
		if x.isStopping() && x.stop.plan == q {
			x.stop.plan = p
			p.waiting++
			q.waiting--
		}
	}
	r.plans = slices.DeleteFunc(r.plans, func(x *restartPlan) bool { return x == q })
	return p
}

// disarm cancels the plan's timer; a message it already sent is
// recognised as superseded by its arm number.
func (p *restartPlan) disarm() {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.arm++
}

// planNext moves p on: it asks the next sibling to stop, or, once nothing
// is left to stop, arms the delay or executes the plan.
func (r *run) planNext(p *restartPlan) {
	if p.done || r.shut != nil {
		return
	}
	for len(p.queue) > 0 && (r.cfg.shutdownOrder == StopAllAtOnce || p.waiting == 0) {
		x := p.queue[0]
		p.queue = p.queue[1:]
		if x.isLive() && !x.isStopping() {
			r.stop(x, p.cause, p, nil)
		}
	}
	if p.waiting > 0 || len(p.queue) > 0 || p.timer != nil {
		return
	}
	if p.delay <= 0 {
		r.execute(p)
		return
	}
	p.arm++
	p.due = r.now() + p.delay
	p.timer = r.after(p.delay, msg{kind: msgPlanDue, plan: p, n: p.arm})
}

func (r *run) onPlanDue(p *restartPlan, arm uint64) {
	if p.done || arm != p.arm || p.timer == nil {
		return // merged, re-armed or cancelled since this timer was armed
	}
	p.timer = nil
	if p.waiting > 0 || len(p.queue) > 0 {
		return
	}
	r.execute(p)
}

// execute starts p's members again, in start order.
func (r *run) execute(p *restartPlan) {
	p.done = true
	r.plans = slices.DeleteFunc(r.plans, func(x *restartPlan) bool { return x == p })
	for _, c := range p.members {
		c.plan = nil
		if c.state() == lifecycle.StateBackoff {
			r.relaunch(c)
		}
	}
}

// leavePlan takes c out of its plan's members (and stop queue): it ended,
// or an operator decides for it now.
func (r *run) leavePlan(c *child) {
	p := c.plan
	if p == nil {
		return
	}
	c.plan = nil
	p.members = slices.DeleteFunc(p.members, func(x *child) bool { return x == c })
	p.queue = slices.DeleteFunc(p.queue, func(x *child) bool { return x == c })
}

// releasePlanStop takes c's stop out of the plan that waits for it, when
// an operator's command takes the stop over, and lets the plan go on
// without it.
func (r *run) releasePlanStop(c *child) {
	p := c.stop.plan
	if p == nil {
		return
	}
	c.stop.plan = nil
	p.waiting--
	r.leavePlan(c)
	r.planNext(p)
}
