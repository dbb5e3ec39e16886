package sdk_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
)

func TestSubscriptionDeliversTreeEventsAndCountsDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		root, err := sdk.New("root")
		require.NoError(t, err)
		sub, err := sdk.New("sub")
		require.NoError(t, err)
		require.NoError(t, root.Add(context.Background(), sdk.Spec{Name: "sub", Service: sub}, "test", "declared by the test"))
		require.NoError(t, sub.Add(context.Background(), sdk.Spec{Name: "w", Service: sdk.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		})}, "test", "declared by the test"))

		roomy := root.Subscribe(1000)
		tiny := root.Subscribe(1)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- root.Serve(ctx) }()
		synctest.Wait()
		cancel()
		require.NoError(t, <-done)
		roomy.Close()
		tiny.Close()
		tiny.Close() // idempotent

		var got []string
		for e := range roomy.C() {
			if e.Type == sdk.EventChildRunning {
				got = append(got, e.Path)
			}
		}
		require.Equal(t, []string{"/root/sub", "/root/sub/w"}, got, "nested events reach the root's subscribers")

		kept := 0
		for range tiny.C() {
			kept++
		}
		require.Equal(t, 1, kept, "a full buffer keeps what it holds")
		require.NotZero(t, tiny.Dropped(), "the rest is counted, not lost silently")
		require.Zero(t, roomy.Dropped())
	})
}

func TestClosedSubscriptionReceivesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		root, err := sdk.New("root")
		require.NoError(t, err)
		require.NoError(t, root.Add(context.Background(), sdk.Spec{Name: "w", Service: sdk.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		})}, "test", "declared by the test"))
		sub := root.Subscribe(10)
		sub.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- root.Serve(ctx) }()
		synctest.Wait()
		cancel()
		require.NoError(t, <-done)
		_, open := <-sub.C()
		require.False(t, open)
		require.Zero(t, sub.Dropped())
	})
}

// Events name their tree: two trees with the same paths are told apart,
// and a new Serve of a root is a new tree.
func TestEventsNameTheirTree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		trees := map[uint64]bool{}
		var mu sync.Mutex
		hook := sdk.WithEventHook(func(e sdk.Event) {
			mu.Lock()
			trees[e.Tree] = true
			mu.Unlock()
		})
		for range 2 {
			s := newSup(t, "root", hook)
			add(t, s, sdk.Spec{Name: "a", Service: idleService})
			for range 2 {
				sv := serve(t, s)
				synctest.Wait()
				require.NoError(t, sv.stop())
			}
		}
		synctest.Wait()
		require.Len(t, trees, 4, "two supervisors named root, each served twice")
		require.False(t, trees[0])
	})
}
