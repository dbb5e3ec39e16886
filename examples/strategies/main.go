// Command strategies shows what each restart strategy restarts when one
// child fails: the same three children (a, b, c; b fails once) under
// one_for_one, one_for_all and rest_for_one.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/supervisor-sdk/supervisor/sdk"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "strategies:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	for _, st := range []sdk.Strategy{sdk.OneForOne, sdk.OneForAll, sdk.RestForOne} {
		restarted, err := demo(st)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%-12s b failed → restarted: %s\n", st, strings.Join(restarted, ", "))
	}
	return nil
}

// demo runs a, b, c under the strategy until b has failed once and the
// restarts it caused are running again, and returns the restarted names.
func demo(st sdk.Strategy) ([]string, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu        sync.Mutex
		restarted []string
		pending   = -1 // restarts still to see running; -1 until b has failed
	)
	sup, err := sdk.New("shop", sdk.WithStrategy(st), sdk.WithEventHook(func(e sdk.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case e.Type == sdk.EventChildExited && e.Path == "/shop/b" && e.Exit == sdk.ExitError:
			pending = map[sdk.Strategy]int{sdk.OneForOne: 1, sdk.OneForAll: 3, sdk.RestForOne: 2}[st]
		case e.Type == sdk.EventChildRestarting:
			restarted = append(restarted, strings.TrimPrefix(e.Path, "/shop/"))
		case e.Type == sdk.EventChildRunning && e.Attempt == 2 && pending > 0:
			if pending--; pending == 0 {
				cancel()
			}
		}
	}))
	if err != nil {
		return nil, err
	}
	var once sync.Once
	for _, name := range []string{"a", "b", "c"} {
		err := sup.Add(context.Background(), sdk.Spec{Name: name, Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
			failed := false
			if name == "b" {
				once.Do(func() { failed = true })
			}
			if failed {
				return errors.New("out of stock")
			}
			<-ctx.Done()
			return nil
		})}, "strategies", "part of the example")
		if err != nil {
			return nil, err
		}
	}
	if err := sup.Serve(ctx); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	return restarted, nil
}
