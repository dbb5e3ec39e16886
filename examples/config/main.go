// Command config runs a supervision tree declared in a YAML file: the file
// chooses the strategy, intensity, backoff and timeouts, and which
// registered tasks run where, so a policy changes without recompiling.
//
// It registers three tasks (a ticker that logs, a flaky job and a one-shot
// job), loads the file given by -config, builds the tree, runs it for -for,
// printing every event as a line, then shuts it down within the file's
// shutdown deadline and prints the exit report as JSON.
//
//	go run ./examples/config -config examples/config/tree.yaml -for 2s
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/supervisor-sdk/supervisor/config"
	"github.com/supervisor-sdk/supervisor/sdk"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its arguments and output, so that tests
// can run it in-process.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.SetOutput(stdout)
	path := fs.String("config", "examples/config/tree.yaml", "the tree to run (.yaml, .yml or .json)")
	runFor := fs.Duration("for", 2*time.Second, "how long to run before shutting down (0: until Ctrl-C)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	// Output comes from the supervisors' goroutines and from the tasks.
	var mu sync.Mutex
	printf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdout, format, args...)
	}

	reg, err := registry(printf)
	if err != nil {
		return err
	}
	cfg, err := config.LoadFile(*path)
	if err != nil {
		return err
	}
	tree, err := config.Build(cfg, reg, sdk.WithEventHook(func(e sdk.Event) { printf("%s\n", e) }))
	if err != nil {
		return err
	}

	if err := tree.Root.Start(ctx); err != nil {
		return err
	}
	wait := ctx.Done()
	if *runFor > 0 {
		timer := time.NewTimer(*runFor)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-wait:
		}
	} else {
		<-wait
	}

	rep, err := tree.Shutdown(context.Background(), "config-example", "run time elapsed")
	out, jerr := json.MarshalIndent(rep, "", "  ")
	if jerr != nil {
		return jerr
	}
	printf("report:\n%s\n", out)
	return err
}

// registry registers the tasks the configuration can name.
func registry(printf func(string, ...any)) (*config.Registry, error) {
	reg := &config.Registry{}
	var flakyRuns atomic.Int32
	return reg, errors.Join(
		reg.Register("ticker", func(fc config.FactoryContext) (sdk.Service, error) {
			return sdk.ServiceFunc(func(ctx context.Context) error {
				t := time.NewTicker(500 * time.Millisecond)
				defer t.Stop()
				for n := 1; ; n++ {
					select {
					case <-ctx.Done():
						return nil
					case <-t.C:
						printf("%s: tick %d\n", fc.Path, n)
					}
				}
			}), nil
		}),
		reg.Register("flaky", func(fc config.FactoryContext) (sdk.Service, error) {
			return sdk.ServiceFunc(func(ctx context.Context) error {
				if n := flakyRuns.Add(1); n <= 2 {
					return fmt.Errorf("attempt %d: upstream not ready", n)
				}
				printf("%s: done\n", fc.Path)
				return nil
			}), nil
		}),
		reg.Register("once", func(fc config.FactoryContext) (sdk.Service, error) {
			return sdk.ServiceFunc(func(ctx context.Context) error {
				printf("%s: report written\n", fc.Path)
				return nil
			}), nil
		}),
	)
}
