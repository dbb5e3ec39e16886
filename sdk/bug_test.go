package sdk

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// An illegal lifecycle transition is a bug of the supervisor: it reaches
// the bug handler, which fails the package's tests, instead of being
// swallowed by otel.Handle.
func TestIllegalTransitionIsABug(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := len(Bugs())
		s, err := New("r")
		require.NoError(t, err)
		require.NoError(t, s.Add(context.Background(), Spec{Name: "a", Service: ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil })}, "test", "declared by the test"))
		r, err := s.begin(context.Background())
		require.NoError(t, err)
		r.startChildren()
		c := r.child("a")
		r.move(c, lifecycle.StatePaused, "running cannot move to paused")
		got := Bugs()
		require.Len(t, got, n+1)
		require.ErrorIs(t, got[n], lifecycle.ErrIllegalTransition)
		require.Equal(t, lifecycle.StateRunning, c.state(), "and nothing changed")
		forgetBugs(n) // this one was on purpose

		r.beginShutdown(&StopCause{kind: stopShutdown, Cause: CauseOperator, RequestedBy: "test", Reason: "done"}, lifecycle.StateCompleted, nil)
		drive(r, func(msg) bool { return false })
		r.finish()
	})
}
