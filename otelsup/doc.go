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
// # Design: a stateless adapter
//
// The adapter reports what the sdk decided, as each event says it: the
// restart reason (manual for an operator's restart), the command and its
// result, the attempt, the delay, the shutdown cause, the exit report. It
// keeps no copy of a supervisor's state and works out no decision of its
// own. What it keeps is telemetry: the spans it has open and the attribute
// sets it has built. Spans are keyed by the tree ([sdk.Event.Tree]) and a
// path, so two trees with the same names (two Serves of one root, two
// roots named alike) never meet.
//
// # Metrics
//
// The adapter's own instruments are on one Meter named [ScopeName], with
// [Version] and the semconv schema URL. The state sets come from
// [lifecycle.StateMetrics], on the same provider, under the lifecycle
// package's scope. Instruments and attribute sets are built once. The
// Prometheus names are those of the OpenTelemetry Prometheus exporter
// (UnderscoreEscapingWithSuffixes, no scope labels: see otelexport).
//
//	name                               instrument                unit         attributes                                              Prometheus
//	supervisor.child.restarts          Int64Counter              {restart}    supervisor.child.path, supervisor.restart.reason         supervisor_child_restarts_total
//	supervisor.child.exits             Int64Counter              {exit}       supervisor.child.path, supervisor.exit.kind              supervisor_child_exits_total
//	supervisor.child.attempt.duration  Float64Histogram          s            supervisor.child.path, error.type (failures only)        supervisor_child_attempt_duration_seconds_{bucket,sum,count}
//	supervisor.child.backoff.delay     Float64Histogram          s            supervisor.child.path                                    supervisor_child_backoff_delay_seconds_{bucket,sum,count}
//	supervisor.child.abandoned         Int64Counter              {child}      supervisor.child.path                                    supervisor_child_abandoned_total
//	supervisor.meltdowns               Int64Counter              {meltdown}   supervisor.path                                          supervisor_meltdowns_total
//	supervisor.shutdown.duration       Float64Histogram          s            supervisor.path, supervisor.shutdown.cause               supervisor_shutdown_duration_seconds_{bucket,sum,count}
//	supervisor.events.dropped          Int64ObservableCounter    {event}      supervisor.path, supervisor.observer                     supervisor_events_dropped_total
//	supervisor.child.status            Int64ObservableUpDownCtr  {child}      supervisor.child.path, supervisor.child.state            supervisor_child_status
//	supervisor.status                  Int64ObservableUpDownCtr  {supervisor} supervisor.path, supervisor.state                        supervisor_status
//
// Attribute values:
//
//   - supervisor.restart.reason: the sdk's [sdk.RestartReason] on
//     EventChildRestarting: error, panic, stale or normal when the child is
//     restarted after its own exit of that kind; sibling when its strategy
//     restarted it because another child exited; manual for an operator's
//     restart command.
//   - supervisor.exit.kind: normal, error, panic, stale (no heartbeat) or
//     stopped (the supervisor cancelled the attempt), as [sdk.ExitKind].
//   - supervisor.shutdown.cause: the [sdk.Cause] of the shutdown
//     (operator, context, signal, meltdown, fatal_child, ...).
//   - supervisor.observer: hook, the tree's event hooks (this adapter's
//     among them; supervisor.path is then the tree's root), or the name
//     of a subscription given to [Adapter.ObserveSubscription]
//     (supervisor.path is then the path given with it).
//   - error.type: see "error.type values" below. On the duration
//     histogram it is set only for attempts that ended with an error, a
//     panic or a missed heartbeat.
//
// When they are recorded:
//
//   - Counters on which a single event is worth an alert start at 0: a
//     supervisor's meltdowns from its first state event, a tree's dropped
//     events from its first event. A Prometheus increase() or rate()
//     ignores a series' first sample, so an alert on the first one needs
//     the 0 before it. A child's restarts, exits and abandonments start at
//     their first occurrence: the alerts on restarts count many increments
//     (a crash loop), an abandoned child ends failed (its state set says
//     so, and SupervisedChildFailed fires), and reporting a child's twelve
//     label values at 0 would cost the metric SDK about 6 KB per child.
//   - The attempt duration is recorded when the attempt ends, from
//     [sdk.Event.Ran], with buckets from 5ms to one hour.
//   - The backoff delay is recorded on EventChildBackoff, from
//     [sdk.Event.Delay] (0 included), with buckets from 0 to five minutes.
//   - The shutdown duration is recorded on a supervisor's final
//     EventSupervisorState, from its [sdk.Report]: RequestedAt to EndedAt,
//     with buckets from 1ms to two minutes.
//   - Dropped events are observed at collection. The hooks' come from
//     [sdk.Event.Dropped], the tree's running count of events not queued
//     for its hooks (see sdk.WithHookQueue): the adapter adds the growth
//     since the last event it saw, so the events it missed are counted
//     once it sees the next one. A subscription's are its own count,
//     [sdk.Subscription.Dropped].
//   - The state sets report 1 for each machine's current state and 0 for
//     its other states; see package lifecycle.
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
// stays open for the life of a healthy child, a supervisor or the
// process. Span names are fixed; what a span is about is in its
// attributes.
//
// Why an attempt is two spans: a span is exported only when it ends. One
// span per attempt, from launch to exit, made a healthy long-running
// child invisible in the backend (and each idle child held about 1.2 KB
// of open span), and with a pass-through panic the process died before
// the span ended. So an attempt is a start span, which ends as soon as the
// child is up (running, or ready for a child that signals readiness), and
// an exit span, from the first sign of the attempt's end to the
// supervisor's decision after it, linked to the start span. A started
// child is in the backend within the exporter's batch delay, and between
// the two spans a running child holds no open span; the live state is the
// supervisor.child.status metric.
//
//	span                       from → to                                           links (supervisor.link.type)                        status Error when
//	supervisor.child.start     EventChildStarting → EventChildRunning, or →        previous_attempt → the last span (exit, else start)  the attempt ended before it was up (with an
//	                           EventChildReady when Event.Readiness is set (or →   of the child's previous attempt; supervisor_start →  error, a panic, a missed heartbeat): as the
//	                           the attempt's exit, when it never got there)        its supervisor's start span; command → the restart/  exit span
//	                                                                               resume command that launched it
//	supervisor.child.exit      the first of EventChildStopping, EventChildStale,   attempt_start → the start span of the same attempt   the attempt ended with an error, a panic or a
//	                           EventChildPanicked, EventChildExited → the first                                                          missed heartbeat (description err.Error()),
//	                           of EventChildBackoff, EventChildRestarting,                                                               or was abandoned ("abandoned: <why>")
//	                           EventChildPaused, EventChildEnded,
//	                           EventChildAbandoned (or the next attempt's start)
//	supervisor.start           the supervisor's first event → its transition       parent_attempt → for a nested supervisor, the start  it went to shutting_down (or failed) before
//	                           to alive (or to shutting_down/failed)               span of its attempt as a child of its parent          alive ("shut down before it was alive: <reason>")
//	supervisor.shutdown        transition to shutting_down → transition to         supervisor_start → the start span of the same run;    the supervisor failed (description: its error,
//	                           completed or failed                                 caller → the span of Shutdown's context               Event.Err) or children of the tree were abandoned
//	supervisor.command         EventCommand → its EventCommandDone                 target_attempt → the start span of the attempt        the sdk answered with an error (description:
//	                                                                               current when the command arrived; caller → the span   its text), or the supervisor ended first
//	                                                                               of the command's context (an HTTP request's, say)
//
// Span attributes:
//
//	span                       attributes
//	supervisor.child.start     supervisor.child.path, supervisor.path, supervisor.child.attempt (int), supervisor.child.generation (int);
//	                           error.type on failure
//	supervisor.child.exit      the same, and supervisor.exit.kind; error.type on failure
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
//	supervisor.lifecycle.transition       child start                EventChildStarting, Running,       supervisor.lifecycle.{kind, path, from, to, reason}
//	  (lifecycle.EventTransition)                                    Ready                              (requested_by when set), as lifecycle.Machine.Bind
//	                                      child exit                 EventChildStopping, Backoff,       would add them. reason is the sdk's words (Cause,
//	                                                                 Paused, Ended                      the restart reason); where the sdk has none, the
//	                                                                                                    adapter's: "attempt launched", "signalled ready"
//	                                      start                      EventSupervisorState → alive
//	                                      shutdown                   EventSupervisorState → shutting_down,
//	                                                                 → completed / failed
//	exception                             child exit                 EventChildPanicked                 exception.type (the panic value's Go type, e.g.
//	  (semconv exception event)                                                                         *errors.errorString, string), exception.message,
//	                                                                                                    exception.stacktrace (the panicking goroutine's,
//	                                                                                                    bounded by the sdk)
//	supervisor.restart.scheduled          child exit                 EventChildBackoff /                supervisor.restart.delay (s, float64), supervisor.restart.reason,
//	                                                                 EventChildRestarting (a restart    supervisor.restart.attempt (int, the next attempt),
//	                                                                 without backoff)                   supervisor.restart.cause (the sdk's cause text)
//	supervisor.child.ready                child start; start         EventChildReady                    — ; on the start span supervisor.child.path
//	supervisor.child.stale                child exit                 EventChildStale                    supervisor.reason (the error text)
//	supervisor.child.stopping             child exit                 EventChildStopping                 supervisor.reason
//	supervisor.child.stopped              child exit; shutdown       EventChildStopped                  supervisor.stop.waited (s, float64); on the shutdown span supervisor.child.path
//	supervisor.child.abandoned            child exit; shutdown       EventChildAbandoned                supervisor.stop.waited, supervisor.reason; on the shutdown span supervisor.child.path
//	supervisor.child.started              start                      EventChildRunning during startup   supervisor.child.path, supervisor.child.attempt
//	supervisor.command.merged             command                    EventCommandDone (merged) of a     supervisor.requested_by, supervisor.reason
//	                                                                 duplicate
//	supervisor.exit_report                shutdown (last event)      EventSupervisorState → completed   from its Report: supervisor.report.state, supervisor.report.cause,
//	                                                                 / failed                           supervisor.report.requested_by, supervisor.report.reason,
//	                                                                                                    supervisor.report.error (when set), supervisor.report.children (int),
//	                                                                                                    supervisor.report.failed (int, when some failed),
//	                                                                                                    supervisor.report.abandoned (int), supervisor.report.abandoned_paths
//	                                                                                                    (string slice, at most 64, only when some were abandoned)
//
// How the spans follow the events:
//
//   - The restart decision (EventChildBackoff, or EventChildRestarting
//     for a restart without backoff) is the last event of the exit span it
//     closes: the exit says what came of it. The next attempt's start span
//     links to that exit span (previous_attempt).
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
//     its Result and Err: merged (the sdk merged a duplicate into the same
//     command under way; that command gets a supervisor.command.merged
//     event), done (nil), abandoned (sdk.ErrAbandoned), interrupted
//     (sdk.ErrChildExited, or sdk.ErrSupervisorDone for a command that
//     arrived before the supervisor began shutting down: the shutdown took
//     over), rejected (any other error); a command still open when its
//     supervisor ends (or the adapter is closed) is interrupted. At most
//     4096 commands are followed at once (the sdk keeps at most one waiting
//     per child); past that a command span ends at once, outcome
//     untracked.
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
// # Panics that crash the process
//
// With sdk.WithPanicPassThrough the panic is re-raised once the hooks have
// seen its EventChildPanicked (the sdk waits for them at most a second).
// That event says so ([sdk.Event.Crash]); the adapter then ends the
// attempt's spans at once, with the exception event and status Error, and
// calls the TracerProvider's ForceFlush (the SDK's provider has one),
// bounded to 800ms, so that a batching processor exports them before the
// process dies. That is the best a library can do from inside a dying
// process: the application must still shut its providers down on every
// exit path it controls (defer tp.Shutdown in main), and must not skip it;
// a provider without ForceFlush, or an exporter slower than the bound,
// loses the record.
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
// allocates nothing (see BenchmarkRestart and [WithTracerProvider]). The
// hook runs on the tree's event goroutine, not the supervisor's: a slow
// exporter delays the telemetry (and, past the hook queue's bound, drops
// events for it, counted by supervisor.events.dropped, see
// sdk.WithHookQueue), never supervision. Use a batching span processor
// all the same. Measured on 2 vCPUs (BenchmarkHookRestart, the hook alone
// with an always-sampling SDK TracerProvider and an SDK MeterProvider):
// a restart costs about 10 KB and 70 allocations, nearly all of them the
// trace SDK's for the two spans and their events; with metrics only
// (benchmarks/BenchmarkRestartOtel) under 1.6 KB and 3 allocations.
//
// Memory per child: the adapter keeps no series and no open span for a
// child that runs and has not failed; what such a child costs is its
// state set in package lifecycle (9 observable series) and the adapter's
// per-tree bookkeeping. Measured (benchmarks: BenchmarkOursOtelIdleChildHeap
// against BenchmarkIdleChildHeap/lib=ours, 10,000 idle children): about
// 2.3 KB per child with the adapter on SDK providers, 1.6 KB without.
//
// # error.type values
//
// error.type follows semconv (semconv.ErrorType): the ErrorType() string
// of the first error in the chain that has one (the sdk's errors do);
// else stale or start_timeout for the sdk's sentinel failures that have
// none (sdk.ErrStale, sdk.ErrStartTimeout); else the error's Go type name
// (for example *errors.errorString, *fs.PathError; a fmt.Errorf wrapper is
// named after what it wraps). The values are a closed set per adapter:
// the first 32 distinct values are reported, on spans and metrics alike,
// and later ones as _OTHER. The adapter's own values are:
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
//	_OTHER          past the bound of 32 values, or a failure with no error
//
// # Cardinality
//
// Every series is keyed by a path and an enumerated value, never by an
// error message or an attempt number. Per child, at most:
//
//	supervisor.child.status            9 (one per child state)
//	supervisor.child.restarts          6 (error, panic, normal, stale, sibling, manual)
//	supervisor.child.exits             5 (normal, error, panic, stopped, stale)
//	supervisor.child.attempt.duration  1 + one per error.type it failed with
//	supervisor.child.backoff.delay     1
//	supervisor.child.abandoned         1
//
// that is 23 + k series, k ≤ 32 error.type values per adapter; per
// supervisor, 5 supervisor.status series, 1 supervisor.meltdowns and one
// supervisor.shutdown.duration per shutdown cause; per root, 1
// supervisor.events.dropped. The
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
