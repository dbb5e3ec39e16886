package sdk_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// Every event that moves a child carries From and To, and its To is the
// From of the child's next moving event: a subscriber can follow a child's
// states from the events alone. The events of an attempt's end and the
// restart decision carry From only: the state the child is in.
func TestEventsThatMoveCarryFromAndTo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		var calls atomic.Int64
		add(t, s, sdk.Spec{Name: "c", Service: failing(2, errors.New("boom"), &calls),
			Backoff: &sdk.Backoff{Initial: time.Second, Max: time.Second, Multiplier: 1}})
		startSup(t, s)
		time.Sleep(3 * time.Second)
		_, err := s.Restart(context.Background(), "c", "test", "a manual restart")
		require.NoError(t, err)
		_, err = s.Shutdown(context.Background(), "test", "done")
		require.NoError(t, err)

		moving := map[sdk.EventType]bool{
			sdk.EventChildStarting: true, sdk.EventChildRunning: true, sdk.EventChildBackoff: true,
			sdk.EventChildStopping: true, sdk.EventChildEnded: true,
		}
		fromOnly := map[sdk.EventType]bool{sdk.EventChildExited: true, sdk.EventChildStopped: true, sdk.EventChildRestarting: true}
		var prev lifecycle.State
		seen := map[sdk.EventType]int{}
		for _, e := range rec.filter("/r/c") {
			seen[e.Type]++
			switch {
			case moving[e.Type]:
				require.NotZero(t, e.From, "%s has From", e.Type)
				require.NotZero(t, e.To, "%s has To", e.Type)
				if prev != 0 {
					require.Equal(t, prev, e.From, "%s starts where the last move ended", e.Type)
				}
				prev = e.To
			case fromOnly[e.Type]:
				require.Equal(t, prev, e.From, "%s is told in the state the child is in", e.Type)
				require.Zero(t, e.To, "%s: the move that follows says where to", e.Type)
			}
		}
		for typ := range moving {
			require.NotZero(t, seen[typ], "the scenario emits %s", typ)
		}
		require.Equal(t, lifecycle.StateStopped, prev)
	})
}
