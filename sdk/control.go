package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

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
	replies          []chan answer
	merged           int // duplicates that joined it
	// span is the caller's span, when its context carried one: the
	// command's events carry it, so that their records join the trace of
	// the request that issued them.
	span trace.SpanContext
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

// CommandResult says what became of an operator command, in the
// command's [EventCommandDone] and to its caller. The zero value is what a
// caller gets when its context ended before the outcome was known (the
// supervisor may still carry the command out).
type CommandResult uint8

const (
	// CommandAccepted: the command did what it asked (its error, if any,
	// says what happened to the child meanwhile, such as ErrChildExited).
	CommandAccepted CommandResult = iota + 1
	// CommandMerged: the same command was already under way for the
	// child; this one joined it and shares its outcome.
	CommandMerged
	// CommandIdempotent: there was nothing to do (resuming a child that is
	// not paused, pausing a paused one).
	CommandIdempotent
	// CommandRejected: the command was refused; the error says why.
	CommandRejected
)

var resultLabels = [...]string{CommandAccepted: "accepted", CommandMerged: "merged", CommandIdempotent: "idempotent", CommandRejected: "rejected"}

func (r CommandResult) String() string {
	if r > 0 && int(r) < len(resultLabels) {
		return resultLabels[r]
	}
	return fmt.Sprintf("result(%d)", uint8(r))
}

// Commands name a child of the supervisor, or a descendant by its path
// relative to the supervisor ("api/http" for the child http of the nested
// supervisor api). Each returns what became of it ([CommandResult]) and
// an error when it was rejected or the child did not end as asked. Once
// the supervisor is shutting down they are refused at once, without
// reaching it.
//
// A child may command itself from inside Serve. With its own context (or
// one derived from it) the command is carried out and returns at once with
// CommandAccepted, and the child sees its context end: waiting for its
// stop would wait for the caller. With any other context the command
// waits for the stop that the caller itself holds up, and the attempt is
// abandoned after its stop timeout.

// Restart stops the child's running attempt and starts a new generation
// once it has stopped: the old attempt never overlaps the new one. A child
// in backoff starts at once; a request for a child already restarting
// merges into that one (CommandMerged). It returns when the new attempt is
// launched, when ctx ends, or with [ErrSupervisorDone] once the
// supervisor is shutting down. A manual restart does not count toward the
// restart intensity.
func (s *Supervisor) Restart(ctx context.Context, name, requestedBy, reason string) (CommandResult, error) {
	return s.command(ctx, &command{op: opRestart, name: name, by: requestedBy, reason: reason})
}

// Remove stops the child and removes it from the supervisor, its spec
// included; the report keeps it, with outcome removed. It returns once the
// child has stopped (or was abandoned, then with an [*AbandonedError]), or
// when ctx ends.
func (s *Supervisor) Remove(ctx context.Context, name, requestedBy, reason string) (CommandResult, error) {
	return s.command(ctx, &command{op: opRemove, name: name, by: requestedBy, reason: reason})
}

// Pause stops the child and holds it: no restart, by its own policy or a
// sibling's, until [Supervisor.Resume]. It returns once the child has
// stopped, or when ctx ends. Pausing a paused child is CommandIdempotent.
func (s *Supervisor) Pause(ctx context.Context, name, requestedBy, reason string) (CommandResult, error) {
	return s.command(ctx, &command{op: opPause, name: name, by: requestedBy, reason: reason})
}

// Resume starts a paused child again. Resuming a child that is not paused
// changes nothing (CommandIdempotent).
func (s *Supervisor) Resume(ctx context.Context, name, requestedBy, reason string) (CommandResult, error) {
	return s.command(ctx, &command{op: opResume, name: name, by: requestedBy, reason: reason})
}

// maxPathDepth bounds the depth of a relative path a command may name.
const maxPathDepth = 64

func (s *Supervisor) command(ctx context.Context, cmd *command) (CommandResult, error) {
	if err := validateAudit(cmd.by, cmd.reason); err != nil {
		return CommandRejected, err
	}
	if cmd.name == "" {
		return CommandRejected, &ArgumentError{Field: "name", Problem: "is blank"}
	}
	cmd.span = trace.SpanContextFromContext(ctx)
	if err := s.usable(); err != nil {
		return CommandRejected, err
	}
	for depth := 0; strings.Contains(cmd.name, "/"); depth++ {
		first, rest, _ := strings.Cut(cmd.name, "/")
		sub := s.nestedByName(first)
		if sub == nil || depth >= maxPathDepth {
			return CommandRejected, fmt.Errorf("%w: %s under %s (no nested supervisor %s)", ErrUnknownChild, quoteName(cmd.name), s.Path(), quoteName(first))
		}
		s, cmd.name = sub, rest
	}
	r := s.currentRun()
	if r == nil || r.shutting.Load() {
		return CommandRejected, ErrSupervisorDone
	}
	if a := attemptFrom(ctx); a != nil && r.inside(a, cmd.name) {
		// Called from inside the very child (or subtree) the command
		// stops, with its own context: waiting for that stop would wait
		// for the caller itself. The command is carried out; the caller
		// sees its context end.
		if ok, err := r.postCtx(ctx, msg{kind: msgControl, ctl: cmd}); err != nil || !ok {
			return CommandRejected, ErrSupervisorDone
		}
		return CommandAccepted, nil
	}
	reply := make(chan answer, 1)
	cmd.replies = []chan answer{reply}
	if ok, err := r.postCtx(ctx, msg{kind: msgControl, ctl: cmd}); err != nil {
		return CommandRejected, err
	} else if !ok {
		return CommandRejected, ErrSupervisorDone
	}
	select {
	case a := <-reply:
		return a.result, a.err
	case <-r.done:
		select {
		case a := <-reply:
			return a.result, a.err
		default:
			return CommandRejected, ErrSupervisorDone
		}
	case <-ctx.Done():
		return 0, context.Cause(ctx) // it may still happen: the supervisor has it
	}
}

// inside reports whether attempt a is the child name of r, or runs
// inside that child's subtree. It reads only what never changes: the
// attempt's run and the chain of supervisors above it.
func (r *run) inside(a *attemptCtx, name string) bool {
	if a.over.Load() {
		return false
	}
	if a.r == r {
		return a.c.spec.Name == name
	}
	// a runs in a nested supervisor: is that supervisor (or one of its
	// ancestors) the child name of r?
	chain := a.r.chain
	for i := 0; i+1 < len(chain); i++ {
		if chain[i+1] == r.s {
			return chain[i].name == name
		}
	}
	return false
}

// answer is a command's outcome, for its callers.
type answer struct {
	result CommandResult
	err    error
}

// nestedByName returns the nested supervisor declared as the child name,
// or nil.
func (s *Supervisor) nestedByName(name string) *Supervisor {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.names[name]; d != nil {
		return nestedSupervisor(d.spec.Service)
	}
	return nil
}

func (r *run) onControl(cmd *command) {
	path := r.path + "/" + cmd.name
	r.emit(Event{Type: EventCommand, Path: path, Command: opLabels[cmd.op], RequestedBy: cmd.by, Cause: cmd.reason, Span: cmd.span})
	reject := func(err error) { r.commandDone(cmd, path, CommandRejected, err) }
	if r.shut != nil {
		reject(ErrSupervisorDone)
		return
	}
	c := r.child(cmd.name)
	if c == nil {
		reject(fmt.Errorf("%w: %s under %s", ErrUnknownChild, quoteName(cmd.name), r.path))
		return
	}
	if c.ended() && c.outcome == OutcomeAbandoned && cmd.op != opRemove {
		reject(&AbandonedError{Children: []string{c.path}})
		return
	}
	if busy := c.stop.cmd; busy != nil && c.isStopping() {
		if busy.op == cmd.op {
			// The same command is under way: this one joins it, is told
			// so, and shares its outcome.
			busy.merged++
			r.emit(Event{Type: EventCommandDone, Path: path, Command: opLabels[cmd.op], RequestedBy: cmd.by, Cause: cmd.reason, Result: CommandMerged, Span: cmd.span})
			for _, ch := range cmd.replies {
				busy.replies = append(busy.replies, ch)
			}
			return
		}
		reject(fmt.Errorf("sdk: child %s is busy with %s", c.path, opLabels[busy.op]))
		return
	}
	if c.ended() && cmd.op != opRemove {
		reject(fmt.Errorf("sdk: child %s has ended (%s); add it again to run it", c.path, c.state()))
		return
	}
	paused := c.state() == lifecycle.StatePaused
	switch cmd.op {
	case opResume:
		if !paused {
			r.commandDone(cmd, path, CommandIdempotent, nil)
			return
		}
		if c.rare != nil {
			c.rare.pausedBy = audit{}
		}
		r.emit(Event{Type: EventChildResumed, Path: c.path, Attempt: c.attempt, From: lifecycle.StatePaused, RequestedBy: cmd.by, Cause: cmd.reason})
		r.launchWhenDepsUp(c, cmd.why())
		r.commandDone(cmd, path, CommandAccepted, nil)
		return
	case opPause:
		if paused {
			r.commandDone(cmd, path, CommandIdempotent, nil)
			return
		}
	case opRestart:
		if paused {
			reject(fmt.Errorf("sdk: child %s is paused; resume it", c.path))
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
		r.disarmAttempt(c)
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
	return &StopCause{kind: k, RequestedBy: cmd.by, Reason: cmd.reason, span: cmd.span}
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
		from := c.state()
		c.rareFields().pausedBy = audit{cmd.by, cmd.reason}
		r.move(c, lifecycle.StatePaused, why)
		r.emit(Event{Type: EventChildPaused, Path: c.path, Attempt: c.attempt, From: from, To: lifecycle.StatePaused, RequestedBy: cmd.by, Cause: cmd.reason})
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
	res := CommandAccepted
	if err == ErrSupervisorDone {
		res = CommandRejected
	}
	r.commandDone(cmd, c.path, res, err)
	if cmd.op == opPause || cmd.op == opRemove {
		r.checkStarted()
	}
}

// commandDone reports a command's outcome, as an event and to every caller
// waiting for it.
func (r *run) commandDone(cmd *command, path string, res CommandResult, err error) {
	r.emit(Event{Type: EventCommandDone, Path: path, Command: opLabels[cmd.op], RequestedBy: cmd.by, Cause: cmd.reason, Err: err, Result: res, Span: cmd.span})
	for i, ch := range cmd.replies {
		if i > 0 {
			res = CommandMerged // the callers that joined it
		}
		ch <- answer{result: res, err: err}
	}
	cmd.replies = nil
}
