package otelexport

import (
	"context"
	"fmt"

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
