package sdktest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/sdktest"
)

var errBoom = errors.New("boom")

// The steps take exactly the fake time they say, and each attempt is
// recorded with what it returned and the cause its context ended with.
func TestStepsDirect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		begin := time.Now()
		svc := sdktest.Script(sdktest.RunFor(time.Second, errBoom), sdktest.Seq(sdktest.Sleep(time.Second)), sdktest.Block())
		ctx := context.Background()
		if err := svc.Serve(ctx); err != errBoom || time.Since(begin) != time.Second {
			t.Errorf("RunFor: %v after %v", err, time.Since(begin))
		}
		if err := svc.Serve(ctx); err != nil || time.Since(begin) != 2*time.Second {
			t.Errorf("a Seq that runs out returns nil: %v after %v", err, time.Since(begin))
		}
		errMine := errors.New("the test cancelled it")
		cctx, cancel := context.WithCancelCause(ctx)
		go func() { time.Sleep(time.Second); cancel(errMine) }()
		if err := svc.Serve(cctx); err != nil || time.Since(begin) != 3*time.Second {
			t.Errorf("Block returns nil once cancelled: %v after %v", err, time.Since(begin))
		}
		_ = svc.Serve(cctx) // beyond the script: the last step again, which returns at once
		var got []string
		for _, a := range svc.Attempts() {
			got = append(got, fmt.Sprintf("#%d %v–%v err=%v cause=%v", a.N, a.Started.Sub(begin), a.Ended.Sub(begin), a.Err, a.Cause))
		}
		equal(t, "attempts", got, []string{
			"#1 0s–1s err=boom cause=<nil>",
			"#2 1s–2s err=<nil> cause=<nil>",
			"#3 2s–3s err=<nil> cause=the test cancelled it",
			"#4 3s–3s err=<nil> cause=the test cancelled it",
		})
		if svc.Attempts()[2].Stop() != nil {
			t.Error("the test, not the supervisor, stopped attempt 3")
		}
	})
}

func TestPanicRecorded(t *testing.T) {
	svc := sdktest.Script(sdktest.Panic("kaboom"))
	func() {
		defer func() {
			if v := recover(); v != "kaboom" {
				t.Errorf("recovered %v", v)
			}
		}()
		_ = svc.Serve(context.Background())
	}()
	if a := svc.Attempts(); len(a) != 1 || !a[0].Panicked || a[0].Running() {
		t.Errorf("the panic is recorded: %+v", a)
	}
}

func TestReadyUnsupervised(t *testing.T) {
	svc := sdktest.Script(sdktest.Seq(sdktest.Ready(), sdktest.Return(errBoom)))
	if err := svc.Serve(context.Background()); !errors.Is(err, sdk.ErrNotSupervised) {
		t.Errorf("Ready outside a supervisor: %v", err)
	}
}

func TestFuncAndZeroStep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sdktest.Script(sdktest.Func(func(context.Context) error { return errBoom })).Serve(ctx); err != errBoom {
		t.Errorf("Func: %v", err)
	}
	if err := sdktest.Script(sdktest.Step{}).Serve(ctx); err != nil {
		t.Errorf("the zero Step blocks until cancelled, then returns nil: %v", err)
	}
}

// Under a supervisor, an attempt it stopped saw a *sdk.StopCause saying
// why and on whose request.
func TestStopCauseSeen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := sdktest.Script()
		sup := newTree(t, nil, sdk.Spec{Name: "w", Service: svc, Backoff: sdk.NoBackoff()})
		if _, err := sup.Restart(context.Background(), "w", "ops", "config reload"); err != nil {
			t.Fatal(err)
		}
		shutdown(t, sup)
		a := svc.Attempts()
		if len(a) != 2 {
			t.Fatalf("%d attempts, want 2", len(a))
		}
		if sc := a[0].Stop(); sc == nil || !errors.Is(sc, sdk.ErrRestartRequested) || sc.RequestedBy != "ops" || sc.Reason != "config reload" {
			t.Errorf("attempt 1 stopped by the restart: %v", a[0].Cause)
		}
		if sc := a[1].Stop(); sc == nil || !errors.Is(sc, sdk.ErrShutdown) || sc.RequestedBy != "test" {
			t.Errorf("attempt 2 stopped by the shutdown: %v", a[1].Cause)
		}
	})
}

// A stubborn child is abandoned after its stop timeout, exactly; until
// released its attempt runs on, and has seen the shutdown's cause.
func TestStubborn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := sdktest.Script(sdktest.Stubborn())
		t.Cleanup(svc.Release)
		sup := newTree(t, nil, sdk.Spec{Name: "wedged", Service: svc, StopTimeout: 2 * time.Second})
		begin := time.Now()
		rep := shutdown(t, sup)
		if took := time.Since(begin); took != 2*time.Second {
			t.Errorf("the shutdown waited %v, want the stop timeout, 2s", took)
		}
		sdktest.ExpectAbandoned(t, rep, "/app/wedged")
		sdktest.ExpectOutcomes(t, rep, map[string]sdk.StopOutcome{"/app/wedged": sdk.OutcomeAbandoned})
		a := svc.Attempts()[0]
		if !a.Running() || !errors.Is(a.Stop(), sdk.ErrShutdown) {
			t.Errorf("still running, having seen the shutdown: %+v", a)
		}
		svc.Release()
		if a := svc.Attempts()[0]; a.Running() || a.Err != nil {
			t.Errorf("released, it returns nil: %+v", a)
		}
		svc.Release() // idempotent
	})
}

// Released before it runs, a stubborn step returns at once.
func TestStubbornReleasedEarly(t *testing.T) {
	svc := sdktest.Script(sdktest.Stubborn())
	svc.Release()
	if err := svc.Serve(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestSlowStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec sdktest.Recorder
		sup := newTree(t, &rec, sdk.Spec{Name: "slow", Service: sdktest.Script(sdktest.SlowStop(300 * time.Millisecond)), StopTimeout: time.Second})
		rep := shutdown(t, sup)
		stopped, ok := rec.Last("/app/slow", sdk.EventChildStopped)
		if !ok || stopped.Waited != 300*time.Millisecond {
			t.Errorf("stopped after exactly 300ms: %v (%v)", stopped.Waited, ok)
		}
		sdktest.ExpectOutcomes(t, rep, map[string]sdk.StopOutcome{"/app/slow": sdk.OutcomeGraceful})
	})
}

func TestReadyAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec sdktest.Recorder
		begin := time.Now()
		newTree(t, &rec, sdk.Spec{Name: "db", Readiness: true, Service: sdktest.Script(sdktest.ReadyAfter(2 * time.Second))})
		if took := time.Since(begin); took != 2*time.Second {
			t.Errorf("Start returned after %v, want 2s", took)
		}
		equal(t, "db", rec.Timeline("/app/db", sdk.EventChildRunning, sdk.EventChildReady), []string{
			"+0s child_running /app/db#1", "+2s child_ready /app/db#1",
		})
	})
}

// Heartbeats keep a child with StaleAfter alive; a silent one is stopped
// as stale at exactly StaleAfter.
func TestHeartbeatEvery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec sdktest.Recorder
		beating, silent := sdktest.Script(sdktest.HeartbeatEvery(time.Second)), sdktest.Script(sdktest.Block())
		newTree(t, &rec,
			sdk.Spec{Name: "beating", Service: beating, StaleAfter: 3 * time.Second},
			sdk.Spec{Name: "silent", Service: silent, StaleAfter: 3 * time.Second, Restart: sdk.Temporary})
		time.Sleep(10 * time.Second)
		equal(t, "stale", rec.Timeline("", sdk.EventChildStale), []string{"+3s child_stale /app/silent#1"})
		if n := len(beating.Attempts()); n != 1 {
			t.Errorf("the beating child ran %d attempts, want 1", n)
		}
		if a := silent.Attempts(); len(a) != 1 || !errors.Is(a[0].Stop(), sdk.ErrStale) {
			t.Errorf("the silent child was stopped as stale: %+v", a)
		}
	})
}

// FailTimes fails n attempts, then runs its last step: a transient job
// that completes on the third try.
func TestFailTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec sdktest.Recorder
		job := sdktest.FailTimes(2, errBoom, sdktest.Return(nil))
		newTree(t, &rec, sdk.Spec{Name: "job", Service: job, Restart: sdk.Transient, Backoff: grow})
		ended, err := rec.WaitState(context.Background(), "/app/job", lifecycle.StateCompleted)
		if err != nil || ended.Attempt != 3 {
			t.Fatalf("completed on attempt 3: %v, %v", ended, err)
		}
		var errs []error
		for _, a := range job.Attempts() {
			errs = append(errs, a.Err)
		}
		equal(t, "errors", errs, []error{errBoom, errBoom, nil})
	})
}
