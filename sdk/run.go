package sdk

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"slices"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// run is the state of one Serve call. Everything in it belongs to the loop
// goroutine; other goroutines only post messages.
type run struct {
	s        *Supervisor
	cfg      *config
	path     string
	lc       *lifecycle.Machine
	chain    []*Supervisor // this supervisor and its ancestors, for subscriptions
	hooks    []func(Event)
	mopts    []lifecycle.Option
	base     context.Context // parent of attempt contexts: values, no cancellation
	mailbox  chan msg
	done     chan struct{} // closed when the loop has returned
	children []*child      // declaration order
	byName   map[string]*child
	window   *restartWindow
	plans    []*restartPlan
	shut     *shutdown
	err      error
	lost     []string // paths of abandoned children
	declared uint64   // declaration counter, orders restart scopes
	report   *Report  // set when the supervisor has ended
	result   error    // what Serve returns

	startup   bool          // the initial start is in progress
	launching bool          // startChildren is still giving children their turn
	pendingN  int           // children waiting for their dependencies
	started   chan struct{} // closed when it completes or fails
	startErr  error         // why it failed
}

type msgKind uint8

const (
	msgExit         msgKind = iota + 1 // an attempt returned
	msgStopTimeout                     // a stopping attempt overran its stop timeout
	msgPlanDue                         // a restart's backoff elapsed
	msgAdd                             // Add while serving
	msgShutdown                        // Shutdown, or a tighter deadline for it
	msgDeadline                        // the overall shutdown deadline passed
	msgControl                         // an operator command
	msgReady                           // a child signalled readiness
	msgStartTimeout                    // a child did not become ready in time
	msgStaleCheck                      // time to check a child's heartbeat
	msgStatus                          // a status snapshot is wanted
)

// msg is a value, not an interface, so that posting allocates nothing.
type msg struct {
	kind    msgKind
	c       *child
	attempt uint64
	err     error
	panic   *PanicError
	crash   chan struct{}
	plan    *restartPlan
	spec    *Spec
	reply   chan error
	ctl     *command
	status  chan Status
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

func (s *Supervisor) begin(ctx context.Context) (*run, error) {
	s.mu.Lock()
	if s.run != nil {
		s.mu.Unlock()
		return nil, ErrAlreadyRunning
	}
	if err := checkDependencies(s.specs); err != nil {
		s.mu.Unlock()
		return nil, err // nothing has started
	}
	if prev := s.last.Load(); prev != nil {
		prev.retire() // a new Serve reports under the same paths
	}
	lc, err := lifecycle.New(lifecycle.KindSupervisor, s.path, s.machineOptions()...)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	r := &run{
		s:       s,
		cfg:     &s.cfg,
		path:    s.path,
		lc:      lc,
		mopts:   s.machineOptions(),
		base:    context.WithoutCancel(ctx),
		mailbox: make(chan msg, 64),
		done:    make(chan struct{}),
		byName:  make(map[string]*child),
		window:  newRestartWindow(s.cfg.intensity),
		startup: true,
		started: make(chan struct{}),
	}
	s.run = r
	s.last.Store(r)
	specs := slices.Clone(s.specs)
	s.mu.Unlock()

	// Hooks run outside s.mu: they are user code.
	r.chain, r.hooks = s.chain()
	for _, spec := range specs {
		c, err := r.declare(spec)
		if err != nil {
			s.mu.Lock()
			r.finishRun()
			s.mu.Unlock()
			return nil, err
		}
		r.holdIfStillRunning(c)
	}
	return r, nil
}

// holdIfStillRunning keeps a child from starting while an attempt that an
// earlier run abandoned is still inside its Serve: the same service must
// never run twice at once. The child ends failed, and the report says why.
func (r *run) holdIfStillRunning(c *child) {
	r.s.mu.Lock()
	old := r.s.stuck[c.spec.Name]
	if old != nil && !old.inServe.Load() {
		delete(r.s.stuck, c.spec.Name)
		old = nil
	}
	r.s.mu.Unlock()
	if old == nil {
		return
	}
	err := fmt.Errorf("sdk: not started: attempt %d of %s, abandoned by an earlier run, is still running", old.attempt, c.path)
	c.lastErr = err
	r.lost = append(r.lost, c.path)
	c.outcome = OutcomeAbandoned
	r.emit(Event{Type: EventChildAbandoned, Path: c.path, Cause: "an earlier run's attempt is still running", Err: err})
	r.end(c, lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "startup", Reason: err.Error()})
}

// retire closes the run's lifecycle machines, so their metric series
// disappear, and those of its nested supervisors. Runs end before they are
// retired, so nothing else touches their children any more.
func (r *run) retire() {
	r.lc.Close()
	for _, c := range r.children {
		c.lc.Close()
		if sub := nestedSupervisor(c.spec.Service); sub != nil {
			sub.Close()
		}
	}
}

// declare creates the loop's record of a child, and its lifecycle.
func (r *run) declare(spec Spec) (*child, error) {
	path := r.path + "/" + spec.Name
	if sub := nestedSupervisor(spec.Service); sub != nil {
		sub.setParent(r.s, path)
	}
	lc, err := lifecycle.New(lifecycle.KindChild, path, r.mopts...)
	if err != nil {
		return nil, err
	}
	r.declared++
	c := &child{
		seq:     r.declared,
		spec:    spec,
		path:    path,
		lc:      lc,
		starts:  make(chan attemptStart, 1),
		backoff: newBackoffState(*spec.Backoff, r.cfg.rand),
	}
	c.handle = &handle{r: r, c: c}
	// Attempts derive from a per-child context carrying the handle, so
	// Ready and Heartbeat find their child without an allocation per
	// attempt.
	c.base = context.WithValue(r.base, handleKey{}, c.handle)
	r.children = append(r.children, c)
	r.byName[spec.Name] = c
	r.emit(Event{Type: EventChildAdded, Path: path})
	return c, nil
}

func (r *run) loop(ctx context.Context) error {
	r.startChildren()
	ctxDone := ctx.Done()
	for r.lc.Alive() {
		select {
		case <-ctxDone:
			ctxDone = nil
			cause, by, reason := CauseContext, "context", fmt.Sprintf("context ended: %v", context.Cause(ctx))
			var sc *stopCause
			if errors.As(context.Cause(ctx), &sc) {
				cause, by, reason = CauseParent, "parent", sc.reason // a nested supervisor stopped by its parent
			}
			r.beginShutdown(cause, by, reason, lifecycle.StateCompleted, nil)
		case m := <-r.mailbox:
			r.handle(m)
		}
	}
	r.result = r.err
	if len(r.lost) > 0 {
		r.result = errors.Join(r.result, &AbandonedError{Children: r.lost})
	}
	r.s.mu.Lock()
	r.finishRun()
	r.s.mu.Unlock()
	return r.result
}

// finishRun releases what the run holds. Callers hold s.mu.
func (r *run) finishRun() {
	close(r.done)
	for _, c := range r.children {
		if c.abandoned {
			if r.s.stuck == nil {
				r.s.stuck = make(map[string]*child)
			}
			r.s.stuck[c.spec.Name] = c
		}
	}
	for _, c := range r.children {
		r.closeStarts(c)
		c.stopTimers()
	}
	if r.shut != nil && r.shut.timer != nil {
		r.shut.timer.Stop()
	}
	for _, p := range r.plans {
		if p.timer != nil {
			p.timer.Stop()
		}
	}
	r.s.run = nil
}

func (r *run) handle(m msg) {
	switch m.kind {
	case msgExit:
		r.onExit(m)
	case msgStopTimeout:
		r.onStopTimeout(m.c, m.attempt)
	case msgPlanDue:
		r.onPlanDue(m.plan)
	case msgAdd:
		m.reply <- r.onAdd(*m.spec)
	case msgShutdown:
		r.beginShutdown(m.ctl.cause, m.ctl.by, m.ctl.reason, lifecycle.StateCompleted, nil)
		if !m.ctl.deadline.IsZero() {
			r.tighten(m.ctl.deadline)
		}
	case msgDeadline:
		r.abandonAll()
	case msgControl:
		r.onControl(m.ctl)
	case msgReady:
		r.onReady(m.c, m.attempt)
	case msgStartTimeout:
		r.onStartTimeout(m.c, m.attempt)
	case msgStaleCheck:
		r.onStaleCheck(m.c, m.attempt)
	case msgStatus:
		m.status <- r.status()
	}
}

func (r *run) onAdd(spec Spec) error {
	if r.shut != nil {
		return ErrSupervisorDone
	}
	if _, dup := r.byName[spec.Name]; dup {
		return &SpecError{Child: spec.Name, Field: "Name", Problem: "is already used by a sibling"}
	}
	for i, d := range spec.DependsOn {
		if r.byName[d] == nil {
			return &SpecError{Child: spec.Name, Field: fmt.Sprintf("DependsOn[%d]", i), Problem: fmt.Sprintf("%q is not a sibling", d)}
		}
	}
	c, err := r.declare(spec)
	if err != nil {
		return err
	}
	r.s.mu.Lock()
	r.s.specs = append(r.s.specs, spec)
	r.s.names[spec.Name] = struct{}{}
	r.s.mu.Unlock()
	r.launchWhenDepsUp(c, "added")
	return nil
}

// launch starts the child's next attempt. The child is in starting (first
// start) or backoff.
func (r *run) launch(c *child, cause string) {
	if c.attempt > 0 {
		c.restarts++
	}
	c.attempt++
	if st := c.lc.State(); st != lifecycle.StateStarting {
		r.move(c, lifecycle.StateStarting, cause)
	}
	r.emit(Event{Type: EventChildStarting, Path: c.path, Attempt: c.attempt, Generation: c.generation, Cause: cause, Restarts: c.restarts})
	ctx, cancel := context.WithCancelCause(c.base)
	c.cancel, c.running, c.stopping, c.startedAt = cancel, true, false, time.Now()
	if !c.hasGoroutine {
		c.hasGoroutine = true
		labels := pprof.WithLabels(r.base, pprof.Labels("supervisor", r.path, "child", c.spec.Name))
		go r.goroutine(c, labels)
	}
	c.ready, c.failErr = false, nil
	c.handle.attempt.Store(c.attempt)
	c.starts <- attemptStart{ctx: ctx, attempt: c.attempt}
	r.move(c, lifecycle.StateRunning, "")
	r.emit(Event{Type: EventChildRunning, Path: c.path, Attempt: c.attempt, Generation: c.generation, From: lifecycle.StateStarting, To: lifecycle.StateRunning})
	r.armAttemptTimers(c)
	if !c.spec.Readiness {
		r.childUp()
	}
}

func (r *run) onExit(m msg) {
	c := m.c
	if m.crash != nil {
		defer close(m.crash)
	}
	if c.attempt != m.attempt || !c.running {
		// An abandoned attempt came back late: its child has ended, and
		// the exit changes nothing.
		r.emit(Event{Type: EventStaleExit, Path: c.path, Attempt: m.attempt, Err: m.err})
		if c.ended {
			r.closeStarts(c)
		}
		return
	}
	now := time.Now()
	ran := now.Sub(c.startedAt)
	c.running = false
	c.cancel(errAttemptEnded)
	c.stopTimers()
	err := m.err
	if m.panic != nil {
		err = m.panic
	}
	kind := classify(m.err, m.panic != nil, c.stopping)
	if c.stopping && c.failErr != nil && r.shut == nil {
		// The supervisor stopped the attempt because it failed (no
		// heartbeat, not ready in time): its exit is that failure.
		r.emit(Event{Type: EventChildStopped, Path: c.path, Attempt: c.attempt, Waited: now.Sub(c.stopAt)})
		c.stopping, kind, err = false, c.failKind, c.failErr
	}
	switch {
	case kind.Abnormal():
		if rs := c.spec.Backoff.ResetAfter; rs > 0 && ran >= rs {
			c.failures = 0
		}
		c.failures++
		c.lastErr = err
	case kind == ExitNormal:
		c.failures = 0
		if err != nil {
			c.lastErr = err
		}
	}
	if m.panic != nil {
		c.lastPanic = m.panic
		r.emit(Event{Type: EventChildPanicked, Path: c.path, Attempt: c.attempt, Err: m.panic, Ran: ran, Failures: c.failures})
	}
	r.emit(Event{Type: EventChildExited, Path: c.path, Attempt: c.attempt, Generation: c.generation, Exit: kind, Err: err, Ran: ran, Failures: c.failures})
	if m.crash != nil {
		return // the child's goroutine re-panics once the events are out
	}
	if c.stopping {
		c.stopping = false
		c.outcome, c.stopWaited = OutcomeGraceful, now.Sub(c.stopAt)
		r.emit(Event{Type: EventChildStopped, Path: c.path, Attempt: c.attempt, Waited: c.stopWaited})
		r.afterStop(c)
		return
	}
	r.answer(c, ErrChildExited) // a command waiting for this attempt
	if r.shut != nil {
		// Ended on its own while its siblings are being stopped.
		c.outcome = OutcomeAlreadyExited
		r.endOwn(c, kind, err)
		return
	}
	if r.startup && c.spec.Readiness && !c.ready {
		r.endOwn(c, kind, err)
		r.startFailed(c, err)
		return
	}
	if errors.Is(err, ErrFatal) {
		r.endOwn(c, kind, err)
		r.beginShutdown(CauseFatal, c.path, "fatal error from child: "+err.Error(), lifecycle.StateFailed, &FatalError{Child: c.path, Err: err})
		return
	}
	if !shouldRestart(&c.spec, Exit{Kind: kind, Err: err, Attempt: c.attempt}) {
		r.endOwn(c, kind, err)
		r.autoShutdown(c)
		return
	}
	if kind.Abnormal() && r.window.record(now) {
		r.endOwn(c, kind, err)
		r.emit(Event{Type: EventMeltdown, Path: r.path, Cause: c.path + " exceeded the restart intensity", Err: err})
		r.beginShutdown(CauseMeltdown, "intensity", fmt.Sprintf("meltdown: more than %d restarts in %s (last: %s)", r.cfg.intensity.MaxRestarts, r.cfg.intensity.Period, c.path),
			lifecycle.StateFailed, &MeltdownError{Path: r.path, Restarts: r.window.count(now), Intensity: r.cfg.intensity})
		return
	}
	r.restart(c, c.backoff.next(ran), c.exitCause(kind))
}

var errAttemptEnded = errors.New("sdk: attempt ended")

// endOwn ends a child that exited on its own and will not run again.
func (r *run) endOwn(c *child, kind ExitKind, err error) {
	rep := lifecycle.ExitReport{State: lifecycle.StateCompleted, Phase: "run", Reason: "returned"}
	if kind.Abnormal() {
		rep = lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "run", Reason: err.Error(), Panic: kind == ExitPanic, Recoverable: true}
	} else if err != nil {
		rep.Reason = err.Error()
	}
	r.end(c, rep)
}

// end finishes the child's lifecycle. Its goroutine ends too, unless an
// abandoned attempt still holds it.
func (r *run) end(c *child, rep lifecycle.ExitReport) {
	from := c.lc.State()
	if _, err := c.lc.Finish(rep); err != nil {
		otel.Handle(err)
	}
	c.ended = true
	r.setPending(c, false)
	if !c.running {
		r.closeStarts(c)
	}
	r.emit(Event{Type: EventChildEnded, Path: c.path, Attempt: c.attempt, From: from, To: rep.State, Cause: rep.Reason, Restarts: c.restarts})
	if r.cfg.removeEnded && r.shut == nil && !c.abandoned {
		r.forget(c) // an abandoned child stays, so the report names it
	}
}

// forget removes an ended child from the supervisor, its spec included, and
// retires its metric series.
func (r *run) forget(c *child) {
	r.children = slices.DeleteFunc(r.children, func(x *child) bool { return x == c })
	delete(r.byName, c.spec.Name)
	r.s.mu.Lock()
	r.s.specs = slices.DeleteFunc(r.s.specs, func(s Spec) bool { return s.Name == c.spec.Name })
	delete(r.s.names, c.spec.Name)
	r.s.mu.Unlock()
	c.lc.Close()
}

func (r *run) closeStarts(c *child) {
	if !c.startsClosed {
		c.startsClosed = true
		close(c.starts)
	}
}

// stop cancels the child's running attempt and arms its stop timeout,
// counted from now.
func (r *run) stop(c *child, reason string) {
	c.stopping, c.stopAt = true, time.Now()
	from := c.lc.State()
	r.move(c, lifecycle.StateStopping, reason)
	r.emit(Event{Type: EventChildStopping, Path: c.path, Attempt: c.attempt, From: from, To: lifecycle.StateStopping, Cause: reason})
	c.cancel(&stopCause{reason: reason})
	attempt := c.attempt
	c.stopTimer = time.AfterFunc(c.spec.StopTimeout, func() {
		r.post(msg{kind: msgStopTimeout, c: c, attempt: attempt})
	})
}

func (r *run) onStopTimeout(c *child, attempt uint64) {
	if c.attempt != attempt || !c.running || !c.stopping {
		return // it stopped in time; the timer raced the exit
	}
	r.abandon(c, fmt.Sprintf("did not stop within %s", c.spec.StopTimeout))
	r.afterStop(c)
}

// abandon gives up on a stopping attempt that has not returned. It is
// reported, ends failed and never runs again: its goroutine may still be
// inside Serve, and a second attempt would run beside it.
func (r *run) abandon(c *child, why string) {
	c.stopWaited = time.Since(c.stopAt)
	c.running, c.stopping, c.abandoned = false, false, true
	c.outcome = OutcomeAbandoned
	c.stopTimers()
	r.lost = append(r.lost, c.path)
	r.emit(Event{Type: EventChildAbandoned, Path: c.path, Attempt: c.attempt, Waited: c.stopWaited, Cause: why})
	r.end(c, lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "stop", Reason: why + "; abandoned"})
}

// afterStop continues whatever the child's stop was part of: an operator
// command, a strategy restart, or the supervisor's shutdown.
func (r *run) afterStop(c *child) {
	if c.cmd != nil {
		// An operator's command wins over a sibling's restart that the
		// child joined meanwhile: let that restart go on without it.
		if p := r.releaseStopPlan(c); p != nil {
			defer r.planReady(p)
		}
		r.leavePlan(c)
		r.finishCommand(c)
	}
	if p := c.stopFor; p != nil {
		c.stopFor = nil
		r.planStopped(p, c)
	}
	if r.shut != nil {
		r.stoppedDuringShutdown(c)
	}
}

func (r *run) move(c *child, to lifecycle.State, reason string) {
	if err := c.lc.Transition(to, reason); err != nil {
		otel.Handle(err) // a bug in the loop; reported, never fatal to the service
	}
}

func (r *run) moveSelf(to lifecycle.State, reason string) {
	from := r.lc.State()
	if err := r.lc.Transition(to, reason); err != nil {
		otel.Handle(err)
		return
	}
	r.emit(Event{Type: EventSupervisorState, Path: r.path, From: from, To: to, Cause: reason})
}

func (r *run) emit(e Event) {
	stamped := false
	for _, h := range r.hooks {
		if !stamped {
			e.Time, e.Supervisor, stamped = time.Now(), r.path, true
		}
		h(e)
	}
	for _, s := range r.chain {
		for _, sub := range s.subsList() {
			if !stamped {
				e.Time, e.Supervisor, stamped = time.Now(), r.path, true
			}
			sub.offer(e)
		}
	}
}
