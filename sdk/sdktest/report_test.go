package sdktest_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/sdktest"
)

// nestedReport is the report of a tree with a nested supervisor: a job
// that completed, a service stopped by the shutdown, and a wedged child
// abandoned.
func nestedReport(t *testing.T) *sdk.Report {
	t.Helper()
	sub, err := sdk.New("sub")
	if err != nil {
		t.Fatal(err)
	}
	wedged := sdktest.Script(sdktest.Stubborn())
	t.Cleanup(wedged.Release)
	if err := sub.Add(context.Background(), sdk.Spec{Name: "wedged", Service: wedged, StopTimeout: time.Second}, "test", "a wedged child"); err != nil {
		t.Fatal(err)
	}
	sup := newTree(t, nil,
		sdk.Spec{Name: "job", Restart: sdk.Transient, Service: sdktest.Script(sdktest.Return(nil))},
		sdk.Spec{Name: "svc", Service: sdktest.Script()},
		sdk.Spec{Name: "sub", Service: sub})
	sdktest.Settle()
	return shutdown(t, sup)
}

func TestReportAssertionsPass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rep := nestedReport(t)
		sdktest.ExpectStates(t, rep, map[string]lifecycle.State{
			"/app/job": lifecycle.StateCompleted, "/app/svc": lifecycle.StateStopped,
			"/app/sub": lifecycle.StateStopped, "/app/sub/wedged": lifecycle.StateFailed,
		})
		sdktest.ExpectOutcomes(t, rep, map[string]sdk.StopOutcome{
			"/app/job": sdk.OutcomeAlreadyExited, "/app/svc": sdk.OutcomeGraceful,
			"/app/sub": sdk.OutcomeGraceful, "/app/sub/wedged": sdk.OutcomeAbandoned,
		})
		sdktest.ExpectAbandoned(t, rep, "/app/sub/wedged")
		if c, ok := sdktest.FindChild(rep, "/app/sub/wedged"); !ok || c.Outcome != sdk.OutcomeAbandoned {
			t.Errorf("FindChild finds nested children: %+v, %v", c, ok)
		}
		if _, ok := sdktest.FindChild(rep, "/app/nope"); ok {
			t.Error("FindChild found a child that is not there")
		}
	})
}

// Every difference is reported, sorted by path, and the check goes on
// after the first; a missing report stops the test.
func TestReportAssertionsFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rep := nestedReport(t)
		var tb fakeTB
		tb.run(func(tb testing.TB) {
			if sdktest.ExpectStates(tb, rep, map[string]lifecycle.State{
				"/app/job": lifecycle.StateFailed, "/app/svc": lifecycle.StateStopped,
				"/app/sub": lifecycle.StateStopped, "/app/gone": lifecycle.StateStopped,
			}) {
				t.Error("ExpectStates returned true")
			}
		})
		tb.run(func(tb testing.TB) { sdktest.ExpectAbandoned(tb, rep) })
		tb.run(func(tb testing.TB) {
			sdktest.ExpectOutcomes(tb, rep, map[string]sdk.StopOutcome{
				"/app/job": sdk.OutcomeAlreadyExited, "/app/svc": sdk.OutcomeGraceful, "/app/sub": sdk.OutcomeGraceful, "/app/sub/wedged": "",
			})
		})
		equal(t, "errors", tb.errors, []string{
			"sdktest: report of /app: no child /app/gone (want state stopped)",
			"sdktest: report of /app: /app/job: state completed, want failed",
			"sdktest: report of /app: unexpected child /app/sub/wedged (state failed)",
			`sdktest: /app abandoned ["/app/sub/wedged"], want []`,
			`sdktest: report of /app: /app/sub/wedged: outcome abandoned, want ""`,
		})
		if tb.fatal {
			t.Error("differences are errors, not fatal")
		}

		var nilTB fakeTB
		nilTB.run(func(tb testing.TB) {
			sdktest.ExpectStates(tb, nil, nil)
			t.Error("went on after Fatalf")
		})
		if !nilTB.fatal {
			t.Error("a nil report is fatal")
		}
	})
}
