package otelexport

import (
	"context"
	"fmt"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// cutSpanExporter lets Providers.Shutdown end the exports the batch span
// processor runs in the background. When its Shutdown deadline passes,
// the processor goes on draining its queue, batch after batch, each
// export bounded only by the exporter's timeout (OTEL_EXPORTER_OTLP_TIMEOUT,
// 10s) and the processor's (OTEL_BSP_EXPORT_TIMEOUT, 30s): with the
// collector down, a full queue kept exporting for about 50s. Once cut is
// done, the export in flight is cancelled and the rest fail at once.
type cutSpanExporter struct {
	sdktrace.SpanExporter
	cut context.Context
}

func (e *cutSpanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if err := context.Cause(e.cut); err != nil {
		return fmt.Errorf("%d spans not exported: %w", len(spans), err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(e.cut, func() { cancel(context.Cause(e.cut)) })
	defer stop()
	return e.SpanExporter.ExportSpans(ctx, spans)
}

// closeTimeout bounds the exporter's own Shutdown once the exports are
// cut: closing its connection must happen even when the caller's
// deadline has passed, or the connection's goroutines (gRPC's reconnect
// loop with the collector down) would outlive Shutdown for good.
const closeTimeout = time.Second

// Shutdown closes the exporter with a context of its own: the batch
// processor passes the caller's, which has often run out by the time the
// queue has been cut, and an exporter given an ended context may return
// without closing its connection.
func (e *cutSpanExporter) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	return e.SpanExporter.Shutdown(ctx)
}

// closingMetricExporter closes its exporter with a context of its own,
// for the reason cutSpanExporter.Shutdown gives.
type closingMetricExporter struct{ sdkmetric.Exporter }

func (e closingMetricExporter) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	return e.Exporter.Shutdown(ctx)
}
