// Package e2e runs a supervision tree against real backends: Jaeger (the
// spans, through its query API) and Prometheus (the metrics and the
// shipped alert rules), and the /statusz page in headless Chromium (Debian's
// package, driven by chromedp). The backends are binaries, started on loopback
// ports and stopped by each test: Jaeger is built from source as a Go tool
// (see tools/), Prometheus is the Debian package's.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// inCI reports whether the tests run in CI, where a missing backend is a
// failure rather than a reason to skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// missing skips the test, or fails it in CI.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if inCI() {
		t.Fatalf("CI=true: "+format, args...)
	}
	t.Skipf(format, args...)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a process's output while the test may read it.
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

// process is a backend the test started.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when it has exited
	err  error         // its exit, once done is closed
}

// startProcess starts bin with args and stops it when the test ends
// (SIGTERM, then SIGKILL after 10s), logging its output if the test
// failed.
func startProcess(t *testing.T, name, bin string, args ...string) *process {
	t.Helper()
	return startProcessEnv(t, name, nil, bin, args...)
}

// startProcessEnv is startProcess with the environment env (nil: the
// test's own).
func startProcessEnv(t *testing.T, name string, env []string, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, cmd: exec.Command(bin, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, tail(p.out.String(), 8000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// client talks to the backends without keeping connections open, so that
// no transport goroutine outlives a test.
var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// get fetches url and returns its status and body.
func get(ctx context.Context, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// getJSON fetches url, which must answer 200, into v.
func getJSON(ctx context.Context, url string, v any) error {
	code, body, err := get(ctx, url)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, code, tail(string(body), 500))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %v in %s", url, err, tail(string(body), 500))
	}
	return nil
}

// waitFor calls f until it returns nil, the process exits, or the timeout
// passes; it returns f's last error in the last two cases.
func waitFor(t *testing.T, p *process, timeout time.Duration, what string, f func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := f(ctx)
		if err == nil {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("%s: %s exited (%v); last error: %v", what, p.name, p.err, err)
		case <-ctx.Done():
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		case <-tick.C:
		}
	}
}

// oneLine squeezes whitespace, for compact logs.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
