package otelsup

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// crashChildEnv makes the test binary run TestPassThroughPanicChild.
const crashChildEnv = "OTELSUP_CRASH_CHILD"

// printSpans is a span exporter that prints each span's name and events
// to stdout at once, so what was exported before the process died is in
// its output.
type printSpans struct{}

func (printSpans) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	for _, s := range spans {
		var evs []string
		for _, e := range s.Events() {
			evs = append(evs, e.Name)
			for _, kv := range e.Attributes {
				if kv.Key == "exception.type" {
					evs = append(evs, "exception.type="+kv.Value.Emit())
				}
			}
		}
		fmt.Fprintf(os.Stdout, "exported %s %s\n", s.Name(), strings.Join(evs, ","))
	}
	return nil
}
func (printSpans) Shutdown(context.Context) error { return nil }

// TestPassThroughPanicExported: with sdk.WithPanicPassThrough the process
// dies of the panic, never reaching a provider shutdown. The attempt's
// exit span, with its exception event, is exported all the same: the
// adapter ends it and flushes the provider while the sdk waits for the
// hooks. The batch processor would otherwise wait an hour.
func TestPassThroughPanicExported(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestPassThroughPanicChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the child process did not crash:\n%s", out)
	}
	text := string(out)
	if !strings.Contains(text, "panic: the disk is on fire") {
		t.Fatalf("the child died of something else (%v):\n%s", err, text)
	}
	if !strings.Contains(text, "exported "+SpanChildExit+" exception,exception.type=string") {
		t.Errorf("the exit span with its exception was not exported before the crash:\n%s", text)
	}
}

// TestPassThroughPanicChild is TestPassThroughPanicExported's child
// process: it crashes.
func TestPassThroughPanicChild(t *testing.T) {
	if os.Getenv(crashChildEnv) != "1" {
		t.Skip("run by TestPassThroughPanicExported")
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(printSpans{}, sdktrace.WithBatchTimeout(time.Hour)))
	a, err := New(WithTracerProvider(tp), WithMeterProvider(metricnoop.NewMeterProvider()))
	if err != nil {
		t.Fatal(err)
	}
	root, err := sdk.New("root", append(a.Options(), sdk.WithPanicPassThrough())...)
	if err != nil {
		t.Fatal(err)
	}
	if err := root.Add(context.Background(), sdk.Spec{Name: "w", Service: sdk.ServiceFunc(func(ctx context.Context) error {
		panic("the disk is on fire")
	})}, "test", "declared by the test"); err != nil {
		t.Fatal(err)
	}
	_ = root.Serve(context.Background())
	t.Fatal("Serve returned: the panic should have crashed the process")
}
