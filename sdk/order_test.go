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

// Shutdown stops children in reverse start order, one at a time: with
// DependsOn, a dependent always stops before what it depends on, even when
// it was declared first, and even after the dependency restarted alone.
// (Shutdown used to go in reverse declaration order, stopping db while web
// still ran.)
func TestShutdownReverseStartOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := newAttempts()
		web := newSteered(log, "web", 100*time.Millisecond)
		db := newSteered(log, "db", 100*time.Millisecond)
		webSpec := web.spec()
		webSpec.DependsOn = []string{"db"}
		s := newSup(t, "r")
		add(t, s, webSpec, db.spec()) // web is declared first, starts second
		startSup(t, s)
		db.fail <- errBoom // db restarts alone: it keeps its place in the start order
		synctest.Wait()
		_, err := s.Shutdown(context.Background(), "test", "done")
		require.NoError(t, err)
		require.Equal(t, []string{
			"exit db#1", // its own failure
			"cancelled web#1", "exit web#1", "cancelled db#2", "exit db#2",
		}, prefixed(log.lines(), "cancelled", "exit"))
	})
}

// A scope restart stops the siblings one at a time, in reverse start
// order, each within its own stop timeout, and starts the scope again in
// start order. (It used to stop them all at once, in declaration order.)
func TestScopeRestartStopsInReverseStartOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := newAttempts()
		a := newSteered(log, "a", 100*time.Millisecond)
		b := newSteered(log, "b", 100*time.Millisecond)
		c := newSteered(log, "c", 100*time.Millisecond)
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithStrategy(sdk.OneForAll), sdk.WithEventHook(rec.hook))
		add(t, s, a.spec(), b.spec(), c.spec())
		startSup(t, s)
		begin := time.Now()
		a.fail <- errBoom
		time.Sleep(time.Second)
		synctest.Wait()
		require.Equal(t, []string{
			"exit a#1",
			"cancelled c#1", "exit c#1", "cancelled b#1", "exit b#1",
		}, prefixed(log.lines(), "cancelled", "exit"))
		require.Equal(t, []string{"/r/a#2", "/r/b#2", "/r/c#2"}, launchOrder(rec), "started again in start order")
		for _, e := range rec.filter("", sdk.EventChildRestarting) {
			require.Equal(t, 200*time.Millisecond, e.Time.Sub(begin), "after two stops of 100ms each, one after the other")
		}
	})
}

// With StopAllAtOnce, a scope restart cancels every sibling at the same
// moment, as the shutdown does.
func TestScopeRestartAllAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		var crashed atomic.Bool
		s := newSup(t, "r", sdk.WithStrategy(sdk.OneForAll), sdk.WithShutdownOrder(sdk.StopAllAtOnce), sdk.WithEventHook(rec.hook))
		log := newAttempts()
		b := newSteered(log, "b", 100*time.Millisecond)
		c := newSteered(log, "c", 200*time.Millisecond)
		add(t, s, sdk.Spec{Name: "a", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if !crashed.Swap(true) {
				return errBoom
			}
			return idle(ctx)
		})}, b.spec(), c.spec())
		begin := time.Now()
		startSup(t, s)
		synctest.Wait()
		stops := rec.filter("", sdk.EventChildStopping)
		require.Len(t, stops, 2)
		for _, e := range stops {
			require.Zero(t, e.Time.Sub(begin), e.Path)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		restarted := rec.filter("/r/a", sdk.EventChildRestarting)
		require.Len(t, restarted, 1)
		require.Equal(t, 200*time.Millisecond, restarted[0].Time.Sub(begin), "once the slowest has stopped")
	})
}
