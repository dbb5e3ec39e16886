package sdk_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// A child that commands itself from inside Serve with its own context is
// not kept waiting for its own stop: the command is carried out, returns
// at once, and the child stops gracefully. With another context the call
// waits for the stop the caller holds up, and the attempt is abandoned
// after its stop timeout, as documented. (A child commanding itself was
// always abandoned or failed, undocumented.)
func TestSelfCommands(t *testing.T) {
	for _, op := range []string{"restart", "pause", "remove", "restart-subtree", "shutdown"} {
		for _, own := range []bool{true, false} {
			t.Run(op+map[bool]string{true: " with its own context", false: " with Background"}[own], func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					root, sub := newSup(t, "root"), newSup(t, "sub")
					took := make(chan time.Duration, 1)
					// The child commands once root's Start has returned: a
					// shutdown that overtook the start would fail Start.
					started := make(chan struct{})
					var once bool
					self := sdk.ServiceFunc(func(ctx context.Context) error {
						if once {
							return idle(ctx)
						}
						once = true
						<-started
						cctx := ctx
						if !own {
							cctx = context.Background()
						}
						begin := time.Now()
						switch op {
						case "restart":
							_, _ = sub.Restart(cctx, "self", "self", "restart me")
						case "pause":
							_, _ = sub.Pause(cctx, "self", "self", "pause me")
						case "remove":
							_, _ = sub.Remove(cctx, "self", "self", "remove me")
						case "restart-subtree":
							_, _ = root.Restart(cctx, "sub", "self", "restart my supervisor")
						case "shutdown":
							_, _ = root.Shutdown(cctx, "self", "shut my tree down")
						}
						took <- time.Since(begin)
						<-ctx.Done()
						return nil
					})
					add(t, sub, sdk.Spec{Name: "self", StopTimeout: 2 * time.Second, Service: self})
					add(t, root, sdk.Spec{Name: "sub", Service: sub})
					startSup(t, root)
					close(started)
					d := <-took
					synctest.Wait()
					rep := reportOf(root)
					if own {
						require.Zero(t, d, "the call returns at once")
						if rep != nil {
							require.Empty(t, rep.Abandoned(), "and the child stopped gracefully")
						}
						if op != "shutdown" {
							require.True(t, root.Health().Alive)
							st := childStatusIn(t, root, "/root/sub")
							require.NotEqual(t, lifecycle.StateFailed, st.State)
						}
						return
					}
					require.Equal(t, 2*time.Second, d, "the call waited for the caller's own stop: its stop timeout")
				})
			})
		}
	}
}

// Once the supervisor is shutting down, commands and additions are
// refused at once without reaching it, so a storm of them cannot hold the
// shutdown up. (They were queued on the supervisor's goroutine, each
// answered there in turn, and each emitted a command event.)
func TestRefusedCommandsDoNotReachTheSupervisor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, sdk.Spec{Name: "slow", StopTimeout: 5 * time.Second, Service: slowStop(time.Second)}, sdk.Spec{Name: "a", Service: idleService})
		startSup(t, s)
		shut := make(chan struct{})
		go func() {
			_, _ = s.Shutdown(context.Background(), "ops", "bye")
			close(shut)
		}()
		synctest.Wait() // shutting down, waiting for slow
		for range 50 {
			res, err := s.Restart(context.Background(), "a", "storm", "now")
			require.ErrorIs(t, err, sdk.ErrSupervisorDone)
			require.Equal(t, sdk.CommandRejected, res)
			require.ErrorIs(t, s.Add(context.Background(), sdk.Spec{Name: "x", Service: idleService}, "storm", "now"), sdk.ErrSupervisorDone)
		}
		<-shut
		require.Zero(t, rec.count("", sdk.EventCommand), "none reached the supervisor")
	})
}
