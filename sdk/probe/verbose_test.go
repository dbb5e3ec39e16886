package probe_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/probe"
)

// ?verbose lists each check, in the Kubernetes API server's format.
func TestVerboseProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := &sdk.Backoff{Initial: time.Minute, Max: time.Minute, Multiplier: 1}
		failed := false // ready, then fails once
		flaky := sdk.Spec{Name: "flaky", Readiness: true, Backoff: slow, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if err := sdk.Ready(ctx); err != nil {
				return err
			}
			if !failed {
				failed = true
				time.Sleep(time.Second)
				return errors.New("refused\nby peer")
			}
			<-ctx.Done()
			return nil
		})}
		sub := newSupervisor(t, "sub", nil, readyAfter("cache", 0))
		s := newSupervisor(t, "app", nil, readyAfter("db", 0), flaky, idle("worker"), sdk.Spec{Name: "sub", Service: sub})
		h := probe.Handler(s)
		require.NoError(t, s.Start(context.Background()))
		time.Sleep(2 * time.Second)
		synctest.Wait()

		rec := do(h, http.MethodGet, "/livez?verbose", "")
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "[+]supervisor /app ok\nlivez check passed\n", rec.Body.String())

		rec = do(h, http.MethodGet, "/readyz?verbose", "")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "[+]supervisor /app ok\n"+
			"[+]/app/db ok\n"+
			"[-]/app/flaky failed: backoff (last error: refused by peer)\n"+
			"[+]supervisor /app/sub ok\n"+
			"[+]/app/sub/cache ok\n"+
			"readyz check failed\n", rec.Body.String())

		time.Sleep(time.Minute) // flaky runs again, and signals readiness
		synctest.Wait()
		rec = do(h, http.MethodGet, "/readyz?verbose=1", "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, "[+]supervisor /app ok\n[+]/app/db ok\n[+]/app/flaky ok\n[+]supervisor /app/sub ok\n[+]/app/sub/cache ok\nreadyz check passed\n", rec.Body.String())
		require.Equal(t, "ok", do(h, http.MethodGet, "/readyz", "").Body.String(), "without ?verbose, as before")

		shutdown(t, s)
		rec = do(h, http.MethodGet, "/livez?verbose", "")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Contains(t, rec.Body.String(), "[-]supervisor /app failed: completed")
		require.Contains(t, rec.Body.String(), "livez check failed\n")
	})
}

// A readiness child that failed for good keeps /readyz at 503, and both
// answers say so: the plain one used to be "not ready" alone, because it
// walked the tree by a rule of its own that skipped ended children. Both
// now list what sdk.ChildStatus.HoldsUpReadiness says.
func TestReadyzSaysWhichFailedChildHoldsItUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Ready, then lost for good (a temporary child is not restarted).
		db := sdk.Spec{Name: "db", Readiness: true, Restart: sdk.Temporary, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			if err := sdk.Ready(ctx); err != nil {
				return err
			}
			time.Sleep(time.Second)
			return errors.New("connection refused")
		})}
		done := sdk.Spec{Name: "migrate", Readiness: true, Restart: sdk.Temporary, Service: sdk.ServiceFunc(func(ctx context.Context) error {
			return sdk.Ready(ctx) // then completes: it no longer counts
		})}
		s := newSupervisor(t, "app", nil, idle("api"), db, done)
		require.NoError(t, s.Start(context.Background()))
		time.Sleep(2 * time.Second)
		synctest.Wait()
		h := probe.Handler(s)

		st, err := s.Status(context.Background())
		require.NoError(t, err)
		require.False(t, st.Ready)
		var holding []string
		for _, c := range st.Children {
			if c.HoldsUpReadiness() {
				holding = append(holding, c.Path)
			}
		}
		require.Equal(t, []string{"/app/db"}, holding)

		rec := do(h, http.MethodGet, "/readyz", "")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "not ready\n/app/db: failed (last error: connection refused)", rec.Body.String())
		rec = do(h, http.MethodGet, "/readyz?verbose", "")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "[+]supervisor /app ok\n[-]/app/db failed: failed (last error: connection refused)\nreadyz check failed\n", rec.Body.String())
		shutdown(t, s)
	})
}
