package sdk_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// A child has one failure counter, with one reset rule (a clean exit or a
// run of at least ResetAfter clears it), and the backoff delay, the
// events' Failures and the log level all read it. (The events counted
// failures in one place and the backoff restarts in another, with
// different resets: after a clean exit the events said 0 while the next
// delay still grew.)
func TestOneFailureCounter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		// error, error, clean, error, long run then error
		script := []func(ctx context.Context) error{
			func(context.Context) error { return errBoom },
			func(context.Context) error { return errBoom },
			func(context.Context) error { return nil },
			func(context.Context) error { return errBoom },
			func(context.Context) error { time.Sleep(time.Minute); return errBoom },
		}
		var n atomic.Int64
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, sdk.Spec{Name: "c", Backoff: &sdk.Backoff{Initial: time.Second, Max: time.Hour, Multiplier: 2, ResetAfter: 30 * time.Second},
			Service: sdk.ServiceFunc(func(ctx context.Context) error {
				if i := int(n.Add(1)) - 1; i < len(script) {
					return script[i](ctx)
				}
				return idle(ctx)
			})})
		startSup(t, s)
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		var failures []int
		var delays []time.Duration
		for _, e := range rec.filter("/r/c", sdk.EventChildExited) {
			failures = append(failures, e.Failures)
		}
		for _, e := range rec.filter("/r/c", sdk.EventChildBackoff) {
			delays = append(delays, e.Delay)
			require.Equal(t, failures[len(delays)-1], e.Failures, "the backoff event reads the same counter")
		}
		require.Equal(t, []int{1, 2, 0, 1, 1}, failures)
		require.Equal(t, []time.Duration{time.Second, 2 * time.Second, time.Second, time.Second, time.Second}, delays)
	})
}
