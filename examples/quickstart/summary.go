package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// writeSummary prints the exit report for a person: one line for how the
// tree ended, then a table with a row per child, nested supervisors'
// children included. The full report is JSON behind -json; this is what
// someone watching the demo reads.
func writeSummary(out io.Writer, r *sdk.Report) error {
	fmt.Fprintf(out, "exit: %s %s, cause %s", r.Path, r.State, r.Cause)
	if r.RequestedBy != "" {
		fmt.Fprintf(out, " (by %s: %s)", r.RequestedBy, r.Reason)
	}
	if r.Error != "" {
		fmt.Fprintf(out, ", error: %s", r.Error)
	}
	if !r.EndedAt.IsZero() && !r.StartedAt.IsZero() {
		fmt.Fprintf(out, ", ran %s", round(r.EndedAt.Sub(r.StartedAt)))
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHILD\tSTATE\tATTEMPTS\tRESTARTS\tOUTCOME\tSTOP\tLAST ERROR")
	writeRows(tw, r)
	return tw.Flush()
}

func writeRows(w io.Writer, r *sdk.Report) {
	for _, c := range r.Children {
		outcome := string(c.Outcome)
		if outcome == "" {
			outcome = "-"
		}
		lastErr := c.LastError
		if lastErr == "" {
			lastErr = "-"
		}
		// One line per child: an error that spans lines (a wrapped
		// multi-error) would break the table.
		lastErr = strings.Join(strings.Fields(lastErr), " ")
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", c.Path, c.State, c.Attempts, c.Restarts, outcome, round(c.StopDuration), lastErr)
		if c.Supervisor != nil {
			writeRows(w, c.Supervisor)
		}
	}
}

// round shortens a duration to what a person reads: milliseconds, or
// microseconds below one, so that 1.234567891s shows as 1.235s, not in
// nanoseconds.
func round(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
