package sdk

import (
	"context"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// maxStack bounds the stack captured from a panic.
const maxStack = 64 << 10

// child is the loop's record of one declared child. Only the loop
// goroutine touches it, except for the fields handed to the child's own
// goroutine through starts.
type child struct {
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
		err, pe := serveOnce(c.spec.Service, a.ctx)
		m := msg{kind: msgExit, c: c, attempt: a.attempt, err: err, panic: pe}
		if pe != nil && r.cfg.passPanics {
			m.crash = make(chan struct{})
		}
		if !r.post(m) {
			return
		}
		if m.crash != nil {
			<-m.crash // the loop has delivered the panic's events
			panic(pe.Value)
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
