package sdk_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// beating is a service that wakes up every interval and sends a heartbeat
// when beats says so, given the attempt number (from 1) and how long the
// attempt has run; it runs until cancelled.
func beating(interval time.Duration, calls *atomic.Int64, beats func(attempt int64, ran time.Duration) bool) sdk.Service {
	return sdk.ServiceFunc(func(ctx context.Context) error {
		n := calls.Add(1)
		begin := time.Now()
		for {
			if beats(n, time.Since(begin)) {
				sdk.Heartbeat(ctx)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(interval):
			}
		}
	})
}

func always(int64, time.Duration) bool { return true }

func TestHeartbeatKeepsAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		var calls atomic.Int64
		add(t, s, sdk.Spec{Name: "c", StaleAfter: 2 * time.Second, Service: beating(500*time.Millisecond, &calls, always)})
		startSup(t, s)
		time.Sleep(time.Minute)
		synctest.Wait()
		require.Zero(t, rec.count("", sdk.EventChildStale))
		require.Equal(t, int64(1), calls.Load())
		cs := childStatus(t, s, "/r/c")
		require.Equal(t, lifecycle.StateRunning, cs.State)
		require.Equal(t, uint64(1), cs.Attempt)
		require.Equal(t, time.Minute, cs.LastHeartbeat.Sub(epoch))
	})
}

func TestStaleChild(t *testing.T) {
	t.Run("transient: stopped as failed and restarted", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			var calls atomic.Int64
			// The first attempt beats every 500ms for 10s (last beat at
			// 9.5s) and then goes silent; the second keeps beating.
			add(t, s, sdk.Spec{Name: "c", Restart: sdk.Transient, StaleAfter: 2 * time.Second, Backoff: sdk.NoBackoff(),
				Service: beating(500*time.Millisecond, &calls, func(n int64, ran time.Duration) bool { return n > 1 || ran < 10*time.Second })})
			startSup(t, s)
			time.Sleep(15 * time.Second)
			synctest.Wait()

			stale := rec.last(t, "/r/c", sdk.EventChildStale)
			require.Equal(t, uint64(1), stale.Attempt)
			require.ErrorIs(t, stale.Err, sdk.ErrStale)
			at := stale.Time.Sub(epoch)
			require.Equal(t, 11500*time.Millisecond, at, "StaleAfter after the last heartbeat")
			require.Equal(t, 1, rec.count("/r/c", sdk.EventChildStale))

			exit := rec.last(t, "/r/c", sdk.EventChildExited)
			require.Equal(t, sdk.ExitStale, exit.Exit)
			require.ErrorIs(t, exit.Err, sdk.ErrStale)
			require.Equal(t, at, exit.Ran)
			require.Equal(t, sdk.ReasonStale, rec.last(t, "/r/c", sdk.EventChildRestarting).Reason)
			require.Equal(t, int64(2), calls.Load(), "restarted")
			cs := childStatus(t, s, "/r/c")
			require.Equal(t, lifecycle.StateRunning, cs.State)
			require.Contains(t, cs.LastError, sdk.ErrStale.Error())

			time.Sleep(time.Minute)
			synctest.Wait()
			require.Equal(t, int64(2), calls.Load(), "the new attempt beats: it is not stale")
		})
	})

	t.Run("temporary: ends failed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			var calls atomic.Int64
			add(t, s, sdk.Spec{Name: "c", Restart: sdk.Temporary, StaleAfter: 2 * time.Second,
				Service: beating(time.Second, &calls, func(int64, time.Duration) bool { return false })})
			startSup(t, s)
			time.Sleep(time.Minute)
			synctest.Wait()
			require.Equal(t, 2*time.Second, rec.last(t, "/r/c", sdk.EventChildStale).Time.Sub(epoch), "never beat: stale after StaleAfter")
			exit := rec.last(t, "/r/c", sdk.EventChildExited)
			require.Equal(t, sdk.ExitStale, exit.Exit)
			require.ErrorIs(t, exit.Err, sdk.ErrStale)
			require.Equal(t, int64(1), calls.Load(), "not restarted")
			require.Equal(t, lifecycle.StateFailed, rec.ended()["/r/c"])
			require.Equal(t, lifecycle.StateFailed, childStatus(t, s, "/r/c").State)
		})
	})

	t.Run("a stale child that ignores cancellation is abandoned", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			x := newStubborn(t)
			add(t, s, sdk.Spec{Name: "x", StaleAfter: time.Second, StopTimeout: time.Second, Service: x})
			startSup(t, s)
			time.Sleep(time.Minute)
			synctest.Wait()
			require.Equal(t, time.Second, rec.last(t, "/r/x", sdk.EventChildStale).Time.Sub(epoch))
			require.Equal(t, 2*time.Second, rec.last(t, "/r/x", sdk.EventChildAbandoned).Time.Sub(epoch))
			require.Equal(t, lifecycle.StateFailed, rec.ended()["/r/x"])
			require.Equal(t, 1, rec.count("/r/x", sdk.EventChildStarting), "an abandoned child is never run twice")
			x.release()
		})
	})
}

func TestHeartbeatResetsTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, sdk.Spec{Name: "c", Restart: sdk.Temporary, StaleAfter: 2 * time.Second, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			time.Sleep(1500 * time.Millisecond)
			sdk.Heartbeat(ctx)
			<-ctx.Done()
			return nil
		})})
		startSup(t, s)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		require.Zero(t, rec.count("/r/c", sdk.EventChildStale), "not stale at 2s: it beat at 1.5s")
		require.Equal(t, 1500*time.Millisecond, childStatus(t, s, "/r/c").LastHeartbeat.Sub(epoch))
		time.Sleep(5 * time.Second)
		synctest.Wait()
		stale := rec.last(t, "/r/c", sdk.EventChildStale)
		require.Equal(t, 3500*time.Millisecond, stale.Time.Sub(epoch))
		require.ErrorContains(t, stale.Err, "last heartbeat 2s ago (stale after 2s)")
		require.Equal(t, 1, rec.count("/r/c", sdk.EventChildStale))
	})
}
