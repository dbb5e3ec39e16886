package sdk_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// A scope restart waits for a sibling that is being stopped as a failure,
// and is released when that sibling's stop ends, whatever the stop was
// for. (It used to wait for ever: the failure stop's branch never released
// the restart plan, and both children stayed down while the supervisor
// stayed alive.)
func TestWedgeFailureStopDuringScopeRestart(t *testing.T) {
	for _, tc := range []struct {
		name     string
		strategy sdk.Strategy
		// x is the child stopped as a failure at 1.5s; it takes 500ms to
		// stop. a fails at 1.7s, while x is still stopping.
		x func(runs *atomic.Int64) sdk.Spec
		// restartX: an operator restarts x at 0.5s.
		restartX bool
	}{
		{"one_for_all, missed heartbeat", sdk.OneForAll, staleX, false},
		{"rest_for_one, missed heartbeat", sdk.RestForOne, staleX, false},
		{"one_for_all, start timeout after the start", sdk.OneForAll, notReadyAgainX, true},
		{"rest_for_one, start timeout after the start", sdk.RestForOne, notReadyAgainX, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var aRuns, xRuns atomic.Int64
				a := sdk.ServiceFunc(func(ctx context.Context) error {
					if aRuns.Add(1) == 1 {
						select {
						case <-time.After(1700 * time.Millisecond):
							return errors.New("a failed")
						case <-ctx.Done():
							return nil
						}
					}
					return idle(ctx)
				})
				rec := newRecorder()
				s := newSup(t, "r", sdk.WithStrategy(tc.strategy), sdk.WithEventHook(rec.hook))
				add(t, s, sdk.Spec{Name: "a", Backoff: sdk.NoBackoff(), Service: a}, tc.x(&xRuns))
				startSup(t, s)
				if tc.restartX {
					time.Sleep(500 * time.Millisecond)
					require.NoError(t, cmdErr(s.Restart(context.Background(), "x", "test", "its second attempt is never ready")))
					time.Sleep(2500 * time.Millisecond)
				} else {
					time.Sleep(3 * time.Second)
				}
				synctest.Wait()

				failureStops := 0
				for _, e := range rec.filter("/r/x", sdk.EventChildStopping) {
					if errors.Is(e.Stop, sdk.ErrStale) || errors.Is(e.Stop, sdk.ErrStartTimeout) {
						failureStops++
					}
				}
				require.Equal(t, 1, failureStops, "x was stopped as a failure once")
				st, err := s.Status(context.Background())
				require.NoError(t, err)
				for _, c := range st.Children {
					require.Contains(t, []lifecycle.State{lifecycle.StateRunning, lifecycle.StateReady}, c.State,
						"%s is running again; events:\n%s", c.Path, strings.Join(rec.strings(""), "\n"))
				}
				require.Equal(t, int64(2), aRuns.Load(), "a restarted")
				require.True(t, s.Health().Alive)
			})
		})
	}
}

// slowStop waits for its context, then takes 500ms to return.
func slowStopX(ctx context.Context) error {
	<-ctx.Done()
	time.Sleep(500 * time.Millisecond)
	return nil
}

// staleX never sends a heartbeat: stale at 1.5s.
func staleX(runs *atomic.Int64) sdk.Spec {
	return sdk.Spec{Name: "x", Backoff: sdk.NoBackoff(), StaleAfter: 1500 * time.Millisecond, StopTimeout: 5 * time.Second,
		Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if runs.Add(1) == 1 {
				return slowStopX(ctx)
			}
			for { // later attempts keep their heartbeat
				sdk.Heartbeat(ctx)
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(100 * time.Millisecond):
				}
			}
		})}
}

// notReadyAgainX is ready at once; its second attempt (an operator's
// restart at 0.5s) is never ready: its 1s start timeout passes at 1.5s.
func notReadyAgainX(runs *atomic.Int64) sdk.Spec {
	return sdk.Spec{Name: "x", Readiness: true, StartTimeout: time.Second, Backoff: sdk.NoBackoff(), StopTimeout: 5 * time.Second,
		Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if runs.Add(1) == 2 {
				return slowStopX(ctx)
			}
			_ = sdk.Ready(ctx)
			return idle(ctx)
		})}
}
