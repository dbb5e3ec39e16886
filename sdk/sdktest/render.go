package sdktest

import (
	"fmt"
	"strings"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// Lines renders the events that [Match] path and types with [Compact],
// one line each: a stable form to compare with a literal or a golden
// file.
func (r *Recorder) Lines(path string, types ...sdk.EventType) []string {
	var out []string
	for _, e := range r.Filter(path, types...) {
		out = append(out, Compact(e))
	}
	return out
}

// Timeline is Lines with each line prefixed by the event's offset from
// the first event recorded ("+1.5s child_running /app/db#2"). Inside a
// synctest bubble the offsets are exact, so a test can assert when each
// restart happened; on the real clock they vary from run to run.
func (r *Recorder) Timeline(path string, types ...sdk.EventType) []string {
	all := r.Events()
	if len(all) == 0 {
		return nil
	}
	var out []string
	for _, e := range all {
		if Match(path, types...)(e) {
			out = append(out, "+"+e.Time.Sub(all[0].Time).String()+" "+Compact(e))
		}
	}
	return out
}

// Compact renders e as "type path#attempt" followed by only what tells
// it apart and does not change from run to run: the state it enters
// (unless its type says so), the exit kind, the backoff delay, the
// restart reason, the stop's kind, the command and its result, and a
// shutdown's cause. Times, sequence numbers and error texts are left
// out; look at the Event for those.
func Compact(e sdk.Event) string {
	var b strings.Builder
	b.WriteString(e.Type.String() + " " + e.Path)
	if e.Attempt > 0 {
		fmt.Fprintf(&b, "#%d", e.Attempt)
	}
	if e.To != 0 && !namesItsState[e.Type] {
		b.WriteString(" →" + e.To.String())
	}
	if e.Exit != 0 {
		b.WriteString(" exit=" + e.Exit.String())
	}
	if e.Type == sdk.EventChildBackoff {
		b.WriteString(" delay=" + e.Delay.String())
	}
	if e.Reason != 0 {
		b.WriteString(" reason=" + e.Reason.String())
	}
	if e.Stop != nil && e.Type != sdk.EventSupervisorState {
		b.WriteString(" stop=" + e.Stop.Kind())
	}
	if e.Command != "" {
		b.WriteString(" command=" + e.Command)
	}
	if e.Result != 0 {
		b.WriteString(" result=" + e.Result.String())
	}
	if e.ShutdownCause != "" {
		b.WriteString(" cause=" + string(e.ShutdownCause))
	}
	return b.String()
}

// namesItsState are the event types whose name already says the state
// they enter: an arrow would only lengthen every line.
var namesItsState = map[sdk.EventType]bool{
	sdk.EventChildAdded: true, sdk.EventChildStarting: true, sdk.EventChildPending: true,
	sdk.EventChildRunning: true, sdk.EventChildReady: true, sdk.EventChildStopping: true,
	sdk.EventChildBackoff: true, sdk.EventChildPaused: true,
}
