package e2e

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/supervisor-sdk/supervisor/otelsup"
	"github.com/supervisor-sdk/supervisor/otelsup/otelexport"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// TestJaegerRunningChildAndPanic checks, against the real Jaeger and
// while the tree still runs (no shutdown, no provider flush), that a
// running child is visible: its start span is queryable; and that a
// panic is the standard exception event with exception.type on the
// attempt's exit span. An attempt span that ended only with the attempt
// showed neither until the child stopped.
func TestJaegerRunningChildAndPanic(t *testing.T) {
	j := startJaeger(t, jaegerBinary(t))
	service := fmt.Sprintf("supervisor-e2e-live-%d", time.Now().UnixNano())
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+j.otlp)
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "200") // ms: the batch goes out while the child runs
	ctx := context.Background()
	began := time.Now()
	p, err := otelexport.Setup(ctx, otelexport.WithResource(resource.NewSchemaless(semconv.ServiceName(service))))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	}()
	a, err := otelsup.New(p.AdapterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	root, err := sdk.New("root", a.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	var bombs atomic.Int32
	for _, spec := range []sdk.Spec{
		{Name: "steady", Service: sdk.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil })},
		{Name: "bomb", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if bombs.Add(1) == 1 {
				var m map[string]int
				m["boom"]++ // a nil map write: a runtime panic
			}
			<-ctx.Done()
			return nil
		})},
	} {
		if err := root.Add(ctx, spec, "test", "declared by the test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := root.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = root.Shutdown(context.Background(), "e2e", "done") }()

	q := url.Values{
		"query.service_name":   {service},
		"query.start_time_min": {began.Add(-time.Minute).UTC().Format(time.RFC3339Nano)},
		"query.start_time_max": {time.Now().Add(time.Minute).UTC().Format(time.RFC3339Nano)},
		"query.num_traces":     {"100"},
	}
	var steady, exit span
	waitFor(t, j.process, 20*time.Second, "the running child's start span and the panic in Jaeger", func(ctx context.Context) error {
		var resp tracesResponse
		if err := getJSON(ctx, j.query+"/api/v3/traces?"+q.Encode(), &resp); err != nil {
			return err
		}
		steady, exit = span{}, span{}
		for _, s := range resp.spans() {
			switch {
			case s.Name == otelsup.SpanChildStart && s.attr("supervisor.child.path") == "/root/steady":
				steady = s
			case s.Name == otelsup.SpanChildExit && s.attr("supervisor.child.path") == "/root/bomb":
				exit = s
			}
		}
		if steady.Name == "" || exit.Name == "" {
			return fmt.Errorf("not yet: %v", names(resp.spans()))
		}
		return nil
	})
	if st, err := root.Status(ctx); err != nil || st.Children[0].Path != "/root/steady" || !slices.Contains([]string{"running", "ready"}, st.Children[0].State.String()) {
		t.Fatalf("the child no longer runs: %+v %v", st, err)
	}
	t.Logf("while /root/steady runs, Jaeger has its start span %s (attempt %s)", steady.SpanID, steady.attr("supervisor.child.attempt"))
	ev, ok := exit.event(semconv.ExceptionEventName)
	if !ok {
		t.Fatalf("the panicking attempt's exit span has no exception event: %q", exit.eventNames())
	}
	if got := ev.attr(string(semconv.ExceptionTypeKey)); !strings.HasPrefix(got, "runtime.") {
		t.Errorf("exception.type = %q, want the runtime error's type", got)
	}
	if ev.attr(string(semconv.ExceptionMessageKey)) == "" || ev.attr(string(semconv.ExceptionStacktraceKey)) == "" {
		t.Errorf("exception event without message or stack: %+v", ev)
	}
	if exit.attr("error.type") != "panic" || exit.Status.code() != 2 {
		t.Errorf("exit span: error.type %q status %+v, want panic and Error", exit.attr("error.type"), exit.Status)
	}
	t.Logf("the panic in Jaeger: exception.type=%s exception.message=%q", ev.attr(string(semconv.ExceptionTypeKey)), ev.attr(string(semconv.ExceptionMessageKey)))
}
