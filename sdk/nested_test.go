package sdk_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// A nested supervisor is ready when its own Start completes (OTP's
// synchronous subtree start): the parent's Start waits for the subtree's
// readiness children, and a sibling that depends on the subtree starts
// only then.
func TestNestedSupervisorIsReadyWhenItsStartCompletes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := newSup(t, "inner")
		add(t, inner, sdk.Spec{Name: "db", Readiness: true, Service: readyAfter(2 * time.Second)})
		var depStarted atomic.Int64
		begin := time.Now()
		root := newSup(t, "root")
		add(t, root, sdk.Spec{Name: "inner", Service: inner},
			sdk.Spec{Name: "api", DependsOn: []string{"inner"}, Service: sdk.ServiceFunc(func(ctx context.Context) error {
				depStarted.Store(int64(time.Since(begin)))
				<-ctx.Done()
				return nil
			})})
		startSup(t, root)
		require.Equal(t, 2*time.Second, time.Since(begin), "Start waited for the subtree's readiness")
		synctest.Wait()
		require.Equal(t, int64(2*time.Second), depStarted.Load(), "the dependent started once the subtree was ready")
	})
}

// A subtree whose start fails fails its parent's Start.
func TestNestedStartFailureFailsTheParentsStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := newSup(t, "inner")
		add(t, inner, sdk.Spec{Name: "db", Readiness: true, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			time.Sleep(time.Second)
			return errBoom
		})})
		root := newSup(t, "root")
		add(t, root, sdk.Spec{Name: "inner", Service: inner})
		err := root.Start(context.Background())
		require.ErrorIs(t, err, errBoom)
		var se *sdk.StartError
		require.ErrorAs(t, err, &se)
		require.Contains(t, se.Error(), "/root/inner")
	})
}

// A nested supervisor is given no stop timeout of its own by default: a
// healthy subtree that takes 10.9 s to stop, one child after another, is
// stopped gracefully, not abandoned after a child's default 5 s.
func TestNestedSupervisorHasNoDefaultStopTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slowStop := sdk.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(300 * time.Millisecond)
			return nil
		})
		inner := newSup(t, "inner")
		for _, n := range []string{"a", "b", "c"} {
			add(t, inner, sdk.Spec{Name: n, StopTimeout: time.Second, Service: slowStop})
		}
		// Ten seconds of stopping in all: more than a child's default.
		for _, n := range []string{"d", "e", "f", "g", "h", "i", "j", "k", "l", "m"} {
			add(t, inner, sdk.Spec{Name: n, StopTimeout: 2 * time.Second, Service: sdk.ServiceFunc(func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(time.Second)
				return nil
			})})
		}
		root := newSup(t, "root")
		add(t, root, sdk.Spec{Name: "inner", Service: inner})
		startSup(t, root)
		begin := time.Now()
		rep, err := root.Shutdown(context.Background(), "test", "done")
		require.NoError(t, err)
		require.Equal(t, 10*time.Second+900*time.Millisecond, time.Since(begin))
		require.Empty(t, rep.Abandoned())
		require.Equal(t, sdk.OutcomeGraceful, rep.Children[0].Outcome)
	})
}
