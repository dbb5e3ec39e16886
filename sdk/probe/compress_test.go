package probe_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/probe"
)

// A status is sent gzipped to a client that accepts gzip: the bytes that
// 200 readers of a 500-child tree copied were most of what they cost.
func TestStatuszGzip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		specs := make([]sdk.Spec, 0, 50)
		for i := range 50 {
			specs = append(specs, idle(fmt.Sprintf("c%02d", i)))
		}
		s := newSupervisor(t, "app", nil, specs...)
		require.NoError(t, s.Start(context.Background()))
		h := probe.Handler(s)
		get := func(path, encoding string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Accept-Encoding", encoding)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code)
			require.Equal(t, []string{"Accept", "Accept-Encoding"}, rec.Header().Values("Vary"))
			require.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"))
			return rec
		}
		for _, path := range []string{"/statusz?format=json", "/statusz?format=html"} {
			plain := get(path, "")
			require.Empty(t, plain.Header().Get("Content-Encoding"))
			for _, enc := range []string{"gzip", "br, GZIP;q=0.5", "*", "identity, *;q=0.1"} {
				rec := get(path, enc)
				require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"), enc)
				require.Less(t, rec.Body.Len(), plain.Body.Len()/4, "%s: %d of %d bytes", enc, rec.Body.Len(), plain.Body.Len())
				z, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
				require.NoError(t, err)
				body, err := io.ReadAll(z)
				require.NoError(t, err)
				require.Equal(t, plain.Body.String(), string(body), "the same page, compressed")
			}
			for _, enc := range []string{"identity", "gzip;q=0", "br", "*;q=0", "*, gzip;q=0", "gzip;q=x"} {
				require.Empty(t, get(path, enc).Header().Get("Content-Encoding"), enc)
			}
		}
		shutdown(t, s)
	})
}

// A small status is sent as it is: compressing it would save nothing.
func TestStatuszSmallNotGzipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSupervisor(t, "app", nil)
		require.NoError(t, s.Start(context.Background()))
		req := httptest.NewRequest(http.MethodGet, "/statusz?format=json", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		probe.Handler(s).ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Less(t, rec.Body.Len(), 1<<10)
		require.Empty(t, rec.Header().Get("Content-Encoding"))
		shutdown(t, s)
	})
}
