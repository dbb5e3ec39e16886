package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// Each event becomes one record; repeated failures of one child are raised
// from warn to error once they reach the threshold.
func TestLoggerLevelsAndEscalation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
			Level: slog.LevelDebug,
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		}))
		root, err := sdk.New("root", sdk.WithLogger(logger, 3), sdk.WithIntensity(sdk.Intensity{MaxRestarts: 100, Period: 1}))
		require.NoError(t, err)
		runs := 0
		require.NoError(t, root.Add(context.Background(), sdk.Spec{Name: "flaky", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
			runs++
			if runs <= 4 {
				return errors.New("boom")
			}
			<-ctx.Done()
			return nil
		})}, "test", "declared by the test"))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- root.Serve(ctx) }()
		synctest.Wait()
		cancel()
		require.NoError(t, <-done)

		var exits []string
		for _, line := range strings.Split(buf.String(), "\n") {
			if strings.Contains(line, "event=child_exited") && strings.Contains(line, "exit=error") {
				exits = append(exits, strings.Fields(line)[0])
			}
		}
		require.Equal(t, []string{"level=WARN", "level=WARN", "level=ERROR", "level=ERROR"}, exits)
		require.Contains(t, buf.String(), `level=DEBUG msg="supervisor: child_running" event=child_running path=/root/flaky supervisor=/root seq=3 attempt=1 from=starting to=running`)
		require.Contains(t, buf.String(), `level=INFO msg="supervisor: child_ended" event=child_ended path=/root/flaky supervisor=/root seq=29 attempt=5 from=stopping to=stopped`)
	})
}

// spanHandler records the span each record is written with.
type spanHandler struct {
	mu    sync.Mutex
	spans map[string]trace.SpanContext // by event
}

func (h *spanHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *spanHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *spanHandler) WithGroup(string) slog.Handler            { return h }
func (h *spanHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "event" {
			h.mu.Lock()
			h.spans[a.Value.String()] = trace.SpanContextFromContext(ctx)
			h.mu.Unlock()
		}
		return true
	})
	return nil
}

// The records of an operator command are written with the span of the
// request that issued it, so that a trace-aware handler joins them to its
// trace; records of the supervisor's own doing carry none. (Every record
// was written with context.Background.)
func TestLoggerCarriesTheCommandersSpan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &spanHandler{spans: map[string]trace.SpanContext{}}
		s := newSup(t, "r", sdk.WithLogger(slog.New(h), 0))
		add(t, s, sdk.Spec{Name: "c", Service: idleService})
		startSup(t, s)
		span := trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled,
		})
		ctx := trace.ContextWithSpanContext(context.Background(), span)
		_, err := s.Restart(ctx, "c", "alice", "deploy")
		require.NoError(t, err)
		synctest.Wait()
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, ev := range []string{"command", "command_done", "child_stopping"} {
			require.Equal(t, span, h.spans[ev], "%s carries the commander's span", ev)
		}
		require.False(t, h.spans["child_running"].IsValid(), "the supervisor's own records carry no span")
	})
}
