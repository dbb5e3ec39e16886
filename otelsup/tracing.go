package otelsup

import (
	"context"
	"reflect"
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

// tracing turns the events of supervision trees into spans. It keeps the
// spans it has open and nothing else: every decision it reports is the
// sdk's, read from the event. Its maps are keyed by the tree (Event.Tree)
// and a path, so two trees with the same names do not meet. All state is
// guarded by mu; the hook may run on several trees' goroutines at once.
type tracing struct {
	tr    trace.Tracer
	types *errorTypes
	// unset is the global default TracerProvider the tracer came from,
	// when the adapter was given none; while it is still the global one
	// (no SDK installed), events are not traced.
	unset trace.TracerProvider
	// flush is the provider's ForceFlush, when it has one: called when a
	// panic will crash the process.
	flush func(context.Context) error

	mu     sync.Mutex
	closed bool
	sups   map[key]*supState   // one run of a supervisor, until its terminal transition
	kids   map[key]*childState // a child's open spans, until it ends
	cmds   map[key]*cmdState   // by child: the newest open command
	nCmds  int                 // open commands
}

// key names a supervisor or a child within one tree.
type key struct {
	tree uint64
	path string
}

func newTracing(tr trace.Tracer, types *errorTypes) *tracing {
	return &tracing{
		tr:    tr,
		types: types,
		sups:  make(map[key]*supState),
		kids:  make(map[key]*childState),
		cmds:  make(map[key]*cmdState),
	}
}

// flusherOf returns tp's ForceFlush (the SDK's TracerProvider has one), or
// nil.
func flusherOf(tp trace.TracerProvider) func(context.Context) error {
	if f, ok := tp.(interface{ ForceFlush(context.Context) error }); ok {
		return f.ForceFlush
	}
	return nil
}

// crashFlush bounds the flush before a pass-through panic crashes the
// process. The sdk waits at most a second for its hooks to see the panic
// (sdk.WithPanicPassThrough), so the flush must fit within it.
const crashFlush = 800 * time.Millisecond

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
	for _, typ := range []string{LinkPreviousAttempt, LinkAttemptStart, LinkSupervisorStart, LinkParentAttempt, LinkCommand, LinkTargetAttempt, LinkCaller} {
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
// attributes, as a bound lifecycle machine would. reason is the sdk's
// words for it, or the adapter's fixed words where the sdk has none.
func transition(s trace.Span, kind lifecycle.Kind, path string, from, to lifecycle.State, reason, by string, at time.Time) {
	if !recording(s) || to == 0 || from == to {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 6) // one allocation, requested_by included
	attrs = append(attrs,
		lifecycle.AttrKind.String(kind.String()), lifecycle.AttrPath.String(path),
		lifecycle.AttrFrom.String(from.String()), lifecycle.AttrTo.String(to.String()),
		lifecycle.AttrReason.String(reason),
	)
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

func (t *tracing) handle(e sdk.Event) {
	if t.unset != nil && otel.GetTracerProvider() == t.unset {
		return // nothing would record: skip the cost
	}
	if t.handleLocked(e) && t.flush != nil {
		// The panic will crash the process once the hooks have seen it:
		// export what was ended now. The application's provider shutdown
		// would, but a crashing process never gets there.
		ctx, cancel := context.WithTimeout(context.Background(), crashFlush)
		_ = t.flush(ctx)
		cancel()
	}
}

// handleLocked follows one event; it reports whether the process is about
// to crash (a pass-through panic), so spans should be flushed.
func (t *tracing) handleLocked(e sdk.Event) (crash bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	sp := e.Supervisor
	if e.Type == sdk.EventSupervisorState || e.Type == sdk.EventMeltdown || sp == "" {
		sp = e.Path
	}
	k := key{e.Tree, sp}
	s := t.sups[k]
	if s == nil {
		switch e.Type {
		case sdk.EventLateExit, sdk.EventLateSignal, sdk.EventHookPanicked:
			// These can come after the supervisor's run has ended; they
			// open no run (its start span would never end).
			return false
		}
		s = t.sup(k, e.Time)
	}
	switch e.Type {
	case sdk.EventCommand:
		t.onCommand(s, e)
	case sdk.EventCommandDone:
		t.onCommandDone(e)
	case sdk.EventSupervisorState:
		t.onSupervisorState(s, e)
	default:
		return t.onChild(s, e)
	}
	return false
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
