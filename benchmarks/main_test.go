// Package benchmarks compares the supervisor SDK with suture v4 and
// oversight v1 on the same work, and measures the SDK's hot paths. See
// README.md for what each benchmark measures and how to run them.
package benchmarks

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests and
// benchmarks; each benchmark also checks its own (see noLeaks).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSameWork checks the harness on every library: a crash loop of 10
// restarts among 5 idle siblings completes, and everything stops.
func TestSameWork(t *testing.T) {
	for _, l := range libs {
		t.Run("lib="+l.name, func(t *testing.T) {
			idle := newIdleGroup("idle", 5)
			loop := newCrashLoop(10)
			sup := l.start(t, append(idle.children, loop.child()))
			<-idle.all
			<-loop.ready
			close(loop.goc)
			<-loop.done
			sup.stop(t)
			if got := loop.attempt.Load(); got != 11 {
				t.Errorf("%d attempts, want 11", got)
			}
		})
	}
}
