package otelsup

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// tracing turns the events of supervision trees into spans. Every span it
// starts is bounded by events: it ends on a later event of the same
// supervisor, at the latest on the supervisor's terminal transition, or on
// Close. All state is guarded by mu; the hook may run on several
// supervisors' goroutines at once.
type tracing struct {
	tr trace.Tracer
	// unset is the global default TracerProvider the tracer came from,
	// when the adapter was given none; while it is still the global one
	// (no SDK installed), events are not traced.
	unset trace.TracerProvider

	mu     sync.Mutex
	closed bool
	sups   map[string]*supState   // by supervisor path, for the current run
	kids   map[string]*childState // by child path, until the child ends
	cmds   map[string]*cmdState   // by child path: the newest open command
	nCmds  int                    // open commands
}

// supState is one run of one supervisor.
type supState struct {
	path     string
	start    trace.Span // open until alive or shutting_down
	startSC  trace.SpanContext
	shut     trace.Span // open from shutting_down to completed/failed
	alive    bool
	shutting bool
	closing  []*childState // attempt spans that ended, awaiting follow-ups
}

// childState is one child, across its attempts, until it ends.
type childState struct {
	path    string
	sup     *supState
	span    trace.Span        // the current attempt's, until it is ended
	sc      trace.SpanContext // the last attempt's, for the next one's link
	closing bool              // the attempt exited; follow-ups still land on span
	endAt   time.Time         // end timestamp of a closing span
	next    decision          // the restart decided for the next attempt
}

// decision is a restart the supervisor decided for a child's next attempt.
type decision struct {
	set    bool
	delay  time.Duration
	reason string
	cause  string
}

// cmdState is an operator command between its EventCommand and its
// EventCommandDone.
type cmdState struct {
	span     trace.Span
	op       string
	path     string
	sup      *supState
	prev     *cmdState // an older command of the same child, still open
	launched uint64    // the attempt a restart or resume launched
	running  bool      // it arrived before the supervisor began shutting down
}

func newTracing(tr trace.Tracer) *tracing {
	return &tracing{
		tr:   tr,
		sups: make(map[string]*supState),
		kids: make(map[string]*childState),
		cmds: make(map[string]*cmdState),
	}
}

// isGlobalDefault reports whether tp is the OpenTelemetry global
// TracerProvider as it is before any otel.SetTracerProvider: a delegating
// provider whose spans do not record until a provider is installed.
// otel.GetTracerProvider returns the installed provider from then on.
func isGlobalDefault(tp trace.TracerProvider) bool {
	t := reflect.TypeOf(tp)
	return t != nil && t.Kind() == reflect.Pointer &&
		t.Elem().PkgPath() == "go.opentelemetry.io/otel/internal/global" && t.Elem().Name() == "tracerProvider"
}

func recording(s trace.Span) bool { return s != nil && s.IsRecording() }

// start starts a root span at the event's time.
func (t *tracing) start(name string, at time.Time, links []trace.Link, attrs ...attribute.KeyValue) trace.Span {
	opts := make([]trace.SpanStartOption, 0, 4)
	opts = append(opts, trace.WithNewRoot(), trace.WithTimestamp(at), trace.WithAttributes(attrs...))
	if len(links) > 0 {
		opts = append(opts, trace.WithLinks(links...))
	}
	_, span := t.tr.Start(context.Background(), name, opts...)
	return span
}

// linkAttrs are the attributes of each link type, shared by every link of
// that type to save an allocation per link. The one-element slices are
// never written to; an SDK that normalises them in place (deduplication,
// limits) leaves a single attribute as it is.
var linkAttrs = map[string][]attribute.KeyValue{}

func init() {
	for _, typ := range []string{LinkPreviousAttempt, LinkSupervisorStart, LinkParentAttempt, LinkCommand, LinkTargetAttempt} {
		linkAttrs[typ] = []attribute.KeyValue{AttrLinkType.String(typ)}
	}
}

func link(sc trace.SpanContext, typ string, links []trace.Link) []trace.Link {
	if !sc.IsValid() {
		return links
	}
	return append(links, trace.Link{SpanContext: sc, Attributes: linkAttrs[typ]})
}

func event(s trace.Span, name string, at time.Time, attrs ...attribute.KeyValue) {
	if recording(s) {
		s.AddEvent(name, trace.WithTimestamp(at), trace.WithAttributes(attrs...))
	}
}

// transition adds a lifecycle.EventTransition, with package lifecycle's
// attributes, as a bound lifecycle machine would.
func transition(s trace.Span, kind lifecycle.Kind, path string, from, to lifecycle.State, reason, by string, at time.Time) {
	if !recording(s) || to == 0 || from == to {
		return
	}
	attrs := []attribute.KeyValue{
		lifecycle.AttrKind.String(kind.String()), lifecycle.AttrPath.String(path),
		lifecycle.AttrFrom.String(from.String()), lifecycle.AttrTo.String(to.String()),
		lifecycle.AttrReason.String(reason),
	}
	if by != "" {
		attrs = append(attrs, lifecycle.AttrRequestedBy.String(by))
	}
	s.AddEvent(lifecycle.EventTransition, trace.WithTimestamp(at), trace.WithAttributes(attrs...))
}

func fail(s trace.Span, desc, typ string) {
	if recording(s) {
		s.SetStatus(codes.Error, desc)
		s.SetAttributes(semconv.ErrorTypeKey.String(typ))
	}
}

func end(s trace.Span, at time.Time) {
	if s != nil {
		s.End(trace.WithTimestamp(at))
	}
}

// supervisorOf returns the path of the supervisor that emitted e.
func supervisorOf(e sdk.Event) string {
	if e.Supervisor != "" {
		return e.Supervisor
	}
	switch e.Type {
	case sdk.EventSupervisorState, sdk.EventMeltdown:
		return e.Path
	}
	if i := strings.LastIndexByte(e.Path, '/'); i > 0 {
		return e.Path[:i]
	}
	return e.Path
}

func (t *tracing) handle(e sdk.Event) {
	if t.unset != nil && otel.GetTracerProvider() == t.unset {
		return // nothing would record: skip the cost
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	s := t.sup(supervisorOf(e), e.Time)
	t.settle(s, e)
	switch e.Type {
	case sdk.EventChildAdded:
		t.kid(s, e.Path)
	case sdk.EventChildStarting:
		t.onStarting(s, e)
	case sdk.EventChildRunning:
		t.onRunning(s, e)
	case sdk.EventChildReady:
		if cs := t.kids[e.Path]; cs != nil {
			event(cs.span, SpanEventChildReady, e.Time)
			transition(cs.span, lifecycle.KindChild, e.Path, e.From, e.To, "signalled ready", "", e.Time)
		}
		if !s.alive {
			event(s.start, SpanEventChildReady, e.Time, lifecycle.AttrChildPath.String(e.Path))
		}
	case sdk.EventChildStale:
		if cs := t.kids[e.Path]; cs != nil {
			event(cs.span, SpanEventChildStale, e.Time, AttrReason.String(errText(e.Err)))
		}
	case sdk.EventChildStopping:
		if cs := t.kids[e.Path]; cs != nil {
			event(cs.span, SpanEventChildStopping, e.Time, AttrReason.String(e.Cause))
		}
	case sdk.EventChildPanicked:
		if cs := t.kids[e.Path]; cs != nil && recording(cs.span) {
			attrs := []attribute.KeyValue{semconv.ExceptionMessageKey.String(errText(e.Err))}
			if pe, ok := e.Err.(*sdk.PanicError); ok && len(pe.Stack) > 0 {
				attrs = append(attrs, semconv.ExceptionStacktraceKey.String(string(pe.Stack)))
			}
			event(cs.span, SpanEventChildPanicked, e.Time, attrs...)
		}
	case sdk.EventChildExited:
		t.onExited(s, e)
	case sdk.EventChildStopped:
		t.onStopped(s, e)
	case sdk.EventChildAbandoned:
		t.onAbandoned(s, e)
	case sdk.EventChildEnded:
		t.onEnded(s, e)
	case sdk.EventChildBackoff:
		if cs := t.kids[e.Path]; cs != nil {
			cs.next = restartDecision(e)
			t.close(s, cs, e.Time)
		}
	case sdk.EventChildRestarting:
		if cs := t.kids[e.Path]; cs != nil {
			if !cs.next.set {
				cs.next = restartDecision(e) // a manual restart has no backoff
			}
			t.close(s, cs, e.Time)
		}
	case sdk.EventCommand:
		t.onCommand(s, e)
	case sdk.EventCommandDone:
		t.onCommandDone(e)
	case sdk.EventSupervisorState:
		t.onSupervisorState(s, e)
	}
}

// sup returns the state of the supervisor's current run, starting its
// start span on its first event.
func (t *tracing) sup(path string, at time.Time) *supState {
	if s := t.sups[path]; s != nil {
		return s
	}
	s := &supState{path: path}
	var links []trace.Link
	if parent := t.kids[path]; parent != nil && parent.span != nil {
		links = link(parent.span.SpanContext(), LinkParentAttempt, links) // a nested supervisor
	}
	s.start = t.start(SpanStart, at, links, lifecycle.AttrSupervisorPath.String(path))
	s.startSC = s.start.SpanContext()
	t.sups[path] = s
	return s
}

func (t *tracing) kid(s *supState, path string) *childState {
	cs := t.kids[path]
	if cs == nil || cs.sup != s {
		cs = &childState{path: path, sup: s}
		t.kids[path] = cs
	}
	return cs
}

// settle ends the closing attempt spans of s, unless e is one of their
// follow-ups (the events the sdk emits right after an exit: stopped,
// ended, backoff, restarting). Any other event of the same supervisor
// means the supervisor has moved on.
func (t *tracing) settle(s *supState, e sdk.Event) {
	if len(s.closing) == 0 {
		return
	}
	keep := s.closing[:0]
	for _, cs := range s.closing {
		if cs.closing && e.Path == cs.path {
			switch e.Type {
			case sdk.EventChildStopped, sdk.EventChildEnded, sdk.EventChildBackoff, sdk.EventChildRestarting:
				keep = append(keep, cs)
				continue
			}
		}
		if cs.closing {
			cs.closing = false
			end(cs.span, cs.endAt)
			cs.span = nil
		}
	}
	clear(s.closing[len(keep):])
	s.closing = keep
}

// close ends a closing attempt span at the time of its last follow-up.
func (t *tracing) close(s *supState, cs *childState, at time.Time) {
	if !cs.closing {
		return
	}
	cs.closing = false
	end(cs.span, at)
	cs.span = nil
	for i, x := range s.closing {
		if x == cs {
			s.closing = append(s.closing[:i], s.closing[i+1:]...)
			break
		}
	}
}

// restartDecision is the restart the supervisor decided, as its backoff
// or restarting event says: why, how long it waits, and the cause: the
// operator's words for a manual restart, else the child whose exit caused
// it.
func restartDecision(e sdk.Event) decision {
	cause := e.Cause
	if cause == "" {
		cause = e.Origin
	}
	if cause == "" {
		cause = e.Path
	}
	return decision{set: true, delay: e.Delay, reason: e.Reason.String(), cause: cause}
}

func (t *tracing) onStarting(s *supState, e sdk.Event) {
	cs := t.kid(s, e.Path)
	if cs.span != nil { // not expected: the previous attempt never exited
		t.close(s, cs, e.Time)
		end(cs.span, e.Time)
		cs.span = nil
	}
	links := make([]trace.Link, 0, 3)
	links = link(cs.sc, LinkPreviousAttempt, links)
	links = link(s.startSC, LinkSupervisorStart, links)
	// A restart or resume launches the attempt before it completes.
	cmd := t.cmds[e.Path]
	for cmd != nil && cmd.op != opRestart && cmd.op != opResume {
		cmd = cmd.prev
	}
	if cmd != nil {
		cmd.launched = e.Attempt
		links = link(cmd.span.SpanContext(), LinkCommand, links)
	}
	cs.span = t.start(SpanChildAttempt, e.Time, links,
		lifecycle.AttrChildPath.String(e.Path),
		lifecycle.AttrSupervisorPath.String(s.path),
		AttrChildAttempt.Int64(int64(e.Attempt)),
		AttrChildGeneration.Int64(int64(e.Generation)),
	)
	cs.sc = cs.span.SpanContext()
	next := cs.next
	cs.next = decision{}
	if next.set {
		event(cs.span, SpanEventRestartScheduled, e.Time,
			AttrRestartDelay.Float64(next.delay.Seconds()),
			AttrRestartReason.String(next.reason),
			AttrRestartAttempt.Int64(int64(e.Attempt)),
			AttrRestartCause.String(next.cause))
	}
}

func (t *tracing) onRunning(s *supState, e sdk.Event) {
	if cs := t.kids[e.Path]; cs != nil {
		transition(cs.span, lifecycle.KindChild, e.Path, e.From, e.To, "", "", e.Time)
	}
	if !s.alive && !s.shutting {
		event(s.start, SpanEventChildStarted, e.Time,
			lifecycle.AttrChildPath.String(e.Path), AttrChildAttempt.Int64(int64(e.Attempt)))
	}
}

func (t *tracing) onExited(s *supState, e sdk.Event) {
	cs := t.kids[e.Path]
	if cs == nil {
		return
	}
	if cs.span == nil {
		return
	}
	if recording(cs.span) {
		cs.span.SetAttributes(AttrExitKind.String(e.Exit.String()))
		if e.Exit.Abnormal() {
			fail(cs.span, errText(e.Err), errorType(e.Err))
		}
	}
	cs.closing, cs.endAt = true, e.Time
	s.closing = append(s.closing, cs)
}

func (t *tracing) onStopped(s *supState, e sdk.Event) {
	waited := AttrStopWaited.Float64(e.Waited.Seconds())
	if cs := t.kids[e.Path]; cs != nil {
		event(cs.span, SpanEventChildStopped, e.Time, waited)
		t.close(s, cs, e.Time)
	}
	if s.shut != nil {
		event(s.shut, SpanEventChildStopped, e.Time, lifecycle.AttrChildPath.String(e.Path), waited)
	}
}

func (t *tracing) onAbandoned(s *supState, e sdk.Event) {
	waited := AttrStopWaited.Float64(e.Waited.Seconds())
	if cs := t.kids[e.Path]; cs != nil {
		if cs.span != nil && !cs.closing {
			event(cs.span, SpanEventChildAbandoned, e.Time, waited, AttrReason.String(e.Cause))
			fail(cs.span, "abandoned: "+e.Cause, "abandoned")
			end(cs.span, e.Time)
			cs.span = nil
		}
	}
	if s.shut != nil {
		event(s.shut, SpanEventChildAbandoned, e.Time,
			lifecycle.AttrChildPath.String(e.Path), waited, AttrReason.String(e.Cause))
	}
}

func (t *tracing) onEnded(s *supState, e sdk.Event) {
	if cs := t.kids[e.Path]; cs != nil {
		if cs.closing {
			transition(cs.span, lifecycle.KindChild, e.Path, e.From, e.To, e.Cause, "", e.Time)
			t.close(s, cs, e.Time)
		} else if cs.span != nil {
			end(cs.span, e.Time)
		}
		delete(t.kids, e.Path)
	}
}

// Operator commands, as sdk.Event.Command spells them.
const (
	opRestart = "restart"
	opResume  = "resume"
)

// onCommand starts a command span. The sdk answers every command with one
// EventCommandDone, except a duplicate of a command still waiting for the
// same child, which it merges into that one: a duplicate becomes an event
// on the waiting command's span. It merges only while the supervisor is
// not shutting down; a command it answers at once is answered before its
// next message, so the newest open command of the child with the same op
// is the one an EventCommandDone completes.
func (t *tracing) onCommand(s *supState, e sdk.Event) {
	if !s.shutting {
		for c := t.cmds[e.Path]; c != nil; c = c.prev {
			if c.op == e.Command {
				event(c.span, SpanEventCommandMerged, e.Time,
					AttrRequestedBy.String(e.RequestedBy), AttrReason.String(e.Cause))
				return
			}
		}
	}
	var links []trace.Link
	if cs := t.kids[e.Path]; cs != nil && cs.span != nil {
		links = link(cs.span.SpanContext(), LinkTargetAttempt, links)
	}
	span := t.start(SpanCommand, e.Time, links,
		AttrCommand.String(e.Command),
		lifecycle.AttrChildPath.String(e.Path),
		lifecycle.AttrSupervisorPath.String(s.path),
		AttrRequestedBy.String(e.RequestedBy),
		AttrReason.String(e.Cause))
	if t.nCmds >= maxCommands {
		endCommand(span, e.Time, OutcomeUntracked, "")
		return
	}
	t.cmds[e.Path] = &cmdState{span: span, op: e.Command, path: e.Path, sup: s, prev: t.cmds[e.Path], running: !s.shutting}
	t.nCmds++
}

// onCommandDone ends the command span the event answers, with the
// outcome its Err says.
func (t *tracing) onCommandDone(e sdk.Event) {
	if e.Result == sdk.CommandMerged {
		return // a duplicate, already an event on the span of the command it joined
	}
	var newer *cmdState
	cmd := t.cmds[e.Path]
	for cmd != nil && cmd.op != e.Command {
		newer, cmd = cmd, cmd.prev
	}
	if cmd == nil {
		return // untracked
	}
	t.unlink(cmd, newer)
	if cmd.launched > 0 && recording(cmd.span) {
		cmd.span.SetAttributes(AttrChildAttempt.Int64(int64(cmd.launched)))
	}
	outcome := OutcomeDone
	switch {
	case e.Err == nil:
	case errors.Is(e.Err, sdk.ErrAbandoned):
		outcome = OutcomeAbandoned
	case errors.Is(e.Err, sdk.ErrChildExited),
		errors.Is(e.Err, sdk.ErrSupervisorDone) && cmd.running: // the shutdown took over
		outcome = OutcomeInterrupted
	default:
		outcome = OutcomeRejected
	}
	endCommand(cmd.span, e.Time, outcome, errText(e.Err))
}

// unlink removes cmd from its child's open commands; newer is the command
// opened after it, nil when cmd is the newest.
func (t *tracing) unlink(cmd, newer *cmdState) {
	switch {
	case newer != nil:
		newer.prev = cmd.prev
	case cmd.prev != nil:
		t.cmds[cmd.path] = cmd.prev
	default:
		delete(t.cmds, cmd.path)
	}
	t.nCmds--
}

// endCommands ends every open command of the supervisor s (of every
// supervisor when s is nil) as interrupted.
func (t *tracing) endCommands(s *supState, at time.Time, desc string) {
	for _, cmd := range t.cmds {
		var newer *cmdState
		for cmd != nil {
			prev := cmd.prev
			if s == nil || cmd.sup == s {
				t.unlink(cmd, newer)
				endCommand(cmd.span, at, OutcomeInterrupted, desc)
			} else {
				newer = cmd
			}
			cmd = prev
		}
	}
}

// endCommand ends a command span with its outcome; the outcomes that are
// failures set status Error with desc and error.type = outcome.
func endCommand(span trace.Span, at time.Time, outcome, desc string) {
	if recording(span) {
		span.SetAttributes(AttrCommandOutcome.String(outcome))
		switch outcome {
		case OutcomeRejected, OutcomeAbandoned, OutcomeInterrupted:
			fail(span, desc, outcome)
		}
	}
	end(span, at)
}

func (t *tracing) onSupervisorState(s *supState, e sdk.Event) {
	switch e.To {
	case lifecycle.StateAlive:
		s.alive = true
		transition(s.start, lifecycle.KindSupervisor, s.path, e.From, e.To, e.Cause, e.RequestedBy, e.Time)
		end(s.start, e.Time)
		s.start = nil
	case lifecycle.StateShuttingDown:
		s.shutting = true
		if s.start != nil { // never got to alive
			fail(s.start, "shut down before it was alive: "+e.Cause, supervisorErrorType(e.Err, e.ShutdownCause, true))
			end(s.start, e.Time)
			s.start = nil
		}
		s.shut = t.start(SpanShutdown, e.Time, link(s.startSC, LinkSupervisorStart, nil),
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
			fail(s.start, "failed before it was alive: "+e.Cause, supervisorErrorType(e.Err, e.ShutdownCause, true))
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
				fail(sh, e.Err.Error(), supervisorErrorType(e.Err, e.ShutdownCause, false))
			case e.To == lifecycle.StateFailed:
				fail(sh, "supervisor failed: "+e.Cause, supervisorErrorType(nil, e.ShutdownCause, false))
			case len(abandoned) > 0:
				fail(sh, "children abandoned: "+strings.Join(abandoned, ", "), "abandoned")
			}
		}
		end(sh, e.Time)
		s.shut = nil
	}
	for _, cs := range s.closing {
		if cs.closing {
			cs.closing = false
			end(cs.span, cs.endAt)
			cs.span = nil
		}
	}
	s.closing = nil
	for path, cs := range t.kids {
		if cs.sup == s {
			end(cs.span, e.Time)
			delete(t.kids, path)
		}
	}
	t.endCommands(s, e.Time, "the supervisor ended first")
	delete(t.sups, s.path)
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

// close ends every span still open; later events are ignored.
func (t *tracing) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	now := time.Now()
	for _, s := range t.sups {
		for _, cs := range s.closing {
			if cs.closing {
				cs.closing = false
				end(cs.span, cs.endAt)
				cs.span = nil
			}
		}
		end(s.start, now)
		end(s.shut, now)
	}
	for _, cs := range t.kids {
		end(cs.span, now)
	}
	t.endCommands(nil, now, "the adapter was closed first")
	clear(t.sups)
	clear(t.kids)
}

// supervisorErrorType is the error.type of a supervisor that failed, or
// (start) did not get to alive: the ErrorType of its error (meltdown,
// fatal, start_failure), else start_failure when Start's context ended,
// else canceled for a start and _OTHER for a shutdown.
func supervisorErrorType(err error, cause sdk.Cause, start bool) string {
	switch {
	case err != nil:
		return errorType(err)
	case cause == sdk.CauseStartFailure:
		return "start_failure"
	case start:
		return "canceled"
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
