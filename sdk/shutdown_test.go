package sdk_test

import (
	"context"
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

func TestShutdownReverseOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		log := newAttempts()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, member(log, "a"), member(log, "b"), member(log, "c"), member(log, "d"))
		sv := serve(t, s)
		synctest.Wait()
		require.Equal(t, []string{"start a#1", "start b#1", "start c#1", "start d#1"}, sortedStarts(log.lines()))
		require.NoError(t, sv.stop())

		var cancelled []string
		for _, l := range log.lines() {
			if strings.HasPrefix(l, "cancelled") {
				cancelled = append(cancelled, l)
			}
		}
		require.Equal(t, []string{"cancelled d#1", "cancelled c#1", "cancelled b#1", "cancelled a#1"}, cancelled,
			"each child is stopped only after the one declared after it has returned")
		var stops []string
		for _, e := range rec.filter("", sdk.EventChildStopping, sdk.EventChildStopped, sdk.EventChildEnded) {
			stops = append(stops, compact(e))
		}
		require.Equal(t, []string{
			"child_stopping /r/d#1", "child_stopped /r/d#1", "child_ended /r/d#1 →stopped",
			"child_stopping /r/c#1", "child_stopped /r/c#1", "child_ended /r/c#1 →stopped",
			"child_stopping /r/b#1", "child_stopped /r/b#1", "child_ended /r/b#1 →stopped",
			"child_stopping /r/a#1", "child_stopped /r/a#1", "child_ended /r/a#1 →stopped",
		}, stops)
		h := s.Health()
		require.Equal(t, lifecycle.StateCompleted, h.State)
		require.Equal(t, "context", h.Shutdown.RequestedBy)
		var states []string
		for _, e := range rec.filter("/r", sdk.EventSupervisorState) {
			states = append(states, e.From.String()+"→"+e.To.String())
		}
		require.Equal(t, []string{"starting→alive", "alive→shutting_down", "shutting_down→completed"}, states)
	})
}

// sortedStarts returns the start lines in order of the child name: the
// children's goroutines start concurrently.
func sortedStarts(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "start ") {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// slowStop runs until cancelled and then takes d to return.
func slowStop(d time.Duration) sdk.Service {
	return sdk.ServiceFunc(func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(d)
		return nil
	})
}

func TestShutdownStopTimeoutPerChild(t *testing.T) {
	t.Run("children that stop in time", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			// a's 3s budget starts when a is asked to stop, after b has
			// taken 1.5s: counted from the shutdown, a would be abandoned.
			add(t, s,
				sdk.Spec{Name: "a", StopTimeout: 3 * time.Second, Service: slowStop(2 * time.Second)},
				sdk.Spec{Name: "b", StopTimeout: 2 * time.Second, Service: slowStop(1500 * time.Millisecond)})
			sv := serve(t, s)
			synctest.Wait()
			start := time.Now()
			require.NoError(t, sv.stop())
			require.Equal(t, 3500*time.Millisecond, time.Since(start))

			require.Equal(t, 1500*time.Millisecond, rec.last(t, "/r/b", sdk.EventChildStopped).Waited)
			require.Equal(t, 2*time.Second, rec.last(t, "/r/a", sdk.EventChildStopped).Waited)
			require.Equal(t, 1500*time.Millisecond, rec.last(t, "/r/a", sdk.EventChildStopping).Time.Sub(start))
			require.Zero(t, rec.count("", sdk.EventChildAbandoned))
		})
	})

	t.Run("children that do not stop", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			a, b := newStubborn(t), newStubborn(t)
			add(t, s,
				sdk.Spec{Name: "a", StopTimeout: 3 * time.Second, Service: a},
				sdk.Spec{Name: "b", StopTimeout: time.Second, Service: b})
			sv := serve(t, s)
			synctest.Wait()
			start := time.Now()
			err := sv.stop()
			require.Equal(t, 4*time.Second, time.Since(start), "1s for b, then 3s for a")
			require.ErrorIs(t, err, sdk.ErrAbandoned)
			var ae *sdk.AbandonedError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, []string{"/r/b", "/r/a"}, ae.Children)
			require.Equal(t, "abandoned", ae.ErrorType())

			require.Equal(t, time.Second, rec.last(t, "/r/b", sdk.EventChildAbandoned).Waited)
			require.Equal(t, 3*time.Second, rec.last(t, "/r/a", sdk.EventChildAbandoned).Waited)
			require.Equal(t, time.Second, rec.last(t, "/r/a", sdk.EventChildStopping).Time.Sub(start))
			ended := rec.ended()
			require.Equal(t, lifecycle.StateFailed, ended["/r/a"])
			require.Equal(t, lifecycle.StateFailed, ended["/r/b"])
			require.True(t, a.cancelled.Load())
			require.True(t, b.cancelled.Load())
			// A clean shutdown that abandoned children still completes.
			require.Equal(t, lifecycle.StateCompleted, s.Health().State)

			a.release()
			b.release()
		})
	})
}

func TestShutdownDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		var calls atomic.Int64
		add(t, s, sdk.Spec{Name: "c", Backoff: &sdk.Backoff{Initial: time.Hour, Max: time.Hour, Multiplier: 1},
			Service: failing(1, errBoom, &calls)})
		sv := serve(t, s)
		synctest.Wait()
		start := time.Now()
		require.NoError(t, sv.stop())
		require.Zero(t, time.Since(start), "a child in backoff has nothing to stop")
		require.Equal(t, int64(1), calls.Load(), "and is not started again")
		e := rec.last(t, "/r/c", sdk.EventChildEnded)
		require.Equal(t, lifecycle.StateBackoff, e.From)
		require.Equal(t, lifecycle.StateStopped, e.To)
	})
}

func TestServeTwiceConcurrently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r")
		var calls atomic.Int64
		add(t, s, sdk.Spec{Name: "c", Service: failing(0, nil, &calls)})
		sv := serve(t, s)
		synctest.Wait()
		require.ErrorIs(t, s.Serve(context.Background()), sdk.ErrAlreadyRunning)
		require.Equal(t, int64(1), calls.Load(), "the second Serve started nothing")
		require.True(t, s.Health().Alive, "and did not disturb the first")
		require.NoError(t, sv.stop())
	})
}

func TestAddWhileServing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		log := newAttempts()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, member(log, "a"))
		sv := serve(t, s)
		synctest.Wait()

		require.NoError(t, s.Add(context.Background(), member(log, "late"), "test", "declared by the test"))
		synctest.Wait()
		require.Equal(t, 1, log.of("late"), "added while serving: starts at once")
		starting := rec.last(t, "/r/late", sdk.EventChildStarting)
		require.Equal(t, "added", starting.Cause)
		require.Equal(t, uint64(1), starting.Attempt)

		require.NoError(t, sv.stop())
		var cancelled []string
		for _, l := range log.lines() {
			if strings.HasPrefix(l, "cancelled") {
				cancelled = append(cancelled, l)
			}
		}
		require.Equal(t, []string{"cancelled late#1", "cancelled a#1"}, cancelled, "a late child is declared last")
	})
}

func TestAddDuringShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r")
		add(t, s, sdk.Spec{Name: "slow", StopTimeout: 10 * time.Second, Service: slowStop(5 * time.Second)})
		sv := serve(t, s)
		synctest.Wait()
		sv.cancel()
		synctest.Wait() // the loop is shutting down, waiting for slow
		ok, _ := sv.returned()
		require.False(t, ok)
		require.Equal(t, lifecycle.StateShuttingDown, s.Health().State)
		require.ErrorIs(t, s.Add(context.Background(), sdk.Spec{Name: "x", Service: idleService}, "test", "declared by the test"), sdk.ErrSupervisorDone)
		require.NoError(t, sv.wait())
	})
}

// Between two Serve calls (a parent restarting a nested supervisor) Add
// declares the child for the next run.
func TestAddAfterServeReturned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, sdk.Spec{Name: "a", Service: idleService})
		first := serve(t, s)
		synctest.Wait()
		require.NoError(t, first.stop())
		require.NoError(t, s.Add(context.Background(), sdk.Spec{Name: "x", Service: idleService}, "test", "declared by the test"))
		require.Empty(t, rec.filter("/r/x", sdk.EventChildRunning), "nothing runs until the next Serve")
		sv := serve(t, s)
		synctest.Wait()
		require.Len(t, rec.filter("/r/x", sdk.EventChildRunning), 1)
		require.NoError(t, sv.stop())
	})
}

func TestServeAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		sm, states := stateMetrics(t)
		s := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithStateMetrics(sm))
		require.Equal(t, lifecycle.Health{}, s.Health(), "zero before the first Serve")
		var calls atomic.Int64
		add(t, s,
			sdk.Spec{Name: "a", Service: idleService},
			sdk.Spec{Name: "c", Backoff: sdk.NoBackoff(), Service: failing(1, errBoom, &calls)})

		sv := serve(t, s)
		synctest.Wait()
		require.Equal(t, uint64(2), rec.last(t, "/r/c", sdk.EventChildRunning).Attempt)
		require.Equal(t, map[string]string{"/r/a": "running", "/r/c": "running"}, states())
		require.NoError(t, sv.stop())
		first := s.Health()
		require.Equal(t, lifecycle.StateCompleted, first.State)
		require.Equal(t, map[string]string{"/r/a": "stopped", "/r/c": "stopped"}, states())

		time.Sleep(time.Minute)
		n := len(rec.all())
		sv = serve(t, s)
		synctest.Wait()
		second := rec.all()[n:]
		var running []string
		for _, e := range second {
			if e.Type == sdk.EventChildRunning {
				running = append(running, compact(e))
			}
		}
		require.Equal(t, []string{"child_running /r/a#1", "child_running /r/c#1"}, running, "a new run starts from attempt 1")
		h := s.Health()
		require.True(t, h.Alive)
		require.Equal(t, lifecycle.StateAlive, h.State)
		require.Equal(t, first.StartedAt.Add(time.Minute), h.StartedAt, "a new lifecycle")
		require.Equal(t, map[string]string{"/r/a": "running", "/r/c": "running"}, states(), "the previous run's series are retired")
		require.Equal(t, int64(3), calls.Load())
		require.NoError(t, sv.stop())
	})
}

// A nested supervisor stopped by its parent records who asked.
func TestNestedShutdownCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		causes := make(chan error, 1)
		root := newSup(t, "root", sdk.WithEventHook(rec.hook))
		sub := newSup(t, "sub")
		add(t, sub, sdk.Spec{Name: "w", Service: sdk.ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return nil
		})})
		add(t, root, sdk.Spec{Name: "sub", Service: sub})
		sv := serve(t, root)
		synctest.Wait()
		require.NoError(t, sv.stop())
		cause := <-causes
		require.ErrorIs(t, cause, sdk.ErrStopped)
		require.ErrorContains(t, cause, "context ended: context canceled")
		h := sub.Health()
		require.Equal(t, lifecycle.StateCompleted, h.State)
		require.Equal(t, "parent", h.Shutdown.RequestedBy)
		require.Equal(t, lifecycle.StateStopped, rec.ended()["/root/sub"])
		require.Equal(t, lifecycle.StateStopped, rec.ended()["/root/sub/w"])
	})
}
