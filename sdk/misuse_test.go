package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// Close while serving is refused and changes nothing: the running tree
// keeps reporting its states. (It used to retire the series of a running
// supervisor, walking the loop's state while the loop ran.)
func TestCloseWhileServing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sm, states := stateMetrics(t)
		s := newSup(t, "r", sdk.WithStateMetrics(sm))
		add(t, s, sdk.Spec{Name: "a", Service: idleService})
		startSup(t, s)
		require.ErrorIs(t, s.Close(), sdk.ErrAlreadyRunning)
		require.Equal(t, map[string]string{"/r/a": "running"}, states(), "still reported")
		_, err := s.Shutdown(context.Background(), "test", "done")
		require.NoError(t, err)
		require.NoError(t, s.Close(), "after Serve has returned")
		require.NoError(t, s.Close(), "idempotent")
		require.Empty(t, states())
	})
}

// Close after Serve returned, on a root that abandoned a nested pool that
// still runs and keeps adding children, leaves the pool alone: it retires
// its series when it ends. (Close retired the running pool's series while
// its loop added children, and crashed the process with a nil
// dereference in retire, 5 times in 20.)
func TestCloseWithAbandonedNestedSupervisor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sm, states := stateMetrics(t)
		pool, err := sdk.NewPool("pool", sdk.Spec{Name: "job", Restart: sdk.Temporary, StopTimeout: time.Hour})
		require.NoError(t, err)
		stuck := newStubborn(t)
		_, err = pool.Start(context.Background(), "", stuck, "test", "started by the test")
		require.NoError(t, err)
		root := newSup(t, "root", sdk.WithStateMetrics(sm))
		add(t, root, sdk.Spec{Name: "pool", StopTimeout: time.Second, Service: pool})
		startSup(t, root)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		rep, err := root.Shutdown(ctx, "test", "abandon the pool")
		require.ErrorIs(t, err, sdk.ErrAbandoned)
		require.Contains(t, rep.Abandoned(), "/root/pool")

		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // the pool still runs: its goroutine is stuck in stuck
			defer wg.Done()
			for range 50 {
				if _, err := pool.Start(context.Background(), "", sdk.ServiceFunc(idle), "test", "started by the test"); err != nil {
					return
				}
			}
		}()
		require.NoError(t, root.Close())
		wg.Wait()
		synctest.Wait()
		require.Equal(t, "stopping", states()["/root/pool/job-1"], "the running pool still reports")
		stuck.release()
		synctest.Wait()
		require.Empty(t, states(), "and retires once it has ended")
	})
}

// The nested-supervisor cycle check is one step with the link: two
// supervisors adding each other at once never both succeed. (Both could,
// and Serve then looped for ever.)
func TestNestingCycleCheckIsAtomic(t *testing.T) {
	for range 200 {
		a, b := newSup(t, "a"), newSup(t, "b")
		var wg sync.WaitGroup
		var errA, errB error
		wg.Add(2)
		go func() {
			defer wg.Done()
			errA = a.Add(context.Background(), sdk.Spec{Name: "b", Service: b}, "test", "declared by the test")
		}()
		go func() {
			defer wg.Done()
			errB = b.Add(context.Background(), sdk.Spec{Name: "a", Service: a}, "test", "declared by the test")
		}()
		wg.Wait()
		require.True(t, (errA == nil) != (errB == nil), "exactly one of the two adds succeeds: %v, %v", errA, errB)
	}
}

// Serve and Start with a context that has already ended start nothing and
// return its cause; Serve's report accounts for every child. (Serve used
// to start every child.)
func TestServeWithEndedContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int64
		count := sdk.ServiceFunc(func(ctx context.Context) error { runs.Add(1); return idle(ctx) })
		errGone := errors.New("gone")
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(errGone)

		s := newSup(t, "r")
		add(t, s, sdk.Spec{Name: "a", Service: count}, sdk.Spec{Name: "b", Service: count})
		require.ErrorIs(t, s.Serve(ctx), errGone)
		require.Zero(t, runs.Load())
		rep := reportOf(s)
		require.NotNil(t, rep)
		require.Equal(t, sdk.CauseContext, rep.Cause)
		for _, c := range rep.Children {
			require.Equal(t, sdk.OutcomeNeverStarted, c.Outcome, c.Path)
			require.Equal(t, lifecycle.StateStopped, c.State, c.Path)
		}

		s2 := newSup(t, "r2")
		add(t, s2, sdk.Spec{Name: "a", Service: count})
		require.ErrorIs(t, s2.Start(ctx), errGone)
		require.Zero(t, runs.Load())
		require.False(t, s2.Health().Alive)
	})
}

// A hook, a log handler or a RestartIf predicate that panics is recovered
// and reported, and the tree carries on, nested supervisors included. (A
// panic in any of them killed the process; in a nested supervisor it
// unwound the loop past its cleanup.)
func TestCallbackPanicsAreRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		var hookPanics atomic.Int64
		panicky := func(e sdk.Event) {
			if e.Type == sdk.EventChildExited {
				hookPanics.Add(1)
				panic("hook: " + e.Path)
			}
		}
		logger := slog.New(panicHandler{})
		root := newSup(t, "root", sdk.WithEventHook(rec.hook), sdk.WithEventHook(panicky))
		sub := newSup(t, "sub", sdk.WithEventHook(panicky), sdk.WithLogger(logger, 0))
		var verdicts atomic.Int64
		add(t, sub, sdk.Spec{Name: "judged", Restart: sdk.Custom, Backoff: sdk.NoBackoff(),
			RestartIf: func(sdk.Exit) bool {
				if verdicts.Add(1) == 1 {
					panic("RestartIf: cannot decide")
				}
				return true
			},
			Service: failing(1, errBoom, new(atomic.Int64))})
		add(t, sub, sdk.Spec{Name: "flaky", Backoff: sdk.NoBackoff(), Service: failing(2, errBoom, new(atomic.Int64))})
		add(t, root, sdk.Spec{Name: "sub", Service: sub})
		startSup(t, root)
		synctest.Wait()

		judged := childStatusIn(t, root, "/root/sub/judged")
		require.Equal(t, lifecycle.StateFailed, judged.State, "a RestartIf that panics ends the child failed")
		require.Contains(t, judged.LastError, "RestartIf panicked: RestartIf: cannot decide")
		flaky := childStatusIn(t, root, "/root/sub/flaky")
		require.Equal(t, uint64(3), flaky.Attempt, "the tree carries on")
		require.True(t, root.Health().Alive)

		panics := rec.filter("", sdk.EventHookPanicked)
		require.NotEmpty(t, panics)
		var pe *sdk.PanicError
		require.ErrorAs(t, panics[0].Err, &pe)
		require.Positive(t, hookPanics.Load())

		_, err := root.Shutdown(context.Background(), "test", "done")
		require.NoError(t, err)
	})
}

// panicHandler is a slog handler that panics on every record.
type panicHandler struct{}

func (panicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panicHandler) Handle(context.Context, slog.Record) error { panic("log handler") }
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h panicHandler) WithGroup(string) slog.Handler           { return h }

// childStatusIn finds a child's status anywhere in the tree.
func childStatusIn(t *testing.T, s *sdk.Supervisor, path string) sdk.ChildStatus {
	t.Helper()
	st, err := s.Status(context.Background())
	require.NoError(t, err)
	var find func(st sdk.Status) (sdk.ChildStatus, bool)
	find = func(st sdk.Status) (sdk.ChildStatus, bool) {
		for _, c := range st.Children {
			if c.Path == path {
				return c, true
			}
			if c.Supervisor != nil {
				if cs, ok := find(*c.Supervisor); ok {
					return cs, true
				}
			}
		}
		return sdk.ChildStatus{}, false
	}
	cs, ok := find(st)
	require.True(t, ok, "no child %s", path)
	return cs
}

// A hook may call back into its supervisor: Status, commands and Shutdown
// work and return, never deadlock. (They used to wait for the supervisor's
// goroutine, which was running the hook.)
func TestHookCallsBackIntoTheSupervisor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s *sdk.Supervisor
		results := make(chan string, 8)
		hook := func(e sdk.Event) {
			switch {
			case e.Type == sdk.EventChildExited && e.Path == "/r/flaky" && e.Attempt == 1:
				st, err := s.Status(context.Background())
				results <- fmt.Sprintf("status %d children %v", len(st.Children), err)
				results <- fmt.Sprintf("restart %v", cmdErr(s.Restart(context.Background(), "other", "hook", "on a failure")))
			case e.Type == sdk.EventChildExited && e.Path == "/r/flaky" && e.Attempt == 2:
				rep, err := s.Shutdown(context.Background(), "hook", "enough")
				results <- fmt.Sprintf("shutdown %s %v", rep.State, err)
			}
		}
		s = newSup(t, "r", sdk.WithEventHook(hook))
		add(t, s, sdk.Spec{Name: "flaky", Backoff: sdk.NoBackoff(), Service: failing(2, errBoom, new(atomic.Int64))},
			sdk.Spec{Name: "other", Service: idleService})
		startSup(t, s)
		rep, err := s.Wait(context.Background())
		require.NoError(t, err)
		require.Equal(t, "hook", rep.RequestedBy)
		synctest.Wait()
		close(results)
		var got []string
		for r := range results {
			got = append(got, r)
		}
		require.Equal(t, []string{"status 2 children <nil>", "restart <nil>", "shutdown completed <nil>"}, got)
	})
}

// Typed nil services, a zero Supervisor and a spec with several defects
// are errors, reported all at once, never panics. (ServiceFunc(nil),
// (*Supervisor)(nil) and (*Pool)(nil) passed validation, the last making
// Add panic; a zero Supervisor panicked on Add; validation stopped at the
// first defect.)
func TestMisuseIsAnError(t *testing.T) {
	s := newSup(t, "r")
	for name, svc := range map[string]sdk.Service{
		"func":       sdk.ServiceFunc(nil),
		"supervisor": (*sdk.Supervisor)(nil),
		"pool":       (*sdk.Pool)(nil),
	} {
		err := s.Add(context.Background(), sdk.Spec{Name: name, Service: svc}, "test", "declared by the test")
		var se *sdk.SpecError
		require.ErrorAs(t, err, &se, name)
		require.Equal(t, "Service", se.Field, name)
	}

	var zero sdk.Supervisor
	require.ErrorIs(t, zero.Add(context.Background(), sdk.Spec{Name: "a", Service: idleService}, "test", "declared by the test"), sdk.ErrInvalidSpec)
	require.ErrorIs(t, zero.Serve(context.Background()), sdk.ErrInvalidSpec)
	require.ErrorIs(t, zero.Start(context.Background()), sdk.ErrInvalidSpec)
	_, err := zero.Shutdown(context.Background(), "a", "b")
	require.ErrorIs(t, err, sdk.ErrInvalidSpec)
	_, err = zero.Status(context.Background())
	require.ErrorIs(t, err, sdk.ErrInvalidSpec)
	require.ErrorIs(t, cmdErr(zero.Restart(context.Background(), "a", "b", "c")), sdk.ErrInvalidSpec)
	require.ErrorIs(t, zero.Close(), sdk.ErrInvalidSpec)
	require.False(t, zero.Health().Alive)
	var nilSup *sdk.Supervisor
	require.ErrorIs(t, nilSup.Add(context.Background(), sdk.Spec{Name: "a", Service: idleService}, "test", "declared by the test"), sdk.ErrInvalidSpec)

	err = s.Add(context.Background(), sdk.Spec{Name: "bad name", StopTimeout: -1, StaleAfter: -1, DependsOn: []string{"x", "x"}}, "test", "declared by the test")
	fields := map[string]bool{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var se *sdk.SpecError
		require.ErrorAs(t, e, &se)
		fields[se.Field] = true
	}
	require.Equal(t, map[string]bool{"Name": true, "Service": true, "StopTimeout": true, "StaleAfter": true, "DependsOn[1]": true}, fields,
		"every defect at once: %v", err)
}

// A child that will not stop during a restart is abandoned; by default it
// then ends failed and never runs again, and with ReplaceStuck a new
// attempt starts while the old one is fenced off: its late exit, readiness
// and heartbeats change nothing.
func TestReplaceStuck(t *testing.T) {
	for _, replace := range []bool{false, true} {
		t.Run(fmt.Sprintf("ReplaceStuck=%v", replace), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				release := make(chan struct{})
				var runs atomic.Int64
				lateErr := make(chan error, 1)
				s := newSup(t, "r", sdk.WithEventHook(rec.hook))
				add(t, s, sdk.Spec{Name: "c", StopTimeout: time.Second, ReplaceStuck: replace, Readiness: true, StaleAfter: time.Hour,
					Service: sdk.ServiceFunc(func(ctx context.Context) error {
						if runs.Add(1) == 1 {
							_ = sdk.Ready(ctx)
							<-release // ignores its cancellation
							sdk.Heartbeat(ctx)
							lateErr <- sdk.Ready(ctx)
							return errBoom
						}
						_ = sdk.Ready(ctx)
						return idle(ctx)
					})})
				startSup(t, s)
				err := cmdErr(s.Restart(context.Background(), "c", "test", "upgrade"))
				synctest.Wait()
				cs := childStatus(t, s, "/r/c")
				if !replace {
					require.ErrorIs(t, err, sdk.ErrAbandoned)
					require.Equal(t, lifecycle.StateFailed, cs.State)
					require.Equal(t, int64(1), runs.Load())
				} else {
					require.NoError(t, err)
					require.Equal(t, lifecycle.StateReady, cs.State)
					require.Equal(t, uint64(2), cs.Attempt)
				}
				require.Len(t, rec.filter("/r/c", sdk.EventChildAbandoned), 1)

				close(release)
				require.Error(t, <-lateErr, "attempt 1's Ready is refused")
				synctest.Wait()
				require.Len(t, rec.filter("/r/c", sdk.EventLateExit), 1)
				after := childStatus(t, s, "/r/c")
				require.Equal(t, cs.State, after.State, "the late exit changes nothing")
				require.Equal(t, cs.Attempt, after.Attempt)
			})
		})
	}
}
