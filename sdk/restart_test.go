package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// How the first attempt of a child in the restart table ends.
type exitHow string

const (
	returnsNil          exitHow = "returns nil"
	returnsError        exitHow = "returns error"
	panics              exitHow = "panics"
	returnsDoNotRestart exitHow = "returns wrapped ErrDoNotRestart"
)

var errBoom = errors.New("boom")

// restartIfNormal is the Custom policy of the table: restart only after a
// clean exit, the opposite of Transient, so that the table tells whether
// RestartIf was consulted.
func restartIfNormal(e sdk.Exit) bool { return e.Kind == sdk.ExitNormal }

// restartTable is the expected decision for every exit × restart type.
// Children that are restarted run a second attempt that blocks until the
// test shuts the supervisor down, so they end "stopped"; the others end on
// their own after the first attempt.
var restartTable = []struct {
	restart  sdk.RestartType
	how      exitHow
	kind     sdk.ExitKind // classification of the first attempt
	restarts bool         // a second attempt runs
	final    lifecycle.State
}{
	{sdk.Permanent, returnsNil, sdk.ExitNormal, true, lifecycle.StateStopped},
	{sdk.Permanent, returnsError, sdk.ExitError, true, lifecycle.StateStopped},
	{sdk.Permanent, panics, sdk.ExitPanic, true, lifecycle.StateStopped},
	{sdk.Permanent, returnsDoNotRestart, sdk.ExitNormal, false, lifecycle.StateCompleted},

	{sdk.Transient, returnsNil, sdk.ExitNormal, false, lifecycle.StateCompleted},
	{sdk.Transient, returnsError, sdk.ExitError, true, lifecycle.StateStopped},
	{sdk.Transient, panics, sdk.ExitPanic, true, lifecycle.StateStopped},
	{sdk.Transient, returnsDoNotRestart, sdk.ExitNormal, false, lifecycle.StateCompleted},

	{sdk.Temporary, returnsNil, sdk.ExitNormal, false, lifecycle.StateCompleted},
	{sdk.Temporary, returnsError, sdk.ExitError, false, lifecycle.StateFailed},
	{sdk.Temporary, panics, sdk.ExitPanic, false, lifecycle.StateFailed},
	{sdk.Temporary, returnsDoNotRestart, sdk.ExitNormal, false, lifecycle.StateCompleted},

	{sdk.Custom, returnsNil, sdk.ExitNormal, true, lifecycle.StateStopped},
	{sdk.Custom, returnsError, sdk.ExitError, false, lifecycle.StateFailed},
	{sdk.Custom, panics, sdk.ExitPanic, false, lifecycle.StateFailed},
	{sdk.Custom, returnsDoNotRestart, sdk.ExitNormal, false, lifecycle.StateCompleted},
}

func TestRestartDecisionTable(t *testing.T) {
	for _, tc := range restartTable {
		t.Run(fmt.Sprintf("%s/%s", tc.restart, tc.how), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				sup := newSup(t, "r", sdk.WithEventHook(rec.hook))
				var calls atomic.Int64
				var mu sync.Mutex
				var consulted []sdk.Exit
				spec := sdk.Spec{
					Name:    "c",
					Restart: tc.restart,
					Backoff: sdk.NoBackoff(),
					Service: sdk.ServiceFunc(func(ctx context.Context) error {
						if calls.Add(1) > 1 {
							<-ctx.Done()
							return nil
						}
						switch tc.how {
						case returnsError:
							return errBoom
						case panics:
							panic("kaboom")
						case returnsDoNotRestart:
							return fmt.Errorf("all work done: %w", sdk.ErrDoNotRestart)
						}
						return nil
					}),
				}
				if tc.restart == sdk.Custom {
					spec.RestartIf = func(e sdk.Exit) bool {
						mu.Lock()
						consulted = append(consulted, e)
						mu.Unlock()
						return restartIfNormal(e)
					}
				}
				add(t, sup, spec)
				sv := serve(t, sup)
				synctest.Wait()

				wantCalls := int64(1)
				if tc.restarts {
					wantCalls = 2
				}
				require.Equal(t, wantCalls, calls.Load(), "attempts")
				exited := rec.filter("/r/c", sdk.EventChildExited)
				require.NotEmpty(t, exited)
				require.Equal(t, tc.kind, exited[0].Exit, "classification of attempt 1")
				require.Equal(t, uint64(1), exited[0].Attempt)
				if tc.how == returnsDoNotRestart {
					require.ErrorIs(t, exited[0].Err, sdk.ErrDoNotRestart)
				}

				require.NoError(t, sv.stop())
				ended := rec.filter("/r/c", sdk.EventChildEnded)
				require.Len(t, ended, 1, "a child ends exactly once")
				require.Equal(t, tc.final, ended[0].To, "final lifecycle state")
				require.Equal(t, int(wantCalls-1), rec.count("/r/c", sdk.EventChildRestarting))

				if tc.restart == sdk.Custom {
					mu.Lock()
					defer mu.Unlock()
					if tc.how == returnsDoNotRestart {
						require.Empty(t, consulted, "ErrDoNotRestart is decided before RestartIf")
					} else {
						require.Len(t, consulted, 1)
						require.Equal(t, tc.kind, consulted[0].Kind)
						require.Equal(t, uint64(1), consulted[0].Attempt)
						if tc.how == returnsError {
							require.ErrorIs(t, consulted[0].Err, errBoom)
						}
						if tc.how == panics {
							var pe *sdk.PanicError
							require.ErrorAs(t, consulted[0].Err, &pe)
						}
					}
				}
			})
		})
	}
}

// A child the supervisor stops is classified ExitStopped whatever it
// returns, and its context's cause says it was stopped.
func TestStoppedChildClassification(t *testing.T) {
	t.Run("shutdown", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			sup := newSup(t, "r", sdk.WithEventHook(rec.hook))
			causes := make(chan error, 1)
			add(t, sup, sdk.Spec{Name: "c", Restart: sdk.Transient, Service: sdk.ServiceFunc(func(ctx context.Context) error {
				<-ctx.Done()
				causes <- context.Cause(ctx)
				return errors.New("unclean shutdown")
			})})
			sv := serve(t, sup)
			synctest.Wait()
			require.NoError(t, sv.stop(), "an error returned while stopping is not a failure")

			cause := <-causes
			require.ErrorIs(t, cause, sdk.ErrStopped)
			require.ErrorContains(t, cause, "context ended: context canceled")

			ex := rec.last(t, "/r/c", sdk.EventChildExited)
			require.Equal(t, sdk.ExitStopped, ex.Exit)
			require.EqualError(t, ex.Err, "unclean shutdown")
			require.Equal(t, lifecycle.StateStopped, rec.last(t, "/r/c", sdk.EventChildEnded).To)
			require.Equal(t, 1, rec.count("/r/c", sdk.EventChildStopped))
			require.Equal(t, lifecycle.StateCompleted, sup.Health().State)
		})
	})

	t.Run("sibling restart", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			// MaxRestarts 1: if b's error on stop counted as a failure, the
			// supervisor would melt down.
			sup := newSup(t, "r", sdk.WithEventHook(rec.hook), sdk.WithStrategy(sdk.OneForAll),
				sdk.WithIntensity(sdk.Intensity{MaxRestarts: 1, Period: time.Hour}))
			var aCalls atomic.Int64
			causes := make(chan error, 2)
			add(t, sup,
				sdk.Spec{Name: "a", Backoff: sdk.NoBackoff(), Service: failing(1, errBoom, &aCalls)},
				sdk.Spec{Name: "b", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
					<-ctx.Done()
					causes <- context.Cause(ctx)
					return errors.New("interrupted")
				})},
			)
			sv := serve(t, sup)
			synctest.Wait()
			require.Equal(t, int64(2), aCalls.Load())

			cause := <-causes
			require.ErrorIs(t, cause, sdk.ErrStopped)
			require.ErrorContains(t, cause, "/r/a exited (error)")
			ex := rec.filter("/r/b", sdk.EventChildExited)
			require.Len(t, ex, 1)
			require.Equal(t, sdk.ExitStopped, ex[0].Exit)
			require.Equal(t, 0, rec.count("", sdk.EventMeltdown))
			require.Equal(t, 1, rec.count("/r/b", sdk.EventChildRestarting), "a stopped permanent sibling is restarted")

			require.NoError(t, sv.stop())
			<-causes
		})
	})
}

// Clean exits are not failures: they never count toward the intensity, so
// even MaxRestarts 0 tolerates a child that keeps completing.
func TestCleanExitsDoNotCountTowardIntensity(t *testing.T) {
	every10ms := &sdk.Backoff{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond, Multiplier: 1}
	noRestarts := sdk.WithIntensity(sdk.Intensity{MaxRestarts: 0, Period: time.Hour})

	t.Run("clean exits", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			sup := newSup(t, "r", sdk.WithEventHook(rec.hook), noRestarts)
			var calls atomic.Int64
			add(t, sup, sdk.Spec{Name: "c", Restart: sdk.Permanent, Backoff: every10ms,
				Service: sdk.ServiceFunc(func(context.Context) error { calls.Add(1); return nil })})
			start := time.Now()
			sv := serve(t, sup)
			time.Sleep(time.Second)
			synctest.Wait()
			ok, _ := sv.returned()
			require.False(t, ok, "the supervisor must still be serving")
			require.NoError(t, sv.stop())
			require.Equal(t, time.Second, time.Since(start))
			// Attempts start at 0, 10ms, ..., 1000ms.
			require.Equal(t, int64(101), calls.Load())
			require.Equal(t, 0, rec.count("", sdk.EventMeltdown))
			require.Equal(t, 100, rec.last(t, "/r/c", sdk.EventChildEnded).Restarts)
		})
	})

	t.Run("control: one failure melts down", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			sup := newSup(t, "r", noRestarts)
			add(t, sup, sdk.Spec{Name: "c", Restart: sdk.Permanent, Backoff: every10ms,
				Service: sdk.ServiceFunc(func(context.Context) error { return errBoom })})
			sv := serve(t, sup)
			synctest.Wait()
			ok, err := sv.returned()
			require.True(t, ok)
			require.ErrorIs(t, err, sdk.ErrMeltdown)
		})
	})
}
