package sdk

import (
	"context"
	"errors"
	"fmt"
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
	cause            *StopCause // for opShutdown
	deadline         time.Time  // for opShutdown
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
	if err := s.usable(); err != nil {
		return err
	}
	r := s.currentRun()
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
	path := r.path + "/" + cmd.name
	r.emit(Event{Type: EventCommand, Path: path, Command: opLabels[cmd.op], RequestedBy: cmd.by, Cause: cmd.reason})
	reply := func(err error) { r.commandDone(cmd, path, err) }
	if r.shut != nil {
		reply(ErrSupervisorDone)
		return
	}
	c := r.byName[cmd.name]
	if c == nil {
		reply(fmt.Errorf("%w: %s under %s", ErrUnknownChild, quoteName(cmd.name), r.path))
		return
	}
	if c.ended() && c.outcome == OutcomeAbandoned && cmd.op != opRemove {
		reply(&AbandonedError{Children: []string{c.path}})
		return
	}
	if busy := c.stop.cmd; busy != nil && c.isStopping() {
		if busy.op == cmd.op {
			busy.replies = append(busy.replies, cmd.replies...) // duplicates merge
			return
		}
		reply(fmt.Errorf("sdk: child %s is busy with %s", c.path, opLabels[busy.op]))
		return
	}
	if c.ended() && cmd.op != opRemove {
		reply(fmt.Errorf("sdk: child %s has ended (%s); add it again to run it", c.path, c.state()))
		return
	}
	paused := c.state() == lifecycle.StatePaused
	switch cmd.op {
	case opResume:
		if paused {
			r.launchWhenDepsUp(c, cmd.why())
		}
		reply(nil)
		return
	case opRestart:
		if paused {
			reply(fmt.Errorf("sdk: child %s is paused; resume it", c.path))
			return
		}
	}
	switch {
	case c.isStopping():
		// Already stopping for a sibling or as a failure: the command takes
		// over what happens once it has stopped, and the sibling's restart
		// goes on without it.
		r.releasePlanStop(c)
		r.leavePlan(c)
		c.stop.cmd = cmd
	case c.isLive():
		r.leavePlan(c)
		r.stop(c, cmd.stopCause(), nil, cmd)
	default:
		// Nothing is running: act now.
		r.leavePlan(c)
		c.stopTimers()
		r.finishCommand(c, cmd, false)
	}
}

// stopCause is what the stopped attempt is told.
func (cmd *command) stopCause() *StopCause {
	k := stopRestart
	switch cmd.op {
	case opRemove:
		k = stopRemove
	case opPause:
		k = stopPause
	}
	return &StopCause{kind: k, RequestedBy: cmd.by, Reason: cmd.reason}
}

// finishCommand completes the command once nothing of c runs. lost says
// the attempt was abandoned and the child has ended.
func (r *run) finishCommand(c *child, cmd *command, lost bool) {
	var err error
	why := cmd.why()
	switch {
	case lost:
		// Even a removal keeps an abandoned child, ended failed, so that
		// the report names it.
		err = &AbandonedError{Children: []string{c.path}}
	case r.shut != nil && cmd.op != opRemove:
		// The supervisor began shutting down while the command waited:
		// the shutdown decides what happens to the child now.
		err = ErrSupervisorDone
		if !c.ended() {
			r.end(c, lifecycle.ExitReport{State: lifecycle.StateStopped, Phase: "shutdown", Reason: r.shut.cause.Reason})
		}
	case cmd.op == opRestart:
		c.generation++
		c.why, c.origin = ReasonManual, ""
		r.relaunchBecause(c, why)
	case cmd.op == opPause:
		r.move(c, lifecycle.StatePaused, why)
	case cmd.op == opRemove:
		if !c.ended() {
			if c.outcome == "" {
				c.outcome = OutcomeGraceful
			}
			r.end(c, lifecycle.ExitReport{State: lifecycle.StateStopped, Phase: "remove", Reason: why})
		}
		r.removedReport(c)
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
	cmd.replies = nil
}
