package otelexport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/supervisor-sdk/supervisor/otelsup"
)

// Providers are the providers Setup built: SDK providers for the signals
// that have an exporter (or, for metrics, [WithPrometheus]), no-op ones
// for the others. The application owns them: pass them to the adapter
// ([Providers.AdapterOptions]) and anything else it instruments, install
// them globally if it wants to, and call [Providers.Shutdown] before
// exiting.
type Providers struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider

	flush, shutdowns []func(context.Context) error
	timeout          time.Duration
	describe         string

	// cut ends the exports still running when Shutdown gives up.
	cut      context.Context
	cutOff   context.CancelCauseFunc
	once     sync.Once
	shutdown error
}

var (
	// errShutdownDeadline is the cause of the exports Shutdown cut off.
	errShutdownDeadline = errors.New("otelexport: Providers.Shutdown's deadline passed")
	// errShutdownTimeout is the cause when the bound was Shutdown's own.
	errShutdownTimeout = errors.New("otelexport: Providers.Shutdown's context had no deadline, and its WithShutdownTimeout passed")
	errShutDown        = errors.New("otelexport: the providers are shut down")
)

func newProviders(timeout time.Duration) *Providers {
	p := &Providers{timeout: timeout}
	p.cut, p.cutOff = context.WithCancelCause(context.Background())
	return p
}

// AdapterOptions returns the options that point an otelsup adapter at the
// providers: otelsup.New(p.AdapterOptions()...).
func (p *Providers) AdapterOptions() []otelsup.Option {
	return []otelsup.Option{otelsup.WithTracerProvider(p.TracerProvider), otelsup.WithMeterProvider(p.MeterProvider)}
}

// String says what each signal is exported to, for a start-up log line:
// "traces: otlp (grpc); metrics: prometheus (WithPrometheus), otlp
// (http/protobuf)".
func (p *Providers) String() string { return p.describe }

// ForceFlush exports what both providers hold now, within ctx.
func (p *Providers) ForceFlush(ctx context.Context) error {
	return concurrently(ctx, p.flush)
}

// Shutdown flushes and stops both providers, concurrently so that each has
// the whole of ctx's deadline, or [DefaultShutdownTimeout] (see
// [WithShutdownTimeout]) when ctx has none. It returns when both have
// stopped or the deadline has passed; then any export still running,
// including the span batches the SDK would go on sending in the
// background, is cancelled, so that no export outlives the deadline.
// Shut the supervision tree down first, so that its last spans (the
// shutdown and the exit report) are exported. Later calls return the
// first call's error.
func (p *Providers) Shutdown(ctx context.Context) error {
	p.once.Do(func() {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeoutCause(ctx, p.timeout, errShutdownTimeout)
			defer cancel()
		}
		stop := context.AfterFunc(ctx, func() { p.cutOff(errShutdownDeadline) })
		defer stop()
		err := concurrently(ctx, p.shutdowns)
		if err != nil && errors.Is(context.Cause(ctx), errShutdownTimeout) {
			err = fmt.Errorf("%w (%s): %w", errShutdownTimeout, p.timeout, err)
		}
		p.shutdown = err
		p.cutOff(errShutDown) // everything has stopped: releases cut
	})
	return p.shutdown
}

func concurrently(ctx context.Context, fs []func(context.Context) error) error {
	errs := make([]error, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Go(func() { errs[i] = f(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
