// Package sdk supervises goroutine tasks the way Erlang/OTP supervises
// processes: declare what should run and how to react to failure, and the
// supervisor keeps it running.
//
// A child is anything with Serve(ctx context.Context) error ([Service]).
// Its [Spec] gives it a name, a [RestartType] (permanent, transient,
// temporary or custom), a per-child [Backoff], a stop timeout, and
// optionally readiness, dependencies on siblings and a heartbeat deadline;
// a [Role] fills sensible defaults for what is left unset.
//
// A [Supervisor] runs its children in declaration order (each once the
// siblings it depends on are up), one goroutine per child for the child's
// whole life, and owns all of its state on one goroutine of its own, which
// runs no user code: hooks, log handlers and [Spec.RestartIf] run
// elsewhere, so none of them can hold up, wedge or crash supervision. When
// a child's attempt ends on its own, the restart type decides whether it
// runs again; the [Strategy] decides which siblings restart with it
// (one_for_one, one_for_all, rest_for_one); the [Intensity] bounds how many
// restarts happen in a window before the supervisor gives up (meltdown).
// A Supervisor is itself a Service, so supervisors nest into trees: a
// nested supervisor is ready once its own start has completed, and a
// subtree that gives up is one failure of its parent, so persistent
// faults escalate. [Pool] runs many children from one template (OTP's
// simple_one_for_one).
//
// # Attempts
//
// Each run of Serve is an attempt, numbered from 1, and the attempt is an
// identity: [Ready] and [Heartbeat] count only for the attempt whose
// context they are given, and a late exit, readiness or heartbeat of an
// attempt that has ended changes nothing (it is reported as an
// [EventLateExit] or [EventLateSignal]). An attempt's end is judged in
// three steps: classify (how it ended: normal, error, panic, a call to
// runtime.Goexit, which is an error matching [ErrGoexit], stale, or
// stopped by the supervisor), decide (restart, end, escalate), act.
//
// # Why an attempt was stopped
//
// Attempts the supervisor cancels are stops, never failures, whatever they
// return, except the two stops that are failures of the child (a missed
// heartbeat, a missed start timeout). context.Cause(ctx) of a stopped
// attempt is a [*StopCause] that matches [ErrStopped], the sentinel of its
// kind and, for a shutdown, that of its cause:
//
//	stop                                     errors.Is (besides ErrStopped)
//	Shutdown, NotifyShutdown                 ErrShutdown
//	Serve's context ended / parent stopped   ErrShutdown, ErrContextDone, the context's cause
//	meltdown                                 ErrShutdown, ErrMeltdown
//	a child returned ErrFatal                ErrShutdown (Cause CauseFatal)
//	significant children ended               ErrShutdown, ErrAutoShutdown
//	the start failed                         ErrShutdown, ErrStartFailed
//	a sibling's exit restarts the scope      ErrScopeRestart
//	Restart                                  ErrRestartRequested
//	Remove                                   ErrRemoved
//	Pause                                    ErrPaused
//	no heartbeat within StaleAfter           ErrStale (a failure)
//	not ready within StartTimeout            ErrStartTimeout (a failure)
//
// The StopCause also says who asked and why, and which child's exit led to
// the stop ([StopCause.Origin]). An attempt that returned on its own
// leaves [ErrAttemptEnded] as its context's cause, for the goroutines it
// left behind. Children steer the supervisor with [ErrDoNotRestart] and
// [ErrFatal]; panics are recovered with their stack and are failures.
//
// # Order
//
// Shutdowns and scope restarts stop children in reverse start order, one
// at a time (or all at once, [WithShutdownOrder]), each within its own
// stop timeout counted from its own stop request; a child's dependents
// always stop before it. A scope restarts in start order, once every
// sibling in it has stopped and the longest backoff of its members has
// elapsed.
//
// # Control and observation
//
// [Supervisor.Start] returns once every child has started and every child
// that declares readiness has been ready; [Supervisor.Shutdown] returns
// the tree-wide [Report]; [Supervisor.Restart], [Supervisor.Remove],
// [Supervisor.Pause] and [Supervisor.Resume] carry who asked and why.
// Every call that takes a context returns by its deadline. Everything that
// happens is an [Event], numbered per tree ([Event.Seq]) and delivered to
// buffered subscriptions ([Supervisor.Subscribe]) at once and to hooks
// ([WithEventHook]) and log/slog ([WithLogger]) in order on the tree's own
// goroutine; the last few hundred are also kept in memory, a flight
// recorder ([WithFlightRecorder]) that [Supervisor.Status] shows per
// supervisor and per child. The otelsup package turns events into
// OpenTelemetry traces and metrics, and sdk/probe serves health and status
// over HTTP.
package sdk
