package sdk

import (
	"context"
	"errors"
	"runtime"
	"runtime/pprof"
	"sync/atomic"
	"time"
)

// ErrNotSupervised is returned by [Ready] for a context that does not
// belong to a supervised attempt.
var ErrNotSupervised = errors.New("sdk: context is not a supervised attempt")

// ErrGoexit is the failure of an attempt whose Serve called
// runtime.Goexit (t.FailNow in a test helper does), or panicked with nil
// under GODEBUG=panicnil=1.
var ErrGoexit = errors.New("sdk: Serve called runtime.Goexit")

// attemptCtx is the context of one attempt, and the attempt's identity:
// whatever is called with it (Ready, Heartbeat) counts only for this
// attempt, however late the call comes.
type attemptCtx struct {
	context.Context // cancelled with the attempt's stop cause
	cancel          context.CancelCauseFunc
	r               *run
	c               *child  // read by the loop only; the attempt goroutine uses svc
	rn              *runner // the goroutine running it
	svc             Service
	n               uint64
	beat            atomic.Int64 // UnixNano of the last heartbeat, 0 for none
	over            atomic.Bool  // set by the loop once the attempt is no longer current
	lateSent        atomic.Bool  // a late signal has been reported
	// exit is how the attempt ended, written by its goroutine before it
	// posts the exit (the channel orders it before the loop's read).
	exit exitMsg
}

type attemptKey struct{}

// Value returns the attempt itself for attemptKey, so that Ready and
// Heartbeat find it through any context derived from it.
func (a *attemptCtx) Value(key any) any {
	if key == (attemptKey{}) {
		return a
	}
	return a.Context.Value(key)
}

func attemptFrom(ctx context.Context) *attemptCtx {
	a, _ := ctx.Value(attemptKey{}).(*attemptCtx)
	return a
}

// runner is the goroutine that runs a child's attempts one after another:
// one goroutine per child for its whole life, parked between attempts, so
// a restart costs a channel send rather than a goroutine start. A child
// gets a new runner only when an abandoned attempt still holds the old one
// and the spec allows a replacement.
type runner struct {
	starts  chan *attemptCtx // capacity 1; closed by the loop
	closed  bool             // loop-owned
	inServe atomic.Bool      // an attempt is inside Serve, for runs that come after
	stack   []byte           // the runner's scratch buffer for panic stacks
}

// start hands an attempt to the runner, starting its goroutine first when
// needed.
func (r *run) startAttempt(c *child, a *attemptCtx) {
	if c.rn == nil {
		c.rn = &runner{starts: make(chan *attemptCtx, 1)}
		labels := pprof.WithLabels(r.base, pprof.Labels("child", c.spec.Name, "supervisor", r.path))
		go r.runAttempts(c.rn, labels)
	}
	a.rn = c.rn
	c.rn.starts <- a
}

// retireRunner closes the runner's channel: its goroutine ends once the
// attempt it may still be running returns.
func retireRunner(rn *runner) {
	if rn != nil && !rn.closed {
		rn.closed = true
		close(rn.starts)
	}
}

func (r *run) runAttempts(rn *runner, labels context.Context) {
	pprof.SetGoroutineLabels(labels)
	for a := range rn.starts {
		if !r.serveAttempt(rn, a, labels) {
			return
		}
	}
}

// exitMsg is what an attempt's goroutine reports when Serve is over.
type exitMsg struct {
	err    error
	panic  *PanicError
	goexit bool
	// saw is the attempt's stop cause if the context had been cancelled by
	// the supervisor when Serve returned: the attempt's own view of whether
	// it was stopped, which only it can know.
	saw *StopCause
	// verdict is RestartIf's answer for a Custom child, evaluated on this
	// goroutine so that a slow or panicking predicate holds up only its
	// own child.
	verdict      verdict
	verdictPanic *PanicError   // RestartIf's panic
	crash        chan struct{} // pass-through panics: closed once the events are out
	crashSeq     uint64        // the last of those events
}

// serveAttempt runs one attempt and reports how it ended. It returns false
// when the loop has finished. A Serve that calls runtime.Goexit ends this
// goroutine; a replacement takes over the runner so that the child keeps
// one goroutine.
func (r *run) serveAttempt(rn *runner, a *attemptCtx, labels context.Context) (more bool) {
	returned := false
	rn.inServe.Store(true)
	defer func() {
		if returned {
			return
		}
		rn.inServe.Store(false)
		v := recover()
		x := &a.exit
		if v == nil {
			x.goexit = true
		} else {
			x.panic = capturePanic(v, &rn.stack)
		}
		r.judge(a, x)
		if x.goexit {
			if r.postExit(a, x) {
				go r.runAttempts(rn, labels)
			}
			return // the goroutine goes on unwinding and ends
		}
		if r.cfg.passPanics {
			x.crash = make(chan struct{})
			if r.postExit(a, x) {
				select {
				case <-x.crash:
					// The loop has published the panic's events; give the
					// hooks a bounded moment to see them (a blocked hook
					// must not keep the process from crashing).
					ctx, cancel := context.WithTimeout(context.Background(), passThroughFlush)
					_ = r.feed.flush(ctx, x.crashSeq, nil)
					cancel()
				case <-r.done:
				}
			}
			panic(v) // the panic must never be lost
		}
		more = r.postExit(a, x)
	}()
	err := a.svc.Serve(a)
	returned = true
	rn.inServe.Store(false)
	x := &a.exit
	x.err = err
	r.judge(a, x)
	return r.postExit(a, x)
}

func (r *run) postExit(a *attemptCtx, x *exitMsg) bool {
	return r.post(msg{kind: msgExit, a: a})
}

// judge records the attempt's own view of its end: whether the supervisor
// had stopped it, and RestartIf's verdict.
func (r *run) judge(a *attemptCtx, x *exitMsg) {
	// The cause is exactly what the loop cancelled the attempt with.
	if sc, ok := context.Cause(a).(*StopCause); ok {
		x.saw = sc
	}
	spec := &a.c.spec
	if spec.Restart != Custom || (x.saw != nil && !x.saw.failure()) || errors.Is(x.failure(), ErrDoNotRestart) {
		return
	}
	x.verdict = evalRestartIf(spec.RestartIf, Exit{Kind: x.ownKind(), Err: x.failure(), Attempt: a.n}, &x.verdictPanic)
}

// ownKind classifies the exit from the attempt's own view.
func (x *exitMsg) ownKind() ExitKind {
	switch {
	case x.saw != nil && x.saw.kind == stopStale:
		return ExitStale
	case x.saw != nil && x.saw.kind == stopStartTimeout:
		return ExitError
	case x.panic != nil:
		return ExitPanic
	case x.goexit:
		return ExitError
	case x.err == nil || errors.Is(x.err, ErrDoNotRestart):
		return ExitNormal
	}
	return ExitError
}

// failure is the error the exit stands for, from the attempt's own view.
func (x *exitMsg) failure() error {
	switch {
	case x.saw != nil && x.saw.failure():
		return x.saw.Err
	case x.panic != nil:
		return x.panic
	case x.goexit:
		return ErrGoexit
	}
	return x.err
}

// passThroughFlush bounds how long a passed-through panic waits for the
// hooks to see its events before it crashes the process.
const passThroughFlush = time.Second

// maxStack bounds the stack captured from a panic.
const maxStack = 64 << 10

func newPanicError(v any) *PanicError {
	var scratch []byte
	return capturePanic(v, &scratch)
}

// capturePanic captures the stack of a recovered panic into scratch, a
// buffer its caller keeps between panics (a runner keeps one), and keeps
// an exact-size copy: a recovered panic is kept (last error, report) and
// must not pin the capture buffer. Most stacks are a few KiB: the buffer
// starts small and grows only for a deep one, up to the bound.
func capturePanic(v any, scratch *[]byte) *PanicError {
	buf := *scratch
	if buf == nil {
		buf = make([]byte, 4<<10)
	}
	n := runtime.Stack(buf, false)
	for n == len(buf) && len(buf) < maxStack {
		buf = make([]byte, min(2*len(buf), maxStack))
		n = runtime.Stack(buf, false)
	}
	*scratch = buf
	stack := make([]byte, n)
	copy(stack, buf)
	return &PanicError{Value: v, Stack: stack}
}

// Ready tells the supervisor that the attempt running with ctx is ready.
// It is for children whose spec declares Readiness; calling it again, or
// for a child that does not declare readiness, changes nothing. It counts
// only for the attempt ctx belongs to: a call from an attempt that has
// ended changes nothing (the supervisor reports it as an
// [EventLateSignal]) and returns that attempt's context cause. It returns
// [ErrNotSupervised] for a context that is not an attempt's. It waits for
// the supervisor only while the supervisor's mailbox is full, and not
// beyond the end of the attempt.
func Ready(ctx context.Context) error {
	a := attemptFrom(ctx)
	if a == nil {
		return ErrNotSupervised
	}
	if a.over.Load() || a.Err() != nil {
		a.late("ready")
		return context.Cause(a)
	}
	if _, err := a.r.postCtx(a, msg{kind: msgReady, a: a}); err != nil {
		return err
	}
	return nil
}

// Heartbeat records that the attempt running with ctx is alive. It is
// cheap (an atomic store) and never blocks. It counts only for the attempt
// ctx belongs to: a heartbeat from an attempt that has ended does not keep
// the current one alive. For a context that is not an attempt's it does
// nothing.
func Heartbeat(ctx context.Context) {
	a := attemptFrom(ctx)
	if a == nil {
		return
	}
	if a.over.Load() {
		a.late("heartbeat")
		return
	}
	a.beat.Store(time.Now().UnixNano())
}

// late reports, once per attempt, that a signal came after the attempt
// ended. Signals never block, so the report is dropped when the loop is
// busy or has finished.
func (a *attemptCtx) late(signal string) {
	if a.lateSent.CompareAndSwap(false, true) {
		a.r.tryPost(msg{kind: msgLate, a: a, signal: signal})
	}
}
