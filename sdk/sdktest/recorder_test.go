package sdktest_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/sdktest"
)

// Inside a bubble the accessors settle first: right after a sleep, with
// no synctest.Wait of the test's own, they already see what the tree did
// at that fake instant, and the timeline is exact.
func TestRecorderInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec sdktest.Recorder
		newTree(t, &rec, sdk.Spec{Name: "flaky", Service: sdktest.FailTimes(2, errRefused, sdktest.Block()), Backoff: grow})
		time.Sleep(100 * time.Millisecond) // the instant the second attempt starts, and fails
		last, ok := rec.Last("/app/flaky", sdk.EventChildBackoff)
		if !ok || last.Attempt != 2 || last.Delay != 200*time.Millisecond {
			t.Fatalf("at 100ms the second attempt has failed and waits 200ms: got %v (found %v)", last, ok)
		}
		time.Sleep(time.Second)
		equal(t, "timeline", rec.Timeline("/app/flaky", sdk.EventChildRunning, sdk.EventChildBackoff), []string{
			"+0s child_running /app/flaky#1",
			"+0s child_backoff /app/flaky#1 delay=100ms reason=error",
			"+100ms child_running /app/flaky#2",
			"+100ms child_backoff /app/flaky#2 delay=200ms reason=error",
			"+300ms child_running /app/flaky#3",
		})
		equal(t, "states", rec.States("/app/flaky"), []lifecycle.State{
			lifecycle.StateStarting, lifecycle.StateRunning, lifecycle.StateBackoff,
			lifecycle.StateStarting, lifecycle.StateRunning, lifecycle.StateBackoff,
			lifecycle.StateStarting, lifecycle.StateRunning,
		})
		equal(t, "supervisor", rec.Lines("/app"), []string{"supervisor_state /app →alive"})
		if n := len(rec.Filter("", sdk.EventChildExited)); n != 2 {
			t.Errorf("%d exits, want 2", n)
		}
		if n := len(rec.Events()); n != 14 {
			t.Errorf("%d events, want 14:\n%s", n, lines(rec.Lines("")))
		}
	})
}

// A subscription records the same events as a hook on the same tree, for
// a supervisor whose options the test does not control.
func TestRecorderSubscribe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var byHook, bySub sdktest.Recorder
		sup := build(t, &byHook, sdk.Spec{Name: "flaky", Service: sdktest.FailTimes(1, errRefused, sdktest.Block()), Backoff: grow})
		stop := bySub.Subscribe(sup)
		defer stop()
		if err := sup.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		shutdown(t, sup)
		stop()
		stop() // idempotent
		equal(t, "subscription vs hook", bySub.Lines(""), byHook.Lines(""))
		if len(bySub.Events()) == 0 || bySub.Dropped() != 0 {
			t.Errorf("%d events, %d dropped", len(bySub.Events()), bySub.Dropped())
		}
	})
}

// Outside a bubble the accessors do not panic, and after Shutdown (which
// returns once the hooks have seen the last event) or a subscription's
// stop, nothing is missing.
func TestRecorderOutsideBubble(t *testing.T) {
	var byHook, bySub sdktest.Recorder
	sup := build(t, &byHook, sdk.Spec{Name: "w", Service: sdktest.Script()})
	stop := bySub.Subscribe(sup)
	defer stop()
	if err := sup.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = byHook.Events() // does not panic outside a bubble
	shutdown(t, sup)
	stop()
	for name, rec := range map[string]*sdktest.Recorder{"hook": &byHook, "subscription": &bySub} {
		last, ok := rec.Last("/app", sdk.EventSupervisorState)
		if !ok || last.To != lifecycle.StateCompleted {
			t.Errorf("%s: last supervisor event %v, want →completed", name, last)
		}
	}
	equal(t, "w", byHook.Lines("/app/w"), []string{
		"child_added /app/w", "child_starting /app/w#1", "child_running /app/w#1",
		"child_stopping /app/w#1 stop=shutdown", "child_exited /app/w#1 exit=stopped",
		"child_stopped /app/w#1 stop=shutdown", "child_ended /app/w#1 →stopped",
	})
}

func TestRecorderEmpty(t *testing.T) {
	var rec sdktest.Recorder
	if len(rec.Events()) != 0 || rec.Timeline("") != nil || rec.States("/x") != nil {
		t.Error("an empty recorder has nothing")
	}
	if _, ok := rec.Last("", sdk.EventChildAdded); ok {
		t.Error("an empty recorder has no last event")
	}
}

// Hooks of nested supervisors and readers may meet: run with -race.
func TestRecorderConcurrent(t *testing.T) {
	var rec sdktest.Recorder
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				rec.Hook(sdk.Event{Type: sdk.EventChildRunning, Path: "/r/c", Attempt: uint64(i*100 + j)})
				_ = rec.Filter("/r/c")
			}
		})
	}
	wg.Wait()
	if n := len(rec.Events()); n != 800 {
		t.Errorf("%d events, want 800", n)
	}
}

func TestCompact(t *testing.T) {
	stop := &sdk.StopCause{} // its kind is unexported; only the sdk makes real ones
	for _, tc := range []struct {
		e    sdk.Event
		want string
	}{
		{sdk.Event{Type: sdk.EventChildExited, Path: "/a/b", Attempt: 2, From: lifecycle.StateRunning, Exit: sdk.ExitPanic}, "child_exited /a/b#2 exit=panic"},
		{sdk.Event{Type: sdk.EventChildBackoff, Path: "/a/b", Attempt: 1, To: lifecycle.StateBackoff, Reason: sdk.ReasonError}, "child_backoff /a/b#1 delay=0s reason=error"},
		{sdk.Event{Type: sdk.EventChildEnded, Path: "/a/b", Attempt: 3, To: lifecycle.StateCompleted}, "child_ended /a/b#3 →completed"},
		{sdk.Event{Type: sdk.EventChildStopping, Path: "/a/b", Attempt: 1, To: lifecycle.StateStopping, Stop: stop}, "child_stopping /a/b#1 stop=" + stop.Kind()},
		{sdk.Event{Type: sdk.EventCommandDone, Path: "/a/b", Command: "restart", Result: sdk.CommandMerged}, "command_done /a/b command=restart result=merged"},
		{sdk.Event{Type: sdk.EventSupervisorState, Path: "/a", To: lifecycle.StateShuttingDown, Stop: stop, ShutdownCause: sdk.CauseSignal}, "supervisor_state /a →shutting_down cause=signal"},
	} {
		if got := sdktest.Compact(tc.e); got != tc.want {
			t.Errorf("Compact(%v) = %q, want %q", tc.e, got, tc.want)
		}
	}
}
