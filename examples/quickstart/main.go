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
// once) shuts down and prints the exit report as a table (child, final
// state, attempts, restarts, stop outcome, stop time, last error); -json
// prints the full report as JSON instead.
//
// -fail=jobs/flaky (or jobs/indexer) makes that child fail permanently: it
// fails at its first attempt and is not restarted, so it stays in the
// state failed while the rest of the tree runs, and Prometheus, scraping
// /metrics with the rules in deploy/prometheus, fires SupervisedChildFailed
// for it after a minute. The e2e module's TestQuickstartFailedChildAlert
// runs exactly that.
//
// It reports the tree to OpenTelemetry through the otelsup adapter: its
// metrics are served for Prometheus on -addr at /metrics
// (supervisor_child_status, supervisor_child_restarts_total, ..., with
// go_* and process_*). Everything else is the otelexport setup, driven by
// the standard OTEL_* variables: with OTEL_EXPORTER_OTLP_ENDPOINT set (for
// example http://127.0.0.1:4317, the collector of docker-compose.otel.yml)
// it also exports its spans and metrics over OTLP (gRPC unless
// OTEL_EXPORTER_OTLP_PROTOCOL says http/protobuf); OTEL_METRICS_EXPORTER=none
// keeps the metrics to /metrics (for Jaeger, which takes no metrics);
// OTEL_SERVICE_NAME names it (default quickstart). A failed export is
// logged and does not change the exit status. As a demo, it pushes metrics
// every 10s unless OTEL_METRIC_EXPORT_INTERVAL says otherwise.
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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/supervisor-sdk/supervisor/otelsup"
	"github.com/supervisor-sdk/supervisor/otelsup/otelexport"
	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/probe"
)

// options are the command line's flags.
type options struct {
	addr   string        // where to serve the probes and /metrics
	runFor time.Duration // shut down after this long; 0: on a signal
	fail   string        // the child to fail permanently, relative to the root; "": none
	json   bool          // print the exit report as JSON rather than a table
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8080", "where to serve the probes")
	flag.DurationVar(&o.runFor, "for", 0, "shut down after this long (0: run until Ctrl-C)")
	flag.StringVar(&o.fail, "fail", "", "make this child fail permanently, so it ends failed and SupervisedChildFailed fires: "+strings.Join(failable, " or "))
	flag.BoolVar(&o.json, "json", false, "print the exit report as JSON instead of a table")
	flag.Parse()
	if os.Getenv("OTEL_METRIC_EXPORT_INTERVAL") == "" {
		os.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "10000") // rather than 60s: a demo is watched
	}
	if err := run(context.Background(), os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, o options) (err error) {
	if err := checkFail(o.fail); err != nil {
		return err
	}
	start := time.Now()
	var mu sync.Mutex // nested supervisors call the hook from their own goroutines
	tel, err := setupTelemetry(ctx)
	if err != nil {
		return err
	}
	// Last, once the tree has stopped (Start failed, or Wait returned): its
	// final spans and states are flushed, then the adapter lets go.
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		err = errors.Join(err, tel.shutdown(context.WithoutCancel(ctx), out))
	}()
	root, err := sdk.New("root", append(tel.adapter.Options(), sdk.WithEventHook(func(e sdk.Event) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "%7.3fs  %s\n", time.Since(start).Seconds(), e)
	}))...)
	if err != nil {
		return err
	}
	bound := make(chan net.Addr, 1)
	if err := build(root, o.addr, o.fail, tel.metrics, bound); err != nil {
		return err
	}

	stop := sdk.NotifyShutdown(root) // Ctrl-C: graceful; twice: immediate
	defer stop()
	if err := root.Start(ctx); err != nil {
		return err
	}
	listening := <-bound // the api is ready, so it listens
	mu.Lock()
	fmt.Fprintf(out, "started: probes on http://%s/statusz, metrics on http://%s/metrics\n", listening, listening)
	fmt.Fprintf(out, "telemetry: %s\n", tel.describe)
	mu.Unlock()
	if o.runFor > 0 {
		select {
		case <-time.After(o.runFor):
			root.Shutdown(ctx, "quickstart", fmt.Sprintf("ran for %s", o.runFor))
		case <-waitDone(root):
		}
	}
	report, err := root.Wait(ctx)
	if report != nil {
		mu.Lock()
		defer mu.Unlock()
		if o.json {
			b, _ := json.MarshalIndent(report, "", "  ")
			fmt.Fprintf(out, "exit report:\n%s\n", b)
		} else {
			err = errors.Join(err, writeSummary(out, report))
		}
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

// telemetry is the OpenTelemetry side of the quickstart: the SDK providers
// and the adapter that feeds them the tree's events.
type telemetry struct {
	providers *otelexport.Providers
	adapter   *otelsup.Adapter
	metrics   http.Handler // /metrics
	describe  string
}

// setupTelemetry sets up what the OTEL_* variables ask for, as any
// application using otelexport would (nothing is exported when none is
// set), and serves the metrics for Prometheus on /metrics whatever they
// say, with the Go runtime's and the process's collectors.
func setupTelemetry(ctx context.Context) (*telemetry, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	p, err := otelexport.Setup(ctx, otelexport.WithPrometheus(reg),
		// The default name; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
		otelexport.WithResourceOptions(resource.WithAttributes(semconv.ServiceName("quickstart"))))
	if err != nil {
		return nil, err
	}
	a, err := otelsup.New(p.AdapterOptions()...)
	if err != nil {
		return nil, errors.Join(err, p.Shutdown(ctx))
	}
	describe := p.String()
	if !strings.Contains(describe, "otlp") {
		describe += "; OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 exports spans and metrics over OTLP"
	}
	return &telemetry{
		providers: p,
		adapter:   a,
		metrics:   promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		describe:  describe,
	}, nil
}

// shutdown flushes and stops the providers, within 5s, then closes the
// adapter. Call it once the tree has stopped: the tree's last spans (its
// shutdown and exit report) have ended by then, and the final states are
// exported before the adapter stops reporting them. A failed flush (the
// collector is down, or, like Jaeger's, has no metrics service) is
// reported on out, not in the exit status: the tree itself ended as its
// report says.
func (t *telemetry) shutdown(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := t.providers.Shutdown(ctx); err != nil {
		fmt.Fprintf(out, "telemetry: the last export failed: %v\n", err)
	}
	return t.adapter.Close()
}

// build declares the tree; fail names the child to fail permanently
// (see injectFailure), or is empty.
func build(root *sdk.Supervisor, addr, fail string, metrics http.Handler, bound chan<- net.Addr) error {
	workers, err := sdk.NewPool("workers", sdk.Spec{Name: "worker", Role: sdk.RoleWorker})
	if err != nil {
		return err
	}
	for range 3 {
		if _, err := workers.Start(context.Background(), "", sdk.ServiceFunc(worker), "quickstart", "a worker of the demo"); err != nil {
			return err
		}
	}
	jobs, err := sdk.New("jobs", sdk.WithStrategy(sdk.OneForAll))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", probe.Handler(root)) // /livez, /readyz, /statusz
	mux.Handle("GET /metrics", metrics)
	var flakyRuns atomic.Int32
	for _, err := range []error{
		root.Add(context.Background(), sdk.Spec{Name: "api", Role: sdk.RoleService, Readiness: true, StopTimeout: 3 * time.Second,
			Service: httpServer(addr, mux, bound)}, "quickstart", "part of the demo"),
		root.Add(context.Background(), sdk.Spec{Name: "workers", Service: workers, DependsOn: []string{"api"}}, "quickstart", "part of the demo"),
		root.Add(context.Background(), sdk.Spec{Name: "jobs", Service: jobs}, "quickstart", "part of the demo"),
		jobs.Add(context.Background(), injectFailure(sdk.Spec{Name: "flaky", Role: sdk.RoleWorker,
			Backoff: &sdk.Backoff{Initial: 200 * time.Millisecond, Max: 2 * time.Second, Multiplier: 2, Jitter: sdk.JitterEqual},
			Service: sdk.ServiceFunc(func(ctx context.Context) error {
				if flakyRuns.Add(1) <= 3 {
					time.Sleep(50 * time.Millisecond)
					return errors.New("upstream connection refused")
				}
				return idle(ctx)
			})}, "jobs/flaky", fail), "quickstart", "part of the demo"),
		jobs.Add(context.Background(), injectFailure(sdk.Spec{Name: "indexer", Service: sdk.ServiceFunc(idle)}, "jobs/indexer", fail), "quickstart", "part of the demo"),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// httpServer serves h on addr, signals readiness once it listens (and
// sends the address it listens on to bound, when there is room), and
// shuts down gracefully when its context ends.
func httpServer(addr string, h http.Handler, bound chan<- net.Addr) sdk.Service {
	return sdk.ServiceFunc(func(ctx context.Context) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		select {
		case bound <- ln.Addr():
		default:
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
