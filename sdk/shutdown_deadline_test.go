package sdk_test

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

func TestShutdownDeadline(t *testing.T) {
	t.Run("a deadline shorter than a stop timeout abandons the child at the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithEventHook(rec.hook))
			x := newStubborn(t)
			// Reverse order: quick stops first, then x.
			add(t, s, sdk.Spec{Name: "x", StopTimeout: 10 * time.Second, Service: x},
				sdk.Spec{Name: "quick", Service: idleService})
			startSup(t, s)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			begin := time.Now()
			rep, err := s.Shutdown(ctx, "alice", "deploy")
			require.Equal(t, 2*time.Second, time.Since(begin), "at the deadline, not after the 10s stop timeout")
			require.ErrorIs(t, err, sdk.ErrAbandoned)
			var ae *sdk.AbandonedError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, []string{"/r/x"}, ae.Children)
			require.Equal(t, []string{"/r/x"}, rep.Abandoned())
			ab := rec.last(t, "/r/x", sdk.EventChildAbandoned)
			require.Equal(t, 2*time.Second, ab.Waited)
			require.Equal(t, "the shutdown deadline passed", ab.Cause)
			require.Equal(t, sdk.OutcomeGraceful, rep.Children[1].Outcome)
			require.Equal(t, sdk.OutcomeAbandoned, rep.Children[0].Outcome)
			require.Equal(t, lifecycle.StateFailed, rep.Children[0].State)
			require.True(t, x.cancelled.Load())
			x.release()
		})
	})

	t.Run("a deadline that is not reached changes nothing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newSup(t, "r")
			add(t, s, sdk.Spec{Name: "a", StopTimeout: 10 * time.Second, Service: slowStop(time.Second)},
				sdk.Spec{Name: "b", StopTimeout: 10 * time.Second, Service: slowStop(2 * time.Second)})
			startSup(t, s)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			begin := time.Now()
			rep, err := s.Shutdown(ctx, "alice", "deploy")
			require.NoError(t, err)
			require.Equal(t, 3*time.Second, time.Since(begin))
			require.Empty(t, rep.Abandoned())
			time.Sleep(time.Minute) // the deadline timer, had it not been stopped, changes nothing
			again, err := s.Shutdown(context.Background(), "bob", "again")
			require.NoError(t, err)
			require.Same(t, rep, again)
		})
	})
}

// stopTimes is a child factory whose children record when they see their
// context end, then take their own time to return.
type stopTimes struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (st *stopTimes) spec(name string, stopIn time.Duration) sdk.Spec {
	return sdk.Spec{Name: name, StopTimeout: time.Minute, Service: sdk.ServiceFunc(func(ctx context.Context) error {
		<-ctx.Done()
		st.mu.Lock()
		st.seen[name] = time.Now()
		st.mu.Unlock()
		time.Sleep(stopIn)
		return nil
	})}
}

func TestShutdownOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order sdk.ShutdownOrder
		total time.Duration
		seen  map[string]time.Duration
	}{
		{"all at once: the longest stop", sdk.StopAllAtOnce, 3 * time.Second,
			map[string]time.Duration{"a": 0, "b": 0, "c": 0}},
		{"in reverse: the sum of the stops", sdk.StopInReverse, 6 * time.Second,
			map[string]time.Duration{"c": 0, "b": 2 * time.Second, "a": 5 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				st := &stopTimes{seen: map[string]time.Time{}}
				s := newSup(t, "r", sdk.WithShutdownOrder(tc.order), sdk.WithEventHook(rec.hook))
				add(t, s, st.spec("a", time.Second), st.spec("b", 3*time.Second), st.spec("c", 2*time.Second))
				startSup(t, s)
				begin := time.Now()
				rep, err := s.Shutdown(context.Background(), "alice", "done")
				require.NoError(t, err)
				require.Equal(t, tc.total, time.Since(begin))
				seen := map[string]time.Duration{}
				for name, at := range st.seen {
					seen[name] = at.Sub(begin)
				}
				require.Equal(t, tc.seen, seen)
				for _, c := range rep.Children {
					require.Equal(t, sdk.OutcomeGraceful, c.Outcome)
				}
				require.Equal(t, tc.total, rep.EndedAt.Sub(begin))
				require.Len(t, rec.filter("", sdk.EventChildStopping), 3)
			})
		})
	}

	t.Run("all at once: each within its own stop timeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			s := newSup(t, "r", sdk.WithShutdownOrder(sdk.StopAllAtOnce), sdk.WithEventHook(rec.hook))
			x, y := newStubborn(t), newStubborn(t)
			add(t, s, sdk.Spec{Name: "x", StopTimeout: time.Second, Service: x},
				sdk.Spec{Name: "y", StopTimeout: 3 * time.Second, Service: y},
				sdk.Spec{Name: "ok", Service: slowStop(2 * time.Second)})
			startSup(t, s)
			begin := time.Now()
			rep, err := s.Shutdown(context.Background(), "alice", "done")
			require.ErrorIs(t, err, sdk.ErrAbandoned)
			require.Equal(t, 3*time.Second, time.Since(begin))
			require.Equal(t, time.Second, rec.last(t, "/r/x", sdk.EventChildAbandoned).Time.Sub(begin))
			require.Equal(t, 3*time.Second, rec.last(t, "/r/y", sdk.EventChildAbandoned).Time.Sub(begin))
			require.Equal(t, 2*time.Second, rec.last(t, "/r/ok", sdk.EventChildStopped).Time.Sub(begin))
			require.Equal(t, []string{"/r/x", "/r/y"}, rep.Abandoned())
			x.release()
			y.release()
		})
	})
}

func TestAbandonedGoroutineLabels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		root := newSup(t, "r")
		sub := newSup(t, "sub")
		x, y := newStubborn(t), newStubborn(t)
		add(t, sub, sdk.Spec{Name: "y", StopTimeout: time.Second, Service: y})
		add(t, root, sdk.Spec{Name: "x", StopTimeout: time.Second, Service: x},
			sdk.Spec{Name: "sub", StopTimeout: time.Minute, Service: sub})
		startSup(t, root)
		rep, err := root.Shutdown(context.Background(), "alice", "done")
		require.ErrorIs(t, err, sdk.ErrAbandoned)
		require.Equal(t, []string{"/r/x", "/r/sub/y"}, rep.Abandoned())

		// The supervisors have ended; the abandoned attempts still run,
		// and say whose they are.
		var buf bytes.Buffer
		require.NoError(t, pprof.Lookup("goroutine").WriteTo(&buf, 1))
		profile := buf.String()
		require.Contains(t, profile, `# labels: {"child":"x", "supervisor":"/r"}`)
		require.Contains(t, profile, `# labels: {"child":"y", "supervisor":"/r/sub"}`)
		require.Contains(t, labelledStack(profile, `{"child":"x", "supervisor":"/r"}`), "(*stubborn).Serve",
			"the labelled goroutine is the abandoned attempt")

		x.release()
		y.release()
		synctest.Wait()
		buf.Reset()
		require.NoError(t, pprof.Lookup("goroutine").WriteTo(&buf, 1))
		require.NotContains(t, buf.String(), `"child":"x"`, "released: the goroutine has ended")
		require.NotContains(t, buf.String(), `"child":"y"`)
	})
}

// labelledStack returns the stack record of the debug=1 goroutine profile
// that carries labels.
func labelledStack(profile, labels string) string {
	for _, rec := range strings.Split(profile, "\n\n") {
		if strings.Contains(rec, "# labels: "+labels) {
			return rec
		}
	}
	return ""
}
