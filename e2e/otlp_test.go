package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/supervisor-sdk/supervisor/otelsup"
	"github.com/supervisor-sdk/supervisor/otelsup/otelexport"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// traces polls Jaeger's v3 API until service has at least minSpans spans
// since began, and returns its answer.
func (j *jaeger) traces(t *testing.T, service string, began time.Time, minSpans int) tracesResponse {
	t.Helper()
	q := url.Values{
		"query.service_name":   {service},
		"query.start_time_min": {began.Add(-time.Minute).UTC().Format(time.RFC3339Nano)},
		"query.start_time_max": {time.Now().Add(time.Minute).UTC().Format(time.RFC3339Nano)},
		"query.num_traces":     {"100"}, // required at v1.76.0
	}
	var resp tracesResponse
	waitFor(t, j.process, 20*time.Second, "the spans of "+service+" in Jaeger", func(ctx context.Context) error {
		resp = tracesResponse{}
		if err := getJSON(ctx, j.query+"/api/v3/traces?"+q.Encode(), &resp); err != nil {
			return err
		}
		if n := len(resp.spans()); n < minSpans {
			return fmt.Errorf("%d spans so far, want %d", n, minSpans)
		}
		return nil
	})
	return resp
}

// exportEpisode sets up export from the environment, runs a tree whose
// child fails once and then runs (4 spans: start, two attempts,
// shutdown), and flushes.
func exportEpisode(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	p, err := otelexport.Setup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, err := otelsup.New(p.AdapterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	second := make(chan struct{})
	root, err := sdk.New("root", append(a.Options(), sdk.WithEventHook(func(e sdk.Event) {
		if e.Type == sdk.EventChildRunning && e.Attempt == 2 {
			close(second)
		}
	}))...)
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	if err := root.Add(context.Background(), sdk.Spec{Name: "flaky", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
		if runs.Add(1) == 1 {
			return errors.New("not yet")
		}
		<-ctx.Done()
		return nil
	})}, "test", "declared by the test"); err != nil {
		t.Fatal(err)
	}
	if err := root.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-second
	if _, err := root.Shutdown(ctx, "e2e", "episode over"); err != nil {
		t.Fatal(err)
	}
	flushCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := errors.Join(p.Shutdown(flushCtx), a.Close()); err != nil {
		t.Fatal(err)
	}
}

// TestJaegerOTLPHTTP: OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf exports to
// Jaeger's OTLP HTTP receiver.
func TestJaegerOTLPHTTP(t *testing.T) {
	j := startJaeger(t, jaegerBinary(t))
	service := fmt.Sprintf("supervisor-e2e-http-%d", time.Now().UnixNano())
	t.Setenv("OTEL_SERVICE_NAME", service)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+j.otlpHTTP)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_METRICS_EXPORTER", "none") // Jaeger takes no metrics
	began := time.Now()
	exportEpisode(t)
	resp := j.traces(t, service, began, 4)
	t.Logf("Jaeger stored %d spans sent over OTLP/HTTP to %s: %q", len(resp.spans()), j.otlpHTTP, names(resp.spans()))
}

// TestJaegerReplicasDistinctInstances: two replicas with one
// OTEL_SERVICE_NAME (two setups, one after the other, as two processes
// would be) reach Jaeger with two service.instance.id values.
func TestJaegerReplicasDistinctInstances(t *testing.T) {
	j := startJaeger(t, jaegerBinary(t))
	service := fmt.Sprintf("supervisor-e2e-replicas-%d", time.Now().UnixNano())
	t.Setenv("OTEL_SERVICE_NAME", service)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+j.otlp)
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	began := time.Now()
	exportEpisode(t)
	exportEpisode(t)
	resp := j.traces(t, service, began, 8)
	ids := resp.resourceAttr("service.instance.id")
	t.Logf("service %s: service.instance.id %q", service, ids)
	if len(ids) != 2 || slices.Contains(ids, "") {
		t.Errorf("service.instance.id values %q, want two distinct ones", ids)
	}
}

// TestQuickstartAgainstJaeger runs the README's demo with its spans and
// metrics pointed at Jaeger, which has no metrics service, and stops it
// with SIGINT (Ctrl-C): its spans are in Jaeger, the refused metrics
// export is reported, and it exits 0.
func TestQuickstartAgainstJaeger(t *testing.T) {
	j := startJaeger(t, jaegerBinary(t))
	bin := buildQuickstart(t)
	service := fmt.Sprintf("quickstart-e2e-%d", time.Now().UnixNano())
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	cmd.Env = append(cmd.Environ(), "OTEL_SERVICE_NAME="+service, "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+j.otlp,
		"OTEL_EXPORTER_OTLP_PROTOCOL=", "OTEL_METRICS_EXPORTER=", "OTEL_TRACES_EXPORTER=", "OTEL_SDK_DISABLED=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd.Stderr = out
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	read := make(chan struct{})
	go func() { // copies the output, and says when the tree has started
		defer close(read)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(out, sc.Text())
			if strings.HasPrefix(sc.Text(), "started: ") {
				close(started)
			}
		}
	}()
	exited := make(chan error, 1)
	go func() {
		<-read // Wait closes the pipe: read it all first
		exited <- cmd.Wait()
	}()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("quickstart output:\n%s", tail(out.String(), 8000))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case <-started:
	case err := <-exited:
		t.Fatalf("quickstart exited before it started: %v", err)
	case <-ctx.Done():
		t.Fatal("quickstart did not start within 30s")
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("quickstart after SIGINT: %v, want exit status 0", err)
		}
	case <-ctx.Done():
		t.Fatal("quickstart did not exit within 30s of SIGINT")
	}
	text := out.String()
	for _, want := range []string{
		"telemetry: traces: otlp (grpc); metrics: prometheus (WithPrometheus), otlp (grpc)\n",
		"telemetry: the last export failed: ",
		"Unimplemented",
		"exit: /root completed, cause signal (by signal: interrupt)", // the summary table's first line
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the quickstart's output has no %q", want)
		}
	}
	resp := j.traces(t, service, began, 3)
	t.Logf("quickstart exited 0 after SIGINT; Jaeger stored %d of its spans", len(resp.spans()))
}

// buildQuickstart builds the examples/quickstart module's binary.
func buildQuickstart(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "quickstart")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "examples", "quickstart")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (examples/quickstart): %v\n%s", err, out)
	}
	return bin
}
