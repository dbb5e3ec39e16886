// Package otelsup reports a supervision tree (package sdk) to
// OpenTelemetry, as metrics and spans. It uses only the OpenTelemetry API:
// with no SDK installed every measurement and span is a no-op, and the
// application chooses the providers, exporters and views (package
// otelsup/otelexport is one ready-made OTLP setup).
//
//	a, err := otelsup.New(
//		otelsup.WithMeterProvider(mp),  // default: the global MeterProvider
//		otelsup.WithTracerProvider(tp), // default: the global TracerProvider
//	)
//	if err != nil { ... } // a is usable still: see New
//	defer a.Close()
//	root, err := sdk.New("root", a.Options()...)
//
// # Metrics
//
// The adapter's own instruments are on one Meter named [ScopeName], with
// [Version] and the semconv schema URL. The state sets come from
// [lifecycle.StateMetrics], on the same provider, under the lifecycle
// package's scope.
//
//	name                               instrument                unit         attributes                                          Prometheus
//	supervisor.child.restarts          Int64Counter              {restart}    supervisor.child.path, supervisor.restart.reason     supervisor_child_restarts_total
//	supervisor.child.exits             Int64Counter              {exit}       supervisor.child.path, supervisor.exit.kind          supervisor_child_exits_total
//	supervisor.child.attempt.duration  Float64Histogram          s            supervisor.child.path, error.type (failures only)    supervisor_child_attempt_duration_seconds_{bucket,sum,count}
//	supervisor.meltdowns               Int64Counter              {meltdown}   supervisor.path                                      supervisor_meltdowns_total
//	supervisor.child.abandoned         Int64Counter              {child}      supervisor.child.path                                supervisor_child_abandoned_total
//	supervisor.child.status            Int64ObservableUpDownCtr  {child}      supervisor.child.path, supervisor.child.state        supervisor_child_status
//	supervisor.status                  Int64ObservableUpDownCtr  {supervisor} supervisor.path, supervisor.state                    supervisor_status
//
// Attribute values:
//
//   - supervisor.restart.reason: error, panic, stale or normal when the child is
//     restarted after its own exit of that kind; sibling when its strategy
//     restarted it because another child exited. (On spans it can also be
//     operator, for a restart command.)
//   - supervisor.exit.kind: normal, error, panic, stale (no heartbeat) or
//     stopped (the supervisor cancelled the attempt), as [sdk.ExitKind].
//   - error.type: see "error.type values" below. On the duration
//     histogram it is set only for attempts that ended with an error, a
//     panic or a missed heartbeat. At most 32 distinct values are reported
//     on metrics; later ones become _OTHER.
//
// The attempt duration is recorded when the attempt ends, from
// [sdk.Event.Ran], with buckets from 5ms to one hour. A supervisor's
// meltdowns series is reported from its first event, at 0, so that its
// first meltdown shows as an increase (a Prometheus increase() or rate()
// ignores a series' first sample); the other counters start with their
// first event. The state sets report
// 1 for each machine's current state and 0 for its other states; see
// package lifecycle.
//
// Metric attributes hold only paths and enumerated values, never error
// messages. Their sets are built once per child and value and cached, so
// recording allocates nothing in the steady state; the cache entries of a
// child are dropped when it ends.
//
// # Spans
//
// Spans come from the same Tracer scope ([ScopeName], [Version], semconv
// schema URL). Every span is a root (its own trace) of kind INTERNAL, tied
// to the others by span links, and every span is bounded by events: none
// stays open for the life of the process, only for the life of one
// attempt, one startup, one shutdown or one command. Span names are fixed;
// what a span is about is in its attributes.
//
//	span                       from → to                                         links (supervisor.link.type)                         status Error when
//	supervisor.child.attempt   EventChildStarting → EventChildExited             previous_attempt → the child's previous attempt;     the attempt ended with an error, a panic or a
//	                           (or EventChildAbandoned)                          supervisor_start → its supervisor's start span;      missed heartbeat (description err.Error()),
//	                                                                             command → the restart/resume command behind it       or was abandoned ("abandoned: <why>")
//	supervisor.start           the supervisor's first event → its transition     parent_attempt → for a nested supervisor, its        it went to shutting_down (or failed) before
//	                           to alive (or to shutting_down/failed)             attempt as a child of its parent                     alive ("shut down before it was alive: <reason>")
//	supervisor.shutdown        transition to shutting_down → transition to       supervisor_start → the start span of the same run    the supervisor failed (description: its error,
//	                           completed or failed                                                                                    Event.Err) or children of the tree were abandoned
//	supervisor.command         EventCommand → its EventCommandDone               target_attempt → the attempt running when the        the sdk answered with an error (description:
//	                                                                             command arrived                                      its text), or the supervisor ended first
//
// Span attributes:
//
//	span                       attributes
//	supervisor.child.attempt   supervisor.child.path, supervisor.path, supervisor.child.attempt (int), supervisor.child.generation (int);
//	                           at the exit: supervisor.exit.kind, and error.type on failure
//	supervisor.start           supervisor.path; error.type on failure
//	supervisor.shutdown        supervisor.path, supervisor.requested_by, supervisor.reason, supervisor.shutdown.cause; error.type on failure
//	supervisor.command         supervisor.command (restart, remove, pause, resume), supervisor.child.path, supervisor.path,
//	                           supervisor.requested_by, supervisor.reason; at the end: supervisor.command.outcome, and
//	                           supervisor.child.attempt (the attempt it launched) for a restart or resume that launched
//	                           one; error.type on failure
//
// Span events (all with the event's time from [sdk.Event.Time]):
//
//	event                                 on span                    from sdk event                    attributes
//	supervisor.lifecycle.transition       attempt                    EventChildRunning,                 supervisor.lifecycle.{kind, path, from, to, reason}
//	  (lifecycle.EventTransition)                                    EventChildReady, EventChildEnded   (requested_by when set), as lifecycle.Machine.Bind
//	                                                                 (when the child ends with the      would add them
//	                                                                 attempt)
//	                                      start                      EventSupervisorState → alive
//	                                      shutdown                   EventSupervisorState → shutting_down,
//	                                                                 → completed / failed
//	supervisor.restart.scheduled          attempt (the new one)      EventChildBackoff /                supervisor.restart.delay (s, float64), supervisor.restart.reason,
//	                                                                 EventChildRestarting / a restart   supervisor.restart.attempt (int, the new attempt),
//	                                                                 command                            supervisor.restart.cause (the sdk's cause text)
//	supervisor.child.ready                attempt; start (startup)   EventChildReady                    — ; on the start span supervisor.child.path
//	supervisor.child.stale                attempt                    EventChildStale                    supervisor.reason (the error text)
//	supervisor.child.stopping             attempt                    EventChildStopping                 supervisor.reason
//	supervisor.child.stopped              attempt; shutdown          EventChildStopped                  supervisor.stop.waited (s, float64); on the shutdown span supervisor.child.path
//	supervisor.child.panicked             attempt                    EventChildPanicked                 exception.message, exception.stacktrace (the sdk's bounded stack)
//	supervisor.child.abandoned            attempt; shutdown          EventChildAbandoned                supervisor.stop.waited, supervisor.reason; on the shutdown span supervisor.child.path
//	supervisor.child.started              start                      EventChildRunning during startup   supervisor.child.path, supervisor.child.attempt
//	supervisor.command.merged             command                    a duplicate EventCommand           supervisor.requested_by, supervisor.reason
//	supervisor.exit_report                shutdown (last event)      EventSupervisorState → completed   from its Report: supervisor.report.state, supervisor.report.cause,
//	                                                                 / failed                           supervisor.report.requested_by, supervisor.report.reason,
//	                                                                                                    supervisor.report.error (when set), supervisor.report.children (int),
//	                                                                                                    supervisor.report.failed (int, when some failed),
//	                                                                                                    supervisor.report.abandoned (int), supervisor.report.abandoned_paths
//	                                                                                                    (string slice, at most 64, only when some were abandoned)
//
// How the spans follow the events:
//
//   - An attempt span starts on EventChildStarting. On EventChildExited its
//     status and exit attributes are set, but the span takes the events the
//     sdk emits right after an exit (stopped, ended, backoff, restarting)
//     and ends on the first of them that closes the exit, or on any other
//     event of the same supervisor, with the end time of its last event.
//     The restart decision (EventChildBackoff, EventChildRestarting, or an
//     operator's restart) is the first event of the NEW attempt span, so an
//     attempt says why and after what delay it runs.
//   - A child's lifecycle transitions are taken from the From and To of the
//     sdk events rather than from a bound lifecycle.Machine: the sdk owns
//     the machines and does not expose them. The event name and attributes
//     are those of package lifecycle, so the two are interchangeable.
//   - The start span of a nested supervisor starts on its own first event;
//     each Serve of a supervisor (a parent restarting it) has its own start
//     and shutdown spans. The previous_attempt link does not cross runs.
//   - A command span ends on the command's EventCommandDone, which the sdk
//     emits when the command completes (a restart or resume once it has
//     launched the new attempt, a pause or remove once the child has
//     stopped) or fails. The outcome (supervisor.command.outcome) follows
//     its Err: done (nil), abandoned (sdk.ErrAbandoned), interrupted
//     (sdk.ErrChildExited, or sdk.ErrSupervisorDone for a command that
//     arrived before the supervisor began shutting down: the shutdown took
//     over), rejected (any other error); a command still open when its
//     supervisor ends (or the adapter is closed) is interrupted. A duplicate of a command waiting for the same child,
//     which the sdk merges into it, is a supervisor.command.merged event
//     on the waiting command's span. At most 4096 commands are followed at
//     once (the sdk keeps at most one waiting per child); past that a
//     command span ends at once, outcome untracked.
//   - supervisor.shutdown.cause is [sdk.Event.ShutdownCause], an
//     [sdk.Cause] value; the supervisor's error ([sdk.Event.Err]) gives
//     the failed shutdown span its description and error.type.
//   - The exit report event mirrors the [sdk.Report] of the final
//     EventSupervisorState. supervisor.report.children and
//     supervisor.report.failed count the supervisor's own children, as
//     [sdk.Report.Children]; supervisor.report.abandoned and
//     abandoned_paths cover the whole tree below it, as
//     [sdk.Report.Abandoned], and so does the shutdown span's status.
//
// Every span a supervisor's run opened has ended when its terminal
// transition (to completed or failed) has been delivered, which is before
// its Serve, Shutdown or Wait returns, so shutting down the
// application's TracerProvider afterwards flushes them all. [Adapter.Close]
// ends any span still open (a tree that never reached a terminal state)
// and makes the adapter start no more spans.
//
// Cost: with a [go.opentelemetry.io/otel/trace/noop.TracerProvider], or
// with the default global provider while no provider has been installed
// with otel.SetTracerProvider, the adapter starts no spans and its hook
// allocates nothing (see BenchmarkRestart and [WithTracerProvider]). With
// an SDK (batch span processor), a restart costs about 10µs and 40
// // allocations more on 2 vCPUs, against about 1.5µs without. The hook runs
// on the tree's event goroutine, not the supervisor's: a slow exporter
// delays the telemetry (and, past the hook queue's bound, drops events for
// it, see sdk.WithHookQueue), never supervision. Use a batching span
// processor all the same.
//
// # error.type values
//
// error.type is the ErrorType() string of the first error in the chain
// that has one (the sdk's errors do), else stale or start_timeout for the
// sdk's sentinel failures that have none (sdk.ErrStale,
// sdk.ErrStartTimeout), else _OTHER. The adapter's own values are:
//
//	panic           an attempt panicked ([sdk.PanicError])
//	stale           an attempt missed its heartbeat
//	start_timeout   an attempt was not ready within its start timeout
//	fatal           a child returned sdk.ErrFatal; a supervisor failed for it
//	meltdown        a supervisor exceeded its restart intensity
//	start_failure   a supervisor failed to start
//	canceled        a supervisor was shut down before it was alive
//	abandoned       an attempt did not stop within its stop timeout; a shutdown abandoned children; a command's child was abandoned
//	rejected        a command the supervisor refuses
//	interrupted     a command whose child exited on its own, or whose supervisor shut down or ended first
//	_OTHER          anything else
//
// # Cardinality
//
// Every series is keyed by a path and an enumerated value, never by an
// error message or an attempt number. Per child, at most:
//
//	supervisor.child.status            9 (one per child state)
//	supervisor.child.restarts          5 (error, panic, normal, stale, sibling)
//	supervisor.child.exits             5 (normal, error, panic, stopped, stale)
//	supervisor.child.attempt.duration  1 + one per error.type it failed with
//	supervisor.child.abandoned         1
//
// that is 21 + k series, k ≤ 32 error.type values process-wide; per
// supervisor, 5 supervisor.status series and 1 supervisor.meltdowns. The
// OpenTelemetry Go SDK caps each instrument at 2,000 series by default
// (later ones are folded into one series with otel.metric.overflow=true):
// the state set reaches it at 222 children in one process, the other
// instruments later. Raise it with sdkmetric.WithCardinalityLimit, or by a
// view per instrument, for larger trees. A pool's children have growing
// names: the state set drops a child's series when it ends, but the
// counters and the histogram keep theirs under cumulative temporality (the
// SDK cannot delete a series), so a long-lived pool needs delta
// temporality or a view that drops supervisor.child.path from them.
//
// # Signals to come
//
// OpenTelemetry is moving span events towards log-based events; the span
// events above are emitted from one place per kind so that an otel/log
// emitter can be added without changing their names.
package otelsup
