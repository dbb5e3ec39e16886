// Package otelsup reports a supervision tree (package sdk) to
// OpenTelemetry. It uses only the OpenTelemetry API: with no SDK installed
// every measurement is a no-op, and the application chooses the provider,
// exporters and views.
//
//	a, err := otelsup.New(otelsup.WithMeterProvider(mp)) // default: the global provider
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
//     restarted it because another child exited.
//   - supervisor.exit.kind: normal, error, panic, stale (no heartbeat) or
//     stopped (the supervisor cancelled the attempt), as [sdk.ExitKind].
//   - error.type, set only for attempts that ended with an error or a
//     panic: the ErrorType() string of the first error in the chain that
//     has such a method (the sdk's own errors do; a recovered panic is
//     "panic"), else _OTHER. At most 32 distinct values are reported; later
//     ones become _OTHER.
//
// The attempt duration is recorded when the attempt ends, from
// [sdk.Event.Ran], with buckets from 5ms to one hour. The state sets report
// 1 for each machine's current state and 0 for its other states; see
// package lifecycle.
//
// Attributes hold only paths and enumerated values, never error messages.
// Their sets are built once per child and value and cached, so recording
// allocates nothing in the steady state; the cache entries of a child are
// dropped when it ends.
//
// # Not yet
//
// This is the first increment of the adapter: metrics only. Spans (one per
// child attempt, and the supervisor's startup and shutdown), shutdown
// telemetry and the exit report come in later increments, with the
// TracerProvider option they need.
package otelsup
