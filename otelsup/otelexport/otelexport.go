package otelexport

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/supervisor-sdk/supervisor/otelsup"
)

// Option configures [Setup].
type Option func(*config)

type config struct {
	endpointURL   string
	traceOpts     []otlptracegrpc.Option
	metricOpts    []otlpmetricgrpc.Option
	resourceOpts  []resource.Option
	res           *resource.Resource
	queueSize     int
	interval      time.Duration
	promReg       prometheus.Registerer
	noOTLPMetrics bool
}

// WithEndpointURL sends traces and metrics to url, such as
// "http://collector:4317" (the scheme http means no TLS), instead of what
// the OTEL_EXPORTER_OTLP_* variables say or the default
// https://localhost:4317.
func WithEndpointURL(url string) Option { return func(c *config) { c.endpointURL = url } }

// WithTraceExporterOptions passes options to the OTLP gRPC trace exporter
// (headers, TLS, retry, ...), after those Setup derives.
func WithTraceExporterOptions(opts ...otlptracegrpc.Option) Option {
	return func(c *config) { c.traceOpts = append(c.traceOpts, opts...) }
}

// WithMetricExporterOptions passes options to the OTLP gRPC metric
// exporter, after those Setup derives.
func WithMetricExporterOptions(opts ...otlpmetricgrpc.Option) Option {
	return func(c *config) { c.metricOpts = append(c.metricOpts, opts...) }
}

// WithResource merges res over the detected resource (the SDK defaults,
// the host and the OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES
// variables); its attributes win.
func WithResource(res *resource.Resource) Option { return func(c *config) { c.res = res } }

// WithResourceOptions adds resource detectors or attributes (for example
// resource.WithProcess()) to those Setup uses.
func WithResourceOptions(opts ...resource.Option) Option {
	return func(c *config) { c.resourceOpts = append(c.resourceOpts, opts...) }
}

// WithMaxQueueSize bounds the spans waiting for export; when it is full,
// new spans are dropped rather than slowing the application. The default
// is the SDK's (OTEL_BSP_MAX_QUEUE_SIZE, else 2048).
func WithMaxQueueSize(n int) Option { return func(c *config) { c.queueSize = n } }

// WithMetricInterval sets how often metrics are pushed. The default is the
// SDK's (OTEL_METRIC_EXPORT_INTERVAL, else 60s).
func WithMetricInterval(d time.Duration) Option { return func(c *config) { c.interval = d } }

// WithPrometheus also exposes the metrics for pull on reg (serve it with
// promhttp.HandlerFor). Names are translated with
// UnderscoreEscapingWithSuffixes, pinned so that alert rules keep working
// if the exporter's default changes: supervisor.child.restarts becomes
// supervisor_child_restarts_total.
func WithPrometheus(reg prometheus.Registerer) Option { return func(c *config) { c.promReg = reg } }

// WithoutOTLPMetrics pushes no metrics over OTLP, for applications that
// only scrape them (see [WithPrometheus]).
func WithoutOTLPMetrics() Option { return func(c *config) { c.noOTLPMetrics = true } }

// Providers are the SDK providers Setup built. The application owns them:
// pass them to the adapter ([Providers.AdapterOptions]) and anything else
// it instruments, install them globally if it wants to, and call
// [Providers.Shutdown] before exiting.
type Providers struct {
	TracerProvider *sdktrace.TracerProvider
	MeterProvider  *sdkmetric.MeterProvider
}

// Setup builds a TracerProvider exporting over OTLP gRPC through a batch
// span processor with a bounded queue, and a MeterProvider with a periodic
// OTLP gRPC reader (and a Prometheus pull reader with [WithPrometheus]).
// The exporters honour the standard OTEL_EXPORTER_OTLP_* variables
// (endpoint, insecure, headers, certificates, timeout, compression) unless
// an option overrides them. Nothing connects eagerly: Setup succeeds with
// the collector down, export happens in the background, and failures go
// to the OpenTelemetry error handler (otel.SetErrorHandler) without
// affecting the supervision tree. Setup does not install the providers
// globally.
func Setup(ctx context.Context, opts ...Option) (*Providers, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	res, err := buildResource(ctx, &c)
	if err != nil {
		return nil, err
	}

	traceOpts := c.traceOpts
	if c.endpointURL != "" {
		traceOpts = append([]otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(c.endpointURL)}, traceOpts...)
	}
	texp, err := otlptracegrpc.New(ctx, traceOpts...)
	if err != nil {
		return nil, err
	}
	var bspOpts []sdktrace.BatchSpanProcessorOption
	if c.queueSize > 0 {
		bspOpts = append(bspOpts, sdktrace.WithMaxQueueSize(c.queueSize))
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(texp, bspOpts...))

	mopts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	if c.promReg != nil {
		pexp, err := otelprom.New(otelprom.WithRegisterer(c.promReg),
			otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes))
		if err != nil {
			return nil, errors.Join(err, tp.Shutdown(ctx))
		}
		mopts = append(mopts, sdkmetric.WithReader(pexp))
	}
	if !c.noOTLPMetrics {
		metricOpts := c.metricOpts
		if c.endpointURL != "" {
			metricOpts = append([]otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpointURL(c.endpointURL)}, metricOpts...)
		}
		mexp, err := otlpmetricgrpc.New(ctx, metricOpts...)
		if err != nil {
			return nil, errors.Join(err, tp.Shutdown(ctx))
		}
		var readerOpts []sdkmetric.PeriodicReaderOption
		if c.interval > 0 {
			readerOpts = append(readerOpts, sdkmetric.WithInterval(c.interval))
		}
		mopts = append(mopts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(mexp, readerOpts...)))
	}
	return &Providers{TracerProvider: tp, MeterProvider: sdkmetric.NewMeterProvider(mopts...)}, nil
}

// buildResource merges the SDK's default resource (service.name from
// OTEL_SERVICE_NAME or unknown_service:<exe>, telemetry.sdk.*,
// OTEL_RESOURCE_ATTRIBUTES), the host, the caller's detectors, the
// environment again (so it wins over detectors) and WithResource.
func buildResource(ctx context.Context, c *config) (*resource.Resource, error) {
	ropts := append([]resource.Option{resource.WithTelemetrySDK(), resource.WithHost()}, c.resourceOpts...)
	ropts = append(ropts, resource.WithFromEnv())
	detected, err := resource.New(ctx, ropts...)
	if err != nil {
		if !errors.Is(err, resource.ErrPartialResource) {
			return nil, err
		}
		otel.Handle(err) // a detector failed; keep what the others found
	}
	res, err := resource.Merge(resource.Default(), detected)
	if err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, err
	}
	if c.res != nil {
		if res, err = resource.Merge(res, c.res); err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
			return nil, err
		}
	}
	return res, nil
}

// AdapterOptions returns the options that point an otelsup adapter at the
// providers: otelsup.New(p.AdapterOptions()...).
func (p *Providers) AdapterOptions() []otelsup.Option {
	return []otelsup.Option{otelsup.WithTracerProvider(p.TracerProvider), otelsup.WithMeterProvider(p.MeterProvider)}
}

// ForceFlush exports what both providers hold now.
func (p *Providers) ForceFlush(ctx context.Context) error {
	return p.both(ctx, p.TracerProvider.ForceFlush, p.MeterProvider.ForceFlush)
}

// Shutdown flushes and stops both providers, concurrently so that each has
// the whole of ctx's deadline, and returns when both have stopped or ctx
// has ended. Shut the supervision tree down first, so that its last spans
// (the shutdown and the exit report) are exported.
func (p *Providers) Shutdown(ctx context.Context) error {
	return p.both(ctx, p.TracerProvider.Shutdown, p.MeterProvider.Shutdown)
}

func (p *Providers) both(ctx context.Context, f, g func(context.Context) error) error {
	var wg sync.WaitGroup
	var ef, eg error
	wg.Go(func() { ef = f(ctx) })
	wg.Go(func() { eg = g(ctx) })
	wg.Wait()
	return errors.Join(ef, eg)
}
