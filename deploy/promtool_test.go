package deploy_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// promtool returns the path of promtool. Without it the test is skipped,
// except in CI (CI=true), where .ci/run installs it and a missing promtool
// is a failure.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool not found (CI=true): %v; install the prometheus package", err)
		}
		t.Skipf("promtool not found: %v (apt-get install prometheus)", err)
	}
	return path
}

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(promtool(t), args...).CombinedOutput()
	t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("promtool %s: %v", strings.Join(args, " "), err)
	}
}

// TestPromtoolCheckRules checks the rules' syntax and templates.
func TestPromtoolCheckRules(t *testing.T) {
	runPromtool(t, "check", "rules", filepath.FromSlash(rulesFile))
}

// TestPromtoolTestRules runs the rules' unit tests: each alert firing and
// not firing.
func TestPromtoolTestRules(t *testing.T) {
	runPromtool(t, "test", "rules", filepath.FromSlash(rulesTestFile))
}

// TestPromtoolCheckConfig checks the compose stack's Prometheus
// configuration, and through it the rule files it loads.
func TestPromtoolCheckConfig(t *testing.T) {
	runPromtool(t, "check", "config", filepath.FromSlash(promConfig))
}

// TestPromtoolCheckDashboardQueries parses every dashboard query as
// Prometheus does, by checking them as recording rules.
func TestPromtoolCheckDashboardQueries(t *testing.T) {
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for i, q := range dashboardQueries(t) {
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query_%d", i), Expr: q.expr})
	}
	b, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "dashboard-queries.yml")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	runPromtool(t, "check", "rules", f)
}
