package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
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
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, "127.0.0.1:0", 1500*time.Millisecond))
	text := out.String()
	for _, want := range []string{
		"child_ready /root/api attempt=1 running→ready",
		"child_running /root/workers/worker-1 attempt=1",
		"child_running /root/workers attempt=1",
		`child_backoff /root/jobs/flaky attempt=1`,
		`child_stopping /root/jobs/indexer attempt=1 running→stopping cause="/root/jobs/flaky exited (error)"`,
		"supervisor_state /root alive→shutting_down",
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
