package main

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// -fail=jobs/flaky: the child fails at its first attempt and stays failed
// while the rest of the tree runs, which /metrics shows as the state set's
// failed series (what SupervisedChildFailed selects), and the summary
// table at exit says so in a row.
func TestQuickstartFailsAChildOnRequest(t *testing.T) {
	cleanEnv(t)
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), &out, options{addr: "127.0.0.1:0", runFor: 1500 * time.Millisecond, fail: "jobs/flaky"})
	}()
	var metrics string
	require.Eventually(t, func() bool {
		metrics = scrapeMetrics(t, &out)
		return regexp.MustCompile(`supervisor_child_status\{[^}]*supervisor_child_path="/root/jobs/flaky",supervisor_child_state="failed"\} 1\n`).MatchString(metrics)
	}, 5*time.Second, 50*time.Millisecond, "the failed state on /metrics")
	require.Regexp(t, `supervisor_child_status\{[^}]*supervisor_child_path="/root/jobs/indexer",supervisor_child_state="running"\} 1\n`, metrics,
		"its sibling runs on: a temporary child's end restarts no scope")
	require.Regexp(t, `supervisor_status\{[^}]*supervisor_path="/root/jobs",supervisor_state="alive"\} 1\n`, metrics)

	require.NoError(t, <-done, "a failed child is the tree's business, not the exit status")
	text := out.String()
	require.NotContains(t, text, "exit report:", "the JSON report is behind -json")
	require.Contains(t, text, "exit: /root completed, cause operator (by quickstart: ran for 1.5s), ran ")
	require.Regexp(t, `\nCHILD +STATE +ATTEMPTS +RESTARTS +OUTCOME +STOP +LAST ERROR\n`, text)
	require.Regexp(t, `\n/root/jobs/flaky +failed +1 +0 +already_exited +0s +permanent fault injected by -fail\n`, text)
	require.Regexp(t, `\n/root/jobs/indexer +stopped +1 +0 +graceful +\d+(\.\d+)?(µs|ms) +-\n`, text, "stop times rounded, not in nanoseconds")
	require.Regexp(t, `\n/root/workers/worker-3 +stopped +1 +0 +graceful `, text, "nested children have rows")
}

func TestQuickstartRejectsAnUnknownFailTarget(t *testing.T) {
	err := run(context.Background(), &syncBuffer{}, options{addr: "127.0.0.1:0", fail: "api"})
	require.EqualError(t, err, "-fail=api: not a child the demo can fail (choose one of jobs/flaky, jobs/indexer)")
}
