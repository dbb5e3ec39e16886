package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// rulesFile is the shipped alert rules.
const rulesFile = "../deploy/prometheus/supervisor-rules.yml"

// shortFor rewrites every `for:` duration of the rules to 2s. The shipped
// durations (1m, 2m) are what an alert should wait for in production; a
// test that waited for them would take minutes. The expressions, labels
// and annotations stay as shipped, and 2s still shows the alert going
// through pending to firing.
func shortFor(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	forLine := regexp.MustCompile(`(?m)^(\s+)for: \S+$`)
	if n := len(forLine.FindAll(b, -1)); n == 0 {
		t.Fatalf("%s: no `for:` to shorten", rulesFile)
	}
	return forLine.ReplaceAllString(string(b), "${1}for: 2s")
}

// startPrometheus starts the Debian prometheus binary (a failure in CI
// when it is missing, a skip elsewhere) with a test-only configuration:
// the shipped rules with shortFor's durations, scraping target every
// second as job supervisor (the job SupervisorTargetDown watches) and
// evaluating the rules every second. It returns the process and the base
// URL of its HTTP API once it is ready; the test's cleanup stops it.
func startPrometheus(t *testing.T, target string) (*process, string) {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		missing(t, "no prometheus binary: %v (apt-get install prometheus)", err)
	}
	dir := t.TempDir()
	rules := filepath.Join(dir, "supervisor-rules.yml")
	if err := os.WriteFile(rules, []byte(shortFor(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: supervisor
    static_configs:
      - targets: [%q]
`, rules, target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	prom := startProcess(t, "prometheus", bin,
		"--config.file="+cfgPath,
		"--web.listen-address="+promAddr,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--log.level=warn")
	api := "http://" + promAddr
	began := time.Now()
	waitFor(t, prom, 30*time.Second, "prometheus ready", func(ctx context.Context) error {
		code, body, err := get(ctx, api+"/-/ready")
		if err == nil && code != 200 {
			err = fmt.Errorf("%d %s", code, body)
		}
		return err
	})
	t.Logf("prometheus ready after %s on %s, scraping %s", time.Since(began).Round(time.Millisecond), promAddr, target)
	return prom, api
}

// firingAlert waits until Prometheus reports the alert name firing and
// returns it, with every alert it reported then.
func firingAlert(t *testing.T, prom *process, api, name string) (alert, []alert) {
	t.Helper()
	var (
		firing alert
		all    alertsResponse
	)
	waitFor(t, prom, 30*time.Second, name+" firing", func(ctx context.Context) error {
		if err := getJSON(ctx, api+"/api/v1/alerts", &all); err != nil {
			return err
		}
		for _, al := range all.Data.Alerts {
			if al.Labels["alertname"] == name && al.State == "firing" {
				firing = al
				return nil
			}
		}
		return fmt.Errorf("alerts: %+v", all.Data.Alerts)
	})
	return firing, all.Data.Alerts
}
