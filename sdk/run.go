package sdk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// run is the state of one Serve call. Everything in it belongs to the loop
// goroutine; other goroutines only post messages.
type run struct {
	step     *stepClock // the loop's clock
	s        *Supervisor
	cfg      *config
	path     string
	lc       *lifecycle.Machine
	chain    []*Supervisor // this supervisor and its ancestors, for subscriptions
	hooks    []func(Event) // theirs, flattened
	feed     *feed         // the tree's, owned by the root's run
	ownsFeed bool
	// parentAttempt is the parent's attempt this run serves as, for a
	// nested supervisor: it signals readiness on it.
	parentAttempt *attemptCtx
	mopts         []lifecycle.Option
	base          context.Context // parent of attempt contexts: values, no cancellation
	mailbox       chan msg
	done          chan struct{} // closed when the loop has returned
	children      []*child      // declaration order
	window        *restartWindow
	clocks        deadlines // the children's deadlines
	plans         []*restartPlan
	shut          *shutdown
	err           error
	lost          []string // paths of abandoned children
	declared      uint64   // declaration counter
	started       uint64   // start-order counter
	// waiters indexes the children set aside to wait for their
	// dependencies (their state says starting), so that a launch checks
	// only them; entries that have left starting are dropped lazily.
	waiters      []*child
	inChildUp    bool // childUp is running: a nested call asks for another round
	childUpAgain bool
	report       *Report       // set when the supervisor has ended
	removed      []ChildReport // children removed during the run, most recent last
	omitted      int           // removed children beyond the bound, and ended pool children forgotten
	result       error         // what Serve returns
	endSeq       uint64        // the number of the run's last event, for flushing the hooks
	hurry        chan struct{} // closed when the shutdown deadline has passed
	hurried      bool
	doa          bool        // served with a context that had already ended
	stMu         sync.Mutex  // guards stCall and stNext
	stCall       *statusCall // the status copy in progress
	stNext       *statusCall // the next one, shared by those who asked meanwhile
	// shutting is set when the shutdown begins, for callers: commands and
	// additions are refused without reaching the loop, so that a storm of
	// them cannot hold the shutdown up.
	shutting atomic.Bool

	startup   bool          // the initial start is in progress
	launching bool          // startChildren is still giving children their turn
	turn      uint64        // the declaration number of the child whose turn it is
	startDone chan struct{} // closed when the start completes or fails
	startErr  error         // why it failed
	startSeq  uint64        // the number of the event that says it completed
}

type msgKind uint8

const (
	msgExit         msgKind = iota + 1 // an attempt returned
	msgStopTimeout                     // a stopping attempt overran its stop timeout
	msgPlanDue                         // a scope restart's backoff elapsed
	msgWaitDue                         // a lone child's backoff elapsed
	msgAdd                             // Add while serving
	msgShutdown                        // Shutdown, or a tighter deadline for it
	msgDeadline                        // the overall shutdown deadline passed
	msgControl                         // an operator command
	msgReady                           // an attempt signalled readiness
	msgStartTimeout                    // an attempt did not become ready in time
	msgStaleCheck                      // time to check an attempt's heartbeat
	msgStatus                          // a status snapshot is wanted
	msgLate                            // a signal came from an attempt that has ended
	msgReport                          // a partial report is wanted (the parent abandoned us)
	msgClocks                          // a child deadline may be due
)

// msg is a value, not an interface, so that posting allocates nothing.
type msg struct {
	kind   msgKind
	c      *child
	a      *attemptCtx
	n      uint64 // attempt or timer arm the message is for
	plan   *restartPlan
	add    *addRequest
	ctl    *command
	status chan *runSnap
	report chan *Report
	signal string
}

// post hands m to the loop, or reports false when the loop has finished.
func (r *run) post(m msg) bool {
	select {
	case r.mailbox <- m:
		return true
	case <-r.done:
		return false
	}
}

// postCtx is post for callers with a context: a full mailbox does not
// outlast ctx.
func (r *run) postCtx(ctx context.Context, m msg) (bool, error) {
	select {
	case r.mailbox <- m:
		return true, nil
	case <-r.done:
		return false, nil
	case <-ctx.Done():
		return false, context.Cause(ctx)
	}
}

// tryPost hands m to the loop if there is room at once: for reports that
// must never block their sender.
func (r *run) tryPost(m msg) {
	select {
	case r.mailbox <- m:
	default:
	}
}

// timerPost returns a timer callback that posts m; timers fire on their
// own goroutines, which must not outlive the run.
func (r *run) after(d time.Duration, m msg) *time.Timer {
	return time.AfterFunc(d, func() { r.post(m) })
}

func (r *run) loop(ctx context.Context) error {
	r.step.next()
	ctxDone := ctx.Done()
	if ctx.Err() != nil {
		// Served with a context that has already ended: start nothing,
		// but account for every child (never started) in a report.
		ctxDone, r.doa = nil, true
		r.onContextDone(context.Cause(ctx))
	} else {
		r.startChildren()
	}
	for r.lc.Alive() {
		select {
		case <-ctxDone:
			ctxDone = nil
			r.step.next()
			r.onContextDone(context.Cause(ctx))
		case m := <-r.mailbox:
			r.step.next()
			r.handle(m)
			if checkSteps {
				r.checkStep()
			}
		}
	}
	return r.finish()
}

// onContextDone shuts the supervisor down because the context it was
// served with ended: its children's causes wrap that context's cause.
func (r *run) onContextDone(cause error) {
	sc := &StopCause{kind: stopShutdown, Cause: CauseContext, RequestedBy: "context", Reason: "context ended: " + cause.Error(), Err: cause}
	var parent *StopCause
	if errors.As(cause, &parent) {
		// A nested supervisor stopped by its parent: the parent's reason
		// stands.
		sc.Cause, sc.RequestedBy, sc.Reason, sc.Origin = CauseParent, "parent", parent.Reason, parent.Origin
	}
	r.beginShutdown(sc, lifecycle.StateCompleted, nil)
}

func (r *run) handle(m msg) {
	switch m.kind {
	case msgExit:
		r.onExit(m.a, &m.a.exit)
	case msgStopTimeout:
		r.onStopTimeout(m.c, m.n)
	case msgPlanDue:
		r.onPlanDue(m.plan, m.n)
	case msgWaitDue:
		r.onWaitDue(m.c, m.n)
	case msgAdd:
		m.add.reply <- r.onAdd(m.add)
	case msgShutdown:
		r.onShutdownRequest(m.ctl)
	case msgDeadline:
		r.abandonAll()
	case msgControl:
		r.onControl(m.ctl)
	case msgReady:
		r.onReady(m.a)
	case msgStartTimeout:
		r.onStartTimeout(m.c, m.n)
	case msgStaleCheck:
		r.onStaleCheck(m.c, m.n)
	case msgClocks:
		r.onClocks()
	case msgStatus:
		m.status <- r.snapshot()
	case msgReport:
		m.report <- r.buildReport()
	case msgLate:
		r.emit(Event{Type: EventLateSignal, Path: m.a.c.path, Attempt: m.a.n, Cause: m.signal + " from attempt " + fmt.Sprint(m.a.n) + ", which has ended"})
	}
}

// current reports whether a is the child's live attempt.
func (c *child) current(a *attemptCtx) bool { return c.live == a && a != nil }

// move changes the child's state. An illegal move is a bug of the loop:
// it is reported through the bug handler (which fails the tests) and
// changes nothing.
func (r *run) move(c *child, to lifecycle.State, reason string) {
	from := c.state()
	if from == to {
		return
	}
	if err := c.lc.Transition(to, reason); err != nil {
		reportBug(err)
		return
	}
}

// finishChild ends the child's lifecycle with rep.
func (r *run) finishChild(c *child, rep lifecycle.ExitReport) bool {
	if _, err := c.lc.Finish(rep); err != nil {
		reportBug(err)
		return false
	}
	return true
}

func (r *run) moveSelf(to lifecycle.State, reason string) uint64 {
	from := r.lc.State()
	if err := r.lc.Transition(to, reason); err != nil {
		reportBug(err)
		return 0
	}
	return r.emit(Event{Type: EventSupervisorState, Path: r.path, From: from, To: to, Cause: reason})
}

// emit publishes e to the tree's observers and flight recorder and
// returns its number, 0 when nobody observes. With neither an observer nor
// a recorder, it costs nothing but the check.
func (r *run) emit(e Event) uint64 { return r.emitAt(e, r.stamp) }

// emitOffLoop is emit for a goroutine other than the loop's (the feed's,
// reporting a hook's panic): it reads the clock itself.
func (r *run) emitOffLoop(e Event) uint64 { return r.emitAt(e, time.Now) }

func (r *run) emitAt(e Event, now func() time.Time) uint64 {
	if len(r.hooks) == 0 && !r.feed.rec.on() && !r.subscribed() {
		return 0
	}
	e.Time, e.Supervisor = now(), r.path
	return r.feed.publish(r, e, r.hooks)
}

func (r *run) subscribed() bool {
	for _, s := range r.chain {
		if len(s.subsList()) > 0 {
			return true
		}
	}
	return false
}
