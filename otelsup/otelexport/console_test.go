package otelexport

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The console exporters write to the process's standard output, which the
// stdout exporters capture when their package is initialised; the test
// runs its export in a child process (this test binary, running
// TestConsoleChild) and reads the child's output.
const consoleChildEnv = "OTELEXPORT_CONSOLE_CHILD"

// TestConsoleExporters: OTEL_TRACES_EXPORTER=console and
// OTEL_METRICS_EXPORTER=console print the spans and metrics as JSON.
func TestConsoleExporters(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestConsoleChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), consoleChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"traces: console; metrics: console",
		`{"Name":"supervisor.child.start",`,    // a span
		`{"Name":"supervisor.child.restarts",`, // a metric
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the console output has no %s; it begins:\n%.2000s", want, text)
		}
	}
}

// TestConsoleChild is TestConsoleExporters' child process.
func TestConsoleChild(t *testing.T) {
	if os.Getenv(consoleChildEnv) != "1" {
		t.Skip("run by TestConsoleExporters")
	}
	cleanEnv(t, "OTEL_TRACES_EXPORTER=console", "OTEL_METRICS_EXPORTER=console")
	p := setup(t)
	os.Stdout.WriteString(p.String() + "\n")
	runFlaky(t, adapter(t, p), 2, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}
