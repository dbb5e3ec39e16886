package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// A one_for_one supervisor with a flaky transient child: it fails twice,
// is restarted each time, and then completes. The event hook prints a few
// kinds of events and cancels the supervisor once the child has ended.
func ExampleNew() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sup, err := sdk.New("app", sdk.WithEventHook(func(e sdk.Event) {
		switch e.Type {
		case sdk.EventChildExited, sdk.EventChildRestarting, sdk.EventChildEnded:
			fmt.Println(e)
		}
		if e.Type == sdk.EventChildEnded && e.Path == "/app/flaky" {
			cancel()
		}
	}))
	if err != nil {
		panic(err)
	}
	failures := 0 // attempts of one child run one after another
	err = sup.Add(context.Background(), sdk.Spec{
		Name:    "flaky",
		Restart: sdk.Transient,
		Backoff: sdk.NoBackoff(),
		Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if failures < 2 {
				failures++
				return fmt.Errorf("attempt %d: connection refused", failures)
			}
			return nil // done: a transient child that returns nil is not restarted
		}),
	}, "test", "declared by the test")
	if err != nil {
		panic(err)
	}
	fmt.Println("serve:", sup.Serve(ctx))
	// Output:
	// child_exited /app/flaky attempt=1 exit=error err="attempt 1: connection refused"
	// child_restarting /app/flaky attempt=1 reason=error
	// child_exited /app/flaky attempt=2 exit=error err="attempt 2: connection refused"
	// child_restarting /app/flaky attempt=2 reason=error
	// child_exited /app/flaky attempt=3 exit=normal
	// child_ended /app/flaky attempt=3 running→completed cause="returned"
	// serve: <nil>
}

// Each restart type, after a first attempt that returns nil ("clean") or
// an error. A restarted child runs until the supervisor is cancelled, which
// happens once every child has either ended or started its second attempt.
func ExampleSpec_restartTypes() {
	errRetryable := errors.New("retryable")
	types := map[string]sdk.RestartType{
		"permanent": sdk.Permanent, "transient": sdk.Transient,
		"temporary": sdk.Temporary, "custom": sdk.Custom,
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	attempts := map[string]uint64{}
	final := map[string]string{}
	settled := map[string]bool{}
	sup, _ := sdk.New("demo", sdk.WithEventHook(func(e sdk.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Type {
		case sdk.EventChildRunning:
			attempts[e.Path] = e.Attempt
			if e.Attempt == 2 {
				settled[e.Path] = true
			}
		case sdk.EventChildEnded:
			final[e.Path] = e.To.String()
			settled[e.Path] = true
		}
		if len(settled) == 2*len(types) {
			cancel()
		}
	}))
	for name, rt := range types {
		for _, how := range []string{"clean", "error"} {
			calls := 0 // the attempts of one child run one after another
			spec := sdk.Spec{Name: name + "-" + how, Restart: rt, Backoff: sdk.NoBackoff()}
			spec.Service = sdk.ServiceFunc(func(ctx context.Context) error {
				calls++
				if calls > 1 {
					<-ctx.Done()
					return nil
				}
				if how == "error" {
					return errRetryable
				}
				return nil
			})
			if rt == sdk.Custom {
				spec.RestartIf = func(e sdk.Exit) bool { return errors.Is(e.Err, errRetryable) }
			}
			if err := sup.Add(context.Background(), spec, "test", "declared by the test"); err != nil {
				panic(err)
			}
		}
	}
	if err := sup.Serve(ctx); err != nil {
		panic(err)
	}
	var paths []string
	for p := range attempts {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Printf("%-22s attempts=%d ended %s\n", p, attempts[p], final[p])
	}
	// Output:
	// /demo/custom-clean     attempts=1 ended completed
	// /demo/custom-error     attempts=2 ended stopped
	// /demo/permanent-clean  attempts=2 ended stopped
	// /demo/permanent-error  attempts=2 ended stopped
	// /demo/temporary-clean  attempts=1 ended completed
	// /demo/temporary-error  attempts=1 ended failed
	// /demo/transient-clean  attempts=1 ended completed
	// /demo/transient-error  attempts=2 ended stopped
}

// strategyDemo runs children a, b and c under strategy; b fails on its
// first attempt. It prints the stops and restarts, and cancels the
// supervisor once c runs its second attempt.
func strategyDemo(strategy sdk.Strategy) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sup, _ := sdk.New("shop", sdk.WithStrategy(strategy), sdk.WithEventHook(func(e sdk.Event) {
		switch e.Type {
		case sdk.EventChildStopping, sdk.EventChildRestarting:
			fmt.Println(e)
		case sdk.EventChildRunning:
			if e.Path == "/shop/c" && e.Attempt == 2 {
				fmt.Println("-- cancel")
				cancel()
			}
		}
	}))
	for _, name := range []string{"a", "b", "c"} {
		calls := 0
		_ = sup.Add(context.Background(), sdk.Spec{Name: name, Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
			calls++
			if name == "b" && calls == 1 {
				return errors.New("lost connection")
			}
			<-ctx.Done()
			return nil
		})}, "test", "declared by the test")
	}
	fmt.Println("serve:", sup.Serve(ctx))
}

// Under one_for_all, b's failure stops every sibling, then all three start
// again in declaration order.
func ExampleWithStrategy_oneForAll() {
	strategyDemo(sdk.OneForAll)
	// Output:
	// child_stopping /shop/c attempt=1 running→stopping cause="/shop/b exited (error)"
	// child_stopping /shop/a attempt=1 running→stopping cause="/shop/b exited (error)"
	// child_restarting /shop/a attempt=1 reason=sibling origin=/shop/b
	// child_restarting /shop/b attempt=1 reason=error
	// child_restarting /shop/c attempt=1 reason=sibling origin=/shop/b
	// -- cancel
	// child_stopping /shop/c attempt=2 running→stopping by="context" cause="context ended: context canceled"
	// child_stopping /shop/b attempt=2 running→stopping by="context" cause="context ended: context canceled"
	// child_stopping /shop/a attempt=2 running→stopping by="context" cause="context ended: context canceled"
	// serve: <nil>
}

// Under rest_for_one, b's failure restarts b and the children declared
// after it; a keeps running its first attempt.
func ExampleWithStrategy_restForOne() {
	strategyDemo(sdk.RestForOne)
	// Output:
	// child_stopping /shop/c attempt=1 running→stopping cause="/shop/b exited (error)"
	// child_restarting /shop/b attempt=1 reason=error
	// child_restarting /shop/c attempt=1 reason=sibling origin=/shop/b
	// -- cancel
	// child_stopping /shop/c attempt=2 running→stopping by="context" cause="context ended: context canceled"
	// child_stopping /shop/b attempt=2 running→stopping by="context" cause="context ended: context canceled"
	// child_stopping /shop/a attempt=1 running→stopping by="context" cause="context ended: context canceled"
	// serve: <nil>
}

// A supervision tree: /root supervises /root/db, which supervises a worker
// that always fails. Each meltdown of /root/db is one failure of /root;
// when they repeat, /root melts down too and Serve returns the error.
func ExampleSupervisor_tree() {
	once := sdk.WithIntensity(sdk.Intensity{MaxRestarts: 1, Period: time.Hour})
	root, _ := sdk.New("root", once, sdk.WithEventHook(func(e sdk.Event) {
		switch {
		case e.Type == sdk.EventMeltdown:
			fmt.Printf("meltdown of %s: %s\n", e.Path, e.Cause)
		case e.Type == sdk.EventChildExited && e.Path == "/root/db":
			fmt.Println(e)
		}
	}))
	db, _ := sdk.New("db", once)
	_ = db.Add(context.Background(), sdk.Spec{Name: "worker", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(context.Context) error {
		return errors.New("connection refused")
	})}, "test", "declared by the test")
	_ = root.Add(context.Background(), sdk.Spec{Name: "db", Backoff: sdk.NoBackoff(), Service: db}, "test", "declared by the test")

	err := root.Serve(context.Background())
	fmt.Println("serve:", err)
	fmt.Println("is meltdown:", errors.Is(err, sdk.ErrMeltdown))
	// Output:
	// meltdown of /root/db: /root/db/worker exceeded the restart intensity
	// child_exited /root/db attempt=1 exit=error err="sdk: supervisor /root/db: restart 2 within 1h0m0s would exceed the limit of 1 (meltdown)"
	// meltdown of /root/db: /root/db/worker exceeded the restart intensity
	// child_exited /root/db attempt=2 exit=error err="sdk: supervisor /root/db: restart 2 within 1h0m0s would exceed the limit of 1 (meltdown)"
	// meltdown of /root: /root/db exceeded the restart intensity
	// serve: sdk: supervisor /root: restart 2 within 1h0m0s would exceed the limit of 1 (meltdown)
	// is meltdown: true
}
