// Command quickstart runs a small service as a supervision tree:
//
//	/root             one_for_one
//	  /root/api       an HTTP server that declares readiness and serves the probes
//	  /root/workers   a pool of three workers
//	  /root/jobs      a nested one_for_all supervisor
//	    /root/jobs/flaky    fails three times, restarted with backoff
//	    /root/jobs/indexer  restarted with it
//
// It prints every lifecycle event as a line, serves /livez, /readyz and
// /statusz on -addr, and after -for (or on Ctrl-C; a second Ctrl-C stops at
// once) shuts down and prints the exit report as JSON.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/probe"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "where to serve the probes")
	runFor := flag.Duration("for", 0, "shut down after this long (0: run until Ctrl-C)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *addr, *runFor); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, addr string, runFor time.Duration) error {
	start := time.Now()
	var mu sync.Mutex // nested supervisors call the hook from their own goroutines
	root, err := sdk.New("root", sdk.WithEventHook(func(e sdk.Event) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "%7.3fs  %s\n", time.Since(start).Seconds(), e)
	}))
	if err != nil {
		return err
	}
	if err := build(root, addr); err != nil {
		return err
	}

	stop := sdk.NotifyShutdown(root) // Ctrl-C: graceful; twice: immediate
	defer stop()
	if err := root.Start(ctx); err != nil {
		return err
	}
	mu.Lock()
	fmt.Fprintf(out, "started: probes on http://%s/statusz\n", addr)
	mu.Unlock()
	if runFor > 0 {
		select {
		case <-time.After(runFor):
			root.Shutdown(ctx, "quickstart", fmt.Sprintf("ran for %s", runFor))
		case <-waitDone(root):
		}
	}
	report, err := root.Wait(ctx)
	if report != nil {
		b, _ := json.MarshalIndent(report, "", "  ")
		mu.Lock()
		fmt.Fprintf(out, "exit report:\n%s\n", b)
		mu.Unlock()
	}
	return err
}

func waitDone(s *sdk.Supervisor) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		s.Wait(context.Background())
	}()
	return ch
}

func build(root *sdk.Supervisor, addr string) error {
	workers, err := sdk.NewPool("workers", sdk.Spec{Name: "worker", Role: sdk.RoleWorker})
	if err != nil {
		return err
	}
	for range 3 {
		if _, err := workers.Start(sdk.ServiceFunc(worker)); err != nil {
			return err
		}
	}
	jobs, err := sdk.New("jobs", sdk.WithStrategy(sdk.OneForAll))
	if err != nil {
		return err
	}
	var flakyRuns atomic.Int32
	for _, err := range []error{
		root.Add(sdk.Spec{Name: "api", Role: sdk.RoleService, Readiness: true, StopTimeout: 3 * time.Second,
			Service: httpServer(addr, probe.Handler(root))}),
		root.Add(sdk.Spec{Name: "workers", Service: workers, DependsOn: []string{"api"}}),
		root.Add(sdk.Spec{Name: "jobs", Service: jobs}),
		jobs.Add(sdk.Spec{Name: "flaky", Role: sdk.RoleWorker,
			Backoff: &sdk.Backoff{Initial: 200 * time.Millisecond, Max: 2 * time.Second, Multiplier: 2, Jitter: sdk.JitterEqual},
			Service: sdk.ServiceFunc(func(ctx context.Context) error {
				if flakyRuns.Add(1) <= 3 {
					time.Sleep(50 * time.Millisecond)
					return errors.New("upstream connection refused")
				}
				return idle(ctx)
			})}),
		jobs.Add(sdk.Spec{Name: "indexer", Service: sdk.ServiceFunc(idle)}),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// httpServer serves h on addr, signals readiness once it listens, and
// shuts down gracefully when its context ends.
func httpServer(addr string, h http.Handler) sdk.Service {
	return sdk.ServiceFunc(func(ctx context.Context) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		sdk.Ready(ctx)
		select {
		case err := <-served:
			return err
		case <-ctx.Done():
		}
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		err = srv.Shutdown(shutCtx)
		<-served
		return err
	})
}

// worker heartbeats while it waits for work that never comes.
func worker(ctx context.Context) error {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			sdk.Heartbeat(ctx)
		}
	}
}

func idle(ctx context.Context) error {
	<-ctx.Done()
	return nil
}
