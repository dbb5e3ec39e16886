package lifecycle_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

func TestDoneClosesAtFinish(t *testing.T) {
	m := newMachine(t, lifecycle.KindChild, "/root/x")
	requireOpen(t, m)
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	requireOpen(t, m)
	_, _, err := m.RequestShutdown("operator", "maintenance")
	require.NoError(t, err)
	requireOpen(t, m)
	_, err = m.Finish(lifecycle.ExitReport{State: lifecycle.StateRunning})
	require.Error(t, err)
	requireOpen(t, m)

	_, err = m.Finish(lifecycle.ExitReport{State: lifecycle.StateStopped})
	require.NoError(t, err)
	requireClosed(t, m)
	require.Equal(t, m.Done(), m.Done(), "every caller must get the same channel")

	// A second Finish must not close the channel again (that would panic).
	_, err = m.Finish(lifecycle.ExitReport{State: lifecycle.StateFailed})
	require.NoError(t, err)
	requireClosed(t, m)
}

func TestWaitManyGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const waiters, waitsEach = 50, 3
		m := newMachine(t, lifecycle.KindSupervisor, "/root")

		var returned atomic.Int32
		results := make([][waitsEach]lifecycle.ExitReport, waiters)
		errs := make([][waitsEach]error, waiters)
		var wg sync.WaitGroup
		for i := range waiters {
			wg.Go(func() {
				for j := range waitsEach {
					results[i][j], errs[i][j] = m.Wait(context.Background())
					returned.Add(1)
				}
			})
		}
		// Every waiter is now blocked on the machine; none may slip through
		// before the end.
		synctest.Wait()
		require.Zero(t, returned.Load())

		require.NoError(t, m.Transition(lifecycle.StateAlive, "up"))
		synctest.Wait()
		require.Zero(t, returned.Load())

		want, err := m.Finish(lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "run", Reason: "meltdown"})
		require.NoError(t, err)
		wg.Wait()

		require.Equal(t, int32(waiters*waitsEach), returned.Load())
		for i := range waiters {
			for j := range waitsEach {
				require.NoError(t, errs[i][j])
				require.Equal(t, want, results[i][j])
			}
		}
	})
}

func TestWaitReturnsCancelCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMachine(t, lifecycle.KindChild, "/root/x")
		ctx, cancel := context.WithCancelCause(context.Background())
		cause := errors.New("operator gave up")

		var (
			r   lifecycle.ExitReport
			err error
		)
		done := make(chan struct{})
		go func() {
			defer close(done)
			r, err = m.Wait(ctx)
		}()
		synctest.Wait()
		cancel(cause)
		<-done

		require.Same(t, cause, err)
		require.Equal(t, lifecycle.ExitReport{}, r)
		require.True(t, m.Alive(), "an abandoned Wait must not end the lifecycle")
	})
}

func TestWaitHonoursDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMachine(t, lifecycle.KindChild, "/root/x")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()

		start := time.Now()
		r, err := m.Wait(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, lifecycle.ExitReport{}, r)
		require.Equal(t, 5*time.Second, time.Since(start))
	})
}

// A finished lifecycle has an answer; a cancelled context must not hide it.
// Repeated because a single select would pick the cancelled branch about
// half the time.
func TestWaitAfterFinishIgnoresCancelledContext(t *testing.T) {
	m := newMachine(t, lifecycle.KindChild, "/root/x")
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	want, err := m.Finish(lifecycle.ExitReport{State: lifecycle.StateCompleted, Phase: "run", Reason: "done"})
	require.NoError(t, err)

	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("gone"))
	for range 200 {
		got, err := m.Wait(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}
