package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/supervisor-sdk/supervisor/sdk"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The README's main job, run for a short while: the tree starts, the flaky
// job is restarted with backoff, and the exit report says how it ended.
func TestQuickstartRunsTheTreeAndReports(t *testing.T) {
	cleanEnv(t) // nothing to export to: pull only
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), &out, options{addr: "127.0.0.1:0", runFor: 1500 * time.Millisecond, json: true})
	}()

	// While it runs, /metrics serves the tree's state sets.
	metrics := scrapeMetrics(t, &out)
	require.Contains(t, metrics, "# TYPE supervisor_child_status gauge")
	require.Regexp(t, `supervisor_child_status\{[^}]*supervisor_child_path="/root/api",supervisor_child_state="ready"\} 1\n`, metrics)
	require.Regexp(t, `supervisor_status\{[^}]*supervisor_path="/root",supervisor_state="alive"\} 1\n`, metrics)
	require.NotContains(t, metrics, "otel_scope_", "the series carry no scope labels")
	require.Contains(t, metrics, "\ngo_goroutines ", "the Go collector")
	require.Contains(t, metrics, "\nprocess_cpu_seconds_total ", "the process collector")

	require.NoError(t, <-done)
	text := out.String()
	for _, want := range []string{
		"child_ready /root/api attempt=1 running→ready",
		"child_running /root/workers/worker-1 attempt=1",
		"child_running /root/workers attempt=1",
		`child_backoff /root/jobs/flaky attempt=1`,
		`child_stopping /root/jobs/indexer attempt=1 running→stopping cause="/root/jobs/flaky exited (error)"`,
		"supervisor_state /root alive→shutting_down",
		"telemetry: traces: none; metrics: prometheus (WithPrometheus); OTEL_EXPORTER_OTLP_ENDPOINT=",
		"exit report:",
	} {
		require.Contains(t, text, want)
	}
	var report sdk.Report
	require.NoError(t, json.Unmarshal([]byte(text[strings.Index(text, "exit report:\n")+len("exit report:\n"):]), &report))
	require.Equal(t, "/root", report.Path)
	require.Equal(t, "completed", report.State.String())
	require.Equal(t, sdk.CauseOperator, report.Cause)
	require.Len(t, report.Children, 3)
	jobs := report.Children[2].Supervisor
	require.NotNil(t, jobs)
	require.Equal(t, "upstream connection refused", jobs.Children[0].LastError)
	require.GreaterOrEqual(t, jobs.Children[0].Restarts, 3, "the flaky job was restarted after each failure")
}

// scrapeMetrics waits for run's started line and fetches the /metrics it
// names.
func scrapeMetrics(t *testing.T, out *syncBuffer) string {
	t.Helper()
	var addr string
	started := regexp.MustCompile(`metrics on (http://\S+/metrics)`)
	require.Eventually(t, func() bool {
		m := started.FindStringSubmatch(out.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	}, 5*time.Second, 10*time.Millisecond, "the started line")
	resp, err := http.Get(addr)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return string(body)
}

// syncBuffer is a bytes.Buffer that run may write while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
