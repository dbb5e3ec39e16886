package e2e

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestQuickstartFailedChildAlert is the headline use case end to end: the
// README's demo, built as a binary and run with -fail=jobs/flaky, is
// scraped by a real Prometheus loaded with the shipped alert rules, and
// SupervisedChildFailed fires for /root/jobs/flaky with the labels an
// operator is paged with; nothing else fires. Every query of the shipped
// dashboard runs against that Prometheus, and its child state timeline
// shows the child failed. Then SIGTERM, as Kubernetes
// sends it, stops the demo gracefully (exit status 0) and its summary
// table shows the child failed.
func TestQuickstartFailedChildAlert(t *testing.T) {
	began := time.Now()
	bin := buildQuickstart(t)
	built := time.Since(began)

	// Nothing to export but /metrics, whatever the machine's OTEL_*
	// variables say.
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "OTEL_") {
			env = append(env, e)
		}
	}
	qs := startProcessEnv(t, "quickstart", env, bin, "-addr", "127.0.0.1:0", "-fail", "jobs/flaky")
	var target string
	started := regexp.MustCompile(`metrics on http://(\S+)/metrics`)
	waitFor(t, qs, 30*time.Second, "the quickstart's started line", func(context.Context) error {
		m := started.FindStringSubmatch(qs.out.String())
		if m == nil {
			return fmt.Errorf("no started line yet")
		}
		target = m[1]
		return nil
	})

	prom, api := startPrometheus(t, target)
	failed := `supervisor_child_status{supervisor_child_path="/root/jobs/flaky",supervisor_child_state="failed"}`
	waitFor(t, prom, 30*time.Second, "the failed state scraped", func(ctx context.Context) error {
		return wantSample(ctx, api, failed, "1")
	})
	t.Logf("GET /api/v1/query?query=%s:\n%s", failed, lastQuery)

	firing, all := firingAlert(t, prom, api, "SupervisedChildFailed")
	t.Logf("%s %s after %s (quickstart built in %s): labels=%v annotations=%v value=%s",
		firing.Labels["alertname"], firing.State, time.Since(began).Round(time.Millisecond), built.Round(time.Millisecond),
		firing.Labels, firing.Annotations, firing.Value)
	want := map[string]string{
		"alertname": "SupervisedChildFailed", "severity": "page", "job": "supervisor", "instance": target,
		"supervisor_child_path": "/root/jobs/flaky", "supervisor_child_state": "failed",
	}
	if fmt.Sprint(firing.Labels) != fmt.Sprint(want) {
		t.Errorf("alert labels %v, want %v", firing.Labels, want)
	}
	if got := firing.Annotations["summary"]; got != "Supervised child /root/jobs/flaky has failed" {
		t.Errorf("summary %q", got)
	}
	for _, al := range all {
		if al.Labels["alertname"] != "SupervisedChildFailed" || al.Labels["supervisor_child_path"] != "/root/jobs/flaky" {
			t.Errorf("unexpected alert %s (%s): %v", al.Labels["alertname"], al.State, al.Labels)
		}
	}

	// The dashboard's queries, against the same Prometheus: the state
	// timeline shows the failed child failed, and its siblings running.
	checkDashboard(t, context.Background(), api, map[string]string{
		"/root/jobs/flaky": "failed", "/root/jobs/indexer": "running", "/root/api": "ready", "/root/workers/worker-1": "running",
	})

	// SIGTERM: NotifyShutdown stops the tree gracefully, and the failed
	// child is the tree's state, not the process's exit status.
	if err := qs.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-qs.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the quickstart did not exit within 30s of SIGTERM")
	}
	if qs.err != nil {
		t.Errorf("the quickstart after SIGTERM: %v, want exit status 0\n%s", qs.err, tail(qs.out.String(), 4000))
	}
	text := qs.out.String()
	for _, re := range []string{
		`\nexit: /root completed, cause signal \(by signal: terminated\)`,
		`\n/root/jobs/flaky +failed +1 +0 +already_exited +0s +permanent fault injected by -fail\n`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("the quickstart's output does not match %s:\n%s", re, tail(text, 4000))
		}
	}
	t.Logf("the whole test took %s", time.Since(began).Round(time.Millisecond))
}
