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

func eventTypes(evs []sdk.RecordedEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// A child in backoff shows its failure from the recorder: the last error
// and its time, the failures in a row and when it runs again.
func TestStatusFlightRecorderBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r")
		var calls atomic.Int64
		add(t, s,
			sdk.Spec{Name: "ok", Service: idleService},
			sdk.Spec{Name: "flaky", Backoff: &sdk.Backoff{Initial: 10 * time.Second, Max: 10 * time.Second, Multiplier: 1},
				Service: sdk.ServiceFunc(func(ctx context.Context) error {
					calls.Add(1)
					time.Sleep(2 * time.Second)
					return errBoom
				})})
		serve(t, s)
		time.Sleep(3 * time.Second) // the first attempt failed at 2s; the next is due at 12s
		synctest.Wait()

		st, err := s.Status(context.Background())
		require.NoError(t, err)
		flaky := st.Children[1]
		require.Equal(t, lifecycle.StateBackoff, flaky.State)
		require.Equal(t, "boom", flaky.LastError)
		require.Equal(t, 2*time.Second, flaky.LastErrorAt.Sub(epoch))
		require.Equal(t, 1, flaky.ConsecutiveFailures)
		require.Equal(t, 12*time.Second, flaky.NextRestart.Sub(epoch))
		require.True(t, flaky.UpSince.IsZero(), "no attempt is live")
		require.Equal(t, []string{"child_added", "child_starting", "child_running", "child_exited", "child_backoff"}, eventTypes(flaky.Events))
		require.Contains(t, flaky.Events[3].Text, `err="boom"`)

		ok := st.Children[0]
		require.Zero(t, ok.UpSince.Sub(epoch))
		require.Zero(t, ok.ConsecutiveFailures)
		require.True(t, ok.NextRestart.IsZero())

		// The tree's list holds both children's events and the
		// supervisor's own, in order.
		var last uint64
		for _, e := range st.Events {
			require.Greater(t, e.Seq, last)
			last = e.Seq
		}
		require.Len(t, st.Events, len(ok.Events)+len(flaky.Events)+countPath(st.Events, "/r"))

		b, err := json.Marshal(st)
		require.NoError(t, err)
		require.Contains(t, string(b), `"consecutive_failures":1`)
		require.Contains(t, string(b), `"next_restart":"2000-01-01T00:00:12Z"`)
		require.Contains(t, string(b), `"last_error_at":"2000-01-01T00:00:02Z"`)
		require.Contains(t, string(b), `"type":"child_backoff"`)

		time.Sleep(10 * time.Second) // relaunched at 12s
		synctest.Wait()
		st, err = s.Status(context.Background())
		require.NoError(t, err)
		flaky = st.Children[1]
		require.Equal(t, lifecycle.StateRunning, flaky.State)
		require.Equal(t, 12*time.Second, flaky.UpSince.Sub(epoch))
		require.True(t, flaky.NextRestart.IsZero())
		require.Equal(t, 1, flaky.ConsecutiveFailures, "not reset before a clean exit or a stable run")
	})
}

func countPath(evs []sdk.RecordedEvent, path string) int {
	n := 0
	for _, e := range evs {
		if e.Path == path {
			n++
		}
	}
	return n
}

// The ring keeps the last n events, and a nested supervisor's events are
// in its own status only.
func TestFlightRecorderBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r", sdk.WithFlightRecorder(4))
		var calls atomic.Int64
		add(t, s, sdk.Spec{Name: "flaky", Backoff: sdk.NoBackoff(), Service: failing(5, errBoom, &calls)})
		serve(t, s)
		synctest.Wait()
		st, err := s.Status(context.Background())
		require.NoError(t, err)
		require.Len(t, st.Events, 4)
		require.Equal(t, []string{"child_backoff", "child_restarting", "child_starting", "child_running"}, eventTypes(st.Events))
		require.Equal(t, 5, st.Children[0].ConsecutiveFailures)
		require.Equal(t, "boom", st.Children[0].LastError)
		require.Equal(t, st.Children[0].Events, st.Events)
		require.True(t, st.Children[0].LastErrorAt.IsZero(), "running again, and the exit is gone from the ring: not known")
	})
}

func TestFlightRecorderNested(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := newSup(t, "inner")
		add(t, inner, sdk.Spec{Name: "leaf", Service: idleService})
		s := newSup(t, "r")
		add(t, s, sdk.Spec{Name: "inner", Service: inner})
		serve(t, s)
		synctest.Wait()
		st, err := s.Status(context.Background())
		require.NoError(t, err)
		sub := st.Children[0].Supervisor
		require.NotNil(t, sub)
		require.Equal(t, []string{"child_added", "child_starting", "child_running"}, eventTypes(sub.Children[0].Events))
		for _, e := range st.Events {
			require.NotEqual(t, "/r/inner/leaf", e.Path, "the leaf's events are in the nested status")
		}
	})
}

func TestFlightRecorderOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r", sdk.WithFlightRecorder(0))
		add(t, s, sdk.Spec{Name: "a", Service: idleService})
		serve(t, s)
		synctest.Wait()
		st, err := s.Status(context.Background())
		require.NoError(t, err)
		require.Empty(t, st.Events)
		require.Empty(t, st.Children[0].Events)
	})
}

// The flight recorder shows what happened to a child in Status, without
// any hook or subscription.
func ExampleWithFlightRecorder() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sup, err := sdk.New("app", sdk.WithFlightRecorder(64))
	if err != nil {
		panic(err)
	}
	done := make(chan struct{})
	failed := false
	_ = sup.Add(ctx, sdk.Spec{Name: "db", Restart: sdk.Transient, Backoff: sdk.NoBackoff(),
		Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if !failed {
				failed = true
				return errors.New("connection refused")
			}
			close(done)
			<-ctx.Done()
			return nil
		})}, "example", "declared by the example")
	go func() { _ = sup.Serve(ctx) }()
	<-done
	cancel()
	_, _ = sup.Wait(context.Background())
	// After the run, Status describes how it ended, recorder included.
	st, err := sup.Status(context.Background())
	if err != nil {
		panic(err)
	}
	db := st.Children[0]
	for _, e := range db.Events {
		fmt.Println(e.Text)
	}
	fmt.Println("last error:", db.LastError)
	// Output:
	// child_added /app/db →starting by="example" cause="declared by the example"
	// child_starting /app/db attempt=1 starting→starting cause="initial start"
	// child_running /app/db attempt=1 starting→running
	// child_exited /app/db attempt=1 exit=error err="connection refused"
	// child_backoff /app/db attempt=1 running→backoff delay=0s reason=error
	// child_restarting /app/db attempt=1 reason=error
	// child_starting /app/db attempt=2 backoff→starting cause="restart after an error"
	// child_running /app/db attempt=2 starting→running
	// child_stopping /app/db attempt=2 running→stopping by="context" cause="context ended: context canceled"
	// child_exited /app/db attempt=2 exit=stopped
	// child_stopped /app/db attempt=2
	// child_ended /app/db attempt=2 stopping→stopped cause="context ended: context canceled"
	// last error: connection refused
}

// The members of a scope restart wait in backoff for its delay, counted
// once every member has stopped: from then the status says when they are
// due (it said nothing for any of them, while a child in backoff on its
// own showed its time).
func TestStatusNextRestartOfAScopeRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSup(t, "r", sdk.WithStrategy(sdk.OneForAll))
		var calls atomic.Int64
		add(t, s,
			sdk.Spec{Name: "slow", Service: slowStop(time.Second)},
			sdk.Spec{Name: "flaky", Backoff: &sdk.Backoff{Initial: 10 * time.Second, Max: 10 * time.Second, Multiplier: 1},
				Service: sdk.ServiceFunc(func(ctx context.Context) error {
					if calls.Add(1) > 1 {
						return idle(ctx)
					}
					time.Sleep(2 * time.Second)
					return errBoom
				})})
		serve(t, s)
		next := func() (slow, flaky time.Time) {
			t.Helper()
			st, err := s.Status(context.Background())
			require.NoError(t, err)
			return st.Children[0].NextRestart, st.Children[1].NextRestart
		}

		time.Sleep(2500 * time.Millisecond) // flaky failed at 2s; slow stops until 3s
		synctest.Wait()
		slow, flaky := next()
		require.True(t, slow.IsZero(), "still stopping")
		require.True(t, flaky.IsZero(), "the delay starts once slow has stopped")

		time.Sleep(time.Second)
		synctest.Wait()
		slow, flaky = next()
		require.Equal(t, 13*time.Second, slow.Sub(epoch))
		require.Equal(t, 13*time.Second, flaky.Sub(epoch))

		time.Sleep(10 * time.Second) // restarted at 13s
		synctest.Wait()
		slow, flaky = next()
		require.True(t, slow.IsZero())
		require.True(t, flaky.IsZero())
		st, err := s.Status(context.Background())
		require.NoError(t, err)
		require.Equal(t, 13*time.Second, st.Children[1].UpSince.Sub(epoch))
	})
}
