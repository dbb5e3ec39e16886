package sdktest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/sdktest"
)

// A flaky service as a test sees it: its dependency refuses twice, and
// the supervisor restarts it after 10ms, then 20ms (no jitter). The
// recorder tells the restarts, the scripted service what each attempt
// returned and why it was stopped, the report how the child ended.
//
// An Example cannot open a synctest bubble (synctest.Test needs a
// *testing.T), so this one runs on the real clock and prints the
// scheduled delays, which are exact, rather than measured times, which
// are not. Inside a bubble the same test can assert the instant of each
// restart: see docs/testing.md.
func Example() {
	var rec sdktest.Recorder
	sup, err := sdk.New("app", sdk.WithEventHook(rec.Hook))
	if err != nil {
		panic(err)
	}
	flaky := sdktest.FailTimes(2, errors.New("connection refused"), sdktest.Block())
	err = sup.Add(context.Background(), sdk.Spec{
		Name:    "flaky",
		Service: flaky,
		Backoff: &sdk.Backoff{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 2},
	}, "example", "a service whose dependency is flaky")
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sup.Start(ctx); err != nil {
		panic(err)
	}
	// Blocks on the recorder's events, not on a sleep.
	if _, err := rec.WaitFor(ctx, func(e sdk.Event) bool {
		return e.Path == "/app/flaky" && e.Type == sdk.EventChildRunning && e.Attempt == 3
	}); err != nil {
		panic(err)
	}
	rep, err := sup.Shutdown(ctx, "example", "done")
	if err != nil {
		panic(err)
	}

	// Shutdown returned once the hook had seen the last event: nothing is
	// missing, even outside a bubble.
	for _, line := range rec.Lines("/app/flaky", sdk.EventChildRunning, sdk.EventChildExited, sdk.EventChildBackoff, sdk.EventChildEnded) {
		fmt.Println(line)
	}
	for _, a := range flaky.Attempts() {
		if sc := a.Stop(); sc != nil {
			fmt.Printf("attempt %d: stopped (%s) by %s: %s\n", a.N, sc.Kind(), sc.RequestedBy, sc.Reason)
		} else {
			fmt.Printf("attempt %d: returned %v\n", a.N, a.Err)
		}
	}
	c, _ := sdktest.FindChild(rep, "/app/flaky")
	fmt.Printf("report: %s %s (%s) after %d restarts\n", c.Path, c.State, c.Outcome, c.Restarts)
	// Output:
	// child_running /app/flaky#1
	// child_exited /app/flaky#1 exit=error
	// child_backoff /app/flaky#1 delay=10ms reason=error
	// child_running /app/flaky#2
	// child_exited /app/flaky#2 exit=error
	// child_backoff /app/flaky#2 delay=20ms reason=error
	// child_running /app/flaky#3
	// child_exited /app/flaky#3 exit=stopped
	// child_ended /app/flaky#3 →stopped
	// attempt 1: returned connection refused
	// attempt 2: returned connection refused
	// attempt 3: stopped (shutdown) by example: done
	// report: /app/flaky stopped (graceful) after 2 restarts
}
