package sdk_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// A child that signals readiness says so on its starting and running
// events, so that an observer knows its start is over at ready, not at
// running.
func TestEventsSayWhetherTheStartWaitsForReadiness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		got := map[string][]bool{}
		root, err := sdk.New("root", sdk.WithEventHook(func(e sdk.Event) {
			if e.Type == sdk.EventChildStarting || e.Type == sdk.EventChildRunning {
				mu.Lock()
				got[e.Path] = append(got[e.Path], e.Readiness)
				mu.Unlock()
			}
		}))
		require.NoError(t, err)
		idle := func(ctx context.Context) error { <-ctx.Done(); return nil }
		require.NoError(t, root.Add(context.Background(), sdk.Spec{Name: "plain", Service: sdk.ServiceFunc(idle)}, "test", "declared by the test"))
		require.NoError(t, root.Add(context.Background(), sdk.Spec{Name: "ready", Readiness: true, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			sdk.Ready(ctx)
			<-ctx.Done()
			return nil
		})}, "test", "declared by the test"))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- root.Serve(ctx) }()
		synctest.Wait()
		cancel()
		require.NoError(t, <-done)
		require.Equal(t, map[string][]bool{"/root/plain": {false, false}, "/root/ready": {true, true}}, got)
	})
}

// Events dropped for the hooks are counted on the events that follow, so
// a hook can count what it missed: the count grows by the gap in Seq.
func TestEventsCountTheDropsBeforeThem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var seen []sdk.Event
		root, err := sdk.New("root", sdk.WithHookQueue(1), sdk.WithEventHook(func(e sdk.Event) {
			if len(seen) == 0 {
				<-release // the queue fills behind the first event
			}
			seen = append(seen, e)
		}))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- root.Serve(ctx) }()
		for i := range 5 {
			require.NoError(t, root.Add(context.Background(), sdk.Spec{Name: "w" + string(rune('a'+i)), Service: sdk.ServiceFunc(func(ctx context.Context) error {
				<-ctx.Done()
				return nil
			})}, "test", "declared by the test"))
		}
		synctest.Wait()
		close(release)
		cancel()
		require.NoError(t, <-done)
		require.Greater(t, len(seen), 2)
		var missed uint64
		for i := 1; i < len(seen); i++ {
			gap := seen[i].Seq - seen[i-1].Seq - 1
			require.Equal(t, seen[i-1].Dropped+gap, seen[i].Dropped, "event %d: %v", i, seen[i])
			missed += gap
		}
		require.NotZero(t, missed, "the blocked hook missed events")
		require.Equal(t, missed+seen[0].Dropped, seen[len(seen)-1].Dropped)
	})
}
