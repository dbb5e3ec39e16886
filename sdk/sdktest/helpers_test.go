package sdktest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/sdktest"
)

var errRefused = errors.New("connection refused")

// grow is a backoff without jitter, so that delays are exact: 100ms,
// 200ms, 400ms, ...
var grow = &sdk.Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2}

// newTree returns a started supervisor "app" recording into rec, with
// specs as its children; the test's cleanup shuts it down.
func newTree(t *testing.T, rec *sdktest.Recorder, specs ...sdk.Spec) *sdk.Supervisor {
	t.Helper()
	sup := build(t, rec, specs...)
	if err := sup.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	return sup
}

// build is newTree without the start.
func build(t *testing.T, rec *sdktest.Recorder, specs ...sdk.Spec) *sdk.Supervisor {
	t.Helper()
	var opts []sdk.Option
	if rec != nil {
		opts = append(opts, sdk.WithEventHook(rec.Hook))
	}
	sup, err := sdk.New("app", opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range specs {
		if err := sup.Add(context.Background(), spec, "test", "declared by the test"); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _, _ = sup.Shutdown(context.Background(), "test", "cleanup") })
	return sup
}

func shutdown(t *testing.T, sup *sdk.Supervisor) *sdk.Report {
	t.Helper()
	rep, err := sup.Shutdown(context.Background(), "test", "done")
	if err != nil && !errors.Is(err, sdk.ErrAbandoned) {
		t.Fatalf("shutdown: %v", err)
	}
	return rep
}

// equal fails the test, showing both sides one item a line, unless got
// and want are equal.
func equal[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot:\n\t%s\nwant:\n\t%s", what, lines(got), lines(want))
	}
}

func lines[T any](xs []T) string {
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(s, "\n\t")
}

// fakeTB records what the assertions report instead of failing the test.
// Embedding testing.TB supplies the unexported method; only the methods
// the assertions call are implemented.
type fakeTB struct {
	testing.TB
	errors []string
	fatal  bool
}

type fatalStop struct{}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.fatal = true
	panic(fatalStop{}) // as FailNow, the caller goes no further
}

// run calls check with f, stopping where a Fatalf would.
func (f *fakeTB) run(check func(tb testing.TB)) {
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(fatalStop); !ok {
				panic(v)
			}
		}
	}()
	check(f)
}
