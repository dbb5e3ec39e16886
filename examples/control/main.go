// Command control drives a running tree the way an operator would: every
// command says who asked and why, shows up as an event, and returns once
// it has taken effect. The events are read from a subscription, which has
// them by the time the command returns (hooks see them a moment later, on
// the tree's own goroutine).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/supervisor-sdk/supervisor/sdk"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "control:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	ctx := context.Background()
	root, err := sdk.New("root")
	if err != nil {
		return err
	}
	events := root.Subscribe(64)
	defer events.Close()
	say := func(format string, args ...any) {
		// What happened so far first, in order.
		for len(events.C()) > 0 {
			switch e := <-events.C(); e.Type {
			case sdk.EventCommand, sdk.EventCommandDone, sdk.EventChildRunning, sdk.EventChildStopped:
				fmt.Fprintf(out, "  event: %s\n", e)
			}
		}
		if format != "" {
			fmt.Fprintf(out, format+"\n", args...)
		}
	}
	for _, name := range []string{"ingest", "export"} {
		if err := root.Add(context.Background(), sdk.Spec{Name: name, Service: sdk.ServiceFunc(idle)}, "control", "part of the example"); err != nil {
			return err
		}
	}
	if err := root.Start(ctx); err != nil {
		return err
	}

	say("restart ingest:")
	if _, err := root.Restart(ctx, "ingest", "alice", "pick up new credentials"); err != nil {
		return err
	}
	say("pause export:")
	if _, err := root.Pause(ctx, "export", "bob", "downstream maintenance"); err != nil {
		return err
	}
	say("pause export again:")
	if res, err := root.Pause(ctx, "export", "bob", "still in maintenance"); err == nil {
		say("  %s: it was paused already", res)
	}
	st, err := root.Status(ctx)
	if err != nil {
		return err
	}
	for _, c := range st.Children {
		say("status: %s %s attempt=%d paused=%v", c.Path, c.State, c.Attempt, c.Paused)
	}
	say("resume export:")
	if _, err := root.Resume(ctx, "export", "bob", "maintenance over"); err != nil {
		return err
	}
	say("a command without a reason is refused:")
	if res, err := root.Restart(ctx, "export", "carol", " "); err != nil {
		say("  %s: %v", res, err)
	}
	report, err := root.Shutdown(ctx, "alice", "end of demo")
	if err != nil {
		return err
	}
	say("after shutdown, commands fail at once:")
	if res, err := root.Restart(ctx, "ingest", "alice", "too late"); errors.Is(err, sdk.ErrSupervisorDone) {
		say("  %s: %v", res, err)
	}
	var states []string
	for _, c := range report.Children {
		states = append(states, fmt.Sprintf("%s=%s", c.Path, c.State))
	}
	say("report: cause=%s by=%s: %s", report.Cause, report.RequestedBy, strings.Join(states, " "))
	say("")
	return nil
}

func idle(ctx context.Context) error {
	<-ctx.Done()
	return nil
}
