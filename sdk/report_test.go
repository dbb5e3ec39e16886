package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

func TestShutdownIsIdempotent(t *testing.T) {
	t.Run("clean", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r")
			add(t, s, sdk.Spec{Name: "a", Service: idleService})
			startSup(t, s)
			rep, err := s.Shutdown(context.Background(), "alice", "first")
			require.NoError(t, err)
			require.NotNil(t, rep)
			again, err2 := s.Shutdown(context.Background(), "bob", "second")
			require.NoError(t, err2)
			require.Same(t, rep, again)
			require.Equal(t, "alice", again.RequestedBy, "the first request is the one reported")
			require.Equal(t, "first", again.Reason)
		})
	})

	t.Run("with an error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r")
			x := newStubborn(t)
			add(t, s, sdk.Spec{Name: "x", StopTimeout: time.Second, Service: x})
			startSup(t, s)
			rep, err := s.Shutdown(context.Background(), "alice", "first")
			require.ErrorIs(t, err, sdk.ErrAbandoned)
			again, err2 := s.Shutdown(context.Background(), "bob", "second")
			require.Same(t, rep, again)
			require.True(t, err == err2, "the identical error value")
			wrep, werr := s.Wait(context.Background())
			require.Same(t, rep, wrep)
			require.True(t, err == werr)
			require.Same(t, rep, reportOf(s))
			x.release()
		})
	})

	t.Run("concurrent calls", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r")
			add(t, s, sdk.Spec{Name: "slow", StopTimeout: 5 * time.Second, Service: slowStop(time.Second)})
			startSup(t, s)
			reps := make(chan *sdk.Report, 3)
			for i := range 3 {
				go func() {
					rep, err := s.Shutdown(context.Background(), fmt.Sprint("caller-", i), "concurrent")
					require.NoError(t, err)
					reps <- rep
				}()
			}
			first := <-reps
			require.Same(t, first, <-reps)
			require.Same(t, first, <-reps)
			require.Equal(t, time.Second, first.EndedAt.Sub(first.StartedAt), "stopped once")
		})
	})

	t.Run("never started", func(t *testing.T) {
		s := newSup(t, "r")
		rep, err := s.Shutdown(context.Background(), "alice", "why")
		require.ErrorIs(t, err, sdk.ErrNotStarted)
		require.Nil(t, rep)
		require.Nil(t, reportOf(s))
	})
}

func TestRunReturnsTheReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r")
		var calls atomic.Int64
		add(t, s, sdk.Spec{Name: "a", Service: idleService},
			sdk.Spec{Name: "b", Backoff: sdk.NoBackoff(), Service: failing(1, errBoom, &calls)})
		type result struct {
			rep *sdk.Report
			err error
		}
		ran := make(chan result, 1)
		go func() {
			rep, err := runSup(context.Background(), s)
			ran <- result{rep, err}
		}()
		synctest.Wait()
		require.Nil(t, reportOf(s), "no report while running")
		waited := make(chan result, 1)
		go func() {
			rep, err := s.Wait(context.Background())
			waited <- result{rep, err}
		}()
		time.Sleep(time.Second)
		rep, err := s.Shutdown(context.Background(), "alice", "done")
		require.NoError(t, err)
		r := <-ran
		require.NoError(t, r.err)
		require.Same(t, rep, r.rep)
		w := <-waited
		require.NoError(t, w.err)
		require.Same(t, rep, w.rep)
		require.Same(t, rep, reportOf(s))
		require.Equal(t, sdk.CauseOperator, rep.Cause)
	})
}

func TestReportJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		root := newSup(t, "r")
		sub := newSup(t, "sub")
		add(t, sub, sdk.Spec{Name: "w", Service: idleService})
		var calls atomic.Int64
		add(t, root,
			sdk.Spec{Name: "a", Service: slowStop(250 * time.Millisecond)},
			sdk.Spec{Name: "b", Backoff: sdk.NoBackoff(), Service: failing(1, errBoom, &calls)},
			sdk.Spec{Name: "sub", Service: sub})
		startSup(t, root)
		time.Sleep(time.Second)
		rep, err := root.Shutdown(context.Background(), "ops", "maintenance")
		require.NoError(t, err)
		got, err := json.Marshal(rep)
		require.NoError(t, err)
		require.JSONEq(t, `{
			"path": "/r", "state": "completed", "cause": "operator", "requested_by": "ops", "reason": "maintenance",
			"started_at": "2000-01-01T00:00:00Z", "shutdown_requested_at": "2000-01-01T00:00:01Z", "ended_at": "2000-01-01T00:00:01.25Z",
			"children": [
				{"path": "/r/a", "state": "stopped", "attempts": 1, "restarts": 0, "outcome": "graceful", "stop_duration_ns": 250000000},
				{"path": "/r/b", "state": "stopped", "attempts": 2, "restarts": 1, "last_error": "boom", "outcome": "graceful", "stop_duration_ns": 0},
				{"path": "/r/sub", "state": "stopped", "attempts": 1, "restarts": 0, "outcome": "graceful", "stop_duration_ns": 0,
				 "supervisor": {
					"path": "/r/sub", "state": "completed", "cause": "parent", "requested_by": "parent", "reason": "maintenance",
					"started_at": "2000-01-01T00:00:00Z", "shutdown_requested_at": "2000-01-01T00:00:01Z", "ended_at": "2000-01-01T00:00:01Z",
					"children": [
						{"path": "/r/sub/w", "state": "stopped", "attempts": 1, "restarts": 0, "outcome": "graceful", "stop_duration_ns": 0}
					]}}
			]}`, string(got))
		// The exact bytes: field order is the declaration order, and the
		// names are stable.
		require.Equal(t, `{"path":"/r","state":"completed","cause":"operator","requested_by":"ops","reason":"maintenance",`+
			`"started_at":"2000-01-01T00:00:00Z","shutdown_requested_at":"2000-01-01T00:00:01Z","ended_at":"2000-01-01T00:00:01.25Z","children":[`+
			`{"path":"/r/a","state":"stopped","attempts":1,"restarts":0,"outcome":"graceful","stop_duration_ns":250000000},`+
			`{"path":"/r/b","state":"stopped","attempts":2,"restarts":1,"last_error":"boom","outcome":"graceful","stop_duration_ns":0},`+
			`{"path":"/r/sub","state":"stopped","attempts":1,"restarts":0,"outcome":"graceful","stop_duration_ns":0,"supervisor":`+
			`{"path":"/r/sub","state":"completed","cause":"parent","requested_by":"parent","reason":"maintenance",`+
			`"started_at":"2000-01-01T00:00:00Z","shutdown_requested_at":"2000-01-01T00:00:01Z","ended_at":"2000-01-01T00:00:01Z","children":[`+
			`{"path":"/r/sub/w","state":"stopped","attempts":1,"restarts":0,"outcome":"graceful","stop_duration_ns":0}]}}]}`,
			string(got))

		var back sdk.Report
		require.NoError(t, json.Unmarshal(got, &back))
		require.Equal(t, *rep.Children[2].Supervisor, *back.Children[2].Supervisor, "it round-trips")
	})
}

func TestReportJSONError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 0, Period: time.Minute}))
		add(t, s, sdk.Spec{Name: "c", Service: sdk.ServiceFunc(func(context.Context) error {
			time.Sleep(time.Second)
			return errBoom
		})})
		rep, err := runSup(context.Background(), s)
		require.ErrorIs(t, err, sdk.ErrMeltdown)
		// The supervisor's own fields, exactly; the child's are checked
		// one by one (see TestReportOutcomeOfChildThatEndedBeforeShutdown
		// for its outcome).
		own := *rep
		own.Children = nil
		got, jerr := json.Marshal(own)
		require.NoError(t, jerr)
		require.Equal(t, `{"path":"/r","state":"failed","cause":"meltdown","requested_by":"/r",`+
			`"reason":"meltdown: more than 0 restarts in 1m0s (last: /r/c)","origin":"/r/c",`+
			`"error":"sdk: supervisor /r: restart 1 within 1m0s would exceed the limit of 0 (meltdown)",`+
			`"started_at":"2000-01-01T00:00:00Z","shutdown_requested_at":"2000-01-01T00:00:01Z","ended_at":"2000-01-01T00:00:01Z","children":null}`,
			string(got))
		require.Len(t, rep.Children, 1)
		c := rep.Children[0]
		require.Equal(t, "/r/c", c.Path)
		require.Equal(t, lifecycle.StateFailed, c.State)
		require.Equal(t, uint64(1), c.Attempts)
		require.Equal(t, "boom", c.LastError)
		require.Zero(t, c.StopDuration)
	})
}

func TestReportCauses(t *testing.T) {
	t.Run("operator", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r")
			add(t, s, sdk.Spec{Name: "a", Service: idleService})
			startSup(t, s)
			rep, err := s.Shutdown(context.Background(), "alice", "maintenance")
			require.NoError(t, err)
			require.Equal(t, sdk.CauseOperator, rep.Cause)
			require.Equal(t, "alice", rep.RequestedBy)
			require.Equal(t, "maintenance", rep.Reason)
			require.Equal(t, lifecycle.StateCompleted, rep.State)
			require.Empty(t, rep.Error)
		})
	})

	t.Run("context", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r")
			add(t, s, sdk.Spec{Name: "a", Service: idleService})
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			rep, err := runSup(ctx, s)
			require.NoError(t, err)
			require.Equal(t, sdk.CauseContext, rep.Cause)
			require.Equal(t, "context", rep.RequestedBy)
			require.Equal(t, "context ended: context deadline exceeded", rep.Reason)
			require.Equal(t, lifecycle.StateCompleted, rep.State)
			require.Equal(t, time.Second, rep.EndedAt.Sub(rep.StartedAt))
		})
	})

	t.Run("parent", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			root := newSup(t, "root")
			sub := newSup(t, "sub")
			add(t, sub, sdk.Spec{Name: "w", Service: idleService})
			add(t, root, sdk.Spec{Name: "sub", Service: sub})
			startSup(t, root)
			rep, err := root.Shutdown(context.Background(), "alice", "bye")
			require.NoError(t, err)
			require.Equal(t, sdk.CauseOperator, rep.Cause)
			nested := rep.Children[0].Supervisor
			require.NotNil(t, nested)
			require.Equal(t, sdk.CauseParent, nested.Cause)
			require.Equal(t, "parent", nested.RequestedBy)
			require.Equal(t, "bye", nested.Reason)
			require.Equal(t, "/root/sub", nested.Path)
			require.Equal(t, "/root/sub/w", nested.Children[0].Path)
			require.Same(t, nested, reportOf(sub))
		})
	})

	t.Run("meltdown", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 2, Period: time.Minute}))
			var calls atomic.Int64
			add(t, s, sdk.Spec{Name: "a", Service: idleService},
				sdk.Spec{Name: "c", Backoff: sdk.NoBackoff(), Service: failing(100, errBoom, &calls)})
			rep, err := runSup(context.Background(), s)
			require.ErrorIs(t, err, sdk.ErrMeltdown)
			require.Equal(t, sdk.CauseMeltdown, rep.Cause)
			require.Equal(t, lifecycle.StateFailed, rep.State)
			require.Equal(t, err.Error(), rep.Error)
			require.Equal(t, "boom", rep.Children[1].LastError)
			require.Equal(t, uint64(3), rep.Children[1].Attempts)
			require.Equal(t, lifecycle.StateFailed, rep.Children[1].State)
			require.Equal(t, sdk.OutcomeGraceful, rep.Children[0].Outcome)
		})
	})

	t.Run("fatal child", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r")
			add(t, s, sdk.Spec{Name: "a", Service: idleService},
				sdk.Spec{Name: "f", Service: sdk.ServiceFunc(func(context.Context) error {
					return fmt.Errorf("corrupt state: %w", sdk.ErrFatal)
				})})
			rep, err := runSup(context.Background(), s)
			var fe *sdk.FatalError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, sdk.CauseFatal, rep.Cause)
			require.Equal(t, "/r/f", rep.RequestedBy)
			require.Equal(t, lifecycle.StateFailed, rep.State)
			require.Contains(t, rep.Error, "corrupt state")
			require.Equal(t, lifecycle.StateFailed, rep.Children[1].State)
		})
	})

	t.Run("auto shutdown", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r", sdk.WithAutoShutdown(sdk.AnySignificant))
			add(t, s, sdk.Spec{Name: "a", Service: idleService},
				sdk.Spec{Name: "job", Restart: sdk.Transient, Significant: true, Service: sdk.ServiceFunc(func(context.Context) error {
					time.Sleep(time.Second)
					return nil
				})})
			rep, err := runSup(context.Background(), s)
			require.NoError(t, err)
			require.Equal(t, sdk.CauseAutoShutdown, rep.Cause)
			require.Equal(t, "/r/job", rep.RequestedBy)
			require.Equal(t, lifecycle.StateCompleted, rep.State)
			require.Equal(t, lifecycle.StateCompleted, rep.Children[1].State)
		})
	})
}

func TestReportOutcomes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r")
		x := newStubborn(t)
		var calls atomic.Int64
		add(t, s,
			sdk.Spec{Name: "graceful", Service: slowStop(time.Second)},
			sdk.Spec{Name: "backoff", Backoff: &sdk.Backoff{Initial: time.Hour, Max: time.Hour, Multiplier: 1}, Service: failing(1, errBoom, &calls)},
			sdk.Spec{Name: "stubborn", StopTimeout: 2 * time.Second, Service: x})
		startSup(t, s)
		synctest.Wait() // backoff has failed and waits an hour
		rep, err := s.Shutdown(context.Background(), "alice", "done")
		var ae *sdk.AbandonedError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, []string{"/r/stubborn"}, ae.Children)

		byPath := map[string]sdk.ChildReport{}
		for _, c := range rep.Children {
			byPath[c.Path] = c
		}
		require.Equal(t, sdk.OutcomeAbandoned, byPath["/r/stubborn"].Outcome)
		require.Equal(t, 2*time.Second, byPath["/r/stubborn"].StopDuration)
		require.Equal(t, lifecycle.StateFailed, byPath["/r/stubborn"].State)
		require.Equal(t, sdk.OutcomeAlreadyExited, byPath["/r/backoff"].Outcome)
		require.Equal(t, lifecycle.StateStopped, byPath["/r/backoff"].State)
		require.Equal(t, "boom", byPath["/r/backoff"].LastError)
		require.Equal(t, sdk.OutcomeGraceful, byPath["/r/graceful"].Outcome)
		require.Equal(t, time.Second, byPath["/r/graceful"].StopDuration)
		require.Equal(t, lifecycle.StateStopped, byPath["/r/graceful"].State)
		require.Equal(t, []string{"/r/stubborn"}, rep.Abandoned())
		require.Equal(t, lifecycle.StateCompleted, rep.State, "a shutdown that abandoned children still completes")
		x.release()
	})
}

func TestReportOutcomeOfChildThatEndedBeforeShutdown(t *testing.T) {
	bubble(t, func(t *testing.T) {
		s := newSup(t, "r")
		add(t, s, sdk.Spec{Name: "a", Service: idleService},
			sdk.Spec{Name: "done", Restart: sdk.Transient, Service: sdk.ServiceFunc(func(context.Context) error { return nil })})
		startSup(t, s)
		synctest.Wait()
		rep, err := s.Shutdown(context.Background(), "alice", "done")
		require.NoError(t, err)
		c := rep.Children[1]
		require.Equal(t, lifecycle.StateCompleted, c.State)
		if c.Outcome == "" {
			t.Fatal("regression: shutdown.go shutdownNext skips ended children without setting an outcome, so a child that " +
				"ended before the shutdown has no outcome in the report, although OutcomeAlreadyExited documents " +
				"\"nothing was running when its turn came\"")
		}
		require.Equal(t, sdk.OutcomeAlreadyExited, c.Outcome)
	})
}

func TestReportPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r")
		var calls atomic.Int64
		add(t, s, sdk.Spec{Name: "p", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if calls.Add(1) == 1 {
				panicDeep(3)
			}
			<-ctx.Done()
			return nil
		})})
		startSup(t, s)
		synctest.Wait()
		rep, err := s.Shutdown(context.Background(), "alice", "done")
		require.NoError(t, err)
		c := rep.Children[0]
		require.Equal(t, "sdk: panic: kaboom", c.LastError)
		require.Contains(t, c.PanicStack, "panicDeep")
		require.Contains(t, c.PanicStack, "goroutine ")
		require.Equal(t, uint64(2), c.Attempts)
		require.Equal(t, 1, c.Restarts)
		got, jerr := json.Marshal(c)
		require.NoError(t, jerr)
		require.Contains(t, string(got), `"panic_stack":"goroutine `)
	})
}

func panicDeep(n int) {
	if n == 0 {
		panic("kaboom")
	}
	panicDeep(n - 1)
}

func TestReportAbandonedInTree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		root := newSup(t, "root")
		sub := newSup(t, "sub")
		deep := newSup(t, "deep")
		x, y, z := newStubborn(t), newStubborn(t), newStubborn(t)
		add(t, deep, sdk.Spec{Name: "z", StopTimeout: time.Second, Service: z})
		add(t, sub, sdk.Spec{Name: "y", StopTimeout: time.Second, Service: y},
			sdk.Spec{Name: "deep", StopTimeout: 10 * time.Second, Service: deep},
			sdk.Spec{Name: "ok", Service: idleService})
		add(t, root, sdk.Spec{Name: "x", StopTimeout: time.Second, Service: x},
			sdk.Spec{Name: "sub", StopTimeout: 10 * time.Second, Service: sub})
		startSup(t, root)
		rep, err := root.Shutdown(context.Background(), "alice", "done")
		require.ErrorIs(t, err, sdk.ErrAbandoned)
		var ae *sdk.AbandonedError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, []string{"/root/x"}, ae.Children, "the root's own error names its own children")
		require.Equal(t, []string{"/root/x", "/root/sub/y", "/root/sub/deep/z"}, rep.Abandoned())
		require.Equal(t, sdk.OutcomeGraceful, rep.Children[1].Outcome, "the nested supervisor itself stopped")
		require.Equal(t, []string{"/root/sub/y", "/root/sub/deep/z"}, rep.Children[1].Supervisor.Abandoned())
		require.Empty(t, (&sdk.Report{}).Abandoned())
		x.release()
		y.release()
		z.release()
	})
}

// The report of a three-level tree in which an operator removed a child, a
// leaf melted its supervisor down, the meltdown escalated to the root, and
// a grandchild that ignored its cancellation was abandoned: every child
// that existed appears with its outcome, the nested reports are there
// (partial, for the subtree the root abandoned while it was still
// stopping), Abandoned finds the grandchild, and every level names the
// leaf where the failure began.
func TestReportOfATreeThatMeltedDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		zero := sdk.WithIntensity(sdk.Intensity{MaxRestarts: 0, Period: time.Minute})
		root := newSup(t, "root", zero)
		mid := newSup(t, "mid", zero)
		stuck := newStubborn(t)
		var crashes atomic.Int64
		add(t, mid,
			sdk.Spec{Name: "stuck", StopTimeout: 10 * time.Second, Service: stuck},
			sdk.Spec{Name: "crash", Service: sdk.ServiceFunc(func(ctx context.Context) error {
				if crashes.Add(1) == 1 {
					time.Sleep(time.Second)
					return errors.New("disk on fire")
				}
				return idle(ctx)
			})})
		add(t, root,
			sdk.Spec{Name: "api", Service: idleService},
			sdk.Spec{Name: "gone", Service: idleService},
			sdk.Spec{Name: "mid", StopTimeout: 2 * time.Second, Service: mid})
		startSup(t, root)
		require.NoError(t, cmdErr(root.Remove(context.Background(), "gone", "ops", "decommissioned")))

		rep, err := root.Wait(context.Background())
		require.ErrorIs(t, err, sdk.ErrMeltdown)
		require.Equal(t, sdk.CauseMeltdown, rep.Cause)
		require.Equal(t, "/root/mid/crash", rep.Origin, "the root names the leaf")
		outcomes := map[string]sdk.StopOutcome{}
		for _, c := range rep.Children {
			outcomes[c.Path] = c.Outcome
		}
		require.Equal(t, map[string]sdk.StopOutcome{"/root/api": sdk.OutcomeGraceful, "/root/mid": sdk.OutcomeAlreadyExited, "/root/gone": sdk.OutcomeRemoved}, outcomes)
		nested := rep.Children[1].Supervisor
		require.NotNil(t, nested)
		require.Equal(t, "/root/mid/crash", nested.Origin)
		require.Equal(t, []string{"/root/mid/stuck"}, rep.Abandoned())
		if testing.Verbose() {
			b, _ := json.MarshalIndent(rep, "", "  ")
			t.Logf("report:\n%s", b)
		}
		stuck.release()
	})
}

// A subtree the root abandons while it is still stopping is in the root's
// report as it was at that moment, marked partial. (Its report used to be
// missing, and its abandoned grandchildren with it.)
func TestReportOfAnAbandonedSubtreeIsPartial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		root, mid := newSup(t, "root"), newSup(t, "mid")
		stuck := newStubborn(t)
		add(t, mid, sdk.Spec{Name: "stuck", StopTimeout: 10 * time.Second, Service: stuck}, sdk.Spec{Name: "ok", Service: idleService})
		add(t, root, sdk.Spec{Name: "mid", StopTimeout: time.Second, Service: mid})
		startSup(t, root)
		rep, err := root.Shutdown(context.Background(), "ops", "bye")
		require.ErrorIs(t, err, sdk.ErrAbandoned)
		nested := rep.Children[0].Supervisor
		require.NotNil(t, nested, "the abandoned subtree's report is there")
		require.True(t, nested.Partial)
		require.Equal(t, lifecycle.StateShuttingDown, nested.State)
		require.Equal(t, []string{"/root/mid", "/root/mid/stuck"}, rep.Abandoned(), "the subtree and its grandchild")
		stuck.release()
	})
}
