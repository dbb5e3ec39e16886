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
// A [Supervisor] runs its children in declaration order, one goroutine per
// child for the child's whole life, and owns all of its state on one
// goroutine of its own. When a child's attempt ends on its own, the
// restart type decides whether it runs again; the [Strategy] decides which
// siblings restart with it (one_for_one, one_for_all, rest_for_one); the
// [Intensity] bounds how many restarts happen in a window before the
// supervisor gives up (meltdown). A Supervisor is itself a Service, so
// supervisors nest into trees, and a subtree that gives up is one failure
// of its parent: persistent faults escalate. [Pool] runs many children from
// one template (OTP's simple_one_for_one).
//
// Attempts the supervisor cancels (shutdown, a sibling's restart, an
// operator's command) are stops, never failures, whatever they return;
// their context's cause wraps [ErrStopped] and says why. Panics are
// recovered with their stack and treated as failures. Children steer the
// supervisor with [ErrDoNotRestart] and [ErrFatal].
//
// [Supervisor.Start] returns once every child that declares readiness has
// called [Ready]; [Supervisor.Shutdown] stops children in reverse start
// order, each within its own stop timeout, and returns the tree-wide
// [Report]; [Supervisor.Restart], [Supervisor.Remove], [Supervisor.Pause]
// and [Supervisor.Resume] carry who asked and why. Everything that happens
// is an [Event], delivered to hooks ([WithEventHook]), buffered
// subscriptions ([Supervisor.Subscribe]) and log/slog ([WithLogger]); the
// otelsup package turns events into OpenTelemetry traces and metrics, and
// sdk/probe serves health and status over HTTP.
package sdk
