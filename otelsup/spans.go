package otelsup

import "go.opentelemetry.io/otel/attribute"

// Span names. They are fixed, so low in cardinality; what a span is about
// (the child, the supervisor) is in its attributes.
const (
	// SpanChildAttempt is one attempt of a child: from EventChildStarting
	// to the attempt's exit (or abandonment). Each attempt is the root of
	// its own trace.
	SpanChildAttempt = "supervisor.child.attempt"
	// SpanStart is a supervisor's startup: from its first event to its
	// transition to alive, or to shutting_down when it never got there.
	SpanStart = "supervisor.start"
	// SpanShutdown is a supervisor's shutdown: from its transition to
	// shutting_down to its transition to completed or failed.
	SpanShutdown = "supervisor.shutdown"
	// SpanCommand is an operator command (restart, remove, pause, resume):
	// from EventCommand to the command's observed effect.
	SpanCommand = "supervisor.command"
)

// Span event names. Transitions use lifecycle.EventTransition.
const (
	SpanEventChildStarted     = "supervisor.child.started"     // on the start span: a child's attempt runs
	SpanEventChildReady       = "supervisor.child.ready"       // the attempt signalled readiness
	SpanEventChildStopping    = "supervisor.child.stopping"    // the supervisor cancelled the attempt
	SpanEventChildStopped     = "supervisor.child.stopped"     // a stopped attempt returned in time
	SpanEventChildPanicked    = "supervisor.child.panicked"    // the attempt panicked
	SpanEventChildStale       = "supervisor.child.stale"       // the attempt missed its heartbeat
	SpanEventChildAbandoned   = "supervisor.child.abandoned"   // the attempt did not stop in time
	SpanEventRestartScheduled = "supervisor.restart.scheduled" // on the new attempt: why and after what delay it runs
	SpanEventCommandMerged    = "supervisor.command.merged"    // a duplicate command joined this one
	SpanEventExitReport       = "supervisor.exit_report"       // last event of the shutdown span
)

// Span and span event attributes besides [lifecycle.AttrChildPath],
// [lifecycle.AttrSupervisorPath], [AttrRestartReason], [AttrExitKind],
// error.type and the exception.* attributes.
const (
	// AttrChildAttempt is the attempt number, from 1 (int).
	AttrChildAttempt attribute.Key = "supervisor.child.attempt"
	// AttrChildGeneration counts the restarts of a child caused by
	// something other than its own exit (int).
	AttrChildGeneration attribute.Key = "supervisor.child.generation"
	// AttrReason is free text saying why the supervisor acted.
	AttrReason attribute.Key = "supervisor.reason"
	// AttrRequestedBy names who asked for a command or a shutdown.
	AttrRequestedBy attribute.Key = "supervisor.requested_by"
	// AttrStopWaited is how long the supervisor waited for a stop, in
	// seconds (float64).
	AttrStopWaited attribute.Key = "supervisor.stop.waited"
	// AttrRestartDelay is the backoff before a restarted attempt, in
	// seconds (float64).
	AttrRestartDelay attribute.Key = "supervisor.restart.delay"
	// AttrRestartAttempt is the number of the attempt a restart launches
	// (int).
	AttrRestartAttempt attribute.Key = "supervisor.restart.attempt"
	// AttrRestartCause is the sdk's cause of a restart, free text such as
	// "/root/db exited (error)".
	AttrRestartCause attribute.Key = "supervisor.restart.cause"
	// AttrLinkType says what a span link points at; see the Link*
	// constants.
	AttrLinkType attribute.Key = "supervisor.link.type"
	// AttrCommand is the operator command: restart, remove, pause, resume.
	AttrCommand attribute.Key = "supervisor.command"
	// AttrCommandOutcome is how a command span ended; see the Outcome*
	// constants.
	AttrCommandOutcome attribute.Key = "supervisor.command.outcome"
	// AttrShutdownCause is why a supervisor shut down, as an sdk.Cause
	// value, inferred from the events (see the package documentation).
	AttrShutdownCause attribute.Key = "supervisor.shutdown.cause"

	// Attributes of the exit report event.
	AttrReportState          attribute.Key = "supervisor.report.state"
	AttrReportCause          attribute.Key = "supervisor.report.cause"
	AttrReportRequestedBy    attribute.Key = "supervisor.report.requested_by"
	AttrReportReason         attribute.Key = "supervisor.report.reason"
	AttrReportChildren       attribute.Key = "supervisor.report.children"
	AttrReportAbandoned      attribute.Key = "supervisor.report.abandoned"
	AttrReportAbandonedPaths attribute.Key = "supervisor.report.abandoned_paths"
)

// Values of [AttrLinkType].
const (
	LinkPreviousAttempt = "previous_attempt" // attempt → the child's previous attempt
	LinkSupervisorStart = "supervisor_start" // attempt, shutdown → the supervisor's start span
	LinkParentAttempt   = "parent_attempt"   // nested supervisor's start → its attempt as a child of its parent
	LinkCommand         = "command"          // attempt → the restart or resume command that launched it
	LinkTargetAttempt   = "target_attempt"   // command → the attempt running when the command arrived
)

// Values of [AttrCommandOutcome].
const (
	// OutcomeDone: the command's effect was observed.
	OutcomeDone = "done"
	// OutcomeNoEffect: there was nothing to do (pausing a child that is
	// not running, resuming one that is not paused, removing one that
	// has ended).
	OutcomeNoEffect = "no_effect"
	// OutcomeRejected: the supervisor refuses the command (shutting down,
	// unknown or ended child, child busy with another command, restart of
	// a paused child). Status Error.
	OutcomeRejected = "rejected"
	// OutcomeAbandoned: the child did not stop in time. Status Error.
	OutcomeAbandoned = "abandoned"
	// OutcomeInterrupted: the supervisor ended before the effect was
	// observed. Status Error.
	OutcomeInterrupted = "interrupted"
	// OutcomeUntracked: too many commands were in flight to follow this
	// one (see maxCommands); the span ends at once.
	OutcomeUntracked = "untracked"
)

// maxCommands bounds the command spans waiting for their effect. There is
// at most one per child; past the bound a command span ends at once.
const maxCommands = 4096

// maxAbandonedPaths bounds the abandoned paths listed on the exit report
// event; the count is always exact.
const maxAbandonedPaths = 64
