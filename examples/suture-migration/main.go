// Command suture-migration moves a service written for thejerf/suture/v4
// to this SDK without changing it: both call Serve(ctx) error, so the
// service type is supervised as it is. Only the wiring changes; see the
// README beside this file for the mapping of every suture setting.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// Poller is a service as it was written for suture: it runs until its
// context ends and returns an error to be restarted. Nothing in it
// changes.
type Poller struct {
	Name     string
	failures int
}

func (p *Poller) Serve(ctx context.Context) error {
	if p.failures < 2 {
		p.failures++
		return fmt.Errorf("%s: upstream timeout", p.Name)
	}
	<-ctx.Done()
	return ctx.Err()
}

// Migration is a one-shot job: under suture it returned
// suture.ErrDoNotRestart when done; here it returns sdk.ErrDoNotRestart
// (or, better, is declared Transient and returns nil).
type Migration struct{}

func (Migration) Serve(context.Context) error {
	return fmt.Errorf("schema migrated: %w", sdk.ErrDoNotRestart)
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "suture-migration:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	// suture.New("app", suture.Spec{FailureThreshold: 5, FailureDecay: 30,
	// FailureBackoff: 15 * time.Second, Timeout: 10 * time.Second,
	// EventHook: hook}) becomes:
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app, err := sdk.New("app",
		sdk.WithIntensity(sdk.Intensity{MaxRestarts: 5, Period: 30 * time.Second}),
		sdk.WithEventHook(func(e sdk.Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Type {
			case sdk.EventChildExited, sdk.EventChildEnded:
				fmt.Fprintln(out, e)
			case sdk.EventChildRunning:
				if e.Path == "/app/poller" && e.Attempt == 3 {
					cancel() // the poller has recovered: end the demo
				}
			}
		}))
	if err != nil {
		return err
	}
	// supervisor.Add(service) becomes Add with a spec; the per-service
	// backoff replaces suture's supervisor-wide FailureBackoff, and the
	// stop timeout replaces Spec.Timeout.
	for _, spec := range []sdk.Spec{
		{Name: "migration", Service: Migration{}},
		{Name: "poller", Service: &Poller{Name: "poller"}, StopTimeout: 10 * time.Second,
			Backoff: &sdk.Backoff{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 2}},
	} {
		if err := app.Add(context.Background(), spec, "suture-migration", "part of the example"); err != nil {
			return err
		}
	}
	// supervisor.Serve(ctx) is the same call; it returns nil after a clean
	// stop, and errors.Is(err, sdk.ErrMeltdown) when the intensity is
	// exceeded (suture would pause every service instead).
	return app.Serve(ctx)
}
