package sdk

import (
	"context"
	"slices"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Start starts the supervisor in the background and returns once every
// child has started, every child that declares readiness has been ready,
// and the hooks have seen it. If a
// child that declares readiness fails or times out first, Start stops what
// it started and returns a [*StartError] (matching [ErrStartFailed]). If
// ctx ends first, Start returns ctx's cause by ctx's deadline, and the
// children it started are stopped in the background, each within its stop
// timeout; [Supervisor.Wait] returns once they have. With a ctx that has
// already ended it starts nothing. The supervisor then runs until
// [Supervisor.Shutdown], a meltdown or a fatal child.
func (s *Supervisor) Start(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx) // start nothing
	}
	r, err := s.begin(ctx)
	if err != nil {
		return err
	}
	go r.loop(context.Background()) // owned by s; stopped by Shutdown
	select {
	case <-r.startDone:
		if r.startErr == nil {
			_ = r.feed.flush(ctx, r.startSeq, r.hurry) // the hooks have seen the start
			return nil
		}
		select {
		case <-r.done: // what started has stopped
			_ = r.flushHooks(ctx, true)
		case <-ctx.Done():
		}
		return r.startErr
	case <-ctx.Done():
	}
	cause := context.Cause(ctx)
	r.post(msg{kind: msgShutdown, ctl: &command{op: opShutdown, cause: &StopCause{kind: stopShutdown, Cause: CauseContext,
		RequestedBy: "start", Reason: "the start's context ended", Err: cause}}})
	return cause
}

// Shutdown stops the supervisor: children stop in reverse start order (or
// all at once, see [WithShutdownOrder]), each within its own stop timeout
// counted from its own stop request, and all within ctx's deadline, after
// which the children still running are abandoned and reported. It returns
// once the supervisor has ended and its hooks have seen its last event
// (both bounded by ctx), with the report. requestedBy and reason must not
// be blank; they are recorded in the report. Shutdown is idempotent: later
// calls return the same report. The error is the supervisor's own
// (meltdown, fatal child), joined with an [*AbandonedError] when children
// did not stop. Called from inside one of the tree's own children with
// that child's context, Shutdown starts the shutdown and returns at once
// with no report and [ErrSupervisorDone]: waiting would wait for the
// caller's own stop ([Supervisor.Wait] has the report). When ctx's
// deadline passes, Shutdown returns without
// waiting for the hooks any longer ([Supervisor.Wait] waits for them). A
// hook may call Shutdown: it returns once the supervisor has ended,
// without waiting for the delivery of the events queued behind the calling
// hook.
func (s *Supervisor) Shutdown(ctx context.Context, requestedBy, reason string) (*Report, error) {
	return s.shutdown(ctx, CauseOperator, requestedBy, reason)
}

func (s *Supervisor) shutdown(ctx context.Context, cause Cause, by, reason string) (*Report, error) {
	if err := validateAudit(by, reason); err != nil {
		return nil, err
	}
	if err := s.usable(); err != nil {
		return nil, err
	}
	r, last := s.runs()
	if r == nil {
		if last != nil {
			return last.report, last.result
		}
		return nil, ErrNotStarted
	}
	sc := &StopCause{kind: stopShutdown, Cause: cause, RequestedBy: by, Reason: reason, span: trace.SpanContextFromContext(ctx)}
	if a := attemptFrom(ctx); a != nil && !a.over.Load() && (a.r == r || slices.Contains(a.r.chain, s)) {
		// Called from inside one of the tree's own children, with its
		// context: the shutdown stops the caller, so waiting for it
		// would wait for the caller itself. It is started; the report is
		// Wait's, once the caller has returned.
		r.post(msg{kind: msgShutdown, ctl: &command{op: opShutdown, cause: sc}})
		return nil, ErrSupervisorDone
	}
	deadline, _ := ctx.Deadline()
	if ctx.Err() != nil {
		deadline = time.Now() // already out of time: abandon at once
	}
	if _, err := r.postCtx(ctx, msg{kind: msgShutdown, ctl: &command{op: opShutdown, cause: sc, deadline: deadline}}); err == nil {
		select {
		case <-r.done:
		case <-ctx.Done():
		}
	}
	select {
	case <-r.done:
	default:
		// Out of time: abandon whatever still runs, now. The loop runs no
		// user code, so it gets to this at once.
		r.post(msg{kind: msgShutdown, ctl: &command{op: opShutdown, cause: sc, deadline: time.Now()}})
		<-r.done
	}
	_ = r.flushHooks(ctx, true)
	return r.report, r.result
}

// Wait blocks until the supervisor's current (or last) run has ended and
// its hooks have seen its last event, and returns its report and what
// Serve returned, or returns ctx's cause. After Serve has returned, Wait
// returns at once: it is how to get the report of a Serve call.
func (s *Supervisor) Wait(ctx context.Context) (*Report, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	r, last := s.runs()
	if r == nil {
		r = last
	}
	if r == nil {
		return nil, ErrNotStarted
	}
	select {
	case <-r.done:
	default:
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	if err := r.flushHooks(ctx, false); err != nil {
		return nil, err
	}
	return r.report, r.result
}

// finalReport returns the report of the supervisor's last run, or nil
// while it runs or before it has run.
func (s *Supervisor) finalReport() *Report {
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

// currentRun returns the run in progress, or nil.
func (s *Supervisor) currentRun() *run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run
}
