package probe_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/probe"
)

// BenchmarkStatuszHugeErrors: /statusz?format=json of 10,000 failed
// children whose errors are 10 KB each (issue 17: a 100 MiB body in 2.9s).
// One op is one fresh rendering (no page cache, no limit); body-B is the
// JSON's size, gzip-B what a client that accepts gzip receives.
func BenchmarkStatuszHugeErrors(b *testing.B) {
	const n = 10_000
	s, err := sdk.New("big")
	require.NoError(b, err)
	huge := errors.New(strings.Repeat("x", 10_000))
	var failed sync.WaitGroup
	failed.Add(n)
	for i := range n {
		require.NoError(b, s.Add(context.Background(), sdk.Spec{Name: fmt.Sprintf("c%05d", i), Restart: sdk.Temporary,
			Service: sdk.ServiceFunc(func(context.Context) error { failed.Done(); return huge })}, "bench", "a failing child"))
	}
	require.NoError(b, s.Start(context.Background()))
	failed.Wait()
	h := probe.Handler(s, probe.WithStatusMaxAge(0), probe.WithStatusLimit(0))
	get := func(encoding string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/statusz?format=json", nil)
		req.Header.Set("Accept-Encoding", encoding)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		return rec
	}
	plain := get("")
	require.Equal(b, n, strings.Count(plain.Body.String(), `"state":"failed"`), "every child has failed")
	zipped := get("gzip")

	b.ReportAllocs()
	for b.Loop() {
		get("")
	}
	b.ReportMetric(float64(plain.Body.Len()), "body-B")
	b.ReportMetric(float64(zipped.Body.Len()), "gzip-B")
	b.StopTimer()
	_, err = s.Shutdown(context.Background(), "bench", "done")
	require.NoError(b, err)
}
