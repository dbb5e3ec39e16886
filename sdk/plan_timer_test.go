package sdk

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// drive plays the loop's part: it handles every message the run's
// goroutines and timers have posted once the bubble is idle, in the order
// first(m) puts first, so that a test can choose how two messages that
// arrived at the same instant interleave.
func drive(r *run, first func(m msg) bool) {
	for {
		synctest.Wait()
		var batch []msg
		for len(r.mailbox) > 0 {
			batch = append(batch, <-r.mailbox)
		}
		if len(batch) == 0 {
			return
		}
		slices.SortStableFunc(batch, func(a, b msg) int {
			switch fa, fb := first(a), first(b); {
			case fa && !fb:
				return -1
			case fb && !fa:
				return 1
			}
			return 0
		})
		for _, m := range batch {
			r.handle(m)
		}
	}
}

// A restart plan's timer that has already fired when a merge re-arms the
// plan with a longer delay changes nothing: the restart waits for the
// merged delay. rest_for_one: b fails (100ms backoff), which stops c; at
// 100ms b's timer fires and, at the same instant, a (declared before b,
// 1s backoff) fails, which merges b's plan into a's. The exit is handled
// first, so the fired timer's message arrives after the merge. (It used to
// run the merged plan at once: children restarted after 100ms instead of
// 1s.)
func TestPlanTimerSupersededByMerge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var aRuns, bRuns atomic.Int64
		fixed := func(d time.Duration) *Backoff { return &Backoff{Initial: d, Max: d, Multiplier: 1} }
		s, err := New("r", WithStrategy(RestForOne))
		require.NoError(t, err)
		require.NoError(t, s.Add(context.Background(), Spec{Name: "a", Backoff: fixed(time.Second), Service: ServiceFunc(func(ctx context.Context) error {
			if aRuns.Add(1) == 1 {
				time.Sleep(100 * time.Millisecond)
				return errors.New("a failed")
			}
			<-ctx.Done()
			return nil
		})}, "test", "declared by the test"))
		require.NoError(t, s.Add(context.Background(), Spec{Name: "b", Backoff: fixed(100 * time.Millisecond), Service: ServiceFunc(func(ctx context.Context) error {
			if bRuns.Add(1) == 1 {
				return errors.New("b failed")
			}
			<-ctx.Done()
			return nil
		})}, "test", "declared by the test"))
		require.NoError(t, s.Add(context.Background(), Spec{Name: "c", Service: ServiceFunc(func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		})}, "test", "declared by the test"))
		begin := time.Now()
		r, err := s.begin(context.Background())
		require.NoError(t, err)
		r.startChildren()
		exitsFirst := func(m msg) bool { return m.kind == msgExit }
		drive(r, exitsFirst)
		require.Equal(t, lifecycle.StateBackoff, r.child("b").state())

		time.Sleep(100 * time.Millisecond) // b's timer fires as a fails
		drive(r, exitsFirst)
		require.Equal(t, int64(1), bRuns.Load(), "b waits for the merged plan's 1s, not its own 100ms")
		for _, name := range []string{"a", "b", "c"} {
			require.Equal(t, lifecycle.StateBackoff, r.child(name).state(), name)
		}

		time.Sleep(time.Second)
		drive(r, exitsFirst)
		require.Equal(t, int64(2), bRuns.Load())
		require.Equal(t, int64(2), aRuns.Load())
		require.Equal(t, 1100*time.Millisecond, time.Since(begin))

		r.beginShutdown(&StopCause{kind: stopShutdown, Cause: CauseOperator, RequestedBy: "test", Reason: "done"}, lifecycle.StateCompleted, nil)
		drive(r, exitsFirst)
		require.False(t, r.lc.Alive())
		r.finish()
	})
}
