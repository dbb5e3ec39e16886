// Package lifecycle is the state machine behind everything the supervisor
// runs: the supervisor itself and each of its children.
//
// A [Machine] holds one lifecycle. It moves only along the transitions its
// [Kind] allows, records the time of each transition when it happens, and
// ends at most once with an [ExitReport]: the first terminal report wins and
// every later caller gets that stored report back. [Machine.Done] and
// [Machine.Wait] let any number of goroutines wait for the end.
//
// # Reads are the hot path
//
// Probes, status pages and metric callbacks read machines far more often
// than machines change. [Machine.Health], [Machine.State] and
// [Machine.Alive] take no lock: a transition publishes its fields as
// atomics under a sequence counter (allocating nothing), and the first
// read after it builds an immutable snapshot that every later read returns
// with two atomic loads. A reader either sees one whole transition or
// retries, and never blocks a writer. Writers (transitions) are serialised
// by a mutex that readers never touch.
//
// # Telemetry
//
// Every transition is visible through the OpenTelemetry API, and only the
// API: with no SDK installed everything is a no-op.
//
//   - Span event: the machine's owner binds the span of its current
//     operation with [Machine.Bind]; each transition then adds an event named
//     [EventTransition] to that span, with the attributes [AttrKind],
//     [AttrPath], [AttrFrom], [AttrTo] and [AttrReason].
//   - State set: [StateMetrics] reports, for every registered machine, one
//     series per state of its kind, 1 for the current state and 0 for the
//     others ([MetricSupervisorStatus] and [MetricChildStatus]).
//
// The state set is an asynchronous UpDownCounter: the value is read from the
// machine when the SDK collects, so a transition costs nothing on the metric
// path, a provider installed late still reports the right values, and the
// series of a closed machine disappear instead of lingering at a stale value.
// A synchronous +1/-1 counter would drift as soon as one delta is lost (for
// example before the application installs its provider), and a gauge with
// unit "1" is renamed *_ratio by the Prometheus exporter.
package lifecycle
