package otelexport

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// busy fills the span queue past several export batches (512 spans
// each), so that an export is in flight and more are queued when
// Shutdown begins.
func busy(p *Providers) {
	tr := p.TracerProvider.Tracer("busy")
	for range 1500 {
		_, s := tr.Start(context.Background(), "busy")
		s.End()
	}
}

// TestShutdownDeadlineEndsExports: with the collector hanging (it accepts
// connections and never answers) and the exporters' timeout at 30s, an
// export is in flight for each signal and more span batches are queued.
// Shutdown returns at its deadline, and every export goroutine (batch
// processor, periodic reader, gRPC or HTTP connections) ends right after,
// not when the exporters time out.
func TestShutdownDeadlineEndsExports(t *testing.T) {
	for _, proto := range []string{"grpc", "http/protobuf"} {
		t.Run(proto, func(t *testing.T) {
			endpoint := startHangingEndpoint(t)
			cleanEnv(t, "OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL="+proto,
				"OTEL_EXPORTER_OTLP_TIMEOUT=30000", "OTEL_METRIC_EXPORT_INTERVAL=20")
			errs := handleErrors(t)
			baseline := goleak.IgnoreCurrent()
			p, err := Setup(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			runFlaky(t, adapter(t, p), 3, 10*time.Second)
			busy(p)

			const deadline = 500 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			err = p.Shutdown(ctx)
			took := time.Since(start)
			ended := goroutinesEnd(t, baseline, 5*time.Second)
			t.Logf("Shutdown returned after %s; the export goroutines ended within %s after it (exporter timeout 30s); %d errors handled; Shutdown: %v",
				took.Round(time.Millisecond), ended.Round(time.Millisecond), len(errs.all()), err)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Shutdown: %v, want the deadline exceeded", err)
			}
			if took > deadline+250*time.Millisecond {
				t.Errorf("Shutdown took %s, deadline %s", took, deadline)
			}
			if ended > time.Second {
				t.Errorf("exports ended %s after Shutdown, want well within the 30s exporter timeout", ended)
			}
		})
	}
}

// TestShutdownWithoutDeadline: with no deadline on its context, Shutdown
// bounds itself with WithShutdownTimeout, and cuts the exports off at the
// bound just the same.
func TestShutdownWithoutDeadline(t *testing.T) {
	endpoint := startHangingEndpoint(t)
	cleanEnv(t, "OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint, "OTEL_EXPORTER_OTLP_TIMEOUT=30000")
	handleErrors(t)
	baseline := goleak.IgnoreCurrent()
	const bound = 300 * time.Millisecond
	p, err := Setup(context.Background(), WithShutdownTimeout(bound))
	if err != nil {
		t.Fatal(err)
	}
	busy(p)
	start := time.Now()
	err = p.Shutdown(context.Background())
	took := time.Since(start)
	ended := goroutinesEnd(t, baseline, 5*time.Second)
	t.Logf("Shutdown returned after %s; goroutines ended within %s after it; Shutdown: %v", took.Round(time.Millisecond), ended.Round(time.Millisecond), err)
	if !errors.Is(err, errShutdownTimeout) {
		t.Errorf("Shutdown: %v, want %v", err, errShutdownTimeout)
	}
	if took < bound || took > bound+250*time.Millisecond {
		t.Errorf("Shutdown took %s, bound %s", took, bound)
	}
	if again := p.Shutdown(context.Background()); again != err {
		t.Errorf("second Shutdown: %v, want the first one's error", again)
	}
}

// TestCollectorDown: with nothing listening at the endpoint, supervision
// is unaffected (199 restarts, many more spans than the queue holds),
// Shutdown returns within its deadline, and the exporters' retries end
// with it.
func TestCollectorDown(t *testing.T) {
	cleanEnv(t, "OTEL_EXPORTER_OTLP_ENDPOINT="+closedEndpoint(t))
	handleErrors(t)
	baseline := goleak.IgnoreCurrent()
	p, err := Setup(context.Background(), WithMaxQueueSize(64))
	if err != nil {
		t.Fatalf("Setup with the collector down: %v", err)
	}
	a := adapter(t, p)
	start := time.Now()
	rep := runFlaky(t, a, 200, 5*time.Second)
	t.Logf("199 restarts and a shutdown in %s", time.Since(start))
	if got := rep.Children[0].Restarts; got != 199 {
		t.Errorf("%d restarts, want 199", got)
	}
	const deadline = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start = time.Now()
	err = p.Shutdown(ctx)
	took := time.Since(start)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	ended := goroutinesEnd(t, baseline, 5*time.Second)
	t.Logf("Shutdown returned after %s; goroutines ended within %s after it; Shutdown: %v", took.Round(time.Millisecond), ended.Round(time.Millisecond), err)
	if err == nil {
		t.Error("Shutdown with the collector down reported no error")
	}
	if took > deadline+250*time.Millisecond {
		t.Errorf("Shutdown took %s, deadline %s", took, deadline)
	}
}

// TestCollectorDownErrorHandler: a failed background export goes to the
// OpenTelemetry error handler.
func TestCollectorDownErrorHandler(t *testing.T) {
	// Export in the background soon, and give each export little time, so
	// that a failed export reaches the error handler within the test.
	cleanEnv(t, "OTEL_EXPORTER_OTLP_ENDPOINT="+closedEndpoint(t), "OTEL_BSP_SCHEDULE_DELAY=50", "OTEL_EXPORTER_OTLP_TIMEOUT=300")
	errs := handleErrors(t)
	p := setup(t)
	runFlaky(t, adapter(t, p), 3, 5*time.Second)
	select {
	case <-errs.first:
		t.Logf("error handler, first error: %v", errs.all()[0])
	case <-time.After(5 * time.Second):
		t.Error("no export error reached the OpenTelemetry error handler within 5s")
	}
}

// TestShutdownDefaultBound measures the documented bound: with nothing
// listening at the endpoint, a full span queue and no deadline on its
// context, Shutdown gives up after DefaultShutdownTimeout (10s), and the
// exports end with it. (Before the cut-off, this took about 50s.)
func TestShutdownDefaultBound(t *testing.T) {
	cleanEnv(t, "OTEL_EXPORTER_OTLP_ENDPOINT="+closedEndpoint(t))
	handleErrors(t)
	baseline := goleak.IgnoreCurrent()
	p, err := Setup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	busy(p)
	start := time.Now()
	err = p.Shutdown(context.Background())
	took := time.Since(start)
	ended := goroutinesEnd(t, baseline, 5*time.Second)
	t.Logf("Shutdown without a deadline, collector down: returned after %s; export goroutines ended within %s after it",
		took.Round(time.Millisecond), ended.Round(time.Millisecond))
	if !errors.Is(err, errShutdownTimeout) {
		t.Errorf("Shutdown: %v, want %v", err, errShutdownTimeout)
	}
	if took < DefaultShutdownTimeout || took > DefaultShutdownTimeout+250*time.Millisecond {
		t.Errorf("Shutdown took %s, want DefaultShutdownTimeout (%s)", took, DefaultShutdownTimeout)
	}
}
