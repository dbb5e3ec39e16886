package sdk_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// A heartbeat counts only for the attempt whose context it is given: a
// goroutine left over from attempt 1 that keeps beating does not keep
// attempt 2 alive. (Heartbeat used to store into the child's one cell, so
// attempt 2 never went stale.)
func TestHeartbeatOfAnEndedAttemptIsIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		stop := make(chan struct{})
		defer close(stop)
		var runs atomic.Int64
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, sdk.Spec{Name: "c", StaleAfter: time.Second, Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if runs.Add(1) == 1 {
				go func() { // outlives its attempt
					for {
						sdk.Heartbeat(ctx)
						select {
						case <-stop:
							return
						case <-time.After(100 * time.Millisecond):
						}
					}
				}()
				return errors.New("attempt 1 ends, its heartbeat goes on")
			}
			<-ctx.Done() // attempt 2 never beats
			return nil
		})})
		startSup(t, s)
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		stale := rec.filter("/r/c", sdk.EventChildStale)
		require.Len(t, stale, 1, "attempt 2 went stale")
		require.Equal(t, uint64(2), stale[0].Attempt)
		late := rec.filter("/r/c", sdk.EventLateSignal)
		require.Len(t, late, 1, "the late heartbeat is reported, once")
		require.Equal(t, uint64(1), late[0].Attempt)
	})
}

// Ready counts only for the attempt whose context it is given: a goroutine
// left over from attempt 1 that calls Ready once attempt 2 runs does not
// make attempt 2 ready, and Ready says so with attempt 1's cause.
func TestReadyOfAnEndedAttemptIsIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		late := make(chan struct{})
		lateErr := make(chan error, 1)
		var runs atomic.Int64
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, sdk.Spec{Name: "c", Readiness: true, StartTimeout: time.Hour, Backoff: sdk.NoBackoff(),
			Service: sdk.ServiceFunc(func(ctx context.Context) error {
				switch runs.Add(1) {
				case 1:
					_ = sdk.Ready(ctx)
					go func() {
						<-late
						lateErr <- sdk.Ready(ctx) // attempt 1's context, after attempt 1 ended
					}()
					return errors.New("attempt 1 ends")
				default:
					<-ctx.Done() // attempt 2 is never ready
					return nil
				}
			})})
		startSup(t, s)
		synctest.Wait()
		close(late)
		synctest.Wait()
		require.ErrorIs(t, <-lateErr, sdk.ErrAttemptEnded)
		require.Equal(t, lifecycle.StateRunning, childStatus(t, s, "/r/c").State, "attempt 2 is not ready")
		require.Len(t, rec.filter("/r/c", sdk.EventChildReady), 1, "only attempt 1 was ready")
		require.Len(t, rec.filter("/r/c", sdk.EventLateSignal), 1)
	})
}

// A Serve that calls runtime.Goexit (t.FailNow in a test helper does) has
// exited: it is a failure, with ErrGoexit, handled by the restart type, and
// the child keeps one goroutine. (It used to go unnoticed: no exit event,
// the state stayed running, and shutdown waited the whole stop timeout to
// abandon it.)
func TestGoexitIsAnExit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		var runs atomic.Int64
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, sdk.Spec{Name: "c", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if runs.Add(1) <= 2 {
				runtime.Goexit()
			}
			<-ctx.Done()
			return nil
		})})
		startSup(t, s)
		synctest.Wait()
		require.Equal(t, int64(3), runs.Load(), "restarted after each Goexit")
		exits := rec.filter("/r/c", sdk.EventChildExited)
		require.Len(t, exits, 2)
		for _, e := range exits {
			require.Equal(t, sdk.ExitError, e.Exit)
			require.ErrorIs(t, e.Err, sdk.ErrGoexit)
		}
		require.Contains(t, childStatus(t, s, "/r/c").LastError, "runtime.Goexit")

		begin := time.Now()
		rep, err := s.Shutdown(context.Background(), "test", "done")
		require.NoError(t, err)
		require.Zero(t, time.Since(begin), "nothing to wait for")
		require.Empty(t, rep.Abandoned())
	})
}
