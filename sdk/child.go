package sdk

import (
	"context"
	"runtime"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// maxStack bounds the stack captured from a panic.
const maxStack = 64 << 10

// child is the loop's record of one declared child. Only the loop
// goroutine touches it, except for the fields handed to the child's own
// goroutine through starts.
type child struct {
	seq  uint64 // declaration order within the run
	spec Spec
	path string
	lc   *lifecycle.Machine

	starts       chan attemptStart // to the child's goroutine; capacity 1
	hasGoroutine bool
	startsClosed bool

	attempt, generation uint64
	restarts, failures  int
	cancel              context.CancelCauseFunc
	running             bool // an attempt is inside Serve
	stopping            bool // the supervisor cancelled that attempt
	startedAt, stopAt   time.Time
	stopTimer           *time.Timer
	backoff             *backoffState
	plan                *restartPlan // restart this child belongs to
	stopFor             *restartPlan // restart this child's stop is part of
	abandoned, ended    bool
	causes              [exitKinds]string // built once: a restart formats nothing

	handle *handle         // what Ready and Heartbeat reach through the context
	base   context.Context // parent of the child's attempt contexts

	pending  bool // waiting for its dependencies before launching
	ready    bool // the running attempt signalled readiness
	paused   bool // held by an operator until resumed
	failErr  error
	failKind ExitKind // why the supervisor stopped the attempt as a failure

	startTimer, liveTimer *time.Timer

	lastErr    error
	lastPanic  *PanicError
	outcome    StopOutcome
	stopWaited time.Duration

	cmd *command // the operator command waiting for this child's stop

	// inServe is set by the child's goroutine while an attempt is inside
	// Serve: after a run has ended, it tells whether an abandoned attempt
	// still runs.
	inServe atomic.Bool
}

// stopTimers disarms the timers of the child's current attempt.
func (c *child) stopTimers() {
	for _, t := range []**time.Timer{&c.stopTimer, &c.startTimer, &c.liveTimer} {
		if *t != nil {
			(*t).Stop()
			*t = nil
		}
	}
}

// exitCause names the child's exit of kind k as the cause of a restart.
func (c *child) exitCause(k ExitKind) string {
	if c.causes[k] == "" {
		c.causes[k] = c.path + " exited (" + k.String() + ")"
	}
	return c.causes[k]
}

type attemptStart struct {
	ctx     context.Context
	attempt uint64
}

// goroutine runs the child's attempts one after another: one goroutine per
// child for its whole life, parked between attempts, so a restart costs a
// channel send rather than a goroutine start. It ends when the loop closes
// starts or has finished.
func (r *run) goroutine(c *child, labels context.Context) {
	pprof.SetGoroutineLabels(labels)
	for a := range c.starts {
		c.inServe.Store(true)
		err, pe := serveOnce(c.spec.Service, a.ctx)
		c.inServe.Store(false)
		m := msg{kind: msgExit, c: c, attempt: a.attempt, err: err, panic: pe}
		if pe != nil && r.cfg.passPanics {
			m.crash = make(chan struct{})
		}
		if m.crash != nil {
			// Pass-through: crash once the loop has delivered the panic's
			// events, or at once if the loop has already finished: the
			// panic must never be lost.
			if r.post(m) {
				select {
				case <-m.crash:
				case <-r.done:
				}
			}
			panic(pe.Value)
		}
		if !r.post(m) {
			return
		}
	}
}

// serveOnce runs one attempt, turning a panic into a *PanicError with the
// stack captured where it was recovered.
func serveOnce(svc Service, ctx context.Context) (err error, pe *PanicError) {
	defer func() {
		if v := recover(); v != nil {
			buf := make([]byte, maxStack)
			pe = &PanicError{Value: v, Stack: buf[:runtime.Stack(buf, false)]}
		}
	}()
	return svc.Serve(ctx), nil
}
