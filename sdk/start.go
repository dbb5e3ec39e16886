package sdk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// StartError is returned when a child that declares readiness fails, or
// times out, before it becomes ready during the supervisor's start. As in
// OTP, the supervisor then stops what it started and fails.
type StartError struct {
	Child string // path of the direct child that failed to start
	// Origin is the path of the leaf child whose failure failed the
	// start, at any depth of the tree.
	Origin string
	Err    error
}

func (e *StartError) Error() string {
	return fmt.Sprintf("sdk: child %s failed to start: %v", e.Child, e.Err)
}
func (e *StartError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrStartFailed].
func (e *StartError) Is(target error) bool { return target == ErrStartFailed }

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (e *StartError) ErrorType() string { return "start_failure" }

// ErrStartTimeout is matched by the failure of a child that did not become
// ready within its StartTimeout.
var ErrStartTimeout = errors.New("sdk: not ready within the start timeout")

// ErrStale is matched by the failure of a child that stopped sending
// heartbeats for longer than its StaleAfter.
var ErrStale = errors.New("sdk: no heartbeat within stale-after")

// checkDependencies rejects unknown dependencies and cycles, naming them.
// A tree without dependencies costs one pass.
func checkDependencies(decls []*decl) error {
	if !slices.ContainsFunc(decls, func(d *decl) bool { return len(d.spec.DependsOn) > 0 }) {
		return nil
	}
	index := make(map[string]int, len(decls))
	for i, d := range decls {
		index[d.spec.Name] = i
	}
	for _, d := range decls {
		s := &d.spec
		for i, d := range s.DependsOn {
			if _, ok := index[d]; !ok {
				return &SpecError{Child: s.Name, Field: fmt.Sprintf("DependsOn[%d]", i), Problem: fmt.Sprintf("%s is not a sibling", quoteName(d))}
			}
		}
	}
	const (
		unseen = iota
		onPath
		done
	)
	mark := make([]int, len(decls))
	var path []string
	var visit func(i int) error
	visit = func(i int) error {
		mark[i] = onPath
		path = append(path, decls[i].spec.Name)
		for _, d := range decls[i].spec.DependsOn {
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
				return &SpecError{Child: decls[i].spec.Name, Field: "DependsOn", Problem: "dependency cycle: " + strings.Join(cycle, " → ")}
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
	for i := range decls {
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
		r.turn = c.declared
		if !c.ended() { // held: see holdIfStillRunning
			r.launchWhenDepsUp(c, "initial start")
		}
	}
	r.launching = false
	r.childUp()
}

func (r *run) depsUp(c *child) bool {
	for _, d := range c.spec.DependsOn {
		if dep := r.child(d); dep == nil || !dep.up() {
			return false
		}
	}
	return true
}

// launchWhenDepsUp launches c now, or leaves it starting (pending) until
// its dependencies are up.
func (r *run) launchWhenDepsUp(c *child, cause string) {
	if r.depsUp(c) {
		r.launch(c, cause)
		return
	}
	r.move(c, lifecycle.StateStarting, cause)
	r.waiters = append(r.waiters, c)
	r.emit(Event{Type: EventChildPending, Path: c.path, Attempt: c.attempt, To: lifecycle.StateStarting,
		Cause: "waiting for " + strings.Join(c.spec.DependsOn, ", ")})
}

// launch starts the child's next attempt. The child is starting, backoff
// or paused.
func (r *run) launch(c *child, cause string) {
	if c.isLive() || c.ended() {
		reportBug(fmt.Errorf("sdk: launch of %s in state %s", c.path, c.state()))
		return
	}
	if c.attempt > 0 {
		c.countRestart()
	}
	if c.started == 0 {
		r.started++
		c.started = r.started
	}
	c.attempt++
	from := c.state()
	r.move(c, lifecycle.StateStarting, cause)
	r.emit(Event{Type: EventChildStarting, Path: c.path, Attempt: c.attempt, Generation: c.generation,
		From: from, To: lifecycle.StateStarting, Cause: cause, Restarts: int(c.restarts), Readiness: c.spec.Readiness})
	ctx, cancel := context.WithCancelCause(r.base)
	a := &attemptCtx{Context: ctx, cancel: cancel, r: r, c: c, svc: c.spec.Service, n: c.attempt}
	c.live = a
	c.startedAt = r.now()
	r.startAttempt(c, a)
	r.move(c, lifecycle.StateRunning, "")
	r.emit(Event{Type: EventChildRunning, Path: c.path, Attempt: c.attempt, Generation: c.generation,
		From: lifecycle.StateStarting, To: lifecycle.StateRunning, Readiness: c.spec.Readiness})
	r.armAttemptTimers(c)
	if !c.spec.Readiness {
		r.childUp()
	}
}

// childUp runs when a child may have come up: pending dependents may start,
// and the start may be complete.
func (r *run) childUp() {
	if r.shut != nil {
		return
	}
	// Only the children set aside for their dependencies are looked at:
	// most launches (every restart, in a tree without dependencies) have
	// nobody waiting, and stay O(1). A launch below comes back here; it
	// only asks for another round.
	if r.inChildUp {
		r.childUpAgain = true
		return
	}
	r.inChildUp = true
	for again := len(r.waiters) > 0; again; {
		again, r.childUpAgain = false, false
		waiters := r.waiters
		r.waiters = nil
		for _, c := range waiters {
			switch {
			case !c.isPending(): // launched, paused or ended meanwhile
			case r.depsUp(c):
				r.launch(c, "dependencies up")
				again = true
			default:
				r.waiters = append(r.waiters, c)
			}
		}
		again = again || r.childUpAgain
	}
	r.inChildUp = false
	r.checkStarted()
}

// checkStarted completes the start once every child has started and every
// child that declares readiness has been ready, as OTP's start completes
// once each child has started once: a child that failed after it was
// ready is being restarted, and does not hold the start up.
func (r *run) checkStarted() {
	if !r.startup || r.launching || r.shut != nil {
		return
	}
	for _, c := range r.children {
		switch {
		case c.ended(), c.state() == lifecycle.StatePaused:
		case c.started == 0, c.spec.Readiness && !c.wasReady:
			return
		}
	}
	r.startup = false
	r.startSeq = r.moveSelf(lifecycle.StateAlive, "children started")
	close(r.startDone) // after the move: Start's caller sees alive
	if a := r.parentAttempt; a != nil {
		_ = Ready(a) // a nested supervisor is ready once started
	}
}

// startFailed fails the supervisor's start because of c, as OTP does: stop
// what was started, then fail.
func (r *run) startFailed(c *child, err error) {
	se := &StartError{Child: c.path, Origin: originOf(c.path, err), Err: err}
	r.failStarting(se)
	r.beginShutdown(&StopCause{kind: stopShutdown, Cause: CauseStartFailure, RequestedBy: c.path, Reason: se.Error(), Origin: se.Origin},
		lifecycle.StateFailed, se)
}

// failStarting ends the start phase with err, for Start to return.
func (r *run) failStarting(err error) {
	if !r.startup {
		return
	}
	r.startup = false
	r.startErr = err
	close(r.startDone)
}

func (r *run) onReady(a *attemptCtx) {
	c := a.c
	if !c.current(a) {
		r.emit(Event{Type: EventLateSignal, Path: c.path, Attempt: a.n, Cause: fmt.Sprintf("ready from attempt %d, which has ended", a.n)})
		return
	}
	if !c.spec.Readiness || c.state() != lifecycle.StateRunning {
		return // not declared, already ready, or being stopped
	}
	r.disarm(c, clockStart)
	c.wasReady = true
	r.move(c, lifecycle.StateReady, "signalled ready")
	r.emit(Event{Type: EventChildReady, Path: c.path, Attempt: c.attempt, From: lifecycle.StateRunning, To: lifecycle.StateReady})
	r.childUp()
}

// armAttemptTimers starts the start-timeout and liveness clocks of a new
// attempt. Their messages name the attempt, so a timer of an attempt that
// has ended changes nothing.
func (r *run) armAttemptTimers(c *child) {
	if c.spec.Readiness && c.spec.StartTimeout > 0 {
		r.arm(c, clockStart, c.spec.StartTimeout)
	}
	if c.spec.StaleAfter > 0 {
		r.arm(c, clockStale, c.spec.StaleAfter)
	}
}

func (r *run) onStartTimeout(c *child, attempt uint64) {
	if c.live == nil || c.live.n != attempt || c.state() != lifecycle.StateRunning {
		return // ready, stopped or ended in time
	}
	err := fmt.Errorf("%w (%s)", ErrStartTimeout, c.spec.StartTimeout)
	if r.startup {
		r.startFailed(c, err)
		return
	}
	r.stop(c, &StopCause{kind: stopStartTimeout, RequestedBy: "supervisor", Reason: err.Error(), Origin: c.path, Err: err}, nil, nil)
}

func (r *run) onStaleCheck(c *child, attempt uint64) {
	if c.live == nil || c.live.n != attempt || c.isStopping() {
		return
	}
	ago := r.now() - c.startedAt
	if b := c.live.beat.Load(); b != 0 {
		ago = time.Since(time.Unix(0, b))
	}
	if wait := c.spec.StaleAfter - ago; wait > 0 {
		r.arm(c, clockStale, wait)
		return
	}
	err := fmt.Errorf("%w: last heartbeat %s ago (stale after %s)", ErrStale, ago.Round(time.Millisecond), c.spec.StaleAfter)
	r.emit(Event{Type: EventChildStale, Path: c.path, Attempt: c.attempt, Err: err})
	r.stop(c, &StopCause{kind: stopStale, RequestedBy: "supervisor", Reason: err.Error(), Origin: c.path, Err: err}, nil, nil)
}
