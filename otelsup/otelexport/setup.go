package otelexport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/resource"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// DefaultShutdownTimeout bounds [Providers.Shutdown] when its context has
// no deadline: the OTLP exporters' own default timeout for one export.
const DefaultShutdownTimeout = 10 * time.Second

// Option configures [Setup]. Everything the standard OTEL_* variables can
// say is read from them; options cover the rest.
type Option func(*config)

type config struct {
	resourceOpts    []resource.Option
	res             *resource.Resource
	queueSize       int
	promReg         prometheus.Registerer
	shutdownTimeout time.Duration
}

// WithResource merges res over the resource Setup builds; its attributes
// win over the detected ones and over OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES.
func WithResource(res *resource.Resource) Option { return func(c *config) { c.res = res } }

// WithResourceOptions adds resource detectors or attributes (for example
// resource.WithProcess(), or a default service.name with
// resource.WithAttributes) after the built-in detectors and before the
// environment, so that OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
// over them.
func WithResourceOptions(opts ...resource.Option) Option {
	return func(c *config) { c.resourceOpts = append(c.resourceOpts, opts...) }
}

// WithMaxQueueSize bounds the spans waiting for export; when it is full,
// new spans are dropped rather than slowing the application. The default
// is the SDK's (OTEL_BSP_MAX_QUEUE_SIZE, else 2048).
func WithMaxQueueSize(n int) Option { return func(c *config) { c.queueSize = n } }

// WithPrometheus exposes the metrics for pull on reg, which the
// application serves itself (promhttp.HandlerFor), whatever
// OTEL_METRICS_EXPORTER says: see the package documentation for the names
// and labels.
func WithPrometheus(reg prometheus.Registerer) Option { return func(c *config) { c.promReg = reg } }

// WithShutdownTimeout bounds [Providers.Shutdown] when its context has no
// deadline (default [DefaultShutdownTimeout]).
func WithShutdownTimeout(d time.Duration) Option { return func(c *config) { c.shutdownTimeout = d } }

// Setup builds a TracerProvider and a MeterProvider that export what the
// OTEL_* variables select (see the package documentation): nothing at all
// when none is set. A signal with no exporter gets a no-op provider, so
// that nothing is recorded for nobody. Nothing connects eagerly: Setup
// succeeds with the collector down, export happens in the background, and
// failures go to the OpenTelemetry error handler (otel.SetErrorHandler)
// without affecting the supervision tree. Setup does not install the
// providers globally.
func Setup(ctx context.Context, opts ...Option) (*Providers, error) {
	c := config{shutdownTimeout: DefaultShutdownTimeout}
	for _, o := range opts {
		o(&c)
	}
	p := newProviders(c.shutdownTimeout)
	if sdkDisabled() {
		p.TracerProvider, p.MeterProvider = tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider()
		p.describe = "disabled (" + envSDKDisabled + ")"
		return p, nil
	}
	res, err := buildResource(ctx, &c)
	if err != nil {
		return nil, err
	}
	traces, err := setupTraces(ctx, &c, res, p.cut)
	if err != nil {
		return nil, err
	}
	metrics, err := setupMetrics(ctx, &c, res)
	if err != nil {
		return nil, errors.Join(err, traces.shutdown(ctx))
	}
	p.TracerProvider, p.MeterProvider = traces.tp, metrics.mp
	p.flush = []func(context.Context) error{traces.flush, metrics.flush}
	p.shutdowns = []func(context.Context) error{traces.shutdown, metrics.shutdown}
	p.describe = fmt.Sprintf("traces: %s; metrics: %s", traces.describe, metrics.describe)
	return p, nil
}
