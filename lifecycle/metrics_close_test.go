package lifecycle_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// The SDK runs callbacks holding its pipeline lock and Unregister takes that
// same lock, so StateMetrics.Close must not hold its own lock across
// Unregister while observe needs it. The gate callback runs first in the
// same collection and starts Close while the pipeline lock is held.
func TestStateMetricsCloseDuringCollectConcurrentSafe(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	// No cleanups that take the SDK or StateMetrics locks: after a deadlock
	// they would hang the test binary instead of letting it fail.
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	meter := mp.Meter("gate")
	gate, err := meter.Int64ObservableGauge("gate")
	require.NoError(t, err)
	closed := make(chan error, 1)
	var sm *lifecycle.StateMetrics
	started := false
	_, err = meter.RegisterCallback(func(context.Context, metric.Observer) error {
		if !started {
			started = true
			go func() { closed <- sm.Close() }()
			// Give Close every chance to take its lock and reach Unregister
			// before observe runs; yielding, not timing.
			for range 1000 {
				runtime.Gosched()
			}
		}
		return nil
	}, gate)
	require.NoError(t, err)

	sm, err = lifecycle.NewStateMetrics(lifecycle.WithMeterProvider(mp))
	require.NoError(t, err)
	_, err = lifecycle.New(lifecycle.KindChild, "/root/x", lifecycle.WithStateMetrics(sm))
	require.NoError(t, err)

	collected := make(chan error, 1)
	go func() {
		var rm metricdata.ResourceMetrics
		collected <- reader.Collect(context.Background(), &rm)
	}()
	// A guard, not a timing assumption: a deadlock never finishes.
	select {
	case err := <-collected:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		require.FailNow(t, "Collect deadlocked against StateMetrics.Close")
	}
	require.NoError(t, <-closed)
	require.NoError(t, mp.Shutdown(context.Background()))
}
