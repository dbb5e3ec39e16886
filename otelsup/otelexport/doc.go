// Package otelexport is a ready-made OpenTelemetry SDK setup for
// applications that run a supervision tree: OTLP gRPC export of traces and
// metrics, optionally a Prometheus pull endpoint, and a resource taken
// from the environment. It is separate from package otelsup, which uses
// only the OpenTelemetry API: importing otelsup never pulls in the SDK,
// gRPC or Prometheus; importing this package does.
//
//	p, err := otelexport.Setup(ctx) // OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, ...
//	if err != nil { ... }
//	a, err := otelsup.New(p.AdapterOptions()...)
//	root, err := sdk.New("root", a.Options()...)
//	...
//	report, err := root.Shutdown(ctx, "main", "exiting") // ends every span of the tree
//	err = p.Shutdown(ctx) // flushes spans and metrics (the final state sets too) within ctx's deadline
//	a.Close()
//
// # Configuration
//
// The exporters read the standard variables themselves:
// OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ / _METRICS_ENDPOINT; an http://
// scheme means no TLS), OTEL_EXPORTER_OTLP_INSECURE, _HEADERS,
// _CERTIFICATE, _COMPRESSION and _TIMEOUT. Setup overrides the endpoint
// only when [WithEndpointURL] is given. The SDK reads OTEL_BSP_* (span
// queue and batching) and OTEL_METRIC_EXPORT_INTERVAL unless
// [WithMaxQueueSize] or [WithMetricInterval] override them. The resource
// is the SDK default (service.name from OTEL_SERVICE_NAME, else
// unknown_service:<executable>; telemetry.sdk.*), the host (host.name),
// and OTEL_RESOURCE_ATTRIBUTES, which wins over detected values;
// [WithResource] wins over all of them.
//
// # Failure behaviour
//
// Export never blocks supervision. Spans go through a batch span processor
// whose queue is bounded (2048 spans by default): when the collector is
// slow or down, the queue fills and new spans are dropped. Metrics are
// aggregated in memory and pushed periodically. The gRPC connection is
// made lazily, so Setup succeeds with the collector down; export errors
// (after the exporters' own retries) are passed to the OpenTelemetry
// error handler (otel.Handle, see otel.SetErrorHandler; by default they
// are logged). [Providers.Shutdown] flushes both providers concurrently
// and gives up when its context ends, so give it a deadline. An export
// that is in flight when the deadline passes is abandoned, not cut short:
// it ends (and its gRPC connection closes) when the exporter's own timeout
// expires (OTEL_EXPORTER_OTLP_TIMEOUT, 10s by default), which only matters
// to a process that keeps running after Shutdown.
//
// # Prometheus
//
// [WithPrometheus] adds a pull reader, go.opentelemetry.io/otel/exporters/prometheus,
// with the translation strategy pinned to UnderscoreEscapingWithSuffixes:
// the names are supervisor_child_restarts_total,
// supervisor_child_attempt_duration_seconds_bucket, supervisor_child_status
// and so on, whatever the exporter's default becomes, so alert rules keep
// matching. Every series also carries the otel_scope_name,
// otel_scope_version and otel_scope_schema_url labels.
//
// The Prometheus exporter adds seven modules to those of OTLP gRPC
// (prometheus/client_golang, client_model, common, procfs, otlptranslator,
// beorn7/perks, munnerz/goautoneg), linked by every binary that imports
// this package whether or not it calls WithPrometheus, because the option
// takes a prometheus.Registerer. It is kept here because a pull endpoint
// is the usual way to alert on a supervised process without running a
// collector, and because these modules are what an application exposing
// /metrics links anyway; an application that wants neither gRPC nor
// Prometheus should build its own providers and use otelsup directly.
package otelexport
