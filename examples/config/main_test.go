package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/supervisor-sdk/supervisor/sdk"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// runExample runs the example for 300ms on the configuration at path and
// returns its output.
func runExample(t *testing.T, path string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-config", path, "-for", "300ms"}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	return out.String()
}

var firstBackoff = regexp.MustCompile(`(?m)^child_backoff /root/jobs/flaky attempt=1 running→backoff delay=(\S+)`)

// TestPolicyFromFile is the "change a policy without recompiling" check:
// the flaky job's first backoff delay is the file's, and editing a copy of
// the file changes it, with the same binary.
func TestPolicyFromFile(t *testing.T) {
	out := runExample(t, "tree.yaml")
	if m := firstBackoff.FindStringSubmatch(out); m == nil || m[1] != "150ms" {
		t.Fatalf("first backoff of the flaky job: %v, want 150ms from tree.yaml; output:\n%s", m, out)
	}

	src, err := os.ReadFile("tree.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "initial: 150ms", "initial: 40ms", 1)
	if edited == string(src) {
		t.Fatal("tree.yaml no longer sets initial: 150ms")
	}
	path := filepath.Join(t.TempDir(), "tree.yaml")
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	out = runExample(t, path)
	if m := firstBackoff.FindStringSubmatch(out); m == nil || m[1] != "40ms" {
		t.Fatalf("first backoff after editing the file: %v, want 40ms; output:\n%s", m, out)
	}
	// The second delay grows by the file's multiplier (jitter none).
	if !strings.Contains(out, "child_backoff /root/jobs/flaky attempt=2 running→backoff delay=80ms") {
		t.Errorf("no second backoff of 80ms; output:\n%s", out)
	}
	if !strings.Contains(out, "/root/jobs/flaky: done") || !strings.Contains(out, "/root/jobs/report: report written") {
		t.Errorf("the jobs did not run; output:\n%s", out)
	}

	// The report is printed last, as JSON.
	_, js, ok := strings.Cut(out, "report:\n")
	if !ok {
		t.Fatalf("no report; output:\n%s", out)
	}
	var rep sdk.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, js)
	}
	if rep.Path != "/root" || rep.RequestedBy != "config-example" || len(rep.Children) != 2 || rep.Children[1].Supervisor == nil {
		t.Errorf("report: %+v", rep)
	}
}

// TestInvalidFile: a bad file is reported with its path and line, and
// nothing runs.
func TestInvalidFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("name: root\nchildren:\n  - name: x\n    task: tickr\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"-config", path}, &out)
	want := "config: " + path + `:4: children[0].task: unknown task "tickr" (did you mean "ticker"?)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if out.Len() != 0 {
		t.Errorf("output although the file is invalid:\n%s", out.String())
	}
}
