package sdk

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// NotifyShutdown shuts s down when the process receives one of sigs
// (default SIGINT and SIGTERM): the first signal starts a graceful Shutdown
// (requestedBy "signal", reason the signal's name, cause [CauseSignal], no
// deadline), a second signal makes it immediate (children still running
// are abandoned and reported). It returns a stop function that stops
// listening (idempotent) and waits for its goroutine to end. The goroutine
// is owned by the returned stop function.
//
// The first signal only starts the shutdown; [Supervisor.Wait] returns its
// report. A signal that arrives while s is not running (before Start or
// Serve, or after it has ended) changes nothing, and the next signal counts
// as a first one again. Stopping does not undo a shutdown already started,
// and does not wait for it: stop returns promptly. As with
// [signal.Notify], the signals are not delivered to their default handlers
// (which would end the process) until stop is called.
//
// Typical use:
//
//	stop := sdk.NotifyShutdown(sup)
//	defer stop()
//	if err := sup.Start(ctx); err != nil { ... }
//	report, err := sup.Wait(context.Background())
func NotifyShutdown(s *Supervisor, sigs ...os.Signal) (stop func()) {
	if len(sigs) == 0 {
		sigs = []os.Signal{os.Interrupt, syscall.SIGTERM}
	}
	// Buffered: signal.Notify never blocks, so a signal that arrives while
	// the goroutine is busy would otherwise be dropped.
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, sigs...)
	stopLoop := notifyShutdown(s, ch)
	var once sync.Once
	return func() {
		once.Do(func() { signal.Stop(ch) })
		stopLoop()
	}
}

// notifyShutdown is NotifyShutdown with the signal source given, for tests.
// The returned function ends the goroutine and waits for it; it may be
// called more than once, from any goroutine.
func notifyShutdown(s *Supervisor, ch <-chan os.Signal) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var graceful *run // the run the first signal asked to shut down
		for {
			select {
			case <-quit:
				return
			case sig := <-ch:
				reason := sig.String()
				if strings.TrimSpace(reason) == "" {
					reason = "signal" // the audit fields must not be blank
				}
				r := s.currentRun()
				switch {
				case r == nil:
					// Not running: nothing to shut down.
				case r != graceful:
					// First signal: start a graceful shutdown and return at
					// once. Shutdown's own wait could only be cut short by
					// abandoning the children; not waiting leaves this
					// goroutine free to see a second signal, and to end
					// promptly when stopped.
					graceful = r
					r.post(msg{kind: msgShutdown, ctl: &command{op: opShutdown,
						cause: &StopCause{kind: stopShutdown, Cause: CauseSignal, RequestedBy: "signal", Reason: reason}}})
				default:
					// Second signal: an already-expired deadline makes the
					// loop abandon the children that are still running.
					ctx, cancel := context.WithDeadline(context.Background(), time.Now())
					_, _ = s.shutdown(ctx, CauseSignal, "signal", reason)
					cancel()
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
}
