package sdk_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
)

func TestPoolStartsChildrenAtRunTimeAndForgetsEndedOnes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool, err := sdk.NewPool("conns", sdk.Spec{Name: "conn", Restart: sdk.Transient, Backoff: sdk.NoBackoff()})
		require.NoError(t, err)
		ended := make(chan string, 10)
		sub := pool.Supervisor().Subscribe(100)
		defer sub.Close()

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- pool.Serve(ctx) }()
		synctest.Wait()

		failOnce := true
		p1, err := pool.Start(context.Background(), "", sdk.ServiceFunc(func(ctx context.Context) error {
			if failOnce {
				failOnce = false
				return errors.New("reset by peer")
			}
			return nil // done: a transient child is not restarted, and leaves the pool
		}), "test", "started by the test")
		require.NoError(t, err)
		require.Equal(t, "/conns/conn-1", p1)
		p2, err := pool.Start(context.Background(), "", sdk.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		}), "test", "started by the test")
		require.NoError(t, err)
		require.Equal(t, "/conns/conn-2", p2)
		synctest.Wait()
		cancel()
		require.NoError(t, <-done)

		starts := map[string]int{}
		for len(sub.C()) > 0 {
			e := <-sub.C()
			switch e.Type {
			case sdk.EventChildRunning:
				starts[e.Path]++
			case sdk.EventChildEnded:
				ended <- e.Path + " " + e.To.String()
			}
		}
		require.Equal(t, map[string]int{p1: 2, p2: 1}, starts, "the failed child was restarted on its own")
		require.Equal(t, p1+" completed", <-ended)
		require.Equal(t, p2+" stopped", <-ended)

		// conn-1 left the pool; serving again runs only conn-2.
		ctx2, cancel2 := context.WithCancel(context.Background())
		go func() { done <- pool.Serve(ctx2) }()
		synctest.Wait()
		cancel2()
		require.NoError(t, <-done)
		running := 0
		for len(sub.C()) > 0 {
			if e := <-sub.C(); e.Type == sdk.EventChildRunning {
				require.Equal(t, p2, e.Path)
				running++
			}
		}
		require.Equal(t, 1, running)
	})
}

func TestPoolRejectsOtherStrategiesAndBadTemplates(t *testing.T) {
	_, err := sdk.NewPool("p", sdk.Spec{Name: "w"}, sdk.WithStrategy(sdk.OneForAll))
	var se *sdk.SpecError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "Strategy", se.Field)

	_, err = sdk.NewPool("p", sdk.Spec{Name: "w/x"})
	require.ErrorAs(t, err, &se)
	require.Equal(t, "Name", se.Field)
}

// Additions are audited like other commands, pool children can be named,
// and a pool can be bounded. (Add and Pool.Start took no requestedBy or
// reason, pool children could not be named, and a pool had no size
// limit.)
func TestAdditionsAreAudited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		pool, err := sdk.NewPool("conns", sdk.Spec{Name: "conn", Restart: sdk.Temporary}, sdk.WithMaxChildren(2), sdk.WithEventHook(rec.hook))
		require.NoError(t, err)
		ctx := context.Background()
		var se *sdk.ArgumentError
		_, err = pool.Start(ctx, "", sdk.ServiceFunc(idle), " ", "why")
		require.ErrorAs(t, err, &se)
		require.Equal(t, "requestedBy", se.Field)
		require.ErrorAs(t, pool.Supervisor().Add(ctx, sdk.Spec{Name: "x", Service: idleService}, "ops", ""), &se)
		require.Equal(t, "reason", se.Field)

		p1, err := pool.Start(ctx, "alice-session", sdk.ServiceFunc(idle), "gateway", "alice logged in")
		require.NoError(t, err)
		require.Equal(t, "/conns/alice-session", p1)
		_, err = pool.Start(ctx, "alice-session", sdk.ServiceFunc(idle), "gateway", "again")
		var spec *sdk.SpecError
		require.ErrorAs(t, err, &spec, "a name in use is an error naming it")
		require.Equal(t, "alice-session", spec.Child)
		p2, err := pool.Start(ctx, "", sdk.ServiceFunc(idle), "gateway", "anonymous")
		require.NoError(t, err)
		require.Equal(t, "/conns/conn-1", p2)
		_, err = pool.Start(ctx, "", sdk.ServiceFunc(idle), "gateway", "one too many")
		require.ErrorIs(t, err, sdk.ErrTooManyChildren)

		sv := serve(t, pool.Supervisor())
		synctest.Wait()
		added := rec.filter(p1, sdk.EventChildAdded)
		require.Len(t, added, 1)
		require.Equal(t, "gateway", added[0].RequestedBy)
		require.Equal(t, "alice logged in", added[0].Cause)
		_, err = pool.Start(ctx, "", sdk.ServiceFunc(idle), "gateway", "still full while serving")
		require.ErrorIs(t, err, sdk.ErrTooManyChildren)
		require.NoError(t, sv.stop())
	})
}
