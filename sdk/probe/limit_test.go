package probe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk/probe"
)

// Issue 17: 200 clients fetching /statusz as fast as they could took the
// CPU that a crash-looping sibling needed (its restart rate fell to 53%
// of quiet in BenchmarkStatusLoad). The handler now sends at most
// WithStatusLimit responses a second: a request beyond waits its turn,
// and one whose turn is more than a second away gets 429, with
// Retry-After, once it has waited that second: a client that retries at
// once costs one request a second.
func TestStatuszLimitsResponsesPerSecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSupervisor(t, "app", nil, idle("a"))
		require.NoError(t, s.Start(context.Background()))
		h := probe.Handler(s, probe.WithStatusLimit(4))
		start := time.Now()
		for range 4 {
			require.Equal(t, http.StatusOK, do(h, http.MethodGet, "/statusz?format=json", "").Code)
		}
		require.Zero(t, time.Since(start), "a second's worth is served at once")

		// 100ms later the next turn is 150ms away, and one comes every
		// 250ms: four requests fit within a second of waiting.
		time.Sleep(100 * time.Millisecond)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var served []time.Duration
		for range 4 {
			wg.Go(func() {
				rec := do(h, http.MethodGet, "/statusz?format=json", "")
				mu.Lock()
				defer mu.Unlock()
				require.Equal(t, http.StatusOK, rec.Code)
				served = append(served, time.Since(start))
			})
			synctest.Wait() // it holds its turn, in order
		}
		rec := do(h, http.MethodGet, "/statusz?format=json", "")
		require.Equal(t, http.StatusTooManyRequests, rec.Code, "its turn was 1.15s away")
		require.Equal(t, "1", rec.Header().Get("Retry-After"))
		require.Contains(t, rec.Body.String(), "at most 4 status responses a second")
		require.Equal(t, 1100*time.Millisecond, time.Since(start), "refused once it has waited a second")
		wg.Wait()
		require.Equal(t, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, 750 * time.Millisecond, time.Second}, served,
			"the refused request took no turn")

		// A request that gives up while it waits returns then, and gives
		// its turn back: the next one takes it.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/statusz?format=json", nil))
		cancel()
		require.Equal(t, 1150*time.Millisecond, time.Since(start), "its turn was 1.25s, it gave up at 1.15s")
		require.Equal(t, http.StatusOK, do(h, http.MethodGet, "/statusz?format=json", "").Code)
		// The bucket counts in float64 seconds: the turn comes within a
		// nanosecond or so of 1.25s.
		require.InDelta(t, float64(1250*time.Millisecond), float64(time.Since(start)), float64(time.Microsecond), "the turn it gave back")

		// So does one that gives up while it waits to be refused.
		for range 4 { // the turns of the next second
			wg.Go(func() { require.Equal(t, http.StatusOK, do(h, http.MethodGet, "/statusz?format=json", "").Code) })
			synctest.Wait()
		}
		ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/statusz?format=json", nil))
		cancel()
		require.InDelta(t, float64(1550*time.Millisecond), float64(time.Since(start)), float64(time.Microsecond))
		require.Empty(t, rec.Body.String(), "the client is gone: nothing to answer")
		wg.Wait()
		shutdown(t, s)
	})
}

// With WithStatusLimit(0) every request is served at once, and /livez and
// /readyz are never limited: a probe must not wait behind a status page.
func TestStatuszLimitOffAndProbesUnlimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSupervisor(t, "app", nil, idle("a"))
		require.NoError(t, s.Start(context.Background()))
		start := time.Now()
		off := probe.Handler(s, probe.WithStatusLimit(0))
		limited := probe.Handler(s, probe.WithStatusLimit(1))
		for range 100 {
			require.Equal(t, http.StatusOK, do(off, http.MethodGet, "/statusz?format=json", "").Code)
			require.Equal(t, http.StatusOK, do(limited, http.MethodGet, "/livez", "").Code)
			require.Equal(t, http.StatusOK, do(limited, http.MethodGet, "/readyz", "").Code)
		}
		require.Zero(t, time.Since(start))
		shutdown(t, s)
	})
}
