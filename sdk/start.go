package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// ErrNotSupervised is returned by [Ready] for a context that does not
// belong to a supervised attempt.
var ErrNotSupervised = errors.New("sdk: context is not a supervised attempt")

// StartError is returned when a child that declares readiness fails, or
// times out, before it becomes ready during the supervisor's start. As in
// OTP, the supervisor then stops what it started and fails.
type StartError struct {
	Child string // path
	Err   error
}

func (e *StartError) Error() string {
	return fmt.Sprintf("sdk: child %s failed to start: %v", e.Child, e.Err)
}
func (e *StartError) Unwrap() error { return e.Err }

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (e *StartError) ErrorType() string { return "start_failure" }

// ErrStartTimeout is matched by the failure of a child that did not become
// ready within its StartTimeout.
var ErrStartTimeout = errors.New("sdk: not ready within the start timeout")

// ErrStale is matched by the failure of a child that stopped sending
// heartbeats for longer than its StaleAfter.
var ErrStale = errors.New("sdk: no heartbeat within stale-after")

// handle links an attempt's context to its child.
type handle struct {
	r       *run
	c       *child
	attempt atomic.Uint64 // the current attempt
	beat    atomic.Int64  // UnixNano of the last heartbeat, 0 for none
}

type handleKey struct{}

func handleFrom(ctx context.Context) *handle {
	h, _ := ctx.Value(handleKey{}).(*handle)
	return h
}

// Ready tells the supervisor that the attempt running with ctx is ready.
// It is for children whose spec declares Readiness; calling it again, or
// for a child that does not declare readiness, changes nothing. It returns
// [ErrNotSupervised] for a context that is not an attempt's, and the
// context's cause once the attempt has been stopped.
func Ready(ctx context.Context) error {
	h := handleFrom(ctx)
	if h == nil {
		return ErrNotSupervised
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	h.r.post(msg{kind: msgReady, c: h.c, attempt: h.attempt.Load()})
	return nil
}

// Heartbeat records that the attempt running with ctx is alive. It is
// cheap (an atomic store) and never blocks. For a context that is not an
// attempt's it does nothing.
func Heartbeat(ctx context.Context) {
	if h := handleFrom(ctx); h != nil {
		h.beat.Store(time.Now().UnixNano())
	}
}

// checkDependencies rejects unknown dependencies and cycles, naming them.
func checkDependencies(specs []Spec) error {
	index := make(map[string]int, len(specs))
	for i, s := range specs {
		index[s.Name] = i
	}
	for _, s := range specs {
		for i, d := range s.DependsOn {
			if _, ok := index[d]; !ok {
				return &SpecError{Child: s.Name, Field: fmt.Sprintf("DependsOn[%d]", i), Problem: fmt.Sprintf("%q is not a sibling", d)}
			}
		}
	}
	const (
		unseen = iota
		onPath
		done
	)
	mark := make([]int, len(specs))
	var path []string
	var visit func(i int) error
	visit = func(i int) error {
		mark[i] = onPath
		path = append(path, specs[i].Name)
		for _, d := range specs[i].DependsOn {
			j := index[d]
			switch mark[j] {
			case onPath:
				start := 0
				for k, n := range path {
					if n == d {
						start = k
					}
				}
				cycle := append(append([]string(nil), path[start:]...), d)
				return &SpecError{Child: specs[i].Name, Field: "DependsOn", Problem: "dependency cycle: " + strings.Join(cycle, " → ")}
			case unseen:
				if err := visit(j); err != nil {
					return err
				}
			}
		}
		path = path[:len(path)-1]
		mark[i] = done
		return nil
	}
	for i := range specs {
		if mark[i] == unseen {
			if err := visit(i); err != nil {
				return err
			}
		}
	}
	return nil
}

// startChildren launches the children in declaration order, each once its
// dependencies are up.
func (r *run) startChildren() {
	// The start cannot complete until every child has had its turn, even
	// if the ones launched so far are all up.
	r.launching = true
	for _, c := range r.children {
		if !c.ended { // held: see holdIfStillRunning
			r.launchWhenDepsUp(c, "initial start")
		}
	}
	r.launching = false
	r.checkStarted()
}

// up reports whether dependents of c may start.
func (c *child) up() bool {
	return c.running && !c.stopping && (!c.spec.Readiness || c.ready)
}

func (r *run) depsUp(c *child) bool {
	for _, d := range c.spec.DependsOn {
		if dep := r.byName[d]; dep == nil || !dep.up() {
			return false
		}
	}
	return true
}

// launchWhenDepsUp launches c now, or marks it pending until its
// dependencies are up.
func (r *run) launchWhenDepsUp(c *child, cause string) {
	if r.depsUp(c) {
		r.setPending(c, false)
		r.launch(c, cause)
		return
	}
	if !c.pending {
		r.setPending(c, true)
		if st := c.lc.State(); st != lifecycle.StateStarting {
			r.move(c, lifecycle.StateStarting, cause)
		}
		r.emit(Event{Type: EventChildPending, Path: c.path, Attempt: c.attempt, Cause: "waiting for " + strings.Join(c.spec.DependsOn, ", ")})
	}
}

// childUp runs when a child may have come up: pending dependents may start,
// and the start may be complete.
func (r *run) childUp() {
	if r.shut != nil {
		return
	}
	// Most launches (every restart, in a tree without dependencies) have
	// nobody waiting: keep them O(1).
	for progress := r.pendingN > 0; progress; {
		progress = false
		for _, c := range r.children {
			if c.pending && !c.ended && !c.paused && r.depsUp(c) {
				r.setPending(c, false)
				r.launch(c, "dependencies up")
				progress = true
			}
		}
	}
	r.checkStarted()
}

// setPending marks c as waiting for its dependencies, or not, keeping the
// count that lets childUp skip its scan.
func (r *run) setPending(c *child, pending bool) {
	if c.pending == pending {
		return
	}
	c.pending = pending
	if pending {
		r.pendingN++
	} else {
		r.pendingN--
	}
}

// checkStarted completes the start once nothing is pending and every child
// that declares readiness is ready.
func (r *run) checkStarted() {
	if !r.startup || r.launching || r.shut != nil {
		return
	}
	for _, c := range r.children {
		if c.ended || c.paused {
			continue
		}
		if c.pending || (c.spec.Readiness && !c.ready) {
			return
		}
	}
	r.startup = false
	r.moveSelf(lifecycle.StateAlive, "children started")
	close(r.started) // after the move: Start's caller sees alive
}

// startFailed fails the supervisor's start because of c, as OTP does: stop
// what was started, then fail.
func (r *run) startFailed(c *child, err error) {
	se := &StartError{Child: c.path, Err: err}
	r.failStarting(se)
	r.beginShutdown(CauseStartFailure, c.path, se.Error(), lifecycle.StateFailed, se)
}

// failStarting ends the start phase with err, for Start to return.
func (r *run) failStarting(err error) {
	if !r.startup {
		return
	}
	r.startup = false
	r.startErr = err
	close(r.started)
}

func (r *run) onReady(c *child, attempt uint64) {
	if c.attempt != attempt || !c.running || c.stopping || c.ready {
		return
	}
	c.ready = true
	if c.startTimer != nil {
		c.startTimer.Stop()
		c.startTimer = nil
	}
	if c.spec.Readiness {
		r.move(c, lifecycle.StateReady, "signalled ready")
	}
	r.emit(Event{Type: EventChildReady, Path: c.path, Attempt: c.attempt, From: lifecycle.StateRunning, To: c.lc.State()})
	r.childUp()
}

// armAttemptTimers starts the start-timeout and liveness clocks of a new
// attempt.
func (r *run) armAttemptTimers(c *child) {
	attempt := c.attempt
	if c.spec.Readiness {
		c.startTimer = time.AfterFunc(c.spec.StartTimeout, func() { r.post(msg{kind: msgStartTimeout, c: c, attempt: attempt}) })
	}
	if c.spec.StaleAfter > 0 {
		c.handle.beat.Store(0)
		c.liveTimer = time.AfterFunc(c.spec.StaleAfter, func() { r.post(msg{kind: msgStaleCheck, c: c, attempt: attempt}) })
	}
}

func (r *run) onStartTimeout(c *child, attempt uint64) {
	if c.attempt != attempt || !c.running || c.stopping || c.ready {
		return
	}
	err := fmt.Errorf("%w (%s)", ErrStartTimeout, c.spec.StartTimeout)
	if r.startup {
		r.startFailed(c, err)
		return
	}
	r.failStop(c, ExitError, err)
}

func (r *run) onStaleCheck(c *child, attempt uint64) {
	if c.attempt != attempt || !c.running || c.stopping {
		return
	}
	last := c.startedAt
	if b := c.handle.beat.Load(); b != 0 {
		last = time.Unix(0, b)
	}
	if wait := c.spec.StaleAfter - time.Since(last); wait > 0 {
		c.liveTimer = time.AfterFunc(wait, func() { r.post(msg{kind: msgStaleCheck, c: c, attempt: attempt}) })
		return
	}
	err := fmt.Errorf("%w: last heartbeat %s ago (stale after %s)", ErrStale, time.Since(last).Round(time.Millisecond), c.spec.StaleAfter)
	r.emit(Event{Type: EventChildStale, Path: c.path, Attempt: c.attempt, Err: err})
	r.failStop(c, ExitStale, err)
}

// failStop stops an attempt because it failed; its exit is then that
// failure, handled by the restart type like any other.
func (r *run) failStop(c *child, kind ExitKind, err error) {
	c.failKind, c.failErr = kind, err
	r.stop(c, err.Error())
}
