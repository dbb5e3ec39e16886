package otelsup

import (
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// supState holds the open spans of one run of one supervisor.
type supState struct {
	path    string
	start   trace.Span // open until alive, shutting_down or the end
	startSC trace.SpanContext
	shut    trace.Span // open from shutting_down to completed/failed
}

// sup returns the spans of the supervisor's current run, starting its
// start span on its first event. A nested supervisor's start span links
// to its attempt as a child of its parent.
func (t *tracing) sup(k key, at time.Time) *supState {
	if s := t.sups[k]; s != nil {
		return s
	}
	s := &supState{path: k.path}
	var links []trace.Link
	if parent := t.kids[k]; parent != nil {
		links = link(parent.startSC, LinkParentAttempt, links)
	}
	s.start = t.start(SpanStart, at, links, lifecycle.AttrSupervisorPath.String(k.path))
	s.startSC = s.start.SpanContext()
	t.sups[k] = s
	return s
}

func (t *tracing) onSupervisorState(s *supState, e sdk.Event) {
	switch e.To {
	case lifecycle.StateAlive:
		transition(s.start, lifecycle.KindSupervisor, s.path, e.From, e.To, e.Cause, e.RequestedBy, e.Time)
		end(s.start, e.Time)
		s.start = nil
	case lifecycle.StateShuttingDown:
		if s.start != nil { // never got to alive
			fail(s.start, "shut down before it was alive: "+e.Cause, t.supervisorErrorType(e.Err, e.ShutdownCause, true))
			end(s.start, e.Time)
			s.start = nil
		}
		s.shut = t.start(SpanShutdown, e.Time, link(e.Span, LinkCaller, link(s.startSC, LinkSupervisorStart, nil)),
			lifecycle.AttrSupervisorPath.String(s.path),
			AttrRequestedBy.String(e.RequestedBy),
			AttrReason.String(e.Cause),
			AttrShutdownCause.String(string(e.ShutdownCause)))
		transition(s.shut, lifecycle.KindSupervisor, s.path, e.From, e.To, e.Cause, e.RequestedBy, e.Time)
	case lifecycle.StateCompleted, lifecycle.StateFailed:
		t.finishSup(s, e)
	}
}

// finishSup ends everything left of the supervisor's run: its terminal
// transition is its last event.
func (t *tracing) finishSup(s *supState, e sdk.Event) {
	if s.start != nil {
		if e.To == lifecycle.StateFailed {
			fail(s.start, "failed before it was alive: "+e.Cause, t.supervisorErrorType(e.Err, e.ShutdownCause, true))
		}
		end(s.start, e.Time)
		s.start = nil
	}
	if sh := s.shut; sh != nil {
		transition(sh, lifecycle.KindSupervisor, s.path, e.From, e.To, e.Cause, "", e.Time)
		if recording(sh) {
			attrs, abandoned := exitReport(e)
			sh.AddEvent(SpanEventExitReport, trace.WithTimestamp(e.Time), trace.WithAttributes(attrs...))
			switch {
			case e.To == lifecycle.StateFailed && e.Err != nil:
				fail(sh, e.Err.Error(), t.supervisorErrorType(e.Err, e.ShutdownCause, false))
			case e.To == lifecycle.StateFailed:
				fail(sh, "supervisor failed: "+e.Cause, t.supervisorErrorType(nil, e.ShutdownCause, false))
			case len(abandoned) > 0:
				fail(sh, "children abandoned: "+strings.Join(abandoned, ", "), t.types.named("abandoned"))
			}
		}
		end(sh, e.Time)
		s.shut = nil
	}
	// The children's spans of this run: a child whose spans are still
	// open here has no later event.
	prefix := s.path + "/"
	for k, cs := range t.kids {
		if k.tree == e.Tree && strings.HasPrefix(k.path, prefix) && !strings.Contains(k.path[len(prefix):], "/") {
			cs.endAll(e.Time)
			delete(t.kids, k)
		}
	}
	t.endCommands(e.Tree, s.path, e.Time, "the supervisor ended first")
	delete(t.sups, key{e.Tree, s.path})
}

// exitReport returns the attributes of the exit report event, from the
// sdk's report on the final EventSupervisorState, and the abandoned paths
// of the tree.
func exitReport(e sdk.Event) ([]attribute.KeyValue, []string) {
	rep := e.Report
	if rep == nil { // not from the sdk: what the event says
		return []attribute.KeyValue{
			AttrReportState.String(e.To.String()),
			AttrReportCause.String(string(e.ShutdownCause)),
			AttrReportRequestedBy.String(e.RequestedBy),
			AttrReportReason.String(e.Cause),
		}, nil
	}
	abandoned := rep.Abandoned()
	attrs := make([]attribute.KeyValue, 0, 9)
	attrs = append(attrs,
		AttrReportState.String(rep.State.String()),
		AttrReportCause.String(string(rep.Cause)),
		AttrReportRequestedBy.String(rep.RequestedBy),
		AttrReportReason.String(rep.Reason),
		AttrReportChildren.Int(len(rep.Children)),
		AttrReportAbandoned.Int(len(abandoned)),
	)
	if rep.Error != "" {
		attrs = append(attrs, AttrReportError.String(rep.Error))
	}
	if failed := failedChildren(rep); failed > 0 {
		attrs = append(attrs, AttrReportFailed.Int(failed))
	}
	if len(abandoned) > 0 {
		attrs = append(attrs, AttrReportAbandonedPaths.StringSlice(abandoned[:min(len(abandoned), maxAbandonedPaths)]))
	}
	return attrs, abandoned
}

// failedChildren counts the supervisor's own children that ended failed.
func failedChildren(rep *sdk.Report) int {
	n := 0
	for _, c := range rep.Children {
		if c.State == lifecycle.StateFailed {
			n++
		}
	}
	return n
}

// closeAll ends every span still open; later events are ignored.
func (t *tracing) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	now := time.Now()
	for _, s := range t.sups {
		end(s.start, now)
		end(s.shut, now)
	}
	for _, cs := range t.kids {
		cs.endAll(now)
	}
	t.endCommands(0, "", now, "the adapter was closed first")
	clear(t.sups)
	clear(t.kids)
}

// supervisorErrorType is the error.type of a supervisor that failed, or
// (start) did not get to alive: the error.type of its error (meltdown,
// fatal, start_failure), else start_failure when Start's context ended,
// else canceled for a start and _OTHER for a shutdown.
func (t *tracing) supervisorErrorType(err error, cause sdk.Cause, start bool) string {
	switch {
	case err != nil:
		s, _ := t.types.of(err)
		return s
	case cause == sdk.CauseStartFailure:
		return t.types.named("start_failure")
	case start:
		return t.types.named("canceled")
	}
	return otherType
}
