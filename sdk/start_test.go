package sdk_test

import (
	"context"
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

func TestStartWaitsForReadiness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s,
			sdk.Spec{Name: "plain", Service: idleService},
			sdk.Spec{Name: "fast", Readiness: true, Service: readyAfter(500 * time.Millisecond)},
			sdk.Spec{Name: "slow", Readiness: true, Service: readyAfter(2 * time.Second)})

		begin := time.Now()
		startSup(t, s)
		require.Equal(t, 2*time.Second, time.Since(begin), "Start returns when the slowest readiness child is ready")
		synctest.Wait() // see TestStartReturnsAlive: Start may return before the supervisor is marked alive

		require.Equal(t, lifecycle.StateAlive, s.Health().State)
		require.Equal(t, 2*time.Second, rec.last(t, "/r/slow", sdk.EventChildReady).Time.Sub(begin))
		require.Equal(t, 500*time.Millisecond, rec.last(t, "/r/fast", sdk.EventChildReady).Time.Sub(begin))
		alive := rec.last(t, "/r", sdk.EventSupervisorState)
		require.Equal(t, lifecycle.StateAlive, alive.To)
		require.Equal(t, 2*time.Second, alive.Time.Sub(begin), "the supervisor is alive once the start completed")
		st, err := s.Status(context.Background())
		require.NoError(t, err)
		require.True(t, st.Ready)
	})
}

// Start does not return while a readiness child has not called Ready,
// however long that takes (within its start timeout).
func TestStartBlocksUntilReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r")
		readyNow := make(chan struct{})
		add(t, s, sdk.Spec{Name: "c", Readiness: true, StartTimeout: time.Hour, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			<-readyNow
			require.NoError(t, sdk.Ready(ctx))
			<-ctx.Done()
			return nil
		})})
		started := make(chan error, 1)
		go func() { started <- s.Start(context.Background()) }()
		shutdownAtEnd(t, s)
		time.Sleep(30 * time.Minute)
		synctest.Wait()
		require.Empty(t, started, "Start returned before the child was ready")
		require.Equal(t, lifecycle.StateStarting, s.Health().State)
		close(readyNow)
		require.NoError(t, <-started)
		synctest.Wait() // see TestStartReturnsAlive
		require.Equal(t, lifecycle.StateAlive, s.Health().State)
	})
}

func TestStartDeclarationOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s,
			sdk.Spec{Name: "a", Service: idleService},
			sdk.Spec{Name: "b", Readiness: true, Service: readyAfter(time.Second)},
			sdk.Spec{Name: "c", Service: idleService},
			sdk.Spec{Name: "d", Readiness: true, Service: readyAfter(0)})
		startSup(t, s)
		require.Equal(t, []string{
			"0s child_starting /r/a#1", "0s child_starting /r/b#1", "0s child_starting /r/c#1", "0s child_starting /r/d#1",
		}, timeline(rec.filter("", sdk.EventChildStarting)), "children without dependencies all start at once, in declaration order")
		require.Zero(t, rec.count("", sdk.EventChildPending))
	})
}

// The supervisor reports itself alive, and Start returns, only once every
// child has been launched: not in the middle of launching them.
func TestStartCompletesAfterEveryLaunch(t *testing.T) {
	bubble(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, sdk.Spec{Name: "a", Service: idleService}, sdk.Spec{Name: "b", Service: idleService})
		startSup(t, s)
		synctest.Wait()
		var order []string
		for _, e := range rec.filter("", sdk.EventChildRunning, sdk.EventSupervisorState) {
			order = append(order, compact(e))
		}
		if order[1] != "child_running /r/b#1" {
			t.Fatal("regression: start.go checkStarted, called through launch→childUp while startChildren is still iterating, " +
				"completes the start after the first child without readiness: the supervisor goes alive (and Start may return) " +
				"before the later children are launched; saw " + fmt.Sprint(order))
		}
		require.Equal(t, []string{"child_running /r/a#1", "child_running /r/b#1", "supervisor_state /r →alive"}, order)
	})
}

// When Start returns, the supervisor is alive. The start completes on the
// supervisor's goroutine while Start waits on another, so a wrong order
// there shows only now and then: try many times, in real time.
func TestStartReturnsAlive(t *testing.T) {
	for i := range 300 {
		s := newSup(t, "r")
		add(t, s, sdk.Spec{Name: "c", Readiness: true, Service: readyAfter(0)})
		require.NoError(t, s.Start(context.Background()))
		state := s.Health().State
		_, err := s.Shutdown(context.Background(), "test", "done")
		require.NoError(t, err)
		s.Close()
		if state == lifecycle.StateStarting {
			t.Fatalf("regression: start.go checkStarted closes r.started (releasing Start) before moveSelf(StateAlive), so "+
				"Health() can still say starting after Start has returned (iteration %d)", i)
		}
		require.Equal(t, lifecycle.StateAlive, state)
	}
}

func TestStartDependencies(t *testing.T) {
	t.Run("a dependent starts once its dependencies are ready", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			add(t, s,
				sdk.Spec{Name: "api", DependsOn: []string{"db", "cache"}, Service: idleService},
				sdk.Spec{Name: "db", Readiness: true, Service: readyAfter(time.Second)},
				sdk.Spec{Name: "cache", Readiness: true, Service: readyAfter(2 * time.Second)},
				sdk.Spec{Name: "worker", DependsOn: []string{"api"}, Service: idleService})
			begin := time.Now()
			startSup(t, s)
			require.Equal(t, 2*time.Second, time.Since(begin))

			require.Equal(t, []string{
				"0s child_pending /r/api",
				"0s child_starting /r/db#1",
				"0s child_starting /r/cache#1",
				"0s child_pending /r/worker",
				"1s child_ready /r/db#1 →ready",
				"2s child_ready /r/cache#1 →ready",
				"2s child_starting /r/api#1",
				"2s child_starting /r/worker#1",
			}, timeline(rec.filter("", sdk.EventChildPending, sdk.EventChildStarting, sdk.EventChildReady)))
			require.Equal(t, "waiting for db, cache", rec.last(t, "/r/api", sdk.EventChildPending).Cause)
			require.Equal(t, "dependencies up", rec.last(t, "/r/api", sdk.EventChildStarting).Cause)
		})
	})

	t.Run("a dependency without readiness is up once running", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			add(t, s,
				sdk.Spec{Name: "early", DependsOn: []string{"plain"}, Service: idleService},
				sdk.Spec{Name: "plain", Service: idleService},
				sdk.Spec{Name: "late", DependsOn: []string{"plain"}, Service: idleService})
			startSup(t, s)
			synctest.Wait() // see TestStartCompletesAfterEveryLaunch: Start may return before late is launched
			var order []string
			for _, e := range rec.filter("", sdk.EventChildPending, sdk.EventChildRunning) {
				order = append(order, compact(e))
			}
			require.Equal(t, []string{
				"child_pending /r/early", // declared before its dependency
				"child_running /r/plain#1",
				"child_running /r/early#1",
				"child_running /r/late#1", // its dependency already runs: no wait
			}, order)
			for _, e := range rec.filter("", sdk.EventChildRunning) {
				require.Zero(t, e.Time.Sub(epoch), "nothing waited for readiness")
			}
		})
	})

	t.Run("the dependent of a child that fails to start never starts", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			var calls atomic.Int64
			add(t, s,
				sdk.Spec{Name: "db", Readiness: true, Backoff: &sdk.Backoff{Initial: time.Second, Max: time.Second, Multiplier: 1},
					Service: sdk.ServiceFunc(func(ctx context.Context) error {
						if calls.Add(1) == 1 {
							return errBoom // a failure before readiness fails the start...
						}
						return readyAfter(0).Serve(ctx)
					})},
				sdk.Spec{Name: "api", DependsOn: []string{"db"}, Service: idleService})
			err := s.Start(context.Background())
			var se *sdk.StartError
			require.ErrorAs(t, err, &se, "...so the dependent never starts")
			require.Zero(t, rec.count("/r/api", sdk.EventChildStarting))
			require.Equal(t, lifecycle.StateStopped, rec.ended()["/r/api"])
		})
	})
}

func TestStartRejectsBadDependencies(t *testing.T) {
	type starter func(s *sdk.Supervisor) error
	starters := map[string]starter{
		"Serve": func(s *sdk.Supervisor) error { return s.Serve(context.Background()) },
		"Start": func(s *sdk.Supervisor) error { return s.Start(context.Background()) },
	}
	for name, start := range starters {
		t.Run(name+"/cycle", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				s := newSup(t, "r", sdk.WithEventHook(rec.hook))
				var ran atomic.Int64
				svc := sdk.ServiceFunc(func(ctx context.Context) error { ran.Add(1); <-ctx.Done(); return nil })
				add(t, s,
					sdk.Spec{Name: "x", Service: svc},
					sdk.Spec{Name: "a", DependsOn: []string{"b"}, Service: svc},
					sdk.Spec{Name: "b", DependsOn: []string{"c"}, Service: svc},
					sdk.Spec{Name: "c", DependsOn: []string{"a"}, Service: svc})
				err := start(s)
				require.ErrorIs(t, err, sdk.ErrInvalidSpec)
				var se *sdk.SpecError
				require.ErrorAs(t, err, &se)
				require.Equal(t, "DependsOn", se.Field)
				require.Contains(t, se.Problem, "a → b → c → a")
				synctest.Wait()
				require.Zero(t, ran.Load(), "nothing starts")
				require.Empty(t, rec.all(), "nothing is even declared")
				require.Equal(t, lifecycle.Health{}, s.Health())
				_, err = s.Wait(context.Background())
				require.ErrorIs(t, err, sdk.ErrNotStarted)
			})
		})
		t.Run(name+"/unknown dependency", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSup(t, "r")
				add(t, s,
					sdk.Spec{Name: "a", Service: idleService},
					sdk.Spec{Name: "b", DependsOn: []string{"ghost"}, Service: idleService})
				requireSpecError(t, start(s), "b", "DependsOn[0]")
				require.ErrorContains(t, start(s), `"ghost" is not a sibling`)

				s2 := newSup(t, "r2")
				add(t, s2,
					sdk.Spec{Name: "a", Service: idleService},
					sdk.Spec{Name: "b", DependsOn: []string{"a", "ghost"}, Service: idleService})
				requireSpecError(t, start(s2), "b", "DependsOn[1]")
			})
		})
	}

	t.Run("unknown dependency added while running", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r")
			add(t, s, sdk.Spec{Name: "a", Service: idleService})
			startSup(t, s)
			requireSpecError(t, s.Add(context.Background(), sdk.Spec{Name: "b", DependsOn: []string{"a", "ghost"}, Service: idleService}, "test", "declared by the test"), "b", "DependsOn[1]")
			st, err := s.Status(context.Background())
			require.NoError(t, err)
			require.Len(t, st.Children, 1, "the rejected child is not declared")
			require.NoError(t, s.Add(context.Background(), sdk.Spec{Name: "b", DependsOn: []string{"a"}, Service: idleService}, "test", "declared by the test"), "its name is still free")
		})
	})

	t.Run("self and duplicate dependencies are rejected at Add", func(t *testing.T) {
		s := newSup(t, "r")
		requireSpecError(t, s.Add(context.Background(), sdk.Spec{Name: "a", DependsOn: []string{"a"}, Service: idleService}, "test", "declared by the test"), "a", "DependsOn[0]")
		requireSpecError(t, s.Add(context.Background(), sdk.Spec{Name: "a", DependsOn: []string{"b", "c", "b"}, Service: idleService}, "test", "declared by the test"), "a", "DependsOn[2]")
		require.ErrorContains(t, s.Add(context.Background(), sdk.Spec{Name: "a", DependsOn: []string{"b", "b"}, Service: idleService}, "test", "declared by the test"), `"b" is listed twice`)
		require.NoError(t, s.Add(context.Background(), sdk.Spec{Name: "a", Service: idleService}, "test", "declared by the test"), "the rejected specs were not declared")
	})

	t.Run("StartTimeout without Readiness", func(t *testing.T) {
		s := newSup(t, "r")
		requireSpecError(t, s.Add(context.Background(), sdk.Spec{Name: "a", StartTimeout: time.Second, Service: idleService}, "test", "declared by the test"), "a", "StartTimeout")
		requireSpecError(t, s.Add(context.Background(), sdk.Spec{Name: "a", Readiness: true, StartTimeout: -time.Second, Service: idleService}, "test", "declared by the test"), "a", "StartTimeout")
		require.NoError(t, s.Add(context.Background(), sdk.Spec{Name: "a", Readiness: true, StartTimeout: time.Second, Service: idleService}, "test", "declared by the test"))
	})
}

func TestStartFailure(t *testing.T) {
	t.Run("a readiness child fails before it is ready", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			log := newAttempts()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			add(t, s, member(log, "a"), member(log, "b"),
				sdk.Spec{Name: "c", Readiness: true, Service: sdk.ServiceFunc(func(ctx context.Context) error {
					time.Sleep(time.Second)
					return errBoom
				})},
				member(log, "d"))
			begin := time.Now()
			err := s.Start(context.Background())
			require.Equal(t, time.Second, time.Since(begin))
			var se *sdk.StartError
			require.ErrorAs(t, err, &se)
			require.Equal(t, "/r/c", se.Child)
			require.ErrorIs(t, err, errBoom)
			require.Equal(t, "start_failure", se.ErrorType())

			require.Equal(t, []string{"cancelled d#1", "cancelled b#1", "cancelled a#1"}, prefixed(log.lines(), "cancelled"),
				"what started is stopped in reverse order")
			require.Equal(t, []string{"/r/d", "/r/b", "/r/a"}, paths(rec.filter("", sdk.EventChildStopping)))
			require.Equal(t, 1, log.of("a"), "nothing is restarted")

			rep := reportOf(s)
			require.NotNil(t, rep)
			require.Equal(t, sdk.CauseStartFailure, rep.Cause)
			require.Equal(t, lifecycle.StateFailed, rep.State)
			require.Equal(t, "/r/c", rep.RequestedBy)
			require.Equal(t, err.Error(), rep.Error)
			require.Equal(t, lifecycle.StateFailed, s.Health().State)
			require.Equal(t, lifecycle.StateFailed, rec.ended()["/r/c"])
			wrep, werr := s.Wait(context.Background())
			require.Same(t, rep, wrep)
			require.ErrorAs(t, werr, &se)
		})
	})

	t.Run("a readiness child misses its start timeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			log := newAttempts()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			never := newSteered(log, "never", 0)
			neverSpec := never.spec()
			neverSpec.Readiness, neverSpec.StartTimeout = true, 5*time.Second
			add(t, s, member(log, "a"), neverSpec, sdk.Spec{Name: "ok", Readiness: true, Service: readyAfter(time.Second)})
			begin := time.Now()
			err := s.Start(context.Background())
			require.Equal(t, 5*time.Second, time.Since(begin))
			require.ErrorIs(t, err, sdk.ErrStartTimeout)
			var se *sdk.StartError
			require.ErrorAs(t, err, &se)
			require.Equal(t, "/r/never", se.Child)
			require.Equal(t, []string{"/r/ok", "/r/never", "/r/a"}, paths(rec.filter("", sdk.EventChildStopping)))
			require.Equal(t, []string{"cancelled never#1", "exit never#1", "cancelled a#1"}, prefixed(log.lines(), "cancelled", "exit"))
			require.Equal(t, sdk.CauseStartFailure, reportOf(s).Cause)
			require.Equal(t, 1, log.of("never"), "not retried")
		})
	})

	t.Run("the default start timeout is one minute", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r")
			add(t, s, sdk.Spec{Name: "never", Readiness: true, Service: idleService})
			begin := time.Now()
			require.ErrorIs(t, s.Start(context.Background()), sdk.ErrStartTimeout)
			require.Equal(t, time.Minute, time.Since(begin))
		})
	})

	t.Run("Serve fails the same way", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r")
			add(t, s, sdk.Spec{Name: "c", Readiness: true, Service: failing(1, errBoom, new(atomic.Int64))})
			err := serve(t, s).wait()
			var se *sdk.StartError
			require.ErrorAs(t, err, &se)
			require.Equal(t, sdk.CauseStartFailure, reportOf(s).Cause)
		})
	})
}

// Start whose ctx ends stops what started gracefully. (Before c6b912e it
// posted a shutdown with an expired deadline: every child was abandoned
// at once, and abandonAll left them in shutdown.waiting, so Start hung.)
func TestStartContextEnds(t *testing.T) {
	errGaveUp := errors.New("gave up waiting")
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		log := newAttempts()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, member(log, "a"),
			sdk.Spec{Name: "slow", Readiness: true, StartTimeout: time.Hour, Service: readyAfter(10 * time.Second)},
			member(log, "b"))
		ctx, cancel := context.WithTimeoutCause(context.Background(), 3*time.Second, errGaveUp)
		defer cancel()
		begin := time.Now()
		started := make(chan error, 1)
		go func() { started <- s.Start(ctx) }()
		time.Sleep(time.Minute)
		synctest.Wait()
		require.Len(t, started, 1, "Start has not returned")
		err := <-started
		require.ErrorIs(t, err, errGaveUp)
		require.NotErrorAs(t, err, new(*sdk.StartError))
		require.Equal(t, 3*time.Second, rec.last(t, "/r", sdk.EventSupervisorState).Time.Sub(begin))

		require.Equal(t, []string{"cancelled b#1", "cancelled a#1"}, prefixed(log.lines(), "cancelled"), "what started was stopped, in reverse order")
		require.Equal(t, 1, log.of("a"))
		require.Zero(t, rec.count("/r/slow", sdk.EventChildReady))
		rep, werr := s.Wait(context.Background())
		require.NoError(t, werr)
		require.Equal(t, sdk.CauseContext, rep.Cause, "the start's own context ended it")
		require.Equal(t, "start", rep.RequestedBy)
		for _, c := range rep.Children {
			require.Equal(t, sdk.OutcomeGraceful, c.Outcome, "%s is stopped within its stop timeout, not abandoned", c.Path)
		}
		require.Empty(t, rep.Abandoned())
		require.False(t, s.Health().Alive)
	})
}

func TestStartTimeoutAfterStartup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		var calls atomic.Int64
		add(t, s, sdk.Spec{Name: "c", Readiness: true, StartTimeout: time.Second, Backoff: sdk.NoBackoff(),
			Service: sdk.ServiceFunc(func(ctx context.Context) error {
				switch calls.Add(1) {
				case 1: // ready, then fails: restarted
					require.NoError(t, sdk.Ready(ctx))
					time.Sleep(5 * time.Second)
					return errBoom
				case 2: // never ready
					<-ctx.Done()
					return nil
				}
				return readyAfter(0).Serve(ctx)
			})})
		begin := time.Now()
		startSup(t, s)
		require.Zero(t, time.Since(begin))
		time.Sleep(10 * time.Second)
		synctest.Wait()

		require.Equal(t, int64(3), calls.Load(), "the attempt that missed its start timeout was restarted")
		exits := rec.filter("/r/c", sdk.EventChildExited)
		require.Len(t, exits, 2)
		require.Equal(t, sdk.ExitError, exits[0].Exit)
		require.ErrorIs(t, exits[0].Err, errBoom)
		require.Equal(t, sdk.ExitError, exits[1].Exit, "a missed start timeout after startup fails the attempt")
		require.ErrorIs(t, exits[1].Err, sdk.ErrStartTimeout)
		require.Equal(t, 6*time.Second, exits[1].Time.Sub(begin))
		require.Equal(t, time.Second, exits[1].Ran)

		require.Equal(t, lifecycle.StateAlive, s.Health().State, "not a supervisor failure")
		require.Nil(t, reportOf(s))
		st, err := s.Status(context.Background())
		require.NoError(t, err)
		require.Equal(t, lifecycle.StateReady, st.Children[0].State)
		require.Equal(t, uint64(3), st.Children[0].Attempt)
		require.Contains(t, st.Children[0].LastError, sdk.ErrStartTimeout.Error())
		require.True(t, st.Ready)
	})
}

func TestReady(t *testing.T) {
	t.Run("not supervised", func(t *testing.T) {
		require.ErrorIs(t, sdk.Ready(context.Background()), sdk.ErrNotSupervised)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.ErrorIs(t, sdk.Ready(ctx), sdk.ErrNotSupervised)
		sdk.Heartbeat(context.Background()) // does nothing, does not panic
	})

	t.Run("after the attempt was stopped", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r")
			got := make(chan error, 1)
			add(t, s, sdk.Spec{Name: "c", Service: sdk.ServiceFunc(func(ctx context.Context) error {
				<-ctx.Done()
				got <- sdk.Ready(ctx)
				return nil
			})})
			startSup(t, s)
			_, err := s.Shutdown(context.Background(), "test", "done")
			require.NoError(t, err)
			err = <-got
			require.ErrorIs(t, err, sdk.ErrStopped)
			require.ErrorContains(t, err, "done")
		})
	})
}

// paths returns the paths of events, in order.
func paths(evs []sdk.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Path)
	}
	return out
}
