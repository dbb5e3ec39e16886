package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/probe"
)

// BenchmarkStatusLoad: a crash loop among 499 idle siblings, quiet and
// with 200 clients fetching /statusz (JSON, gzipped as Go's client asks)
// over loopback as fast as they can. One op is one restart, so the ratio
// of two ns/op is the share of restart throughput the status readers
// leave (issue target: at least 80%). /statusz serves a page at most a
// second old, rendered once and shared, and by default at most 20
// responses a second (probe.WithStatusLimit): the others wait their turn,
// or a second and get 429. limit=off lifts that limit, to show what the rest of the
// design leaves; path=livez is the same load on the cheapest endpoint.
// pages/restart and refused/restart count the 200 and 429 answers.
func BenchmarkStatusLoad(b *testing.B) {
	for _, tc := range []struct {
		clients int
		path    string
		opts    []probe.Option
	}{{0, "", nil}, {200, "/statusz", nil}, {200, "/statusz", []probe.Option{probe.WithStatusLimit(0)}}, {200, "/livez", nil}} {
		clients, path, opts := tc.clients, tc.path, tc.opts
		name := fmt.Sprintf("clients=%d", clients)
		if path != "" {
			name += "/path=" + path[1:]
		}
		if opts != nil {
			name += "/limit=off"
		}
		b.Run(name, func(b *testing.B) {
			noLeaks(b)
			const siblings = 499
			sup, err := sdk.New("load", sdk.WithIntensity(sdk.Intensity{MaxRestarts: 10000, Period: time.Nanosecond}))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var up sync.WaitGroup
			up.Add(siblings)
			for i := range siblings {
				if err := sup.Add(ctx, sdk.Spec{Name: fmt.Sprintf("idle-%d", i), Service: sdk.ServiceFunc(func(ctx context.Context) error {
					up.Done()
					<-ctx.Done()
					return nil
				})}, "bench", "an idle sibling"); err != nil {
					b.Fatal(err)
				}
			}
			var restarts atomic.Int64
			target := int64(b.N)
			begin, done := make(chan struct{}), make(chan struct{})
			errCrash := errors.New("crash")
			if err := sup.Add(ctx, sdk.Spec{Name: "crasher", Backoff: sdk.NoBackoff(), FailureLimit: -1, Service: sdk.ServiceFunc(func(ctx context.Context) error {
				switch n := restarts.Add(1); {
				case n == 1:
					<-begin
				case n == target+1:
					close(done)
					<-ctx.Done()
					return nil
				}
				return errCrash
			})}, "bench", "the crash loop"); err != nil {
				b.Fatal(err)
			}
			if err := sup.Start(ctx); err != nil {
				b.Fatal(err)
			}
			up.Wait()

			srv := httptest.NewServer(probe.Handler(sup, opts...))
			stop := make(chan struct{})
			var readers sync.WaitGroup
			var fetched, refused atomic.Int64
			// Each reader keeps its connection, as a scraper or an open
			// page does: the default transport keeps 2 idle connections
			// per host, so 198 of 200 readers would dial anew for every
			// request, and the benchmark would measure TCP set-up.
			transport := srv.Client().Transport.(*http.Transport).Clone()
			transport.MaxIdleConnsPerHost = clients
			defer transport.CloseIdleConnections()
			for range clients {
				readers.Add(1)
				go func() {
					defer readers.Done()
					client := &http.Client{Transport: transport}
					for {
						select {
						case <-stop:
							return
						default:
						}
						req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
						req.Header.Set("Accept", "application/json")
						resp, err := client.Do(req)
						if err != nil {
							continue
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusTooManyRequests {
							refused.Add(1)
						} else {
							fetched.Add(1)
						}
					}
				}()
			}
			if clients > 0 {
				for fetched.Load()+refused.Load() < int64(clients) { // every reader is busy
					time.Sleep(time.Millisecond)
				}
			}
			b.ResetTimer()
			close(begin)
			<-done
			b.StopTimer()
			close(stop)
			readers.Wait()
			srv.Close()
			if _, err := sup.Shutdown(ctx, "bench", "done"); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(fetched.Load())/float64(max(b.N, 1)), "pages/restart")
			b.ReportMetric(float64(refused.Load())/float64(max(b.N, 1)), "refused/restart")
		})
	}
}
