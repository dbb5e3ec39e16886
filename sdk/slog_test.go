package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

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
