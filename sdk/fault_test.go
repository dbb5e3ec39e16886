package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// Fault injection: what a supervisor does when its observers, its children
// or its callers misbehave. docs/reliability.md summarises what each test
// shows. The TestFault*Bug tests reproduce bugs found by TestChaos; each
// skips itself, naming the bug, while the bug is there, and checks the
// correct behaviour once it is fixed.

// blockingHookTree is a supervisor whose event hook blocks for block on the
// first exit of its child flaky (10ms after the start), with 100 one-shot
// children that end 20ms after the start, while the hook blocks: more exits
// than the supervisor's mailbox (64 messages) holds.
func blockingHookTree(t *testing.T, block time.Duration) (*sdk.Supervisor, *recorder, <-chan struct{}) {
	rec := newRecorder()
	blocked := make(chan struct{})
	var once sync.Once
	hook := func(e sdk.Event) {
		rec.hook(e)
		if e.Type == sdk.EventChildExited && e.Path == "/r/flaky" {
			once.Do(func() {
				close(blocked)
				time.Sleep(block) // the supervisor's goroutine is stuck here
			})
		}
	}
	s := newSup(t, "r", sdk.WithEventHook(hook), sdk.WithIntensity(sdk.Intensity{MaxRestarts: 1000, Period: time.Second}))
	var flakyCalls atomic.Int64
	add(t, s, sdk.Spec{Name: "flaky", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
		if flakyCalls.Add(1) == 1 {
			time.Sleep(10 * time.Millisecond)
			return errBoom
		}
		return idle(ctx)
	})}, sdk.Spec{Name: "other", Service: idleService})
	for i := range 100 {
		add(t, s, sdk.Spec{Name: fmt.Sprintf("oneshot-%03d", i), Restart: sdk.Transient, Service: sdk.ServiceFunc(func(context.Context) error {
			time.Sleep(20 * time.Millisecond)
			return nil
		})})
	}
	startSup(t, s)
	return s, rec, blocked
}

// A hook that blocks holds up only the hooks: they run on the tree's own
// delivery goroutine, never on the supervisor's, so supervision, Status
// and commands go on at once while the events queue up for the hooks, and
// the hooks get every one of them, in order, once the hook returns. (It
// used to block the supervisor's goroutine for as long as it blocked.)
func TestFaultBlockingHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const block = time.Second
		s, rec, blocked := blockingHookTree(t, block)
		<-blocked
		start := time.Now() // 10ms; the one-shot children end at 20ms

		require.True(t, s.Health().Alive)
		_, err := s.Status(context.Background())
		require.NoError(t, err)
		require.NoError(t, cmdErr(s.Restart(context.Background(), "other", "alice", "while the hook blocks")))
		require.Zero(t, time.Since(start), "Status and commands do not wait for the hook")

		time.Sleep(20 * time.Millisecond)
		synctest.Wait()
		st, err := s.Status(context.Background())
		require.NoError(t, err)
		for _, c := range st.Children {
			switch {
			case strings.HasPrefix(c.Path, "/r/oneshot-"):
				require.Equal(t, lifecycle.StateCompleted, c.State, c.Path)
			case c.Path == "/r/flaky":
				require.Equal(t, uint64(2), c.Attempt, "restarted while the hook blocked")
			}
		}
		require.Empty(t, rec.filter("/r/flaky", sdk.EventChildRestarting), "the hook has not seen it yet")

		time.Sleep(block)
		synctest.Wait()
		ended := rec.ended()
		for i := range 100 {
			require.Equal(t, lifecycle.StateCompleted, ended[fmt.Sprintf("/r/oneshot-%03d", i)])
		}
		restarted := rec.last(t, "/r/flaky", sdk.EventChildRestarting)
		require.Equal(t, 10*time.Millisecond, restarted.Time.Sub(epoch), "the restart did not wait for the hook")
		require.Len(t, rec.filter("/r/other", sdk.EventChildRunning), 2)
		var last uint64
		for _, e := range rec.all() {
			require.Equal(t, last+1, e.Seq, "every event, in order")
			last = e.Seq
		}

		rep, err := s.Shutdown(context.Background(), "alice", "done")
		require.NoError(t, err)
		require.Empty(t, rep.Abandoned())
	})
}

// Status and commands are bounded by their context, and a blocked hook no
// longer fills the supervisor's mailbox: with a hook blocked and 100 exits
// at once, both answer at once. (Before hooks left the supervisor's
// goroutine, the 64-message mailbox filled up behind the hook and Status
// and Restart ignored their 100ms contexts.)
func TestFaultFullMailboxIgnoresContextBug(t *testing.T) {
	bubble(t, func(t *testing.T) {
		const block = time.Second
		s, _, blocked := blockingHookTree(t, block)
		<-blocked
		time.Sleep(20 * time.Millisecond) // the one-shot children have ended
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := s.Status(ctx)
		require.NoError(t, err)
		require.NoError(t, cmdErr(s.Restart(ctx, "other", "alice", "while the hook blocks")))
		require.Zero(t, time.Since(start))
		time.Sleep(block) // let the hook return before the test's cleanup shuts s down
		synctest.Wait()
	})
}

// A subscriber that never reads costs the supervisor nothing: its buffer
// fills, every later event is dropped and counted, and the supervisor runs
// and shuts down as fast as without it.
func TestFaultSubscriberNeverReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var emitted atomic.Uint64
		s := newSup(t, "r", sdk.WithEventHook(func(sdk.Event) { emitted.Add(1) }),
			sdk.WithIntensity(sdk.Intensity{MaxRestarts: 10000, Period: time.Second}))
		sub := s.Subscribe(4) // never read
		defer sub.Close()
		nested := newSup(t, "nested")
		var calls atomic.Int64
		add(t, nested, sdk.Spec{Name: "crash", Backoff: sdk.NoBackoff(), FailureLimit: -1, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if calls.Add(1) > 500 {
				return idle(ctx)
			}
			time.Sleep(time.Millisecond)
			return errBoom
		})})
		nested2 := newSup(t, "nested2", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 10000, Period: time.Second}))
		add(t, nested2, sdk.Spec{Name: "crash", Backoff: sdk.NoBackoff(), FailureLimit: -1, Service: failing(500, errBoom, new(atomic.Int64))})
		add(t, s, sdk.Spec{Name: "a", Service: idleService}, sdk.Spec{Name: "nested", Service: nested2})
		startSup(t, s)
		time.Sleep(time.Second)
		synctest.Wait()

		start := time.Now()
		rep, err := s.Shutdown(context.Background(), "alice", "done")
		require.NoError(t, err)
		require.Zero(t, time.Since(start), "the full subscription does not slow the shutdown")
		require.Equal(t, 501, int(rep.Children[1].Supervisor.Children[0].Attempts))
		require.Len(t, sub.C(), 4, "the buffer is full")
		require.Greater(t, emitted.Load(), uint64(2000))
		require.Equal(t, emitted.Load()-4, sub.Dropped(), "every event that did not fit was counted")
	})
}

// faultPanicValue is a panic value that is neither an error nor a string.
type faultPanicValue struct{ Code int }

// A panic is recovered whatever its value: an int, a struct, nil (which Go
// turns into a *runtime.PanicNilError), a string or an error. The value is
// kept in the *PanicError, an error value stays reachable through
// errors.Is/As, and the stack is captured where the panic was recovered.
func TestFaultPanicValues(t *testing.T) {
	sentinel := errors.New("sentinel")
	cases := []struct {
		name      string
		value     any
		lastError string
		check     func(t *testing.T, pe *sdk.PanicError)
	}{
		{"int", 42, "sdk: panic: 42", func(t *testing.T, pe *sdk.PanicError) {
			require.Equal(t, 42, pe.Value)
			require.NoError(t, pe.Unwrap())
		}},
		{"struct", faultPanicValue{Code: 7}, "sdk: panic: {7}", func(t *testing.T, pe *sdk.PanicError) {
			require.Equal(t, faultPanicValue{Code: 7}, pe.Value)
			require.NoError(t, pe.Unwrap())
		}},
		{"nil", nil, "sdk: panic: panic called with nil argument", func(t *testing.T, pe *sdk.PanicError) {
			var pn *runtime.PanicNilError
			require.ErrorAs(t, pe, &pn, "panic(nil) is a *runtime.PanicNilError since Go 1.21")
		}},
		{"string", "text", "sdk: panic: text", func(t *testing.T, pe *sdk.PanicError) {
			require.Equal(t, "text", pe.Value)
		}},
		{"error", fmt.Errorf("wrapped: %w", sentinel), "sdk: panic: wrapped: sentinel", func(t *testing.T, pe *sdk.PanicError) {
			require.ErrorIs(t, pe, sentinel)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				s := newSup(t, "r", sdk.WithEventHook(rec.hook))
				var calls atomic.Int64
				add(t, s, sdk.Spec{Name: "c", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
					if calls.Add(1) == 1 {
						panic(tc.value)
					}
					return idle(ctx)
				})})
				startSup(t, s)
				synctest.Wait()
				ev := rec.last(t, "/r/c", sdk.EventChildPanicked)
				var pe *sdk.PanicError
				require.ErrorAs(t, ev.Err, &pe)
				require.Equal(t, "panic", pe.ErrorType())
				tc.check(t, pe)
				require.Contains(t, string(pe.Stack), "TestFaultPanicValues", "the stack is the panicking goroutine's")
				require.Equal(t, sdk.ExitPanic, rec.last(t, "/r/c", sdk.EventChildExited).Exit)
				require.Len(t, rec.filter("/r/c", sdk.EventChildRunning), 2, "restarted like any failure")

				rep, err := s.Shutdown(context.Background(), "alice", "done")
				require.NoError(t, err)
				require.True(t, strings.HasPrefix(rep.Children[0].LastError, tc.lastError), "last error %q", rep.Children[0].LastError)
				require.Contains(t, rep.Children[0].PanicStack, "TestFaultPanicValues")
			})
		})
	}

	// The value of a panic counts like a returned error: ErrFatal stops
	// the tree, ErrDoNotRestart ends the child, failed (it is still a
	// panic).
	t.Run("ErrFatal", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r")
			add(t, s, sdk.Spec{Name: "c", Service: sdk.ServiceFunc(func(context.Context) error {
				panic(fmt.Errorf("disk gone: %w", sdk.ErrFatal))
			})}, sdk.Spec{Name: "other", Service: idleService})
			require.NoError(t, s.Start(context.Background()))
			rep, err := s.Wait(context.Background())
			var fe *sdk.FatalError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, "/r/c", fe.Child)
			require.Equal(t, sdk.CauseFatal, rep.Cause)
		})
	})
	t.Run("ErrDoNotRestart", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			add(t, s, sdk.Spec{Name: "c", Service: sdk.ServiceFunc(func(context.Context) error {
				panic(sdk.ErrDoNotRestart)
			})}, sdk.Spec{Name: "other", Service: idleService})
			startSup(t, s)
			synctest.Wait()
			require.Equal(t, lifecycle.StateFailed, rec.ended()["/r/c"])
			require.Len(t, rec.filter("/r/c", sdk.EventChildRunning), 1)
		})
	})
}

// A child that panics while it stops (after its context was cancelled) has
// stopped: the panic is reported (event, stack in the report) but the exit
// is classified stopped, so it is not a failure, does not count toward the
// intensity and does not hold up a shutdown or a command.
func TestFaultPanicDuringStop(t *testing.T) {
	panicOnStop := func(calls *atomic.Int64) sdk.Service {
		return sdk.ServiceFunc(func(ctx context.Context) error {
			calls.Add(1)
			<-ctx.Done()
			time.Sleep(10 * time.Millisecond)
			panic(faultPanicValue{Code: 99})
		})
	}
	t.Run("shutdown", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			var calls atomic.Int64
			add(t, s, sdk.Spec{Name: "a", Service: idleService}, sdk.Spec{Name: "p", Service: panicOnStop(&calls)})
			startSup(t, s)
			rep, err := s.Shutdown(context.Background(), "alice", "done")
			require.NoError(t, err, "a panic while stopping is not the supervisor's failure")
			require.Equal(t, lifecycle.StateCompleted, rep.State)
			p := rep.Children[1]
			require.Equal(t, lifecycle.StateStopped, p.State)
			require.Equal(t, sdk.OutcomeGraceful, p.Outcome)
			require.Equal(t, 10*time.Millisecond, p.StopDuration)
			require.Contains(t, p.PanicStack, "TestFaultPanicDuringStop")
			require.Equal(t, "sdk: panic: {99}", p.LastError, "the panic's value is kept")
			require.Equal(t, sdk.ExitStopped, rec.last(t, "/r/p", sdk.EventChildExited).Exit)
			rec.last(t, "/r/p", sdk.EventChildPanicked)
			require.Equal(t, sdk.OutcomeGraceful, rep.Children[0].Outcome)
		})
	})
	t.Run("restart command under a zero intensity", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// MaxRestarts 0: a single counted failure would melt it down.
			s := newSup(t, "r", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 0, Period: time.Hour}))
			var calls atomic.Int64
			add(t, s, sdk.Spec{Name: "p", Service: panicOnStop(&calls)})
			startSup(t, s)
			require.NoError(t, cmdErr(s.Restart(context.Background(), "p", "alice", "roll")))
			require.NoError(t, cmdErr(s.Restart(context.Background(), "p", "alice", "roll again")))
			synctest.Wait()
			require.Equal(t, int64(3), calls.Load())
			require.True(t, s.Health().Alive, "panics while stopping are not counted as failures")
		})
	})
	t.Run("sibling restart under one_for_all", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r", sdk.WithStrategy(sdk.OneForAll))
			var calls, fcalls atomic.Int64
			add(t, s, sdk.Spec{Name: "p", Backoff: sdk.NoBackoff(), Service: panicOnStop(&calls)},
				sdk.Spec{Name: "f", Backoff: sdk.NoBackoff(), Service: failing(1, errBoom, &fcalls)})
			startSup(t, s)
			time.Sleep(time.Second)
			synctest.Wait()
			require.Equal(t, int64(2), calls.Load(), "p stopped (panicking) and ran again with its sibling")
			require.Equal(t, int64(2), fcalls.Load())
			require.True(t, s.Health().Alive)
		})
	})
}

var errStartAborted = errors.New("start aborted")

// When Start's context ends in the middle of the start, Start returns the
// context's cause by its deadline, and what was started is stopped in the
// background (each child within its stop timeout), what was waiting for
// its dependencies never starts, and nothing is left running: the synctest
// bubble could not end otherwise. (Start used to wait for the stop, past
// its own deadline.)
func TestFaultStartContextCancelled(t *testing.T) {
	t.Run("what started is stopped", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			var cancelled atomic.Int64
			watch := func(ready bool) sdk.Service {
				return sdk.ServiceFunc(func(ctx context.Context) error {
					if ready {
						select {
						case <-time.After(time.Hour): // not before the start is given up
							_ = sdk.Ready(ctx)
						case <-ctx.Done():
						}
					}
					<-ctx.Done()
					cancelled.Add(1)
					return nil
				})
			}
			add(t, s, sdk.Spec{Name: "a", Service: watch(false)},
				sdk.Spec{Name: "db", Readiness: true, StartTimeout: 2 * time.Hour, Service: watch(true)},
				sdk.Spec{Name: "api", DependsOn: []string{"db"}, Service: watch(false)},
				sdk.Spec{Name: "b", Service: watch(false)})
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(time.Second, func() { cancel(errStartAborted) })
			begin := time.Now()
			err := s.Start(ctx)
			require.ErrorIs(t, err, errStartAborted, "Start returns its context's cause")
			require.Equal(t, time.Second, time.Since(begin))
			rep, err := s.Wait(context.Background())
			require.NoError(t, err)
			require.Equal(t, time.Second, time.Since(begin), "the children stopped at once")
			require.Equal(t, int64(3), cancelled.Load(), "a, db and b were started, and all three were stopped")
			require.False(t, s.Health().Alive)
			require.Equal(t, sdk.CauseContext, rep.Cause)
			require.Equal(t, "start", rep.RequestedBy)
			attempts := map[string]uint64{}
			for _, c := range rep.Children {
				attempts[c.Path] = c.Attempts
				require.True(t, lifecycle.KindChild.Terminal(c.State), "%s is %s", c.Path, c.State)
			}
			require.Equal(t, map[string]uint64{"/r/a": 1, "/r/db": 1, "/r/api": 0, "/r/b": 1}, attempts)
			require.Equal(t, sdk.OutcomeNeverStarted, rep.Children[2].Outcome, "api never started")
			require.Empty(t, rep.Abandoned())
		})
	})
	t.Run("a child that ignores cancellation does not hold Start past its deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r")
			x := newStubborn(t)
			add(t, s, sdk.Spec{Name: "x", StopTimeout: 2 * time.Second, Service: x},
				sdk.Spec{Name: "db", Readiness: true, Service: readyAfter(time.Hour)})
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			begin := time.Now()
			err := s.Start(ctx)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.Equal(t, time.Second, time.Since(begin), "Start returns by its deadline")
			rep, _ := s.Wait(context.Background())
			require.Equal(t, 3*time.Second, time.Since(begin), "x had its 2s to stop")
			require.Equal(t, []string{"/r/x"}, rep.Abandoned())
			x.release()
		})
	})
}

// A Shutdown whose context has already expired (a deadline in the past, or
// cancelled) returns at once: the deadline has passed, so every child still
// running is cancelled and abandoned on the spot, even one that would have
// stopped at once. The children still get their cancellation and return on
// their own; their late exits change nothing, and nothing leaks.
func TestFaultShutdownExpiredContext(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"deadline in the past", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}},
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSup(t, "r")
				var returned atomic.Int64
				counted := func(svc sdk.Service) sdk.Service {
					return sdk.ServiceFunc(func(ctx context.Context) error {
						defer returned.Add(1)
						return svc.Serve(ctx)
					})
				}
				add(t, s, sdk.Spec{Name: "a", Service: counted(idleService)},
					sdk.Spec{Name: "slow", StopTimeout: 5 * time.Second, Service: counted(slowStop(time.Second))},
					sdk.Spec{Name: "b", Service: counted(idleService)})
				startSup(t, s)
				ctx, cancel := tc.ctx()
				defer cancel()
				begin := time.Now()
				rep, err := s.Shutdown(ctx, "alice", "too late")
				require.Zero(t, time.Since(begin), "an expired context does not wait for anything")
				require.ErrorIs(t, err, sdk.ErrAbandoned)
				var ae *sdk.AbandonedError
				require.ErrorAs(t, err, &ae)
				require.ElementsMatch(t, []string{"/r/a", "/r/slow", "/r/b"}, ae.Children)
				require.ElementsMatch(t, ae.Children, rep.Abandoned())
				require.Equal(t, sdk.CauseOperator, rep.Cause)

				again, err2 := s.Shutdown(context.Background(), "bob", "again")
				require.Same(t, rep, again, "Shutdown is idempotent")
				require.Equal(t, err, err2)

				time.Sleep(time.Second)
				synctest.Wait()
				require.Equal(t, int64(3), returned.Load(), "every child was cancelled and returned on its own")
			})
		})
	}
}

// faultConcurrency is a service whose attempts never overlap in a correct
// supervisor. It counts them, and the most that ran at once; an attempt
// returns when its context ends (after stopIn) or when the test lets every
// attempt go with release.
type faultConcurrency struct {
	stopIn      time.Duration
	release     chan struct{}
	once        sync.Once
	calls       atomic.Int64
	inside, max atomic.Int64
}

func newFaultConcurrency(t *testing.T, stopIn time.Duration) *faultConcurrency {
	f := &faultConcurrency{stopIn: stopIn, release: make(chan struct{})}
	t.Cleanup(f.letGo)
	return f
}

func (f *faultConcurrency) letGo() { f.once.Do(func() { close(f.release) }) }

func (f *faultConcurrency) Serve(ctx context.Context) error {
	f.calls.Add(1)
	n := f.inside.Add(1)
	defer f.inside.Add(-1)
	for m := f.max.Load(); n > m && !f.max.CompareAndSwap(m, n); m = f.max.Load() {
	}
	select {
	case <-ctx.Done():
		select {
		case <-time.After(f.stopIn):
		case <-f.release:
		}
	case <-f.release:
	}
	return nil
}

// A restart command still waiting for its child to stop when a shutdown
// begins must not start the child again.
func TestFaultRestartDuringShutdownBug(t *testing.T) {
	bubble(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		c := newFaultConcurrency(t, time.Second)
		add(t, s, sdk.Spec{Name: "c", StopTimeout: 5 * time.Second, Service: c})
		require.NoError(t, s.Start(context.Background()))
		restarted := make(chan error, 1)
		go func() { restarted <- cmdErr(s.Restart(context.Background(), "c", "alice", "roll")) }()
		synctest.Wait() // c is stopping, for a second
		rep, err := s.Shutdown(context.Background(), "bob", "shutdown")
		require.NoError(t, err)
		restartErr := <-restarted
		synctest.Wait()
		if c.calls.Load() > 1 {
			calls, state := c.calls.Load(), rep.Children[0].State
			c.letGo() // the relaunched attempt was never cancelled
			t.Fatalf("regression: sdk/control.go finishCommand launches the child of a restart command even when the supervisor "+
				"began shutting down while the command waited for the old attempt to stop (afterStop runs finishCommand, "+
				"then stoppedDuringShutdown ends the child from running: illegal transition running→stopped). "+
				"The new attempt is never cancelled (a goroutine leak; a nested supervisor keeps running after its parent "+
				"ended) and the report says %s. Here: %d attempts, Restart returned %v. Fix: in finishCommand, "+
				"case opRestart, answer ErrSupervisorDone instead of launching when r.shut != nil.", state, calls, restartErr)
		}
		require.ErrorIs(t, restartErr, sdk.ErrSupervisorDone)
		require.Equal(t, lifecycle.StateStopped, rep.Children[0].State)
		require.Zero(t, c.inside.Load())
	})
}

// A child that an operator command is stopping must not also be restarted
// by a sibling's restart plan under one_for_all or rest_for_one: either
// the command or the plan decides what happens next, never both.
func TestFaultCommandDuringSiblingRestartBug(t *testing.T) {
	for _, op := range []string{"restart", "pause"} {
		t.Run(op, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				rec := newRecorder()
				s := newSup(t, "r", sdk.WithStrategy(sdk.OneForAll), sdk.WithEventHook(rec.hook))
				a := newFaultConcurrency(t, time.Second)
				f := newSteered(newAttempts(), "f", 0)
				add(t, s, sdk.Spec{Name: "a", Backoff: sdk.NoBackoff(), StopTimeout: 5 * time.Second, Service: a}, f.spec())
				startSup(t, s)
				errc := make(chan error, 1)
				go func() {
					if op == "restart" {
						errc <- cmdErr(s.Restart(context.Background(), "a", "alice", "roll"))
					} else {
						errc <- cmdErr(s.Pause(context.Background(), "a", "alice", "hold"))
					}
				}()
				synctest.Wait() // a is stopping for the command, for a second
				f.fail <- errBoom
				time.Sleep(2 * time.Second)
				synctest.Wait()
				require.NoError(t, <-errc)

				st := childStatus(t, s, "/r/a")
				// One goroutine per child: a second launch cannot overlap the
				// first, it replaces its cancel function and waits behind it.
				orphaned := st.Attempt > uint64(a.calls.Load())
				inconsistent := op == "pause" && st.State != lifecycle.StatePaused
				if orphaned || inconsistent {
					calls, state, backoffs := a.calls.Load(), st.State, len(rec.filter("/r/a", sdk.EventChildBackoff))
					a.letGo()
					seen := fmt.Sprintf("the supervisor counts %d attempts, Serve was called %d times", st.Attempt, calls)
					if op == "pause" {
						seen = fmt.Sprintf("the paused child is %s (Paused=%v, %d child_backoff events)", state, st.Paused, backoffs)
					}
					t.Fatalf("regression: sdk/plan.go restart joins a child that an operator command is already stopping "+
						"(x.running && x.stopping && x.stopFor == nil) to the sibling's restart plan; when it stops, "+
						"afterStop (run.go) runs finishCommand and then planStopped, so both act. After a restart "+
						"command the plan launches the child that the command has just launched: the first new attempt "+
						"is never cancelled and the second waits behind it (at shutdown the child is abandoned). After "+
						"a pause the plan moves the paused child out of paused (to starting, or with a backoff delay the "+
						"illegal paused→backoff). Here, after a %s: %s. Fix: in restart, skip children with x.cmd != nil "+
						"(onControl already does the converse), or in afterStop leave c.stopFor's plan (p.waiting--, "+
						"leavePlan) before finishCommand.", op, seen)
				}
				require.Equal(t, int64(1), a.max.Load())
				if op == "pause" {
					require.Equal(t, lifecycle.StatePaused, st.State)
					require.True(t, st.Paused)
				}
			})
		})
	}
}

// A pool forgets children that end; it must not forget one it abandoned,
// whose goroutine may still be running: the report is where an operator
// finds it.
func TestFaultPoolForgetsAbandonedChildBug(t *testing.T) {
	bubble(t, func(t *testing.T) {
		pool, err := sdk.NewPool("pool", sdk.Spec{Name: "w", StopTimeout: 10 * time.Millisecond})
		require.NoError(t, err)
		s := pool.Supervisor()
		require.NoError(t, s.Start(context.Background()))
		x := newStubborn(t)
		path, err := pool.Start(context.Background(), "", x, "test", "started by the test")
		require.NoError(t, err)
		<-x.started
		err = cmdErr(s.Restart(context.Background(), "w-1", "alice", "roll"))
		require.ErrorIs(t, err, sdk.ErrAbandoned)
		rep, err := s.Shutdown(context.Background(), "alice", "done")
		var ae *sdk.AbandonedError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, []string{path}, ae.Children)
		x.release()
		if len(rep.Abandoned()) == 0 {
			t.Fatalf("regression: sdk/run.go end forgets every ended child of a pool (removeEnded) while the pool is not "+
				"shutting down, abandoned ones included: the pool's AbandonedError names %s but its Report has no "+
				"trace of it (Report.Abandoned() is empty, %d children), although its goroutine may still run. Fix: "+
				"in end, do not forget a child with c.abandoned set (it leaves at the next Serve).", path, len(rep.Children))
		}
		require.Equal(t, []string{path}, rep.Abandoned())
	})
}

// An abandoned child never runs again: its goroutine may still be inside
// Serve. That must hold across runs of its supervisor too, when a parent
// restarts the supervisor after a meltdown.
func TestFaultAbandonedChildRunsAgainBug(t *testing.T) {
	bubble(t, func(t *testing.T) {
		h := newFaultConcurrency(t, time.Hour) // ignores cancellation in effect
		sub := newSup(t, "sub", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 1, Period: time.Second}))
		add(t, sub, sdk.Spec{Name: "h", StopTimeout: 10 * time.Millisecond, Service: h},
			sdk.Spec{Name: "crash", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(context.Context) error {
				time.Sleep(time.Millisecond)
				return errBoom
			})})
		root := newSup(t, "root", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 1000, Period: time.Second}))
		add(t, root, sdk.Spec{Name: "sub", Service: sub, FailureLimit: -1,
			Backoff: &sdk.Backoff{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond, Multiplier: 1}})
		require.NoError(t, root.Start(context.Background()))
		time.Sleep(200 * time.Millisecond)
		rep, err := root.Shutdown(context.Background(), "alice", "done")
		require.NoError(t, err, "the nested supervisor stopped; its abandoned children are its own error")
		maxInside := h.max.Load()
		h.letGo()
		if maxInside > 1 {
			t.Fatalf("regression: an abandoned child runs again when its supervisor is served again (a parent restarting it "+
				"after a meltdown, or a second Serve): the abandonment is recorded per run (run.lost, child.abandoned), "+
				"so the next run declares the same spec afresh and calls Serve on a service whose abandoned attempt "+
				"is still inside Serve. Here up to %d attempts of /root/sub/h ran at once, and the final report names "+
				"only the last run's abandonment (%v). Fix: keep, per Supervisor, the abandoned attempts that have not "+
				"returned (their child goroutines can signal it) and do not launch that child in a new run until its "+
				"old attempt returns, reporting it abandoned meanwhile.", maxInside, rep.Abandoned())
		}
		require.Equal(t, int64(1), maxInside)
	})
}

// faultSubprocessEnv selects the scenario a re-executed test binary runs.
const faultSubprocessEnv = "SDK_FAULT_SUBPROCESS"

// Pausing a child that has ended (a temporary child that returned, a
// transient one that completed) must not let Resume start it again.
func TestFaultPauseEndedChildBug(t *testing.T) {
	switch os.Getenv(faultSubprocessEnv) {
	case "top":
		pauseEndedScenario(false)
		return
	case "nested":
		pauseEndedScenario(true)
		return
	}
	for _, scenario := range []string{"top", "nested"} {
		t.Run(scenario, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFaultPauseEndedChildBug$", "-test.count=1")
			// Under -race, a process sleeps 1s at exit by default; not this one.
			cmd.Env = append(os.Environ(), faultSubprocessEnv+"="+scenario,
				"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			out := stdout.String()
			switch {
			case strings.Contains(stderr.String(), "send on closed channel"):
				t.Fatalf("regression: sdk/control.go onControl accepts Pause for a child that has ended (only Restart checks "+
					"c.ended): finishCommand marks it paused and tries to move it from its terminal state (illegal "+
					"transition), then Resume calls launch, which sends on the child's closed starts channel: the "+
					"supervisor's goroutine panics and the process crashes. Fix: answer Pause (and Resume) of an "+
					"ended child with an error, as Restart does. Subprocess exit: %v", runErr)
			case strings.Contains(out, "wedged"):
				t.Fatalf("regression: as in the top-level case, Pause then Resume of an ended child panics the supervisor's "+
					"goroutine; for a nested supervisor that goroutine is its parent's child goroutine, whose recover "+
					"turns the panic into a child failure: the nested supervisor's run never finishes (s.run stays set, "+
					"done stays open), so its Add blocks for ever, its commands and Status time out, and its parent's "+
					"restarts get ErrAlreadyRunning. Fix: as for the top-level case. Subprocess said: %s", strings.TrimSpace(out))
			}
			require.NoError(t, runErr, "stdout:\n%s\nstderr:\n%s", out, stderr.String())
			require.Contains(t, out, "RESULT attempts=1 ", "a paused ended child was started again:\n%s", out)
		})
	}
}

// pauseEndedScenario runs in a subprocess: the bug it reproduces crashes
// the process or wedges a supervisor for good.
func pauseEndedScenario(nested bool) {
	var calls atomic.Int64
	target, err := sdk.New("r")
	if err != nil {
		panic(err)
	}
	_ = target.Add(context.Background(), sdk.Spec{Name: "once", Restart: sdk.Temporary, Service: sdk.ServiceFunc(func(context.Context) error {
		calls.Add(1)
		return nil
	})}, "test", "declared by the test")
	_ = target.Add(context.Background(), sdk.Spec{Name: "keep", Service: idleService}, "test", "declared by the test")
	top := target
	if nested {
		top, _ = sdk.New("root")
		_ = top.Add(context.Background(), sdk.Spec{Name: "r", Service: target}, "test", "declared by the test")
	}
	if err := top.Start(context.Background()); err != nil {
		panic(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		st, err := target.Status(context.Background())
		if err == nil && len(st.Children) == 2 && st.Children[0].State == lifecycle.StateCompleted {
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	pauseErr := cmdErr(target.Pause(ctx, "once", "alice", "hold"))
	resumeErr := cmdErr(target.Resume(ctx, "once", "alice", "go"))
	time.Sleep(50 * time.Millisecond)
	_, statusErr := target.Status(ctx)
	if statusErr != nil {
		fmt.Printf("RESULT wedged: Status returned %v after Pause (%v) and Resume (%v)\n", statusErr, pauseErr, resumeErr)
		os.Exit(0)
	}
	fmt.Printf("RESULT attempts=%d pause=%v resume=%v\n", calls.Load(), pauseErr, resumeErr)
	_, _ = top.Shutdown(context.Background(), "alice", "done")
	os.Exit(0)
}

// Status of a supervisor that is between two runs reads its last run's
// final state; it must never read a run that has started meanwhile, whose
// children belong to its own goroutine.
func TestFaultStatusDuringNestedRestartBug(t *testing.T) {
	if os.Getenv("SDK_FAULT_STATUS_RACE") != "1" {
		// The race window is a few instructions wide: this focused version
		// rarely hits it (TestChaos found it about once in 40 runs under
		// -race), so it runs only on request.
		t.Skip("set SDK_FAULT_STATUS_RACE=1 to run (under -race)")
	}

	// Nested supervisors that melt down at once, restarted at once: they
	// are between two runs most of the time, and start again all along.
	root := newSup(t, "root", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 10000, Period: 100 * time.Millisecond}))
	for i := range 100 {
		sub := newSup(t, fmt.Sprintf("sub-%d", i), sdk.WithIntensity(sdk.Intensity{MaxRestarts: 0, Period: time.Second}))
		add(t, sub, sdk.Spec{Name: "idle", Service: idleService},
			sdk.Spec{Name: "crash", Service: failing(1<<30, errBoom, new(atomic.Int64))})
		add(t, root, sdk.Spec{Name: fmt.Sprintf("sub-%d", i), Service: sub,
			Backoff: &sdk.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}})
	}
	startSup(t, root)
	var wg sync.WaitGroup
	stopBurn := make(chan struct{})
	for range 4 { // busy goroutines: the scheduler preempts Status inside its window more often
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stopBurn:
					return
				default:
				}
			}
		}()
	}
	time.AfterFunc(3*time.Second, func() { close(stopBurn) })
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
				if _, err := root.Status(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	require.True(t, root.Health().Alive)
}

// Shutdown returns by its deadline even while a hook is blocked for good,
// and a Wait with its own context is how to give the hooks longer. (A
// hook or slog writer that blocked held Shutdown with a 500ms deadline for
// more than 3s: its first post had no context, and it then waited for the
// loop unbounded.)
func TestFaultShutdownDeadlineWithBlockedHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := make(chan struct{})
		hook := sdk.WithEventHook(func(e sdk.Event) {
			if e.Type == sdk.EventSupervisorState && e.To == lifecycle.StateShuttingDown {
				<-block // never returns by itself
			}
		})
		s := newSup(t, "r", hook)
		add(t, s, sdk.Spec{Name: "a", Service: idleService}, sdk.Spec{Name: "b", Service: slowStop(time.Hour)})
		startSup(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		begin := time.Now()
		rep, err := s.Shutdown(ctx, "ops", "deploy")
		require.Equal(t, 500*time.Millisecond, time.Since(begin), "at its deadline")
		require.ErrorIs(t, err, sdk.ErrAbandoned)
		require.ElementsMatch(t, []string{"/r/a", "/r/b"}, rep.Abandoned(), "a never got its turn; the deadline abandons both")

		wctx, wcancel := context.WithTimeout(context.Background(), time.Second)
		defer wcancel()
		_, err = s.Wait(wctx)
		require.ErrorIs(t, err, context.DeadlineExceeded, "Wait waits for the blocked hook, as long as its context lets it")
		close(block)
		_, err = s.Wait(context.Background())
		require.ErrorIs(t, err, sdk.ErrAbandoned, "the hooks caught up")
		time.Sleep(time.Hour) // let b's slow stop end
	})
}
