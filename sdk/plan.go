package sdk

import (
	"cmp"
	"slices"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// restartPlan is one restart of a strategy scope: the children to run
// again, in declaration order, once every running sibling in the scope has
// stopped and the delay has elapsed. Overlapping restarts merge into one
// plan, so no child is ever started twice.
type restartPlan struct {
	members []*child // to restart, declaration order
	waiting int      // scope children still stopping
	delay   time.Duration
	cause   string
	timer   *time.Timer
	armed   bool
}

// scope returns the children that restart with c under the strategy, in
// declaration order, c included. Ended children are not in any scope.
func (r *run) scope(c *child) []*child {
	var out []*child
	switch r.cfg.strategy {
	case OneForAll:
		out = r.children
	case RestForOne:
		i := slices.Index(r.children, c)
		out = r.children[i:]
	default:
		return []*child{c}
	}
	// Ended and paused children are out of every scope: nothing restarts
	// them but an operator.
	return slices.DeleteFunc(slices.Clone(out), func(x *child) bool { return (x.ended || x.paused) && x != c })
}

// restart schedules c, and the siblings its strategy restarts with it, to
// run again after delay.
func (r *run) restart(c *child, delay time.Duration, cause string) {
	if r.cfg.strategy == OneForOne && delay <= 0 && c.plan == nil {
		// The common case needs no plan: nothing to wait for, nobody to
		// merge with. Restarting in place keeps a restart allocation-light.
		r.move(c, lifecycle.StateStarting, cause)
		r.emit(Event{Type: EventChildRestarting, Path: c.path, Attempt: c.attempt, Generation: c.generation, Cause: cause, Restarts: c.restarts, Failures: c.failures})
		r.launch(c, cause)
		return
	}
	p := &restartPlan{delay: delay, cause: cause}
	for _, x := range r.scope(c) {
		if x.plan != nil && x.plan != p {
			p = r.merge(x.plan, p)
		}
	}
	r.join(p, c, delay, cause)
	for _, x := range r.scope(c) {
		if x == c || x.plan == p {
			continue
		}
		if x.spec.Restart == Temporary {
			// OTP: a temporary child stopped for a sibling is not
			// restarted.
			if x.running && !x.stopping {
				x.stopFor = p
				p.waiting++
				r.stop(x, cause)
			}
			continue
		}
		x.generation++
		r.join(p, x, delay, cause)
		if x.running && !x.stopping {
			x.stopFor = p
			p.waiting++
			r.stop(x, cause)
		} else if x.running && x.stopping && x.stopFor == nil {
			x.stopFor = p
			p.waiting++
		}
	}
	if !slices.Contains(r.plans, p) {
		r.plans = append(r.plans, p)
	}
	r.planReady(p)
}

// join adds c to p, keeping declaration order, and moves it out of running
// if its attempt has already ended.
func (r *run) join(p *restartPlan, c *child, delay time.Duration, cause string) {
	if c.plan == p {
		return
	}
	c.plan = p
	p.delay = max(p.delay, delay)
	p.members = append(p.members, c)
	if n := len(p.members); n > 1 && p.members[n-2].seq > c.seq {
		// Only a merge adds out of order; scopes arrive in declaration order.
		slices.SortFunc(p.members, func(a, b *child) int { return cmp.Compare(a.seq, b.seq) })
	}
	if !c.running {
		r.park(c, p)
	}
}

// merge folds plan q into p (or p into q) and returns the survivor.
func (r *run) merge(q, p *restartPlan) *restartPlan {
	if q.timer != nil {
		q.timer.Stop()
		q.timer, q.armed = nil, false
	}
	for _, m := range p.members {
		m.plan = nil
		r.join(q, m, p.delay, p.cause)
	}
	q.waiting += p.waiting
	for _, x := range r.children {
		if x.stopFor == p {
			x.stopFor = q
		}
	}
	r.plans = slices.DeleteFunc(r.plans, func(x *restartPlan) bool { return x == p })
	return q
}

// park moves a member whose attempt has ended to where it waits: backoff
// when the plan has a delay, starting otherwise.
func (r *run) park(c *child, p *restartPlan) {
	to := lifecycle.StateStarting
	if p.delay > 0 {
		to = lifecycle.StateBackoff
	}
	if st := c.lc.State(); st != to && st != lifecycle.StateBackoff {
		r.move(c, to, p.cause)
	}
	if to == lifecycle.StateBackoff {
		r.emit(Event{Type: EventChildBackoff, Path: c.path, Attempt: c.attempt, Generation: c.generation, To: lifecycle.StateBackoff, Delay: p.delay, Cause: p.cause, Restarts: c.restarts, Failures: c.failures})
	}
}

// planStopped records that a child stopped (or was abandoned) for p.
func (r *run) planStopped(p *restartPlan, c *child) {
	p.waiting--
	if c.ended {
		p.members = slices.DeleteFunc(p.members, func(x *child) bool { return x == c })
		c.plan = nil
	} else if c.plan == p {
		r.park(c, p)
	} else if c.spec.Restart == Temporary {
		r.end(c, lifecycle.ExitReport{State: lifecycle.StateStopped, Phase: "restart", Reason: "temporary child stopped for a sibling: " + p.cause})
	}
	r.planReady(p)
}

// planReady starts p's members once nothing in the scope is still
// stopping: at once without a delay, or when the delay has elapsed.
func (r *run) planReady(p *restartPlan) {
	if p.waiting > 0 || p.armed || r.shut != nil {
		return
	}
	if p.delay <= 0 {
		r.execute(p)
		return
	}
	p.armed = true
	p.timer = time.AfterFunc(p.delay, func() { r.post(msg{kind: msgPlanDue, plan: p}) })
}

func (r *run) onPlanDue(p *restartPlan) {
	if !slices.Contains(r.plans, p) || r.shut != nil || p.waiting > 0 {
		return // cancelled, merged or superseded by shutdown
	}
	r.execute(p)
}

func (r *run) execute(p *restartPlan) {
	r.plans = slices.DeleteFunc(r.plans, func(x *restartPlan) bool { return x == p })
	for _, c := range p.members {
		c.plan = nil
		if c.ended || c.paused {
			continue
		}
		r.emit(Event{Type: EventChildRestarting, Path: c.path, Attempt: c.attempt, Generation: c.generation, Cause: p.cause, Restarts: c.restarts, Failures: c.failures})
		r.launch(c, p.cause)
	}
}
