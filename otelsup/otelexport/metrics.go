package otelexport

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// metering is the metric pipeline Setup built.
type metering struct {
	mp              metric.MeterProvider
	flush, shutdown func(context.Context) error
	describe        string
}

func setupMetrics(ctx context.Context, c *config, res *resource.Resource) (*metering, error) {
	var readers []sdkmetric.Reader
	var described []string
	if c.promReg != nil {
		r, err := prometheusReader(c.promReg)
		if err != nil {
			return nil, fmt.Errorf("otelexport: WithPrometheus: %w", err)
		}
		readers, described = append(readers, r), append(described, "prometheus (WithPrometheus)")
	}
	r, describe, err := metricReader(ctx)
	if err != nil {
		return nil, errors.Join(err, shutdownReaders(ctx, readers))
	}
	if r != nil {
		readers, described = append(readers, r), append(described, describe)
	}
	if len(readers) == 0 {
		return &metering{mp: metricnoop.NewMeterProvider(), flush: nop, shutdown: nop, describe: exporterNone}, nil
	}
	opts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	for _, r := range readers {
		opts = append(opts, sdkmetric.WithReader(r))
	}
	mp := sdkmetric.NewMeterProvider(opts...)
	return &metering{mp: mp, flush: mp.ForceFlush, shutdown: mp.Shutdown, describe: strings.Join(described, ", ")}, nil
}

// metricReader returns the reader the environment selects, nil for none,
// and how to describe it. The PeriodicReader (for otlp and console) reads
// OTEL_METRIC_EXPORT_INTERVAL and OTEL_METRIC_EXPORT_TIMEOUT.
func metricReader(ctx context.Context) (sdkmetric.Reader, string, error) {
	s := metricsSignal
	name, proto := s.exporter(), s.protocol()
	switch {
	case name == exporterNone:
		return nil, exporterNone, nil
	case name == exporterOTLP && proto == "":
		exp, err := otlpmetricgrpc.New(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("otelexport: metrics (%s): %w", s.env(), err)
		}
		return sdkmetric.NewPeriodicReader(closingMetricExporter{exp}), "otlp (grpc)", nil
	case name == exporterProm:
		// Not autoexport's: its exporter keeps the otel_scope_* labels
		// and the exporter's default naming, which the shipped rules do
		// not expect.
		r, addr, err := servePrometheus()
		if err != nil {
			return nil, "", fmt.Errorf("otelexport: metrics (%s): %w", s.env(), err)
		}
		return r, "prometheus (http://" + addr + "/metrics)", nil
	}
	r, err := autoexport.NewMetricReader(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("otelexport: metrics (%s): %w; %s is one of none, otlp, prometheus or console, the protocol grpc or http/protobuf", s.env(), err, s.exporterVar)
	}
	return r, describeExporter(name, proto), nil
}

func shutdownReaders(ctx context.Context, readers []sdkmetric.Reader) error {
	var err error
	for _, r := range readers {
		err = errors.Join(err, r.Shutdown(ctx))
	}
	return err
}
