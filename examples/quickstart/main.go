// Command quickstart runs a small supervision tree: a service, a flaky
// worker that fails and is restarted with backoff, and a nested supervisor.
// It prints every lifecycle event as a line, the state-set metric as an
// OpenTelemetry SDK collects it, and the final exit report as JSON.
//
// It stops after -for (default 3s), or on Ctrl-C.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

func main() {
	runFor := flag.Duration("for", 3*time.Second, "how long to run before shutting down (0: until Ctrl-C)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	metrics, err := lifecycle.NewStateMetrics(lifecycle.WithMeterProvider(mp))
	if err != nil {
		return err
	}
	defer metrics.Close()

	start := time.Now()
	printEvent := func(e sdk.Event) {
		fmt.Printf("%7.3fs  %s\n", e.Time.Sub(start).Seconds(), e)
	}
	root, err := sdk.New("root", sdk.WithEventHook(printEvent), sdk.WithStateMetrics(metrics))
	if err != nil {
		return err
	}
	jobs, err := sdk.New("jobs", sdk.WithStrategy(sdk.OneForAll))
	if err != nil {
		return err
	}
	var flakyRuns atomic.Int32
	for _, err := range []error{
		root.Add(sdk.Spec{Name: "api", Role: sdk.RoleService, Service: sdk.ServiceFunc(idle)}),
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

	// Show the state set once the flaky worker has had time to recover.
	go func() {
		select {
		case <-time.After(1500 * time.Millisecond):
			printMetrics(reader)
		case <-ctx.Done():
		}
	}()

	serveErr := root.Serve(ctx)
	out, err := json.MarshalIndent(root.Health(), "", "  ")
	if err != nil {
		return err
	}
	fmt.Printf("final health:\n%s\n", out)
	return serveErr
}

func idle(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// printMetrics prints the state-set series that are 1: the current state of
// each lifecycle, as a metrics backend would show it.
func printMetrics(reader *sdkmetric.ManualReader) {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println("collect:", err)
		return
	}
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				continue
			}
			for _, dp := range sum.DataPoints {
				if dp.Value != 1 {
					continue
				}
				var kv []string
				for _, a := range dp.Attributes.ToSlice() {
					kv = append(kv, fmt.Sprintf("%s=%q", a.Key, a.Value.AsString()))
				}
				lines = append(lines, fmt.Sprintf("  %s{%s} 1", m.Name, strings.Join(kv, ",")))
			}
		}
	}
	sort.Strings(lines)
	fmt.Println("state-set metric, series at 1:")
	for _, l := range lines {
		fmt.Println(l)
	}
}
