package sdk_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// causes records, per child name, the cause of each attempt's context once
// the supervisor has stopped it.
type causes struct {
	mu  sync.Mutex
	got map[string][]error
}

func newCauses() *causes { return &causes{got: map[string][]error{}} }

// idle runs until stopped and records why.
func (c *causes) idle(name string) sdk.Service {
	return sdk.ServiceFunc(func(ctx context.Context) error {
		<-ctx.Done()
		c.mu.Lock()
		c.got[name] = append(c.got[name], context.Cause(ctx))
		c.mu.Unlock()
		return nil
	})
}

func (c *causes) first(t *testing.T, name string) error {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	require.NotEmpty(t, c.got[name], "%s was not stopped", name)
	return c.got[name][0]
}

// Every stop's cause matches ErrStopped and its own sentinel, and carries
// who asked, why and on account of which child, cause by cause as the
// table at sdk.StopCause lists them. (Every cause used to be one
// unexported type that matched ErrStopped alone; the shutdown cause lost
// requestedBy, a parent's cancel was formatted with %v, and a stale stop
// did not match ErrStale.)
func TestStopCauses(t *testing.T) {
	errParent := errors.New("the caller gave up")
	for _, tc := range []struct {
		name string
		// run builds and drives a tree in which child "v" is stopped, and
		// returns the cause "v" saw.
		run  func(t *testing.T, c *causes) error
		kind string
		sc   sdk.Cause
		is   []error
		by   string
		why  string
		from string // Origin
	}{
		{name: "shutdown", kind: "shutdown", sc: sdk.CauseOperator, is: []error{sdk.ErrShutdown}, by: "ops", why: "deploy",
			run: func(t *testing.T, c *causes) error {
				s := newSup(t, "r")
				add(t, s, sdk.Spec{Name: "v", Service: c.idle("v")})
				startSup(t, s)
				_, err := s.Shutdown(context.Background(), "ops", "deploy")
				require.NoError(t, err)
				return c.first(t, "v")
			}},
		{name: "context", kind: "shutdown", sc: sdk.CauseContext, is: []error{sdk.ErrShutdown, sdk.ErrContextDone, errParent}, by: "context",
			run: func(t *testing.T, c *causes) error {
				s := newSup(t, "r")
				add(t, s, sdk.Spec{Name: "v", Service: c.idle("v")})
				ctx, cancel := context.WithCancelCause(context.Background())
				done := make(chan error)
				go func() { done <- s.Serve(ctx) }()
				synctest.Wait()
				cancel(errParent)
				require.NoError(t, <-done)
				return c.first(t, "v")
			}},
		{name: "parent", kind: "shutdown", sc: sdk.CauseParent, is: []error{sdk.ErrShutdown, sdk.ErrContextDone}, by: "parent", why: "deploy",
			run: func(t *testing.T, c *causes) error {
				root, sub := newSup(t, "root"), newSup(t, "sub")
				add(t, sub, sdk.Spec{Name: "v", Service: c.idle("v")})
				add(t, root, sdk.Spec{Name: "sub", Service: sub})
				startSup(t, root)
				_, err := root.Shutdown(context.Background(), "ops", "deploy")
				require.NoError(t, err)
				cause := c.first(t, "v")
				// The chain goes on to the parent's own cause, %w all the way.
				var sc *sdk.StopCause
				require.ErrorAs(t, errors.Unwrap(cause), &sc)
				require.Equal(t, sdk.CauseOperator, sc.Cause)
				require.Equal(t, "ops", sc.RequestedBy)
				return cause
			}},
		{name: "meltdown", kind: "shutdown", sc: sdk.CauseMeltdown, is: []error{sdk.ErrShutdown, sdk.ErrMeltdown}, by: "/r", from: "/r/crash",
			run: func(t *testing.T, c *causes) error {
				s := newSup(t, "r", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 0, Period: time.Minute}))
				add(t, s, sdk.Spec{Name: "v", Service: c.idle("v")}, sdk.Spec{Name: "crash", Service: failing(1, errBoom, new(atomic.Int64))})
				sv := serve(t, s)
				require.ErrorIs(t, sv.wait(), sdk.ErrMeltdown)
				return c.first(t, "v")
			}},
		{name: "fatal", kind: "shutdown", sc: sdk.CauseFatal, is: []error{sdk.ErrShutdown}, by: "/r/bad", from: "/r/bad",
			run: func(t *testing.T, c *causes) error {
				s := newSup(t, "r")
				add(t, s, sdk.Spec{Name: "v", Service: c.idle("v")}, sdk.Spec{Name: "bad", Service: failing(1, sdk.ErrFatal, new(atomic.Int64))})
				sv := serve(t, s)
				require.ErrorIs(t, sv.wait(), sdk.ErrFatal)
				return c.first(t, "v")
			}},
		{name: "auto_shutdown", kind: "shutdown", sc: sdk.CauseAutoShutdown, is: []error{sdk.ErrShutdown, sdk.ErrAutoShutdown}, by: "/r/job", from: "/r/job",
			run: func(t *testing.T, c *causes) error {
				s := newSup(t, "r", sdk.WithAutoShutdown(sdk.AnySignificant))
				add(t, s, sdk.Spec{Name: "v", Service: c.idle("v")},
					sdk.Spec{Name: "job", Restart: sdk.Transient, Significant: true, Service: sdk.ServiceFunc(func(context.Context) error { return nil })})
				require.NoError(t, serve(t, s).wait())
				return c.first(t, "v")
			}},
		{name: "start_failure", kind: "shutdown", sc: sdk.CauseStartFailure, is: []error{sdk.ErrShutdown, sdk.ErrStartFailed}, by: "/r/db", from: "/r/db",
			run: func(t *testing.T, c *causes) error {
				s := newSup(t, "r")
				add(t, s, sdk.Spec{Name: "v", Service: c.idle("v")},
					sdk.Spec{Name: "db", Readiness: true, Service: sdk.ServiceFunc(func(context.Context) error { return errBoom })})
				err := s.Start(context.Background())
				require.ErrorIs(t, err, sdk.ErrStartFailed)
				var se *sdk.StartError
				require.ErrorAs(t, err, &se)
				return c.first(t, "v")
			}},
		{name: "scope_restart", kind: "scope_restart", is: []error{sdk.ErrScopeRestart}, by: "/r", from: "/r/crash",
			run: func(t *testing.T, c *causes) error {
				s := newSup(t, "r", sdk.WithStrategy(sdk.OneForAll))
				add(t, s, sdk.Spec{Name: "v", Backoff: sdk.NoBackoff(), Service: c.idle("v")},
					sdk.Spec{Name: "crash", Backoff: sdk.NoBackoff(), Service: failing(1, errBoom, new(atomic.Int64))})
				startSup(t, s)
				synctest.Wait()
				return c.first(t, "v")
			}},
		{name: "restart", kind: "restart", is: []error{sdk.ErrRestartRequested}, by: "alice", why: "new config",
			run: func(t *testing.T, c *causes) error {
				s := newSup(t, "r")
				add(t, s, sdk.Spec{Name: "v", Service: c.idle("v")})
				startSup(t, s)
				require.NoError(t, cmdErr(s.Restart(context.Background(), "v", "alice", "new config")))
				return c.first(t, "v")
			}},
		{name: "remove", kind: "remove", is: []error{sdk.ErrRemoved}, by: "alice", why: "gone",
			run: func(t *testing.T, c *causes) error {
				s := newSup(t, "r")
				add(t, s, sdk.Spec{Name: "v", Service: c.idle("v")})
				startSup(t, s)
				require.NoError(t, cmdErr(s.Remove(context.Background(), "v", "alice", "gone")))
				return c.first(t, "v")
			}},
		{name: "pause", kind: "pause", is: []error{sdk.ErrPaused}, by: "alice", why: "quiet",
			run: func(t *testing.T, c *causes) error {
				s := newSup(t, "r")
				add(t, s, sdk.Spec{Name: "v", Service: c.idle("v")})
				startSup(t, s)
				require.NoError(t, cmdErr(s.Pause(context.Background(), "v", "alice", "quiet")))
				return c.first(t, "v")
			}},
		{name: "stale", kind: "stale", is: []error{sdk.ErrStale}, by: "supervisor", from: "/r/v",
			run: func(t *testing.T, c *causes) error {
				rec := newRecorder()
				s := newSup(t, "r", sdk.WithEventHook(rec.hook))
				add(t, s, sdk.Spec{Name: "v", StaleAfter: time.Second, Service: c.idle("v")})
				startSup(t, s)
				time.Sleep(1500 * time.Millisecond)
				exit := rec.filter("/r/v", sdk.EventChildExited)[0]
				require.Equal(t, sdk.ExitStale, exit.Exit, "a failure, classified stale")
				require.ErrorIs(t, exit.Err, sdk.ErrStale)
				return c.first(t, "v")
			}},
		{name: "start_timeout", kind: "start_timeout", is: []error{sdk.ErrStartTimeout}, by: "supervisor", from: "/r/v",
			run: func(t *testing.T, c *causes) error {
				var runs atomic.Int64
				s := newSup(t, "r")
				add(t, s, sdk.Spec{Name: "v", Readiness: true, StartTimeout: time.Second, Service: sdk.ServiceFunc(func(ctx context.Context) error {
					if runs.Add(1) == 1 {
						_ = sdk.Ready(ctx)
					}
					return c.idle("v").Serve(ctx)
				})})
				startSup(t, s)
				require.NoError(t, cmdErr(s.Restart(context.Background(), "v", "test", "the next attempt is never ready")))
				time.Sleep(1500 * time.Millisecond)
				synctest.Wait()
				c.mu.Lock()
				defer c.mu.Unlock()
				require.Len(t, c.got["v"], 2)
				return c.got["v"][1]
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cause := tc.run(t, newCauses())
				require.ErrorIs(t, cause, sdk.ErrStopped)
				for _, want := range tc.is {
					require.ErrorIs(t, cause, want)
				}
				var sc *sdk.StopCause
				require.ErrorAs(t, cause, &sc)
				require.Equal(t, tc.kind, sc.Kind(), cause.Error())
				require.Equal(t, tc.sc, sc.Cause)
				require.Equal(t, tc.by, sc.RequestedBy)
				if tc.why != "" {
					require.Equal(t, tc.why, sc.Reason)
				}
				require.Equal(t, tc.from, sc.Origin)
				for _, other := range []error{sdk.ErrShutdown, sdk.ErrScopeRestart, sdk.ErrRestartRequested, sdk.ErrRemoved, sdk.ErrPaused, sdk.ErrStale, sdk.ErrStartTimeout} {
					if !contains(tc.is, other) {
						require.NotErrorIs(t, cause, other, "a %s stop is no other kind of stop", tc.name)
					}
				}
			})
		})
	}
}

func contains(errs []error, target error) bool {
	for _, e := range errs {
		if e == target {
			return true
		}
	}
	return false
}
