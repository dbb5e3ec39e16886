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
		p1, err := pool.Start(sdk.ServiceFunc(func(ctx context.Context) error {
			if failOnce {
				failOnce = false
				return errors.New("reset by peer")
			}
			return nil // done: a transient child is not restarted, and leaves the pool
		}))
		require.NoError(t, err)
		require.Equal(t, "/conns/conn-1", p1)
		p2, err := pool.Start(sdk.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		}))
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
