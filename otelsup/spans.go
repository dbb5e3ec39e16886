package otelsup

import "go.opentelemetry.io/otel/attribute"

// Span names. They are fixed, so low in cardinality; what a span is about
// (the child, the supervisor) is in its attributes.
const (
	// SpanChildStart is the start of one attempt of a child: from
	// EventChildStarting to EventChildRunning, or to EventChildReady for a
	// child that signals readiness (or to the attempt's exit when it never
	// got there). Each is the root of its own trace.
	SpanChildStart = "supervisor.child.start"
	// SpanChildExit is the end of one attempt: from the first sign of it
	// (EventChildStopping, EventChildStale, EventChildPanicked or
	// EventChildExited) to what the supervisor decided next (backoff,
	// restart, pause, end or abandonment). It links to the attempt's start
	// span.
	SpanChildExit = "supervisor.child.exit"
	// SpanStart is a supervisor's startup: from its first event to its
	// transition to alive, or to shutting_down when it never got there.
	SpanStart = "supervisor.start"
	// SpanShutdown is a supervisor's shutdown: from its transition to
	// shutting_down to its transition to completed or failed.
	SpanShutdown = "supervisor.shutdown"
	// SpanCommand is an operator command (restart, remove, pause, resume):
	// from EventCommand to its EventCommandDone.
	SpanCommand = "supervisor.command"
)

// Span event names. Transitions use lifecycle.EventTransition.
const (
	SpanEventChildStarted     = "supervisor.child.started"     // on the start span: a child's attempt runs
	SpanEventChildReady       = "supervisor.child.ready"       // the attempt signalled readiness
	SpanEventChildStopping    = "supervisor.child.stopping"    // the supervisor cancelled the attempt
	SpanEventChildStopped     = "supervisor.child.stopped"     // a stopped attempt returned in time
	SpanEventChildStale       = "supervisor.child.stale"       // the attempt missed its heartbeat
	SpanEventChildAbandoned   = "supervisor.child.abandoned"   // the attempt did not stop in time
	SpanEventRestartScheduled = "supervisor.restart.scheduled" // on the exit span: why and after what delay the next attempt runs
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
	// AttrShutdownCause is why a supervisor shut down, an sdk.Cause value
	// (sdk.Event.ShutdownCause).
	AttrShutdownCause attribute.Key = "supervisor.shutdown.cause"

	// Attributes of the exit report event, from the sdk.Report the
	// supervisor's final event carries.
	AttrReportState       attribute.Key = "supervisor.report.state"        // Report.State
	AttrReportCause       attribute.Key = "supervisor.report.cause"        // Report.Cause
	AttrReportRequestedBy attribute.Key = "supervisor.report.requested_by" // Report.RequestedBy
	AttrReportReason      attribute.Key = "supervisor.report.reason"       // Report.Reason
	AttrReportError       attribute.Key = "supervisor.report.error"        // Report.Error, when set
	AttrReportChildren    attribute.Key = "supervisor.report.children"     // len(Report.Children) (int)
	// AttrReportFailed counts the supervisor's own children that ended
	// failed (int); it is set only when some did.
	AttrReportFailed attribute.Key = "supervisor.report.failed"
	// AttrReportAbandoned counts the abandoned children of the whole tree,
	// len(Report.Abandoned()) (int).
	AttrReportAbandoned attribute.Key = "supervisor.report.abandoned"
	// AttrReportAbandonedPaths lists them, at most maxAbandonedPaths
	// (string slice); it is set only when some were abandoned.
	AttrReportAbandonedPaths attribute.Key = "supervisor.report.abandoned_paths"
)

// Values of [AttrLinkType].
const (
	LinkPreviousAttempt = "previous_attempt" // start → the last span (exit, else start) of the child's previous attempt
	LinkAttemptStart    = "attempt_start"    // exit → the start span of the same attempt
	LinkSupervisorStart = "supervisor_start" // child start, shutdown → the supervisor's start span
	LinkParentAttempt   = "parent_attempt"   // nested supervisor's start → the start span of its attempt as a child of its parent
	LinkCommand         = "command"          // child start → the restart or resume command that launched it
	LinkCaller          = "caller"           // command or shutdown → the span of the call that issued it (its context's)
	LinkTargetAttempt   = "target_attempt"   // command → the start span of the attempt current when the command arrived
)

// Values of [AttrCommandOutcome].
const (
	// OutcomeDone: the sdk completed the command (EventCommandDone with no
	// Err). Resuming a child that is not paused also completes.
	OutcomeDone = "done"
	// OutcomeRejected: the sdk refused the command (it arrived while the
	// supervisor was shutting down, unknown or ended child, child busy
	// with another command, restart of a paused child). Status Error, with
	// the sdk's error text.
	OutcomeRejected = "rejected"
	// OutcomeAbandoned: the child did not stop in time (sdk.ErrAbandoned).
	// Status Error.
	OutcomeAbandoned = "abandoned"
	// OutcomeInterrupted: the child exited on its own while the command
	// waited (sdk.ErrChildExited), the supervisor began shutting down
	// while it waited (sdk.ErrSupervisorDone for a command that arrived
	// before the shutdown), or the supervisor ended (or the adapter was
	// closed) before the sdk answered. Status Error.
	OutcomeInterrupted = "interrupted"
	// OutcomeMerged: the same command was under way for the child; the sdk
	// merged this one into it (sdk.CommandMerged), and the command it
	// joined has a supervisor.command.merged event.
	OutcomeMerged = "merged"
	// OutcomeUntracked: too many commands were in flight to follow this
	// one (see maxCommands); the span ends at once.
	OutcomeUntracked = "untracked"
)

// maxCommands bounds the command spans waiting for their EventCommandDone.
// The sdk keeps at most one waiting command per child; past the bound a
// command span ends at once.
const maxCommands = 4096

// maxAbandonedPaths bounds the abandoned paths listed on the exit report
// event; the count is always exact.
const maxAbandonedPaths = 64
