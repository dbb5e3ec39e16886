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

var (
	// ErrUnknownChild is matched by a command naming no child.
	ErrUnknownChild = errors.New("sdk: no such child")
	// ErrChildExited is returned by a command whose child ended on its own
	// while the command waited for it.
	ErrChildExited = errors.New("sdk: the child exited while the command waited")
	// ErrNotStarted is returned by Shutdown and Wait on a supervisor that
	// never started.
	ErrNotStarted = errors.New("sdk: supervisor not started")
	// ErrInvalidArgument is matched by an [*ArgumentError].
	ErrInvalidArgument = errors.New("sdk: invalid argument")
)

// ArgumentError reports a missing or invalid argument to a command.
type ArgumentError struct {
	Field, Problem string
}

func (e *ArgumentError) Error() string        { return "sdk: " + e.Field + " " + e.Problem }
func (e *ArgumentError) Is(target error) bool { return target == ErrInvalidArgument }

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (e *ArgumentError) ErrorType() string { return "invalid_argument" }

type op uint8

const (
	opRestart op = iota + 1
	opRemove
	opPause
	opResume
	opShutdown
)

var opLabels = [...]string{opRestart: "restart", opRemove: "remove", opPause: "pause", opResume: "resume", opShutdown: "shutdown"}

// command is an operator request, answered on its reply channels.
type command struct {
	op               op
	name, by, reason string
	cause            Cause
	deadline         time.Time
	replies          []chan error
}

// why is the reason recorded on the child's transitions and events.
func (cmd *command) why() string {
	return opLabels[cmd.op] + " requested by " + cmd.by + ": " + cmd.reason
}

func validateAudit(by, reason string) error {
	if strings.TrimSpace(by) == "" {
		return &ArgumentError{Field: "requestedBy", Problem: "is blank"}
	}
	if strings.TrimSpace(reason) == "" {
		return &ArgumentError{Field: "reason", Problem: "is blank"}
	}
	return nil
}

// Restart stops the child's running attempt and starts a new generation
// once it has stopped: the old attempt never overlaps the new one. A child
// in backoff starts at once; requests for a child already restarting merge
// into one. It returns when the new attempt is launched, when ctx ends, or
// with [ErrSupervisorDone] once the supervisor is shutting down. A manual
// restart does not count toward the restart intensity.
func (s *Supervisor) Restart(ctx context.Context, name, requestedBy, reason string) error {
	return s.command(ctx, &command{op: opRestart, name: name, by: requestedBy, reason: reason})
}

// Remove stops the child and removes it from the supervisor, its spec
// included. It returns once the child has stopped (or was abandoned, then
// with an [*AbandonedError]), or when ctx ends.
func (s *Supervisor) Remove(ctx context.Context, name, requestedBy, reason string) error {
	return s.command(ctx, &command{op: opRemove, name: name, by: requestedBy, reason: reason})
}

// Pause stops the child and holds it: no restart, by its own policy or a
// sibling's, until [Supervisor.Resume]. It returns once the child has
// stopped, or when ctx ends.
func (s *Supervisor) Pause(ctx context.Context, name, requestedBy, reason string) error {
	return s.command(ctx, &command{op: opPause, name: name, by: requestedBy, reason: reason})
}

// Resume starts a paused child again. Resuming a child that is not paused
// changes nothing.
func (s *Supervisor) Resume(ctx context.Context, name, requestedBy, reason string) error {
	return s.command(ctx, &command{op: opResume, name: name, by: requestedBy, reason: reason})
}

func (s *Supervisor) command(ctx context.Context, cmd *command) error {
	if err := validateAudit(cmd.by, cmd.reason); err != nil {
		return err
	}
	if cmd.name == "" {
		return &ArgumentError{Field: "name", Problem: "is blank"}
	}
	s.mu.Lock()
	r := s.run
	s.mu.Unlock()
	if r == nil {
		return ErrSupervisorDone
	}
	reply := make(chan error, 1)
	cmd.replies = []chan error{reply}
	if ok, err := r.postCtx(ctx, msg{kind: msgControl, ctl: cmd}); err != nil {
		return err
	} else if !ok {
		return ErrSupervisorDone
	}
	select {
	case err := <-reply:
		return err
	case <-r.done:
		select {
		case err := <-reply:
			return err
		default:
			return ErrSupervisorDone
		}
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (r *run) onControl(cmd *command) {
	r.emit(Event{Type: EventCommand, Path: r.path + "/" + cmd.name, Command: opLabels[cmd.op], RequestedBy: cmd.by, Cause: cmd.reason})
	reply := func(err error) { r.commandDone(cmd, r.path+"/"+cmd.name, err) }
	if r.shut != nil {
		reply(ErrSupervisorDone)
		return
	}
	c := r.byName[cmd.name]
	if c == nil {
		reply(fmt.Errorf("%w: %q under %s", ErrUnknownChild, cmd.name, r.path))
		return
	}
	if c.abandoned {
		reply(&AbandonedError{Children: []string{c.path}})
		return
	}
	if c.cmd != nil {
		if c.cmd.op == cmd.op {
			c.cmd.replies = append(c.cmd.replies, cmd.replies...) // duplicates merge
			return
		}
		reply(fmt.Errorf("sdk: child %s is busy with %s", c.path, opLabels[c.cmd.op]))
		return
	}
	why := cmd.why()
	if c.ended && cmd.op != opRemove {
		reply(fmt.Errorf("sdk: child %s has ended (%s); add it again to run it", c.path, c.lc.State()))
		return
	}
	switch cmd.op {
	case opResume:
		if c.paused {
			c.paused = false
			r.launchWhenDepsUp(c, why)
		}
		reply(nil)
		return
	case opRestart:
		if c.paused {
			reply(fmt.Errorf("sdk: child %s is paused; resume it", c.path))
			return
		}
	}
	if c.running {
		if c.stopping {
			// Already stopping for a sibling or a failure: take over what
			// happens once it has stopped, and let the sibling's restart go
			// on without it.
			if p := r.releaseStopPlan(c); p != nil {
				defer r.planReady(p)
			}
			c.failErr = nil
		} else {
			r.stop(c, why)
		}
		c.cmd = cmd
		r.leavePlan(c)
		return
	}
	// Nothing is running: act now.
	r.leavePlan(c)
	c.cmd = cmd
	r.finishCommand(c)
}

// releaseStopPlan takes c out of the sibling's restart its stop was part
// of, so that restart goes on without it; the caller runs planReady on the
// returned plan once the command has taken over c.
func (r *run) releaseStopPlan(c *child) *restartPlan {
	p := c.stopFor
	if p == nil {
		return nil
	}
	c.stopFor = nil
	r.leavePlan(c)
	p.waiting--
	return p
}

// leavePlan takes c out of a pending restart: an operator decides for it.
func (r *run) leavePlan(c *child) {
	if p := c.plan; p != nil {
		p.members = slices.DeleteFunc(p.members, func(x *child) bool { return x == c })
		c.plan = nil
	}
}

// finishCommand completes the command waiting for c once nothing of c runs.
func (r *run) finishCommand(c *child) {
	cmd := c.cmd
	c.cmd = nil
	var err error
	why := cmd.why()
	switch {
	case c.abandoned:
		err = &AbandonedError{Children: []string{c.path}}
	case r.shut != nil && cmd.op != opRemove:
		// The supervisor began shutting down while the command waited:
		// the shutdown decides what happens to the child now.
		err = ErrSupervisorDone
	case cmd.op == opRestart:
		c.generation++
		r.launchWhenDepsUp(c, why)
	case cmd.op == opPause:
		c.paused = true
		if c.lc.State() != lifecycle.StatePaused {
			r.move(c, lifecycle.StatePaused, why)
		}
	case cmd.op == opRemove:
		if !c.ended {
			c.outcome = OutcomeGraceful
			r.end(c, lifecycle.ExitReport{State: lifecycle.StateStopped, Phase: "remove", Reason: why})
		}
		r.forget(c)
	}
	r.commandDone(cmd, c.path, err)
	if cmd.op == opPause || cmd.op == opRemove {
		r.checkStarted()
	}
}

// commandDone reports a command's outcome, as an event and to every caller
// waiting for it.
func (r *run) commandDone(cmd *command, path string, err error) {
	r.emit(Event{Type: EventCommandDone, Path: path, Command: opLabels[cmd.op], RequestedBy: cmd.by, Cause: cmd.reason, Err: err})
	for _, ch := range cmd.replies {
		ch <- err
	}
}

// answer fails the command waiting for c, whose attempt ended on its own.
func (r *run) answer(c *child, err error) {
	if c.cmd == nil {
		return
	}
	cmd := c.cmd
	c.cmd = nil
	r.commandDone(cmd, c.path, err)
}

// Start starts the supervisor in the background and returns once every
// child has started and every child that declares readiness is ready. If a
// child that declares readiness fails or times out first, or ctx ends
// first, Start stops what it started and returns the error (a
// [*StartError], or ctx's cause). The supervisor then runs until
// [Supervisor.Shutdown], a meltdown or a fatal child; [Supervisor.Wait]
// returns its report.
func (s *Supervisor) Start(ctx context.Context) error {
	r, err := s.begin(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	go r.loop(context.Background()) // owned by s; stopped by Shutdown
	select {
	case <-r.started:
		if r.startErr != nil {
			<-r.done
			return r.startErr
		}
		return nil
	case <-ctx.Done():
		cause := context.Cause(ctx)
		// Stop what started, gracefully: each child within its stop timeout.
		r.post(msg{kind: msgShutdown, ctl: &command{op: opShutdown, cause: CauseStartFailure, by: "start", reason: "start context ended: " + cause.Error()}})
		<-r.done
		return cause
	}
}

// Run serves the supervisor until ctx ends or it gives up, and returns its
// report with Serve's error.
func (s *Supervisor) Run(ctx context.Context) (*Report, error) {
	err := s.Serve(ctx)
	return s.Report(), err
}

// Shutdown stops the supervisor: children stop in reverse start order (or
// all at once, see [WithShutdownOrder]), each within its own stop timeout
// counted from its own stop request, and all within ctx's deadline, after
// which the children still running are abandoned and reported. requestedBy
// and reason must not be blank; they are recorded in the report. Shutdown is
// idempotent: later calls return the same report. The error is the
// supervisor's own (meltdown, fatal child), joined with an
// [*AbandonedError] when children did not stop.
func (s *Supervisor) Shutdown(ctx context.Context, requestedBy, reason string) (*Report, error) {
	return s.shutdown(ctx, CauseOperator, requestedBy, reason)
}

func (s *Supervisor) shutdown(ctx context.Context, cause Cause, by, reason string) (*Report, error) {
	if err := validateAudit(by, reason); err != nil {
		return nil, err
	}
	r, last := s.runs()
	if r == nil {
		if last != nil {
			return last.report, last.result
		}
		return nil, ErrNotStarted
	}
	deadline, _ := ctx.Deadline()
	r.post(msg{kind: msgShutdown, ctl: &command{op: opShutdown, cause: cause, by: by, reason: reason, deadline: deadline}})
	select {
	case <-r.done:
	case <-ctx.Done():
		// Out of time: abandon whatever still runs, now.
		r.post(msg{kind: msgShutdown, ctl: &command{op: opShutdown, cause: cause, by: by, reason: reason, deadline: time.Now()}})
		<-r.done
	}
	return r.report, r.result
}

// Wait blocks until the supervisor's current (or last) run has ended and
// returns its report and error, or returns ctx's cause.
func (s *Supervisor) Wait(ctx context.Context) (*Report, error) {
	s.mu.Lock()
	r := s.run
	s.mu.Unlock()
	if r == nil {
		r = s.last.Load()
	}
	if r == nil {
		return nil, ErrNotStarted
	}
	select {
	case <-r.done:
		return r.report, r.result
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// Report returns the report of the supervisor's last run, or nil while it
// runs or before it has run.
func (s *Supervisor) Report() *Report {
	r := s.last.Load()
	if r == nil {
		return nil
	}
	select {
	case <-r.done:
		return r.report
	default:
		return nil
	}
}
