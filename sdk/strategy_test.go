package sdk_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// member is a child for strategy tests: it logs its starts and the end of
// its context, fails on the attempts listed in failOn, and otherwise runs
// until cancelled.
func member(log *attempts, name string, failOn ...int) sdk.Spec {
	return sdk.Spec{Name: name, Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
		n := log.start(name)
		if slices.Contains(failOn, n) {
			return errBoom
		}
		<-ctx.Done()
		log.note("cancelled %s#%d", name, n)
		return nil
	})}
}

// restartOrder returns the paths of the EventChildRestarting events, in the
// order the supervisor emitted them.
func restartOrder(rec *recorder) []string {
	var out []string
	for _, e := range rec.filter("", sdk.EventChildRestarting) {
		out = append(out, e.Path)
	}
	return out
}

// launchOrder returns "path#attempt" of EventChildStarting events with an
// attempt above 1.
func launchOrder(rec *recorder) []string {
	var out []string
	for _, e := range rec.filter("", sdk.EventChildStarting) {
		if e.Attempt > 1 {
			out = append(out, fmt.Sprintf("%s#%d", e.Path, e.Attempt))
		}
	}
	return out
}

func TestOneForOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		log := newAttempts()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, member(log, "a"), member(log, "b", 1), member(log, "c"))
		sv := serve(t, s)
		synctest.Wait()

		require.Equal(t, 1, log.of("a"))
		require.Equal(t, 2, log.of("b"))
		require.Equal(t, 1, log.of("c"))
		require.Equal(t, []string{"/r/b"}, restartOrder(rec))
		require.Zero(t, rec.count("/r/a", sdk.EventChildStopping))
		require.Zero(t, rec.count("/r/c", sdk.EventChildStopping))
		require.NotContains(t, strings.Join(log.lines(), "\n"), "cancelled", "no sibling was stopped")
		require.NoError(t, sv.stop())
	})
}

func TestOneForAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		log := newAttempts()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithStrategy(sdk.OneForAll))
		add(t, s, member(log, "a"), member(log, "b", 1), member(log, "c"))
		sv := serve(t, s)
		synctest.Wait()

		for _, n := range []string{"a", "b", "c"} {
			require.Equal(t, 2, log.of(n), n)
		}
		lines := log.lines()
		// Every running sibling saw its context end before any restart.
		firstRestart := slices.IndexFunc(lines, func(l string) bool { return strings.HasSuffix(l, "#2") })
		require.Positive(t, firstRestart)
		require.ElementsMatch(t, []string{"cancelled a#1", "cancelled c#1"},
			slices.DeleteFunc(slices.Clone(lines[:firstRestart]), func(l string) bool { return !strings.HasPrefix(l, "cancelled") }),
			"log: %v", lines)
		// Restarts in declaration order, the failed child included.
		require.Equal(t, []string{"/r/a", "/r/b", "/r/c"}, restartOrder(rec))
		require.Equal(t, []string{"/r/a#2", "/r/b#2", "/r/c#2"}, launchOrder(rec))
		for _, e := range rec.filter("", sdk.EventChildStopping) {
			require.Equal(t, "/r/b exited (error)", e.Cause)
		}
		require.Equal(t, 2, rec.count("", sdk.EventChildStopping))
		// Generation counts restarts caused by a sibling.
		gens := map[string]uint64{}
		for _, e := range rec.filter("", sdk.EventChildRestarting) {
			gens[e.Path] = e.Generation
		}
		require.Equal(t, map[string]uint64{"/r/a": 1, "/r/b": 0, "/r/c": 1}, gens)
		require.NoError(t, sv.stop())
	})
}

// Two children that fail together under one_for_all are restarted once,
// together, not once per failure.
func TestOneForAllOverlappingFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		log := newAttempts()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithStrategy(sdk.OneForAll),
			sdk.WithIntensity(sdk.Intensity{MaxRestarts: 1, Period: time.Hour}))
		add(t, s, member(log, "a", 1), member(log, "b", 1), member(log, "c"))
		sv := serve(t, s)
		synctest.Wait()
		for _, n := range []string{"a", "b", "c"} {
			require.Equal(t, 2, log.of(n), "%s; log %v", n, log.lines())
		}
		require.Equal(t, []string{"/r/a", "/r/b", "/r/c"}, restartOrder(rec))
		require.Zero(t, rec.count("", sdk.EventMeltdown), "one restart of the scope, not two")
		require.NoError(t, sv.stop())
	})
}

func TestOneForAllWaitsForBackoffAfterStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		log := newAttempts()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithStrategy(sdk.OneForAll))
		slow := member(log, "b", 1)
		slow.Backoff = &sdk.Backoff{Initial: time.Second, Max: time.Second, Multiplier: 1}
		add(t, s, member(log, "a"), slow)
		start := time.Now()
		sv := serve(t, s)
		synctest.Wait()
		require.Equal(t, 1, log.of("a"), "a is stopped but waits for b's backoff")
		require.Equal(t, time.Second, rec.last(t, "/r/a", sdk.EventChildBackoff).Delay)
		time.Sleep(time.Second)
		synctest.Wait()
		require.Equal(t, 2, log.of("a"))
		require.Equal(t, 2, log.of("b"))
		for _, e := range rec.filter("", sdk.EventChildRestarting) {
			require.Equal(t, time.Second, e.Time.Sub(start), e.Path)
		}
		require.NoError(t, sv.stop())
	})
}

func TestRestForOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		log := newAttempts()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithStrategy(sdk.RestForOne))
		add(t, s, member(log, "a"), member(log, "b", 1), member(log, "c"), member(log, "d"))
		sv := serve(t, s)
		synctest.Wait()

		require.Equal(t, 1, log.of("a"), "declared before the failed child: untouched")
		require.Equal(t, 2, log.of("b"))
		require.Equal(t, 2, log.of("c"))
		require.Equal(t, 2, log.of("d"))
		require.Equal(t, []string{"/r/b", "/r/c", "/r/d"}, restartOrder(rec))
		require.Zero(t, rec.count("/r/a", sdk.EventChildStopping))
		require.NotContains(t, log.lines(), "cancelled a#1")
		require.Contains(t, log.lines(), "cancelled c#1")
		require.Contains(t, log.lines(), "cancelled d#1")
		require.NoError(t, sv.stop())
	})
}

func TestRestForOneLastChild(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		log := newAttempts()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithStrategy(sdk.RestForOne))
		add(t, s, member(log, "a"), member(log, "b"), member(log, "c", 1))
		sv := serve(t, s)
		synctest.Wait()
		require.Equal(t, []string{"/r/c"}, restartOrder(rec))
		require.Equal(t, 1, log.of("a"))
		require.Equal(t, 1, log.of("b"))
		require.NoError(t, sv.stop())
	})
}

func TestTemporarySiblingUnderOneForAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		log := newAttempts()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithStrategy(sdk.OneForAll))
		tmp := member(log, "t")
		tmp.Restart = sdk.Temporary
		add(t, s, member(log, "a"), tmp, member(log, "b", 1, 2))
		sv := serve(t, s)
		synctest.Wait()

		require.Equal(t, 1, log.of("t"), "a temporary child stopped for a sibling is not restarted")
		require.Contains(t, log.lines(), "cancelled t#1", "it was stopped")
		ended := rec.last(t, "/r/t", sdk.EventChildEnded)
		require.Equal(t, lifecycle.StateStopped, ended.To)
		// b failed twice: each failure restarted the scope without the
		// ended temporary child.
		require.Equal(t, []string{"/r/a", "/r/b", "/r/a", "/r/b"}, restartOrder(rec))
		require.Equal(t, 3, log.of("a"))
		require.Equal(t, 3, log.of("b"))
		require.Equal(t, 1, rec.count("/r/t", sdk.EventChildStopping))

		require.NoError(t, sv.stop())
		require.Len(t, rec.filter("/r/t", sdk.EventChildEnded), 1)
	})
}

func TestAbandonedSiblingUnderOneForAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		log := newAttempts()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithStrategy(sdk.OneForAll))
		st := newStubborn(t)
		defer st.release()
		var stCalls atomic.Int64
		add(t, s,
			member(log, "a", 1),
			sdk.Spec{Name: "s", StopTimeout: 3 * time.Second, Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
				stCalls.Add(1)
				return st.Serve(ctx)
			})},
		)
		start := time.Now()
		sv := serve(t, s)
		synctest.Wait()
		require.Equal(t, 1, log.of("a"), "a waits until its sibling has stopped or is abandoned")
		require.True(t, st.cancelled.Load(), "the stubborn sibling saw its context end")

		time.Sleep(3 * time.Second)
		synctest.Wait()
		ab := rec.last(t, "/r/s", sdk.EventChildAbandoned)
		require.Equal(t, 3*time.Second, ab.Waited)
		require.Equal(t, 3*time.Second, ab.Time.Sub(start))
		ended := rec.last(t, "/r/s", sdk.EventChildEnded)
		require.Equal(t, lifecycle.StateFailed, ended.To)
		require.Equal(t, 2, log.of("a"), "a restarts once its sibling is abandoned")
		require.Equal(t, []string{"/r/a"}, restartOrder(rec))
		require.Equal(t, int64(1), stCalls.Load(), "an abandoned child is not restarted")

		err := sv.stop()
		require.ErrorIs(t, err, sdk.ErrAbandoned)
		var ae *sdk.AbandonedError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, []string{"/r/s"}, ae.Children)
		require.Equal(t, lifecycle.StateCompleted, s.Health().State)

		// The abandoned goroutine is still there until released.
		st.release()
		synctest.Wait()
		require.Equal(t, int64(1), stCalls.Load())
	})
}
