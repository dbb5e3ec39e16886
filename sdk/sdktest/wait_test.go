package sdktest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/sdktest"
)

// Inside a bubble a wait lets fake time run to the event it waits for,
// and returns at that exact instant; its deadline is fake time too.
func TestWaitStateFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec sdktest.Recorder
		begin := time.Now()
		newTree(t, &rec, sdk.Spec{Name: "w", Backoff: &sdk.Backoff{Initial: 500 * time.Millisecond, Max: time.Second, Multiplier: 1},
			Service: sdktest.Script(sdktest.RunFor(time.Second, errRefused), sdktest.Block())})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()

		e, err := rec.WaitState(ctx, "/app/w", lifecycle.StateBackoff)
		if err != nil || e.Type != sdk.EventChildBackoff || time.Since(begin) != time.Second {
			t.Fatalf("backoff after exactly 1s: %v, %v at %v", e, err, time.Since(begin))
		}
		e, err = rec.WaitState(ctx, "/app/w", lifecycle.StateRunning, lifecycle.StateReady)
		if err != nil || e.Attempt != 2 || time.Since(begin) != 1500*time.Millisecond {
			t.Fatalf("second attempt running at 1.5s: %v, %v at %v", e, err, time.Since(begin))
		}
		again, err := rec.WaitState(ctx, "/app/w", lifecycle.StateRunning)
		if err != nil || again.Seq != e.Seq || time.Since(begin) != 1500*time.Millisecond {
			t.Errorf("already running: the same event at once, got %v, %v at %v", again, err, time.Since(begin))
		}

		short, cancelShort := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancelShort()
		_, err = rec.WaitState(short, "/app/w", lifecycle.StateFailed)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(begin) != 11500*time.Millisecond {
			t.Fatalf("gives up at its fake deadline: %v at %v", err, time.Since(begin))
		}
		for _, want := range []string{"/app/w never reached [failed]", "its states: [starting running backoff starting running]", "child_running /app/w#2"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error says %q:\n%v", want, err)
			}
		}
	})
}

// WaitFor counts events recorded before the call, and examines every
// event, so one entered and left between two looks is not missed.
func TestWaitFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec sdktest.Recorder
		newTree(t, &rec, sdk.Spec{Name: "w", Backoff: sdk.NoBackoff(), Service: sdktest.FailTimes(3, errRefused, sdktest.Block())})
		time.Sleep(time.Second)
		ctx := context.Background()
		added, err := rec.WaitFor(ctx, sdktest.Match("/app/w", sdk.EventChildAdded))
		if err != nil || added.Type != sdk.EventChildAdded {
			t.Errorf("an event recorded before the call: %v, %v", added, err)
		}
		third, err := rec.WaitFor(ctx, func(e sdk.Event) bool { return e.Type == sdk.EventChildExited && e.Attempt == 3 })
		if err != nil || third.Exit != sdk.ExitError {
			t.Errorf("the third failure: %v, %v", third, err)
		}
		// WaitState is about the state now: /app/w was in backoff, but is
		// running for good, so waiting for backoff waits until the
		// deadline (and, without one, until synctest reports a deadlock).
		if n := len(rec.Filter("/app/w", sdk.EventChildBackoff)); n != 3 {
			t.Errorf("%d backoffs, want 3", n)
		}
		short, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if bo, err := rec.WaitState(short, "/app/w", lifecycle.StateBackoff); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("/app/w is running now, not in backoff; got %v, %v", bo, err)
		}
	})
}

// WaitReady wakes on the tree's events, and asks Status each time.
func TestWaitReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec sdktest.Recorder
		begin := time.Now()
		sup := newTree(t, &rec, sdk.Spec{Name: "db", Readiness: true, Backoff: sdk.NoBackoff(), Service: sdktest.Script(
			sdktest.Seq(sdktest.Ready(), sdktest.Sleep(3*time.Second), sdktest.Return(errRefused)), // ready at once, fails at 3s
			sdktest.ReadyAfter(2*time.Second),                                                      // ready again at 5s
		)})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := rec.WaitReady(ctx, sup); err != nil || time.Since(begin) != 0 {
			t.Fatalf("ready after Start: %v at %v", err, time.Since(begin))
		}
		time.Sleep(3 * time.Second)
		sdktest.Settle()
		if st, _ := sup.Status(ctx); st.Ready {
			t.Fatal("not ready while db restarts")
		}
		if err := rec.WaitReady(ctx, sup); err != nil || time.Since(begin) != 5*time.Second {
			t.Fatalf("ready again at 5s: %v at %v", err, time.Since(begin))
		}
		shutdown(t, sup)
		if err := rec.WaitReady(ctx, sup); err == nil || !strings.Contains(err.Error(), "ended") {
			t.Errorf("an ended tree will not be ready: %v", err)
		}
	})
}

// Outside a bubble the waits block on the recorder's events and return
// when they arrive, or at the context's deadline.
func TestWaitOutsideBubble(t *testing.T) {
	var rec sdktest.Recorder
	sup := build(t, &rec, sdk.Spec{Name: "db", Readiness: true, Service: sdktest.Script(sdktest.ReadyAfter(20 * time.Millisecond))},
		sdk.Spec{Name: "w", Backoff: sdk.NoBackoff(), Service: sdktest.FailTimes(2, errRefused, sdktest.Block())})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sup.Start(ctx) }() // WaitReady may be called before the start

	if err := rec.WaitReady(ctx, sup); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.WaitFor(ctx, func(e sdk.Event) bool { return e.Path == "/app/w" && e.Type == sdk.EventChildRunning && e.Attempt == 3 }); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancelShort()
	if _, err := rec.WaitState(short, "/app/w", lifecycle.StateFailed); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("gives up at the deadline: %v", err)
	}
}
