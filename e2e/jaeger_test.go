package e2e

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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

// jaegerBinary returns the Jaeger binary: $JAEGER_BIN, or the Go tool the
// tools module pins, which `go tool -n jaeger` builds into the Go build
// cache the first time (minutes; .ci/run does it before the tests) and
// locates afterwards. The end-to-end tests run with CI=true or E2E=1 and
// are skipped otherwise.
func jaegerBinary(t *testing.T) string {
	t.Helper()
	if !inCI() && os.Getenv("E2E") != "1" {
		t.Skip("the Jaeger end-to-end tests run with CI=true or E2E=1 (the first run builds Jaeger, which takes minutes)")
	}
	if bin := os.Getenv("JAEGER_BIN"); bin != "" {
		return bin
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		missing(t, "no go command to build Jaeger with: %v", err)
	}
	ctx := context.Background()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-time.Minute))
		defer cancel()
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, goBin, "tool", "-n", "jaeger")
	cmd.Dir = "tools"
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go tool -n jaeger (in e2e/tools): %v\n%s\nBuild it ahead of the test, which has a deadline: (cd e2e/tools && go tool -n jaeger)", err, tail(stderr.String(), 4000))
	}
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		t.Fatalf("go tool -n jaeger printed nothing")
	}
	bin := fields[len(fields)-1]
	t.Logf("jaeger: %s (located in %s)", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// jaeger is a running Jaeger v2 with in-memory storage, listening on
// 127.0.0.1 only.
type jaeger struct {
	*process
	otlp     string // OTLP gRPC host:port
	otlpHTTP string // OTLP HTTP host:port
	query    string // query HTTP API base URL
}

// jaegerConfig is the loopback in-memory configuration (see
// docs/otel-practice.md §4.2): only the OTLP receivers (gRPC and HTTP),
// the query API, the health check, no self-tracing and no metrics
// endpoint.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:{{health}}
  jaeger_query:
    enable_tracing: false
    storage:
      traces: mem
    http:
      endpoint: 127.0.0.1:{{query}}
    grpc:
      endpoint: 127.0.0.1:{{query_grpc}}
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{{otlp}}
      http:
        endpoint: 127.0.0.1:{{otlp_http}}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
`

func startJaeger(t *testing.T, bin string) *jaeger {
	t.Helper()
	ports := map[string]int{}
	cfg := jaegerConfig
	for _, name := range []string{"health", "query", "query_grpc", "otlp", "otlp_http"} {
		ports[name] = freePort(t)
		cfg = strings.ReplaceAll(cfg, "{{"+name+"}}", strconv.Itoa(ports[name]))
	}
	path := filepath.Join(t.TempDir(), "jaeger.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	j := &jaeger{
		process:  startProcess(t, "jaeger", bin, "--config", path),
		otlp:     fmt.Sprintf("127.0.0.1:%d", ports["otlp"]),
		otlpHTTP: fmt.Sprintf("127.0.0.1:%d", ports["otlp_http"]),
		query:    fmt.Sprintf("http://127.0.0.1:%d", ports["query"]),
	}
	start := time.Now()
	health := fmt.Sprintf("http://127.0.0.1:%d/status", ports["health"])
	waitFor(t, j.process, 30*time.Second, "jaeger healthy", func(ctx context.Context) error {
		code, body, err := get(ctx, health)
		if err == nil && code != 200 {
			err = fmt.Errorf("%d %s", code, body)
		}
		return err
	})
	t.Logf("jaeger healthy after %s: OTLP gRPC on %s, OTLP HTTP on %s, query API on %s", time.Since(start).Round(time.Millisecond), j.otlp, j.otlpHTTP, j.query)
	return j
}

// TestJaegerRestartEpisode runs a child that fails twice and then runs,
// shuts the tree down, and checks what Jaeger stored: one span per
// attempt, each its own trace, linked to the previous attempt and to the
// supervisor's start; the failed attempts with status Error; the
// transitions and the restart decisions as span events; and the shutdown
// span with the exit report.
func TestJaegerRestartEpisode(t *testing.T) {
	j := startJaeger(t, jaegerBinary(t))
	service := fmt.Sprintf("supervisor-e2e-%d", time.Now().UnixNano())
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+j.otlp) // http: no TLS
	t.Setenv("OTEL_METRICS_EXPORTER", "none")                 // Jaeger takes no metrics
	ctx := context.Background()
	began := time.Now()
	p, err := otelexport.Setup(ctx, otelexport.WithResource(resource.NewSchemaless(semconv.ServiceName(service))))
	if err != nil {
		t.Fatal(err)
	}
	a, err := otelsup.New(p.AdapterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	third := make(chan struct{})
	root, err := sdk.New("root", append(a.Options(), sdk.WithEventHook(func(e sdk.Event) {
		if e.Type == sdk.EventChildRunning && e.Path == "/root/flaky" && e.Attempt == 3 {
			close(third)
		}
	}))...)
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	if err := root.Add(context.Background(), sdk.Spec{
		Name:    "flaky",
		Backoff: &sdk.Backoff{Initial: 20 * time.Millisecond, Max: 20 * time.Millisecond, Multiplier: 1},
		Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if n := runs.Add(1); n <= 2 {
				return fmt.Errorf("upstream refused (%d)", n)
			}
			<-ctx.Done()
			return nil
		}),
	}, "test", "declared by the test"); err != nil {
		t.Fatal(err)
	}
	if err := root.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-third
	if _, err := root.Shutdown(ctx, "e2e", "episode over"); err != nil {
		t.Fatal(err)
	}
	flushCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Shutdown(flushCtx); err != nil { // flushes the spans to Jaeger
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// The spans, as the v3 API returns them (OTLP JSON).
	q := url.Values{
		"query.service_name":   {service},
		"query.start_time_min": {began.Add(-time.Minute).UTC().Format(time.RFC3339Nano)},
		"query.start_time_max": {time.Now().Add(time.Minute).UTC().Format(time.RFC3339Nano)},
		"query.num_traces":     {"100"}, // required at v1.76.0: without it the memory store answers 500
	}
	var spans []span
	waitFor(t, j.process, 20*time.Second, "the spans in Jaeger", func(ctx context.Context) error {
		var resp tracesResponse
		if err := getJSON(ctx, j.query+"/api/v3/traces?"+q.Encode(), &resp); err != nil {
			return err
		}
		spans = resp.spans()
		if len(spans) < 8 {
			return fmt.Errorf("%d spans so far, want 8 (3 attempts of a start and an exit, start, shutdown)", len(spans))
		}
		return nil
	})

	byID := map[string]span{}
	var attempts, exits []span
	for _, s := range spans {
		byID[s.TraceID+"/"+s.SpanID] = s
		if s.attr("supervisor.child.path") != "/root/flaky" {
			continue
		}
		switch s.Name {
		case otelsup.SpanChildStart:
			attempts = append(attempts, s)
		case otelsup.SpanChildExit:
			exits = append(exits, s)
		}
	}
	byAttempt := func(a, b span) int {
		return strings.Compare(a.attr("supervisor.child.attempt"), b.attr("supervisor.child.attempt"))
	}
	slices.SortFunc(attempts, byAttempt)
	slices.SortFunc(exits, byAttempt)
	if len(attempts) != 3 || len(exits) != 3 {
		t.Fatalf("%d start and %d exit spans, want 3 each: %v", len(attempts), len(exits), names(spans))
	}
	start := only(t, spans, otelsup.SpanStart)
	shut := only(t, spans, otelsup.SpanShutdown)
	label := func(l link) string {
		s, ok := byID[l.TraceID+"/"+l.SpanID]
		if !ok {
			return "?"
		}
		switch s.Name {
		case otelsup.SpanChildStart:
			return "attempt " + s.attr("supervisor.child.attempt")
		case otelsup.SpanChildExit:
			return "exit " + s.attr("supervisor.child.attempt")
		}
		return s.Name
	}
	linksOf := func(s span) []string {
		var links []string
		for _, l := range s.Links {
			links = append(links, l.attr("supervisor.link.type")+"→"+label(l))
		}
		return links
	}
	traces := map[string]bool{}
	for i, s := range attempts {
		n := i + 1
		x := exits[i]
		traces[s.TraceID] = true
		traces[x.TraceID] = true
		if s.ParentSpanID != "" || x.ParentSpanID != "" {
			t.Errorf("attempt %d has a parent span: each span is its own trace", n)
		}
		if got := s.attr("supervisor.child.attempt"); got != strconv.Itoa(n) {
			t.Errorf("attempt %d: supervisor.child.attempt = %s", n, got)
		}
		want := []string{"supervisor_start→" + otelsup.SpanStart}
		if n > 1 {
			want = append([]string{"previous_attempt→exit " + strconv.Itoa(n-1)}, want...)
		}
		if links := linksOf(s); !slices.Equal(links, want) {
			t.Errorf("attempt %d links %q, want %q", n, links, want)
		}
		if links, want := linksOf(x), []string{"attempt_start→attempt " + strconv.Itoa(n)}; !slices.Equal(links, want) {
			t.Errorf("exit %d links %q, want %q", n, links, want)
		}
		if n <= 2 {
			msg := fmt.Sprintf("upstream refused (%d)", n)
			// error.type per semconv: the error's type name.
			if x.Status.code() != 2 || x.Status.Message != msg || x.attr("error.type") != "*errors.errorString" {
				t.Errorf("exit %d: status %+v error.type %q, want Error %q *errors.errorString", n, x.Status, x.attr("error.type"), msg)
			}
			if x.attr("supervisor.exit.kind") != "error" {
				t.Errorf("exit %d: exit kind %q, want error", n, x.attr("supervisor.exit.kind"))
			}
			rs, ok := x.event(otelsup.SpanEventRestartScheduled)
			if !ok || rs.attr("supervisor.restart.reason") != "error" || rs.attr("supervisor.restart.attempt") != strconv.Itoa(n+1) {
				t.Errorf("exit %d: restart event %+v, want reason error for attempt %d", n, rs, n+1)
			}
		} else if x.Status.code() != 0 || x.attr("supervisor.exit.kind") != "stopped" {
			t.Errorf("exit 3: status %+v exit kind %q, want unset and stopped", x.Status, x.attr("supervisor.exit.kind"))
		}
		if evs := s.eventNames(); !slices.Contains(evs, "supervisor.lifecycle.transition") {
			t.Errorf("attempt %d: no transition event in %q", n, evs)
		}
	}
	if len(traces) != 6 {
		t.Errorf("the attempts are in %d traces, want 6", len(traces))
	}
	for _, l := range shut.Links {
		if l.attr("supervisor.link.type") != "supervisor_start" || label(l) != otelsup.SpanStart {
			t.Errorf("shutdown link %+v", l)
		}
	}
	report, ok := shut.event(otelsup.SpanEventExitReport)
	if !ok {
		t.Fatalf("no exit report event on the shutdown span: %q", shut.eventNames())
	}
	for k, v := range map[string]string{
		"supervisor.report.state": "completed", "supervisor.report.cause": "operator",
		"supervisor.report.requested_by": "e2e", "supervisor.report.reason": "episode over",
		"supervisor.report.children": "1", "supervisor.report.abandoned": "0",
	} {
		if got := report.attr(k); got != v {
			t.Errorf("exit report %s = %q, want %q", k, got, v)
		}
	}
	if shut.attr("supervisor.shutdown.cause") != "operator" {
		t.Errorf("shutdown cause %q", shut.attr("supervisor.shutdown.cause"))
	}

	t.Logf("Jaeger returned %d spans for %s; the restart episode:", len(spans), service)
	for _, s := range append(append(append([]span{start}, attempts...), exits...), shut) {
		t.Log("  " + s.summary(label))
	}

	// The legacy API shows the links as FOLLOWS_FROM references.
	var legacy struct {
		Data []struct {
			Spans []struct {
				OperationName string
				SpanID        string
				References    []struct{ RefType, SpanID string }
			}
		}
	}
	if err := getJSON(ctx, j.query+"/api/traces/"+attempts[2].TraceID, &legacy); err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, d := range legacy.Data {
		for _, s := range d.Spans {
			for _, r := range s.References {
				refs = append(refs, r.RefType)
			}
		}
	}
	t.Logf("legacy /api/traces/%s: attempt 3's references %q", attempts[2].TraceID, refs)
	if !slices.Equal(refs, []string{"FOLLOWS_FROM", "FOLLOWS_FROM"}) {
		t.Errorf("attempt 3's references %q, want two FOLLOWS_FROM (previous attempt's exit, supervisor start)", refs)
	}
}

// TestCollectorConfigValidates validates the compose stack's collector
// pipeline with Jaeger, which is a collector distribution with the same
// receivers, processors and exporters. Jaeger lacks the health_check
// extension (it has healthcheckv2), so the copy drops it.
func TestCollectorConfigValidates(t *testing.T) {
	bin := jaegerBinary(t)
	b, err := os.ReadFile("../deploy/otel-collector.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := regexp.MustCompile(`(?ms)^extensions:\n.*?^\n`).ReplaceAllString(string(b), "")
	cfg = strings.Replace(cfg, "  extensions: [health_check]\n", "", 1)
	if strings.Contains(cfg, "health_check") {
		t.Fatalf("could not drop health_check from:\n%s", cfg)
	}
	path := filepath.Join(t.TempDir(), "collector.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "validate", "--config", path).CombinedOutput()
	if err != nil {
		t.Fatalf("jaeger validate: %v\n%s", err, out)
	}
	t.Logf("jaeger validate deploy/otel-collector.yaml (without health_check): ok %s", oneLine(string(out)))
}

// tracesResponse is the v3 API's answer: OTLP JSON in a gateway wrapper.
type tracesResponse struct {
	Result struct {
		ResourceSpans []struct {
			Resource struct {
				Attributes attributes
			}
			ScopeSpans []struct {
				Spans []span
			}
		}
	}
}

// resourceAttr returns the values of a resource attribute over every
// resource in the response, once each.
func (r tracesResponse) resourceAttr(key string) []string {
	var out []string
	for _, rs := range r.Result.ResourceSpans {
		if v := rs.Resource.Attributes.attr(key); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (r tracesResponse) spans() []span {
	var out []span
	for _, rs := range r.Result.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			out = append(out, ss.Spans...)
		}
	}
	return out
}

type attribute struct {
	Key   string
	Value map[string]json.RawMessage // stringValue, intValue, doubleValue, boolValue, arrayValue
}

type attributes []attribute

func (as attributes) attr(key string) string {
	for _, a := range as {
		if a.Key == key {
			for _, v := range a.Value {
				var s string
				if json.Unmarshal(v, &s) == nil {
					return s // strings, and int64 values, which OTLP JSON quotes
				}
				return string(v)
			}
		}
	}
	return ""
}

func (as attributes) render() string {
	var parts []string
	for _, a := range as {
		parts = append(parts, strings.TrimPrefix(a.Key, "supervisor.")+"="+as.attr(a.Key))
	}
	return strings.Join(parts, " ")
}

type link struct {
	TraceID    string
	SpanID     string
	Attributes attributes
}

func (l link) attr(key string) string { return l.Attributes.attr(key) }

type spanEvent struct {
	Name         string
	TimeUnixNano string
	Attributes   attributes
}

func (e spanEvent) attr(key string) string { return e.Attributes.attr(key) }

type status struct {
	Code    json.RawMessage
	Message string
}

// code returns the status code: 0 unset, 1 ok, 2 error (OTLP JSON may
// spell it as a number or as the enum name).
func (s status) code() int {
	var n int
	if json.Unmarshal(s.Code, &n) == nil {
		return n
	}
	var name string
	_ = json.Unmarshal(s.Code, &name)
	return map[string]int{"STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}[name]
}

type span struct {
	TraceID, SpanID, ParentSpanID string
	Name                          string
	StartTimeUnixNano             string
	EndTimeUnixNano               string
	Attributes                    attributes
	Events                        []spanEvent
	Links                         []link
	Status                        status
}

func (s span) attr(key string) string { return s.Attributes.attr(key) }

func (s span) eventNames() []string {
	var out []string
	for _, e := range s.Events {
		out = append(out, e.Name)
	}
	return out
}

func (s span) event(name string) (spanEvent, bool) {
	for _, e := range s.Events {
		if e.Name == name {
			return e, true
		}
	}
	return spanEvent{}, false
}

func (s span) duration() time.Duration {
	a, _ := strconv.ParseInt(s.StartTimeUnixNano, 10, 64)
	b, _ := strconv.ParseInt(s.EndTimeUnixNano, 10, 64)
	return time.Duration(b - a)
}

// summary renders the span on one line: name, attempt, status, duration,
// links and events with their attributes.
func (s span) summary(label func(link) string) string {
	var b strings.Builder
	b.WriteString(s.Name)
	if n := s.attr("supervisor.child.attempt"); n != "" {
		b.WriteString(" #" + n)
	}
	switch s.Status.code() {
	case 2:
		fmt.Fprintf(&b, " ERROR(%q, error.type=%s)", s.Status.Message, s.attr("error.type"))
	default:
		b.WriteString(" unset")
	}
	fmt.Fprintf(&b, " %s", s.duration().Round(time.Microsecond))
	var links []string
	for _, l := range s.Links {
		links = append(links, l.attr("supervisor.link.type")+"→"+label(l))
	}
	fmt.Fprintf(&b, " links=[%s] events=[", strings.Join(links, ", "))
	// In time order: Jaeger returns them sorted by name.
	evs := slices.Clone(s.Events)
	slices.SortStableFunc(evs, func(a, b spanEvent) int {
		x, _ := strconv.ParseInt(a.TimeUnixNano, 10, 64)
		y, _ := strconv.ParseInt(b.TimeUnixNano, 10, 64)
		return cmp.Compare(x, y)
	})
	for i, e := range evs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(strings.TrimPrefix(e.Name, "supervisor."))
		if len(e.Attributes) > 0 {
			b.WriteString("{" + e.Attributes.render() + "}")
		}
	}
	b.WriteString("]")
	return b.String()
}

func only(t *testing.T, spans []span, name string) span {
	t.Helper()
	var found []span
	for _, s := range spans {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s spans, want 1: %v", len(found), name, names(spans))
	}
	return found[0]
}

func names(spans []span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}
