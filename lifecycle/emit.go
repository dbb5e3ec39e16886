package lifecycle

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// EventTransition is the name of the span event added for each transition.
const EventTransition = "supervisor.lifecycle.transition"

// Attributes of an [EventTransition] span event. Requested-by is present
// only on the transition made by [Machine.RequestShutdown].
const (
	AttrKind        attribute.Key = "supervisor.lifecycle.kind"
	AttrPath        attribute.Key = "supervisor.lifecycle.path"
	AttrFrom        attribute.Key = "supervisor.lifecycle.from"
	AttrTo          attribute.Key = "supervisor.lifecycle.to"
	AttrReason      attribute.Key = "supervisor.lifecycle.reason"
	AttrRequestedBy attribute.Key = "supervisor.lifecycle.requested_by"
)

// event is one transition as handed to an emitter. It is passed by value:
// a pointer through the interface call would escape and allocate.
type event struct {
	m          *Machine
	from, to   State
	reason, by string
	at         time.Time
}

// emitter turns transitions into telemetry. It is called with the machine's
// writer lock held, so events reach the span in transition order; an
// implementation must be quick and must not call back into the machine.
// OpenTelemetry is moving span events towards log-based events; a log
// emitter can be added behind this interface without touching the machine.
type emitter interface {
	transition(span trace.Span, ev event)
}

// spanEmitter adds an EventTransition to the bound span.
type spanEmitter struct{}

var kindAttrs = [...]attribute.KeyValue{
	KindSupervisor: AttrKind.String(KindSupervisor.String()),
	KindChild:      AttrKind.String(KindChild.String()),
}

var fromAttrs, toAttrs = func() (from, to [numStates]attribute.KeyValue) {
	for s := StateStarting; int(s) < numStates; s++ {
		from[s] = AttrFrom.String(s.String())
		to[s] = AttrTo.String(s.String())
	}
	return
}()

func (spanEmitter) transition(span trace.Span, ev event) {
	if span == nil || !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 5, 6)
	attrs[0], attrs[1] = kindAttrs[ev.m.kind], AttrPath.String(ev.m.path)
	attrs[2], attrs[3] = fromAttrs[ev.from], toAttrs[ev.to]
	attrs[4] = AttrReason.String(ev.reason)
	if ev.by != "" {
		attrs = append(attrs, AttrRequestedBy.String(ev.by))
	}
	span.AddEvent(EventTransition, trace.WithTimestamp(ev.at), trace.WithAttributes(attrs...))
}
