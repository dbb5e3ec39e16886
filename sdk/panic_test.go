package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// panicsOnce returns a transient child that panics with v on its first
// attempt and then runs until cancelled.
func panicsOnce(calls *atomic.Int64, v func() any) sdk.Spec {
	return sdk.Spec{Name: "c", Restart: sdk.Transient, Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
		if calls.Add(1) == 1 {
			panic(v())
		}
		<-ctx.Done()
		return nil
	})}
}

func TestPanicRecovered(t *testing.T) {
	errDisk := errors.New("disk on fire")
	for _, tc := range []struct {
		name  string
		value func() any
		msg   string
		check func(t *testing.T, pe *sdk.PanicError)
	}{
		{"string", func() any { return "kaboom" }, "sdk: panic: kaboom", func(t *testing.T, pe *sdk.PanicError) {
			require.Equal(t, "kaboom", pe.Value)
			require.NoError(t, pe.Unwrap(), "a string panic has nothing to unwrap")
		}},
		{"error value", func() any { return fmt.Errorf("while writing: %w", errDisk) }, "sdk: panic: while writing: disk on fire", func(t *testing.T, pe *sdk.PanicError) {
			require.ErrorIs(t, pe, errDisk, "errors.Is goes through Unwrap to the panic value")
			require.ErrorIs(t, pe.Unwrap(), errDisk)
		}},
		{"runtime error", func() any {
			var m map[string]int
			m["x"] = 1 // assignment to entry in nil map
			return nil
		}, "sdk: panic: assignment to entry in nil map", func(t *testing.T, pe *sdk.PanicError) {
			var re runtime.Error
			require.ErrorAs(t, pe, &re)
		}},
		{"nil", func() any { return nil }, "sdk: panic: panic called with nil argument", func(t *testing.T, pe *sdk.PanicError) {
			var pn *runtime.PanicNilError
			require.ErrorAs(t, pe, &pn)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				s := newSup(t, "r", sdk.WithEventHook(rec.hook))
				var calls atomic.Int64
				add(t, s, panicsOnce(&calls, tc.value))
				sv := serve(t, s)
				synctest.Wait()

				require.Equal(t, int64(2), calls.Load(), "a panic is a failure: the transient child is restarted")
				ev := rec.last(t, "/r/c", sdk.EventChildPanicked)
				require.Equal(t, uint64(1), ev.Attempt)
				var pe *sdk.PanicError
				require.ErrorAs(t, ev.Err, &pe)
				require.EqualError(t, pe, tc.msg)
				require.Equal(t, "panic", pe.ErrorType())
				require.NotEmpty(t, pe.Stack)
				require.LessOrEqual(t, len(pe.Stack), 64<<10)
				require.Contains(t, string(pe.Stack), "TestPanicRecovered", "the stack is captured where the panic happened")
				require.Contains(t, string(pe.Stack), "panic(")
				tc.check(t, pe)

				ex := rec.filter("/r/c", sdk.EventChildExited)
				require.Equal(t, sdk.ExitPanic, ex[0].Exit)
				require.Same(t, pe, ex[0].Err, "the exit carries the same *PanicError")
				require.Equal(t, 1, rec.count("/r/c", sdk.EventChildRestarting))
				require.NoError(t, sv.stop())
			})
		})
	}
}

func TestPanicStackIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		var deep func(n int)
		deep = func(n int) {
			if n == 0 {
				panic("deep")
			}
			deep(n - 1)
		}
		add(t, s, sdk.Spec{Name: "c", Restart: sdk.Temporary, Service: sdk.ServiceFunc(func(context.Context) error {
			deep(5000)
			return nil
		})})
		sv := serve(t, s)
		synctest.Wait()
		var pe *sdk.PanicError
		require.ErrorAs(t, rec.last(t, "/r/c", sdk.EventChildPanicked).Err, &pe)
		require.LessOrEqual(t, len(pe.Stack), 64<<10)
		require.Contains(t, string(pe.Stack), "panic_test.go")
		ended := rec.last(t, "/r/c", sdk.EventChildEnded)
		require.Equal(t, lifecycle.StateFailed, ended.To, "a temporary child that panicked ends failed")
		require.NoError(t, sv.stop())
	})
}

// A panic does not take the supervisor or the siblings down.
func TestPanicIsolated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		log := newAttempts()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		var calls atomic.Int64
		add(t, s, member(log, "a"), panicsOnce(&calls, func() any { return "boom" }))
		sv := serve(t, s)
		synctest.Wait()
		require.Equal(t, 1, log.of("a"))
		require.True(t, s.Health().Alive)
		require.NoError(t, sv.stop())
	})
}

const passThroughEnv = "SDK_TEST_PANIC_PASSTHROUGH"

// WithPanicPassThrough crashes the process, so it is tested in a child
// process: this test re-executes the test binary to run only itself.
func TestPanicPassThrough(t *testing.T) {
	if os.Getenv(passThroughEnv) == "1" {
		s, err := sdk.New("r", sdk.WithPanicPassThrough(), sdk.WithEventHook(func(e sdk.Event) {
			fmt.Fprintln(os.Stderr, "event:", e.Type, e.Path, "crash:", e.Crash)
		}))
		if err != nil {
			os.Exit(3)
		}
		_ = s.Add(context.Background(), sdk.Spec{Name: "c", Restart: sdk.Transient, Service: sdk.ServiceFunc(func(context.Context) error {
			panic("pass-through-boom")
		})}, "test", "declared by the test")
		_ = s.Serve(context.Background())
		os.Exit(4) // not reached: the panic crashes the process
	}
	if testing.Short() {
		t.Skip("runs a subprocess")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestPanicPassThrough$", "-test.count=1")
	cmd.Env = append(os.Environ(), passThroughEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "stderr:\n%s", stderr.String())
	require.NotZero(t, ee.ExitCode())
	require.NotEqual(t, 4, ee.ExitCode(), "Serve returned instead of crashing")
	out := stderr.String()
	require.Contains(t, out, "panic: pass-through-boom")
	require.Contains(t, out, "event: child_panicked /r/c crash: true", "the panic event is delivered before the crash, and says so")
	require.Contains(t, out, "event: child_exited /r/c crash: false")
	require.NotContains(t, out, "event: child_restarting")
}

const latePanicEnv = "SDK_TEST_LATE_PANIC"

// A pass-through panic must crash the process even when it comes from an
// abandoned attempt after Serve has returned.
func TestPanicPassThroughAfterServeReturned(t *testing.T) {
	if os.Getenv(latePanicEnv) == "1" {
		s, err := sdk.New("r", sdk.WithPanicPassThrough())
		if err != nil {
			os.Exit(3)
		}
		gate := make(chan struct{})
		_ = s.Add(context.Background(), sdk.Spec{Name: "c", StopTimeout: time.Millisecond, Service: sdk.ServiceFunc(func(context.Context) error {
			<-gate // ignores cancellation: abandoned
			panic("late-boom")
		})}, "test", "declared by the test")
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Millisecond, cancel) // once c runs
		fmt.Fprintln(os.Stderr, "serve:", s.Serve(ctx))
		close(gate)
		time.Sleep(time.Second)
		fmt.Fprintln(os.Stderr, "the panic was swallowed")
		os.Exit(4)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestPanicPassThroughAfterServeReturned$", "-test.count=1")
	cmd.Env = append(os.Environ(), latePanicEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "stderr:\n%s", stderr.String())
	require.NotEqual(t, 4, ee.ExitCode(), "stderr:\n%s", stderr.String())
	require.Contains(t, stderr.String(), "panic: late-boom")
}

// A recovered panic keeps a stack of its own size, not the 64 KiB capture
// buffer: the last panic of every child is kept (status, report), so a
// tree of panicking children must not pin 64 KiB each. (Each recovered
// panic retained 66.6 KiB for a 0.9 KiB stack.)
func TestPanicStackCostsItsSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := newSup(t, "r", sdk.WithEventHook(rec.hook))
		add(t, s, sdk.Spec{Name: "p", Restart: sdk.Temporary, Service: sdk.ServiceFunc(func(context.Context) error { panic("boom") })})
		startSup(t, s)
		ev := rec.last(t, "/r/p", sdk.EventChildPanicked)
		var pe *sdk.PanicError
		require.ErrorAs(t, ev.Err, &pe)
		require.NotEmpty(t, pe.Stack)
		require.Equal(t, len(pe.Stack), cap(pe.Stack), "an exact-size copy")
		require.Less(t, cap(pe.Stack), 16<<10)
	})
}
