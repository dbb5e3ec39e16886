package sdk

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// WithLogger writes one structured record per event to l. The level follows
// the event's severity: debug for routine starts, info for stops and state
// changes, warn for failures and restarts, error for panics, abandoned
// children, meltdowns and children that end failed. A child that has failed
// escalateAfter times in a row (0: never) is logged at error from then on,
// so a crash loop stands out from a one-off failure.
func WithLogger(l *slog.Logger, escalateAfter int) Option {
	return func(c *config) {
		if l != nil {
			c.hooks = append(c.hooks, logHook(l, escalateAfter))
		}
	}
}

func logHook(l *slog.Logger, escalateAfter int) func(Event) {
	return func(e Event) {
		level := eventLevel(e)
		if level == slog.LevelWarn && escalateAfter > 0 && e.Failures >= escalateAfter {
			level = slog.LevelError
		}
		ctx := context.Background()
		if e.Span.IsValid() {
			ctx = trace.ContextWithSpanContext(ctx, e.Span)
		}
		if !l.Enabled(ctx, level) {
			return
		}
		attrs := make([]slog.Attr, 0, 16)
		attrs = append(attrs,
			slog.String("event", e.Type.String()),
			slog.String("path", e.Path),
			slog.String("supervisor", e.Supervisor),
			slog.Uint64("seq", e.Seq),
			slog.Uint64("attempt", e.Attempt),
		)
		if e.RequestedBy != "" {
			attrs = append(attrs, slog.String("requested_by", e.RequestedBy))
		}
		if e.Command != "" {
			attrs = append(attrs, slog.String("command", e.Command))
		}
		if e.Result != 0 {
			attrs = append(attrs, slog.String("result", e.Result.String()))
		}
		if e.Reason != 0 {
			attrs = append(attrs, slog.String("restart_reason", e.Reason.String()))
		}
		if e.Origin != "" {
			attrs = append(attrs, slog.String("origin", e.Origin))
		}
		if e.From != 0 {
			attrs = append(attrs, slog.String("from", e.From.String()))
		}
		if e.To != 0 {
			attrs = append(attrs, slog.String("to", e.To.String()))
		}
		if e.Exit != 0 {
			attrs = append(attrs, slog.String("exit", e.Exit.String()))
		}
		if e.Delay > 0 {
			attrs = append(attrs, slog.Duration("delay", e.Delay))
		}
		if e.Waited > 0 {
			attrs = append(attrs, slog.Duration("waited", e.Waited))
		}
		if e.Failures > 0 {
			attrs = append(attrs, slog.Int("failures", e.Failures))
		}
		if e.Cause != "" {
			attrs = append(attrs, slog.String("cause", e.Cause))
		}
		if e.Err != nil {
			attrs = append(attrs, slog.Any("error", e.Err))
		}
		if pe, ok := e.Err.(*PanicError); ok && (e.Type == EventChildPanicked || e.Type == EventHookPanicked) {
			attrs = append(attrs, slog.String("stack", string(pe.Stack)))
		}
		l.LogAttrs(ctx, level, "supervisor: "+e.Type.String(), attrs...)
	}
}

func eventLevel(e Event) slog.Level {
	switch e.Type {
	case EventChildAdded, EventChildStarting, EventChildRunning:
		return slog.LevelDebug
	case EventChildExited:
		if e.Exit.Abnormal() {
			return slog.LevelWarn
		}
		return slog.LevelInfo
	case EventChildBackoff, EventChildRestarting, EventLateExit, EventLateSignal:
		return slog.LevelWarn
	case EventChildPanicked, EventChildAbandoned, EventMeltdown, EventHookPanicked:
		return slog.LevelError
	case EventChildEnded, EventSupervisorState:
		if e.To == lifecycle.StateFailed {
			return slog.LevelError
		}
		return slog.LevelInfo
	default:
		return slog.LevelInfo
	}
}
