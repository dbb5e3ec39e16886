package sdk_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// A supervisor dropped without Close retires its series once it is
// garbage, and its nested supervisors' too. (Its machines stayed in the
// state metrics for the life of the process: 555 B per child retained,
// and a stopped tree reported forever.)
func TestDroppedSupervisorRetiresItsSeries(t *testing.T) {
	sm, states := stateMetrics(t)
	func() {
		inner, err := sdk.New("inner", sdk.WithStateMetrics(sm))
		require.NoError(t, err)
		require.NoError(t, inner.Add(context.Background(), sdk.Spec{Name: "leaf", Service: idleService}, "test", "declared by the test"))
		s, err := sdk.New("r", sdk.WithStateMetrics(sm))
		require.NoError(t, err)
		require.NoError(t, s.Add(context.Background(), sdk.Spec{Name: "a", Service: idleService}, "test", "declared by the test"))
		require.NoError(t, s.Add(context.Background(), sdk.Spec{Name: "inner", Service: inner}, "test", "declared by the test"))
		require.NoError(t, s.Start(context.Background()))
		_, err = s.Shutdown(context.Background(), "test", "done")
		require.NoError(t, err)
	}()
	require.Equal(t, map[string]string{"/r/a": "stopped", "/r/inner": "stopped", "/r/inner/leaf": "stopped"}, states(),
		"an ended tree keeps reporting while it is referenced")
	// Cleanups run on the runtime's own goroutine after a collection that
	// finds the supervisor unreachable; there is nothing to wait on but
	// the collector itself, so poll it, bounded.
	deadline := time.Now().Add(10 * time.Second)
	for len(states()) > 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	require.Empty(t, states(), "the dropped tree's series are retired")
}
