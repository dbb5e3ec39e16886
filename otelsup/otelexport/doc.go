// Package otelexport is a ready-made OpenTelemetry SDK setup for
// applications that run a supervision tree, configured by the standard
// OTEL_* environment variables. It is a module of its own: the core module
// (sdk, lifecycle, otelsup) uses only the OpenTelemetry API and never
// pulls in the SDK's exporters, gRPC or the Prometheus client; this one
// does.
//
//	p, err := otelexport.Setup(ctx) // reads OTEL_*; exports nothing unless told to
//	if err != nil { ... }           // names the variable and value it cannot honour
//	log.Println("telemetry:", p)    // traces: otlp (grpc); metrics: none
//	a, err := otelsup.New(p.AdapterOptions()...)
//	root, err := sdk.New("root", a.Options()...)
//	...
//	report, err := root.Shutdown(ctx, "main", "exiting") // ends every span of the tree
//	err = p.Shutdown(ctx) // flushes spans and metrics (the final state sets too) by ctx's deadline
//	a.Close()
//
// # What is exported
//
// Nothing, unless a variable says so: with none set, Setup returns no-op
// providers, starts no goroutine, makes no connection attempt, logs
// nothing, and Shutdown returns at once. Per signal, the exporters are
// chosen as the OpenTelemetry specification and
// go.opentelemetry.io/contrib/exporters/autoexport (which builds them)
// say, with two differences:
//
//   - OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER select the exporter:
//     none, otlp or console, and for metrics prometheus. One value, not a
//     list. When it is unset, OTLP export is on only if an endpoint is set:
//     OTEL_EXPORTER_OTLP_ENDPOINT (both signals) or
//     OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / _METRICS_ENDPOINT (that signal
//     only). The specification would export OTLP to localhost regardless;
//     nothing else (OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME, ...)
//     turns export on.
//   - OTEL_EXPORTER_OTLP_PROTOCOL (or _TRACES_ / _METRICS_PROTOCOL) is
//     grpc or http/protobuf. When it is unset the protocol is gRPC, the
//     protocol of port 4317, not the specification's http/protobuf.
//   - OTEL_SDK_DISABLED=true (any case) disables everything, WithPrometheus
//     included: no-op providers. Another value than true or false is
//     reported to the error handler and leaves the SDK on.
//
// The exporters read the other OTEL_EXPORTER_OTLP_* variables themselves:
// endpoint (a URL; http:// means no TLS, and without an endpoint they use
// localhost:4317 or localhost:4318 with TLS), _INSECURE, _HEADERS,
// _CERTIFICATE, _COMPRESSION, _TIMEOUT (10s). The SDK reads OTEL_BSP_*
// (span queue and batching, unless [WithMaxQueueSize]),
// OTEL_METRIC_EXPORT_INTERVAL (60s) and OTEL_METRIC_EXPORT_TIMEOUT.
// [Providers.String] says what was chosen. A value Setup cannot honour (an
// unknown exporter, a list, an unknown protocol, a taken Prometheus port)
// is an error naming the variables and their values.
//
// # Resource
//
// Each detector overrides the ones before it: the service (service.name
// unknown_service:<executable>, and service.instance.id, a random UUID per
// Setup, so that replicas sharing an OTEL_SERVICE_NAME never overwrite
// each other's series behind a collector), telemetry.sdk.*, host.name,
// [WithResourceOptions], then OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES. [WithResource] is merged over all of them.
//
// # Prometheus
//
// Two ways to pull, with the same exposition: [WithPrometheus] registers
// the metrics on the application's own registry (it serves them, on its
// /metrics), whatever OTEL_METRICS_EXPORTER says; OTEL_METRICS_EXPORTER=
// prometheus makes Setup serve them at /metrics on
// OTEL_EXPORTER_PROMETHEUS_HOST:OTEL_EXPORTER_PROMETHEUS_PORT (localhost:
// 9464), with the Go and process collectors, until Shutdown. The name
// translation is pinned to UnderscoreEscapingWithSuffixes
// (supervisor_child_restarts_total,
// supervisor_child_attempt_duration_seconds_bucket, supervisor_child_status,
// ...), so that the alert rules keep matching whatever the exporter's
// default becomes, and the series carry no otel_scope_* labels (the
// resource is in target_info). autoexport's own prometheus exporter has
// neither, so Setup builds this one itself.
//
// # Failure behaviour and bounds
//
// Export never blocks supervision. Spans go through a batch span processor
// whose queue is bounded (2048 spans by default): when the collector is
// slow or down, the queue fills and new spans are dropped. Metrics are
// aggregated in memory and pushed periodically. Connections are made
// lazily, so Setup succeeds with the collector down; export errors (after
// the exporters' own retries, within OTEL_EXPORTER_OTLP_TIMEOUT) go to the
// OpenTelemetry error handler (otel.Handle, see otel.SetErrorHandler; by
// default they are logged).
//
// [Providers.Shutdown] flushes both providers concurrently and returns
// when both have stopped or when its context ends; a context without a
// deadline is given [DefaultShutdownTimeout] (10s, [WithShutdownTimeout]).
// At that moment every export still running is cancelled, including the
// span batches that the SDK's batch processor would otherwise go on
// exporting one after another in the background (about 50s for a full
// queue with the collector down), so no export goroutine outlives the
// deadline: with the collector hanging and a 30s exporter timeout, the
// tests measure the goroutines ending within a few milliseconds of
// Shutdown's return. One thing may stay: with http/protobuf, the OTLP HTTP
// exporters' shared transport keeps an idle keep-alive connection (no
// export on it) for up to 90s.
package otelexport
