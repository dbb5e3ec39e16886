package otelexport

import (
	"context"
	"fmt"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// tracing is the trace pipeline Setup built.
type tracing struct {
	tp              trace.TracerProvider
	flush, shutdown func(context.Context) error
	describe        string
}

func setupTraces(ctx context.Context, c *config, res *resource.Resource, cut context.Context) (*tracing, error) {
	exp, describe, err := spanExporter(ctx)
	if err != nil {
		return nil, err
	}
	if exp == nil {
		return &tracing{tp: tracenoop.NewTracerProvider(), flush: nop, shutdown: nop, describe: describe}, nil
	}
	var bspOpts []sdktrace.BatchSpanProcessorOption
	if c.queueSize > 0 {
		bspOpts = append(bspOpts, sdktrace.WithMaxQueueSize(c.queueSize))
	}
	bsp := sdktrace.NewBatchSpanProcessor(&cutSpanExporter{SpanExporter: exp, cut: cut}, bspOpts...)
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSpanProcessor(bsp))
	return &tracing{tp: tp, flush: tp.ForceFlush, shutdown: tp.Shutdown, describe: describe}, nil
}

// spanExporter returns the exporter the environment selects, nil for
// none, and how to describe it.
func spanExporter(ctx context.Context) (sdktrace.SpanExporter, string, error) {
	s := tracesSignal
	name, proto := s.exporter(), s.protocol()
	switch {
	case name == exporterNone:
		return nil, exporterNone, nil
	case name == exporterOTLP && proto == "":
		exp, err := otlptracegrpc.New(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("otelexport: traces (%s): %w", s.env(), err)
		}
		return exp, "otlp (grpc)", nil
	}
	// autoexport reads the same variables: OTEL_TRACES_EXPORTER (unset
	// means otlp, as here), and the protocol.
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("otelexport: traces (%s): %w; %s is one of none, otlp or console, the protocol grpc or http/protobuf", s.env(), err, s.exporterVar)
	}
	return exp, describeExporter(name, proto), nil
}

func describeExporter(name, proto string) string {
	if name == exporterOTLP {
		return "otlp (" + proto + ")"
	}
	return name
}

func nop(context.Context) error { return nil }
