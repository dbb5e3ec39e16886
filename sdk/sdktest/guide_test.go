package sdktest_test

// The worked example of docs/testing.md, run: a user's own service and
// tree, tested deterministically under synctest with sdktest.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/sdktest"
)

// Fetcher connects to its upstream, then fetches every Interval until
// its context ends, with a heartbeat per fetch.
type Fetcher struct {
	Connect  func(ctx context.Context) error
	Interval time.Duration
	fetched  atomic.Int64
}

func (f *Fetcher) Serve(ctx context.Context) error {
	if err := f.Connect(ctx); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	t := time.NewTicker(f.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			f.fetched.Add(1)
			sdk.Heartbeat(ctx)
		}
	}
}

// NewApp builds the tree: a cache, ready once warm, and the fetcher,
// which starts once the cache is up.
func NewApp(cache sdk.Service, f *Fetcher, opts ...sdk.Option) (*sdk.Supervisor, error) {
	sup, err := sdk.New("app", opts...)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if err := sup.Add(ctx, sdk.Spec{
		Name: "cache", Service: cache, Readiness: true, StopTimeout: 5 * time.Second,
	}, "app", "serves the fetched data"); err != nil {
		return nil, err
	}
	if err := sup.Add(ctx, sdk.Spec{
		Name: "fetcher", Service: f, DependsOn: []string{"cache"}, StaleAfter: 3 * time.Second,
		Backoff: &sdk.Backoff{Initial: time.Second, Max: time.Minute, Multiplier: 2},
	}, "app", "fetches from upstream"); err != nil {
		return nil, err
	}
	return sup, nil
}

// refusing returns a Connect that refuses n times, then connects.
// Attempts of one child run one after another, so no lock is needed.
func refusing(n int) func(context.Context) error {
	return func(context.Context) error {
		if n > 0 {
			n--
			return errors.New("connection refused")
		}
		return nil
	}
}

func TestFetcherRestartsWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec sdktest.Recorder
		f := &Fetcher{Connect: refusing(2), Interval: time.Second} // refuses twice
		cache := sdktest.Script(sdktest.ReadyAfter(500 * time.Millisecond))
		sup, err := NewApp(cache, f, sdk.WithEventHook(rec.Hook))
		if err != nil {
			t.Fatal(err)
		}
		if err := sup.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = sup.Shutdown(context.Background(), "test", "cleanup") })

		// Start returned at 0.5s, once the cache was ready. Now a fake
		// minute passes, in no real time.
		time.Sleep(time.Minute)

		want := []string{
			"+500ms child_running /app/fetcher#1",
			"+500ms child_backoff /app/fetcher#1 delay=1s reason=error",
			"+1.5s child_running /app/fetcher#2",
			"+1.5s child_backoff /app/fetcher#2 delay=2s reason=error",
			"+3.5s child_running /app/fetcher#3",
		}
		got := rec.Timeline("/app/fetcher", sdk.EventChildRunning, sdk.EventChildBackoff)
		if !slices.Equal(got, want) {
			t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if stale := rec.Filter("/app/fetcher", sdk.EventChildStale); len(stale) > 0 {
			t.Errorf("a fetcher that fetches is never stale: %v", stale)
		}
		synctest.Wait() // the tick due now, at 60.5s, is handled before we count
		if n := f.fetched.Load(); n != 57 {
			t.Errorf("%d fetches, want 57 (one a second from 4.5s to 60.5s)", n)
		}

		rep, err := sup.Shutdown(context.Background(), "test", "done")
		if err != nil {
			t.Fatal(err)
		}
		sdktest.ExpectStates(t, rep, map[string]lifecycle.State{
			"/app/cache": lifecycle.StateStopped, "/app/fetcher": lifecycle.StateStopped,
		})
	})
}

func TestWedgedCacheIsAbandoned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The cache warms up for 2s, then ignores cancellation.
		cache := sdktest.Script(sdktest.Seq(sdktest.Sleep(2*time.Second), sdktest.Ready(), sdktest.Stubborn()))
		t.Cleanup(cache.Release) // in the bubble's t: nothing outlives it
		var rec sdktest.Recorder
		begin := time.Now()
		sup, err := NewApp(cache, &Fetcher{Connect: refusing(0), Interval: time.Second}, sdk.WithEventHook(rec.Hook))
		if err != nil {
			t.Fatal(err)
		}
		if err := sup.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(begin); took != 2*time.Second {
			t.Errorf("Start took %v, want the cache's 2s warm-up", took)
		}

		begin = time.Now()
		rep, err := sup.Shutdown(context.Background(), "test", "done")
		if !errors.Is(err, sdk.ErrAbandoned) {
			t.Errorf("Shutdown: %v, want the cache abandoned", err)
		}
		if took := time.Since(begin); took != 5*time.Second {
			t.Errorf("Shutdown took %v, want the cache's stop timeout, 5s", took)
		}
		want := []string{"child_stopping /app/fetcher#1 stop=shutdown", "child_stopping /app/cache#1 stop=shutdown"}
		if got := rec.Lines("", sdk.EventChildStopping); !slices.Equal(got, want) {
			t.Errorf("stopped %q, want the fetcher first: %q", got, want)
		}
		sdktest.ExpectAbandoned(t, rep, "/app/cache")
		sdktest.ExpectOutcomes(t, rep, map[string]sdk.StopOutcome{
			"/app/fetcher": sdk.OutcomeGraceful, "/app/cache": sdk.OutcomeAbandoned,
		})
		if stop := cache.Attempts()[0].Stop(); !errors.Is(stop, sdk.ErrShutdown) || stop.RequestedBy != "test" {
			t.Errorf("the cache was asked to stop by the shutdown: %v", stop)
		}
	})
}
