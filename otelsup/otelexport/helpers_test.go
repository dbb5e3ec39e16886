package otelexport

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.uber.org/goleak"

	"github.com/supervisor-sdk/supervisor/otelsup"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// cleanEnv unsets every OTEL_* variable for the test (t.Setenv restores
// them after), so that the machine's environment cannot change what Setup
// selects, then sets the given KEY=value pairs.
func cleanEnv(t *testing.T, kv ...string) {
	t.Helper()
	for _, e := range os.Environ() {
		if k, _, _ := strings.Cut(e, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for _, e := range kv {
		k, v, ok := strings.Cut(e, "=")
		if !ok {
			t.Fatalf("cleanEnv(%q): not KEY=value", e)
		}
		t.Setenv(k, v)
	}
}

// setup calls Setup and shuts the providers down when the test ends.
func setup(t *testing.T, opts ...Option) *Providers {
	t.Helper()
	p, err := Setup(context.Background(), opts...)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	})
	return p
}

// adapter returns an otelsup adapter on p, closed when the test ends.
func adapter(t *testing.T, p *Providers) *otelsup.Adapter {
	t.Helper()
	a, err := otelsup.New(p.AdapterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	})
	return a
}

// runFlaky serves a tree whose child fails until its attempt n, and shuts
// it down once attempt n runs.
func runFlaky(t *testing.T, a *otelsup.Adapter, n int64, within time.Duration) *sdk.Report {
	t.Helper()
	running := make(chan struct{})
	root, err := sdk.New("root", append(a.Options(),
		sdk.WithIntensity(sdk.Intensity{MaxRestarts: 10000, Period: time.Minute}),
		sdk.WithEventHook(func(e sdk.Event) {
			if e.Type == sdk.EventChildRunning && e.Attempt == uint64(n) {
				close(running)
			}
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	if err := root.Add(context.Background(), sdk.Spec{Name: "flaky", Backoff: sdk.NoBackoff(), FailureLimit: -1, Service: sdk.ServiceFunc(func(ctx context.Context) error {
		if calls.Add(1) < n {
			return errors.New("boom")
		}
		<-ctx.Done()
		return nil
	})}, "test", "declared by the test"); err != nil {
		t.Fatal(err)
	}
	if err := root.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-running:
	case <-time.After(within):
		t.Errorf("attempt %d not running within %s: %d attempts", n, within, calls.Load())
	}
	rep, err := root.Shutdown(context.Background(), "test", "done")
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// errorLog is an OpenTelemetry error handler that keeps what it gets.
type errorLog struct {
	mu    sync.Mutex
	errs  []error
	first chan struct{} // closed by the first error
}

func (l *errorLog) Handle(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) == 0 {
		close(l.first)
	}
	l.errs = append(l.errs, err)
}

func (l *errorLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

// handleErrors routes the OpenTelemetry errors to a log for the test,
// and to nowhere after it (the global handler cannot be restored).
func handleErrors(t *testing.T) *errorLog {
	l := &errorLog{first: make(chan struct{})}
	otel.SetErrorHandler(l)
	t.Cleanup(func() { otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) })
	return l
}

// goroutinesEnd waits, up to within, for every goroutine but those of
// baseline to end, and returns how long that took. goleak.Find retries
// with a backoff for about 0.4s; each pass here is one such search.
func goroutinesEnd(t *testing.T, baseline goleak.Option, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	// An idle keep-alive connection of the OTLP/HTTP exporters' shared
	// transport may outlive Shutdown (net/http keeps a connection it
	// dialled for a request that was cancelled meanwhile, up to its 90s
	// idle timeout; the exporters give no handle to close it, see the
	// package documentation). It carries no export, so it is not counted.
	idle := []goleak.Option{baseline,
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
	}
	for {
		err := goleak.Find(idle...)
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("goroutines still running %s later: %v", within, err)
		}
	}
}
