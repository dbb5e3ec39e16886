package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

func TestStatusChildren(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r")
		var calls atomic.Int64
		becomeReady := make(chan struct{})
		add(t, s,
			sdk.Spec{Name: "plain", Service: idleService},
			sdk.Spec{Name: "flaky", Backoff: sdk.NoBackoff(), Service: failing(2, errBoom, &calls)},
			sdk.Spec{Name: "gate", Readiness: true, StartTimeout: time.Hour, Service: sdk.ServiceFunc(func(ctx context.Context) error {
				select {
				case <-becomeReady:
				case <-ctx.Done():
					return nil
				}
				return readyAfter(0).Serve(ctx)
			})},
			sdk.Spec{Name: "beat", StaleAfter: time.Hour, Service: sdk.ServiceFunc(func(ctx context.Context) error {
				time.Sleep(3 * time.Second)
				sdk.Heartbeat(ctx)
				<-ctx.Done()
				return nil
			})},
			sdk.Spec{Name: "held", Service: idleService})
		sv := serve(t, s) // Start would wait for gate
		synctest.Wait()
		require.NoError(t, cmdErr(s.Pause(context.Background(), "held", "alice", "maintenance")))
		time.Sleep(5 * time.Second)
		synctest.Wait()

		st, err := s.Status(context.Background())
		require.NoError(t, err)
		require.Equal(t, "/r", st.Path)
		require.False(t, st.Ready, "gate is not ready yet")
		require.Equal(t, lifecycle.StateStarting, st.Health.State, "the start has not completed")
		require.True(t, st.Health.Alive)
		require.Len(t, st.Children, 5)
		byPath := map[string]sdk.ChildStatus{}
		for _, c := range st.Children {
			byPath[c.Path] = c
		}
		require.Equal(t, []string{"/r/plain", "/r/flaky", "/r/gate", "/r/beat", "/r/held"}, listed(t, s), "declaration order")

		plain := byPath["/r/plain"]
		require.Equal(t, sdk.ChildStatus{Path: "/r/plain", State: lifecycle.StateRunning, Since: plain.Since, Attempt: 1, Live: true,
			UpSince: plain.UpSince, Events: plain.Events}, plain)
		require.Zero(t, plain.Since.Sub(epoch))
		require.Zero(t, plain.UpSince.Sub(epoch), "launched at the start")
		require.Equal(t, []string{"child_added", "child_starting", "child_running"}, eventTypes(plain.Events))

		flaky := byPath["/r/flaky"]
		require.Equal(t, lifecycle.StateRunning, flaky.State)
		require.Equal(t, uint64(3), flaky.Attempt)
		require.Equal(t, 2, flaky.Restarts)
		require.Equal(t, uint64(0), flaky.Generation)
		require.Equal(t, "boom", flaky.LastError)

		gate := byPath["/r/gate"]
		require.True(t, gate.DeclaresReadiness)
		require.False(t, gate.Ready)
		require.Equal(t, lifecycle.StateRunning, gate.State)

		beat := byPath["/r/beat"]
		require.Equal(t, 3*time.Second, beat.LastHeartbeat.Sub(epoch))
		require.Equal(t, time.UTC, beat.LastHeartbeat.Location())

		held := byPath["/r/held"]
		require.True(t, held.Paused)
		require.False(t, held.Live)
		require.Equal(t, "alice", held.PausedBy, "who paused it")
		require.Equal(t, "maintenance", held.PausedReason)
		require.Equal(t, lifecycle.StatePaused, held.State)
		require.Equal(t, uint64(1), held.Attempt)

		close(becomeReady)
		synctest.Wait()
		st, err = s.Status(context.Background())
		require.NoError(t, err)
		require.True(t, st.Ready, "every readiness child is ready; a paused child does not count")
		require.Equal(t, lifecycle.StateAlive, st.Health.State)
		gate = st.Children[2]
		require.True(t, gate.Ready)
		require.Equal(t, lifecycle.StateReady, gate.State)

		// It serialises with stable names.
		beat = st.Children[3]
		beat.Events = beat.Events[:1]
		raw, err := json.Marshal(beat)
		require.NoError(t, err)
		require.Equal(t, `{"path":"/r/beat","state":"running","since":"2000-01-01T00:00:00Z","attempt":1,"generation":0,"restarts":0,`+
			`"consecutive_failures":0,"up_since":"2000-01-01T00:00:00Z",`+
			`"declares_readiness":false,"ready":false,"paused":false,"live":true,"last_heartbeat":"2000-01-01T00:00:03Z",`+
			`"events":[{"seq":4,"time":"2000-01-01T00:00:00Z","type":"child_added","path":"/r/beat",`+
			`"text":"child_added /r/beat →starting by=\"test\" cause=\"declared by the test\""}]}`, string(raw))
		require.NoError(t, sv.stop())
	})
}

func TestStatusReadiness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r")
		var calls atomic.Int64
		add(t, s, sdk.Spec{Name: "c", Readiness: true, Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
			n := calls.Add(1)
			time.Sleep(time.Second)
			require.NoError(t, sdk.Ready(ctx))
			if n == 1 {
				time.Sleep(time.Second)
				return errBoom // after startup: restarted, not ready until it says so again
			}
			<-ctx.Done()
			return nil
		})})
		sv := serve(t, s)
		synctest.Wait()
		requireReady := func(want bool, at string) {
			t.Helper()
			st, err := s.Status(context.Background())
			require.NoError(t, err)
			require.Equal(t, want, st.Ready, "supervisor at %s", at)
			require.Equal(t, want, st.Children[0].Ready, "child at %s", at)
		}
		requireReady(false, "0s")
		time.Sleep(time.Second)
		synctest.Wait()
		requireReady(true, "1s")
		time.Sleep(time.Second)
		synctest.Wait()
		requireReady(false, "2s (restarted)")
		time.Sleep(time.Second)
		synctest.Wait()
		requireReady(true, "3s")
		require.NoError(t, sv.stop())
	})
}

func TestStatusNested(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		root := newSup(t, "root")
		sub := newSup(t, "sub")
		deep := newSup(t, "deep")
		becomeReady := make(chan struct{})
		add(t, deep, sdk.Spec{Name: "d", Readiness: true, StartTimeout: time.Hour, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			select {
			case <-becomeReady:
			case <-ctx.Done():
				return nil
			}
			return readyAfter(0).Serve(ctx)
		})})
		add(t, sub, sdk.Spec{Name: "w", Service: idleService}, sdk.Spec{Name: "deep", Service: deep})
		add(t, root, sdk.Spec{Name: "a", Service: idleService}, sdk.Spec{Name: "sub", Service: sub})
		sv := serve(t, root)
		synctest.Wait()

		st, err := root.Status(context.Background())
		require.NoError(t, err)
		require.Nil(t, st.Children[0].Supervisor)
		nested := st.Children[1].Supervisor
		require.NotNil(t, nested)
		require.Equal(t, "/root/sub", nested.Path)
		require.True(t, nested.Health.Alive)
		require.Equal(t, []string{"/root/sub/w", "/root/sub/deep"}, []string{nested.Children[0].Path, nested.Children[1].Path})
		deepSt := nested.Children[1].Supervisor
		require.NotNil(t, deepSt)
		require.Equal(t, "/root/sub/deep/d", deepSt.Children[0].Path)
		require.True(t, deepSt.Children[0].DeclaresReadiness)
		require.False(t, deepSt.Ready)
		require.False(t, nested.Ready, "a nested supervisor is ready when its tree is")
		require.False(t, st.Ready, "not ready while a child deep in the tree is not")
		own, err := sub.Status(context.Background())
		require.NoError(t, err)
		require.Equal(t, *nested, own, "the nested part is the nested supervisor's own status")

		close(becomeReady)
		synctest.Wait()
		st, err = root.Status(context.Background())
		require.NoError(t, err)
		require.True(t, st.Ready)
		require.True(t, st.Children[1].Supervisor.Ready)
		require.True(t, st.Children[1].Supervisor.Children[1].Supervisor.Children[0].Ready)
		require.NoError(t, sv.stop())
	})
}

func TestStatusAfterEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 0, Period: time.Minute}))
		st, err := s.Status(context.Background())
		require.NoError(t, err)
		require.Equal(t, sdk.Status{Path: "/r"}, st, "before the first run")

		sub := newSup(t, "sub")
		add(t, sub, sdk.Spec{Name: "w", Service: idleService})
		add(t, s, sdk.Spec{Name: "a", Service: idleService},
			sdk.Spec{Name: "sub", Service: sub},
			sdk.Spec{Name: "bad", Service: sdk.ServiceFunc(func(context.Context) error {
				time.Sleep(time.Second)
				return errBoom
			})})
		_, err = runSup(context.Background(), s)
		require.ErrorIs(t, err, sdk.ErrMeltdown)

		st, err = s.Status(context.Background())
		require.NoError(t, err)
		require.False(t, st.Ready)
		require.False(t, st.Health.Alive)
		require.Equal(t, lifecycle.StateFailed, st.Health.State)
		require.Equal(t, lifecycle.StateStopped, st.Children[0].State)
		require.Equal(t, lifecycle.StateStopped, st.Children[1].State)
		require.Equal(t, lifecycle.StateFailed, st.Children[2].State)
		require.Equal(t, "boom", st.Children[2].LastError)
		nested := st.Children[1].Supervisor
		require.NotNil(t, nested)
		require.False(t, nested.Health.Alive)
		require.Equal(t, lifecycle.StateCompleted, nested.Health.State)
		require.Equal(t, lifecycle.StateStopped, nested.Children[0].State)

		again, err := s.Status(context.Background())
		require.NoError(t, err)
		require.Equal(t, st, again, "nothing changes any more")
	})
}

// Status honours its context, and a hook that blocks does not hold it up:
// hooks run on the tree's own goroutine, not the supervisor's.
func TestStatusContextBoundsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		unblock := make(chan struct{})
		var blocked atomic.Bool
		rec.then = func(e sdk.Event) {
			if e.Type == sdk.EventChildExited && e.Path == "/r/trigger" {
				blocked.Store(true)
				<-unblock
			}
		}
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, sdk.Spec{Name: "trigger", Restart: sdk.Temporary, Service: sdk.ServiceFunc(func(context.Context) error {
			time.Sleep(time.Second)
			return nil
		})})
		startSup(t, s)
		time.Sleep(2 * time.Second)
		require.True(t, blocked.Load())

		errImpatient := errors.New("impatient")
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(errImpatient)
		_, err := s.Status(ctx)
		require.ErrorIs(t, err, errImpatient, "an ended context is honoured at once")

		begin := time.Now()
		st, err := s.Status(context.Background())
		require.NoError(t, err)
		require.Zero(t, time.Since(begin), "the blocked hook does not hold Status up")
		require.Equal(t, lifecycle.StateCompleted, st.Children[0].State)
		close(unblock)
	})
}

// A child that declares readiness and has failed for good makes the tree
// not ready, in a subtree too. (Status.Ready, and /readyz with it, said
// ready once such a child had ended.)
func TestReadyCountsFailedReadinessChildren(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		root, sub := newSup(t, "root"), newSup(t, "sub")
		add(t, sub, sdk.Spec{Name: "db", Readiness: true, Restart: sdk.Temporary, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			_ = sdk.Ready(ctx)
			time.Sleep(time.Second)
			return errors.New("disk gone")
		})}, sdk.Spec{Name: "done", Readiness: true, Restart: sdk.Transient, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			_ = sdk.Ready(ctx)
			return nil // completed: it does not count
		})})
		add(t, root, sdk.Spec{Name: "sub", Service: sub})
		startSup(t, root)
		st, err := root.Status(context.Background())
		require.NoError(t, err)
		require.True(t, st.Ready)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		st, err = root.Status(context.Background())
		require.NoError(t, err)
		require.False(t, st.Ready, "db failed for good")
		require.False(t, st.Children[0].Supervisor.Ready)
	})
}
