package lifecycle_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// base is the fixed instant every fake clock starts from, so expected times
// and JSON can be written out literally.
var base = time.Date(2025, time.January, 2, 3, 4, 5, 0, time.UTC)

// fakeClock is advanced by the test only, so a transition time is known
// exactly and reading later cannot change it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: base} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// newMachine keeps test machines out of the process-wide default
// StateMetrics unless the caller passes its own WithStateMetrics (later
// options win).
func newMachine(tb testing.TB, kind lifecycle.Kind, path string, opts ...lifecycle.Option) *lifecycle.Machine {
	tb.Helper()
	m, err := lifecycle.New(kind, path, append([]lifecycle.Option{lifecycle.WithStateMetrics(nil)}, opts...)...)
	require.NoError(tb, err)
	tb.Cleanup(m.Close)
	return m
}

// requireFieldError asserts that err is a *FieldError about field.
func requireFieldError(tb testing.TB, err error, field string) {
	tb.Helper()
	var fe *lifecycle.FieldError
	require.ErrorAs(tb, err, &fe)
	require.Equal(tb, field, fe.Field)
	require.Equal(tb, "invalid_argument", fe.ErrorType())
	require.Contains(tb, err.Error(), field)
}

// requireOpen and requireClosed check Done without blocking, so a wrong
// answer fails instead of hanging.
func requireOpen(tb testing.TB, m *lifecycle.Machine) {
	tb.Helper()
	select {
	case <-m.Done():
		require.FailNow(tb, "Done is closed before the lifecycle ended")
	default:
	}
}

func requireClosed(tb testing.TB, m *lifecycle.Machine) {
	tb.Helper()
	select {
	case <-m.Done():
	default:
		require.FailNow(tb, "Done is still open after the lifecycle ended")
	}
}
