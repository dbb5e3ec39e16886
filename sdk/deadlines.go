package sdk

import (
	"container/heap"
	"time"
)

// clock is one of a child's deadlines. A child has at most one of each
// armed at a time.
type clock uint8

const (
	clockStart clock = iota // the readiness deadline of the live attempt
	clockStale              // the next heartbeat check of the live attempt
	clockWait               // the backoff of a lone restart
	clockStop               // the stop timeout of a stopping attempt
	numClocks
)

// clockMsgs is the message each clock delivers when it is due.
var clockMsgs = [numClocks]msgKind{msgStartTimeout, msgStaleCheck, msgWaitDue, msgStopTimeout}

// deadline is one armed clock of one child.
type deadline struct {
	at   time.Duration // since the run's epoch, on the monotonic clock
	seq  uint64        // arming order: deadlines due at the same instant fire in it
	c    *child
	n    uint64 // the attempt it was armed for
	kind clock
}

// deadlines are the run's child clocks: a min-heap with one timer for the
// earliest. A time.AfterFunc per clock cost each child a timer and a
// closure (224 B) for every stop, start and backoff; the heap costs an
// entry while armed, and each child keeps its entries' positions
// (child.clocks), so disarming is O(log n) and nothing stale piles up.
type deadlines struct {
	epoch time.Time
	h     []deadline
	seq   uint64
	timer *time.Timer
	armed time.Duration // what the timer is set for, when armed
	set   bool          // the timer is set
}

func (r *run) now() time.Duration { return r.stamp().Sub(r.clocks.epoch) }

// stamp is the time of the loop's current step (see stepClock).
func (r *run) stamp() time.Time { return r.step.now() }

// stepClock is the loop's clock: read once per step, however many
// transitions, events and deadlines the step makes (reading the clock was
// a fifth of a restart's CPU time on a virtual machine). It is the loop's
// own: only the loop goroutine, and the goroutine that prepares the run
// before the loop starts, may read it. It references nothing, because the
// run's lifecycle machines hold it and they must not keep the supervisor
// reachable (see seriesSet).
type stepClock struct{ at time.Time }

func (c *stepClock) now() time.Time {
	if c.at.IsZero() {
		c.at = time.Now()
	}
	return c.at
}

// next starts a step: the next reading is fresh.
func (c *stepClock) next() { c.at = time.Time{} }

// arm sets c's clock k to fire after d, for its current attempt, replacing
// the one armed.
func (r *run) arm(c *child, k clock, d time.Duration) {
	r.disarm(c, k)
	q := &r.clocks
	q.seq++
	q.h = append(q.h, deadline{at: r.now() + d, seq: q.seq, c: c, n: c.attempt, kind: k})
	q.place(len(q.h) - 1)
	heap.Fix(q, len(q.h)-1)
	r.retime()
}

// disarm stops c's clock k, if it is armed.
func (r *run) disarm(c *child, k clock) {
	pos := c.clocks[k]
	if pos == 0 {
		return
	}
	q := &r.clocks
	i, last := int(pos)-1, len(q.h)-1
	if i != last {
		q.Swap(i, last)
	}
	q.removeLast()
	if i != last {
		heap.Fix(q, i)
	}
	r.retime()
}

// disarmAttempt stops the clocks of c's live attempt and of its wait.
func (r *run) disarmAttempt(c *child) {
	for k := range clock(numClocks) {
		if k != clockStop {
			r.disarm(c, k)
		}
	}
}

// onClocks handles every deadline that is due, in order, then sets the
// timer for the next one. Each handler checks that what it was armed for
// still holds.
func (r *run) onClocks() {
	q := &r.clocks
	q.set = false
	now := r.now()
	for len(q.h) > 0 && q.h[0].at <= now {
		d := q.h[0]
		r.disarm(d.c, d.kind)
		r.handle(msg{kind: clockMsgs[d.kind], c: d.c, n: d.n})
	}
	r.retime()
}

// retime sets the timer for the earliest deadline, when it changed.
func (r *run) retime() {
	q := &r.clocks
	if len(q.h) == 0 {
		if q.set {
			q.timer.Stop()
			q.set = false
		}
		return
	}
	next := q.h[0].at
	if q.set && q.armed == next {
		return
	}
	d := max(next-r.now(), 0)
	if q.timer == nil {
		q.timer = time.AfterFunc(d, func() { r.post(msg{kind: msgClocks}) })
	} else {
		q.timer.Reset(d)
	}
	q.armed, q.set = next, true
}

// stopClocks stops the timer for good, when the run ends.
func (r *run) stopClocks() {
	if q := &r.clocks; q.timer != nil {
		q.timer.Stop()
		q.set = false
	}
}

// deadlines is a heap.Interface. Arming appends and fixes, disarming
// swaps with the last and fixes, so no deadline is ever boxed into an
// interface (heap.Push and heap.Pop would allocate one each).
func (q *deadlines) Len() int { return len(q.h) }

func (q *deadlines) Less(i, j int) bool {
	a, b := &q.h[i], &q.h[j]
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (q *deadlines) Swap(i, j int) {
	q.h[i], q.h[j] = q.h[j], q.h[i]
	q.place(i)
	q.place(j)
}

func (q *deadlines) Push(x any) {
	q.h = append(q.h, x.(deadline))
	q.place(len(q.h) - 1)
}

func (q *deadlines) Pop() any { return q.removeLast() }

func (q *deadlines) removeLast() deadline {
	last := len(q.h) - 1
	d := q.h[last]
	q.h[last] = deadline{}
	q.h = q.h[:last]
	d.c.clocks[d.kind] = 0
	return d
}

// place records h[i]'s position in its child.
func (q *deadlines) place(i int) { q.h[i].c.clocks[q.h[i].kind] = int32(i) + 1 }
