package deploy_test

import (
	"context"
	"errors"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/otelsup"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// TestTraceLinkAttributes checks what the dashboard's Jaeger links search
// for against spans the adapter really makes: each of a child's attempts
// ends in a span named supervisor.child.exit (its outcome: error.type, an
// exception, the decision; linked to the attempt's start span) with its
// path in supervisor.child.path, and a supervisor's start and shutdown spans carry
// its path in supervisor.path, with the same values as the metrics'
// supervisor_child_path and supervisor_path labels that the links copy.
func TestTraceLinkAttributes(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	a, err := otelsup.New(otelsup.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	root, err := sdk.New("root", a.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := root.Add(context.Background(), sdk.Spec{Name: "db", Restart: sdk.Temporary,
		Service: sdk.ServiceFunc(func(context.Context) error { return errors.New("disk full") })}, "test", "declared by the test"); err != nil {
		t.Fatal(err)
	}
	if err := root.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Shutdown(context.Background(), "test", "done"); err != nil {
		t.Fatal(err)
	}

	found := map[string]bool{}
	for _, s := range rec.Ended() {
		for _, kv := range s.Attributes() {
			switch {
			case s.Name() == otelsup.SpanChildExit && kv.Key == lifecycle.AttrChildPath && kv.Value.AsString() == "/root/db":
				found["attempt"] = true
			case (s.Name() == otelsup.SpanStart || s.Name() == otelsup.SpanShutdown) && kv.Key == lifecycle.AttrSupervisorPath && kv.Value.AsString() == "/root":
				found[s.Name()] = true
			}
		}
	}
	for _, want := range []string{"attempt", otelsup.SpanStart, otelsup.SpanShutdown} {
		if !found[want] {
			t.Errorf("no %s span with the path the dashboard links search for (spans: %d)", want, len(rec.Ended()))
		}
	}
	if otelsup.SpanChildExit != "supervisor.child.exit" || lifecycle.AttrChildPath != "supervisor.child.path" || lifecycle.AttrSupervisorPath != "supervisor.path" {
		t.Errorf("the span name or attributes changed: update the dashboard's links and TestDashboardTraceLinks")
	}
}
