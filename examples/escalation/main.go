// Command escalation shows a persistent fault climbing a tree. A database
// client under /root/db keeps failing; /root/db gives up after its
// intensity (2 restarts per minute) and fails, which is one failure of
// /root; /root restarts /root/db, and when that keeps happening /root
// melts down too and Serve returns an error matching sdk.ErrMeltdown.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
)

func main() {
	if err := run(os.Stdout); err != nil && !errors.Is(err, sdk.ErrMeltdown) {
		fmt.Fprintln(os.Stderr, "escalation:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	var mu sync.Mutex
	show := func(e sdk.Event) {
		if e.Type == sdk.EventMeltdown || (e.Type == sdk.EventSupervisorState && e.To.String() == "failed") {
			mu.Lock()
			fmt.Fprintln(out, e)
			mu.Unlock()
		}
	}
	perMinute := sdk.Intensity{MaxRestarts: 2, Period: time.Minute}
	root, err := sdk.New("root", sdk.WithIntensity(perMinute), sdk.WithEventHook(show))
	if err != nil {
		return err
	}
	db, err := sdk.New("db", sdk.WithIntensity(perMinute))
	if err != nil {
		return err
	}
	if err := db.Add(context.Background(), sdk.Spec{Name: "client", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(context.Context) error {
		return errors.New("connection refused")
	})}, "escalation", "part of the example"); err != nil {
		return err
	}
	if err := root.Add(context.Background(), sdk.Spec{Name: "db", Backoff: sdk.NoBackoff(), Service: db}, "escalation", "part of the example"); err != nil {
		return err
	}
	err = root.Serve(context.Background())
	report, _ := root.Wait(context.Background()) // at once: Serve has returned
	fmt.Fprintf(out, "serve: meltdown=%v\n", errors.Is(err, sdk.ErrMeltdown))
	b, _ := json.MarshalIndent(struct {
		State, Cause, Error string
		DBRuns              uint64
	}{report.State.String(), string(report.Cause), report.Error, report.Children[0].Attempts}, "", "  ")
	fmt.Fprintf(out, "report: %s\n", b)
	return err
}
