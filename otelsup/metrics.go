package otelsup

import (
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// Names of the instruments the adapter creates itself. The state sets
// (lifecycle.MetricChildStatus and lifecycle.MetricSupervisorStatus) come
// from package lifecycle.
const (
	MetricChildRestarts        = "supervisor.child.restarts"
	MetricChildExits           = "supervisor.child.exits"
	MetricChildAttemptDuration = "supervisor.child.attempt.duration"
	MetricChildBackoffDelay    = "supervisor.child.backoff.delay"
	MetricMeltdowns            = "supervisor.meltdowns"
	MetricChildAbandoned       = "supervisor.child.abandoned"
	MetricShutdownDuration     = "supervisor.shutdown.duration"
	MetricEventsDropped        = "supervisor.events.dropped"
)

// Attributes of the adapter's series besides [lifecycle.AttrChildPath],
// [lifecycle.AttrSupervisorPath] and error.type.
const (
	// AttrRestartReason is why a child was restarted, as the supervisor
	// decided it ([sdk.RestartReason]): its own exit (error, panic,
	// normal, stale), a sibling's (sibling) or an operator (manual).
	AttrRestartReason attribute.Key = "supervisor.restart.reason"
	// AttrExitKind is how an attempt ended: normal, error, panic, stopped
	// or stale.
	AttrExitKind attribute.Key = "supervisor.exit.kind"
	// AttrObserver is who missed the dropped events: hook, the tree's
	// event hooks (the adapter's among them), or the name a subscription
	// was given to [Adapter.ObserveSubscription].
	AttrObserver attribute.Key = "supervisor.observer"
)

// durationBounds are the histogram buckets of attempt durations, in
// seconds: the semconv HTTP boundaries for attempts that fail fast, then
// longer ones up to an hour for attempts that ran for a while.
var durationBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 300, 900, 3600}

// delayBounds are the buckets of backoff delays, in seconds: 0 (an
// immediate restart) up to the five minutes a capped exponential backoff
// typically ends at.
var delayBounds = []float64{0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// shutdownBounds are the buckets of shutdown durations, in seconds, up to
// two minutes, past any sensible stop timeout.
var shutdownBounds = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// Cache slots of the Add options (v in cacheKey). The values are
// enumerated, so a path has at most vLast of them.
const (
	vRestartNormal uint8 = iota + 1 // one slot per sdk.RestartReason, in its order
	vRestartError
	vRestartPanic
	vRestartStale
	vRestartSibling
	vRestartManual
	vExitNormal
	vExitError
	vExitPanic
	vExitStopped
	vExitStale
	vMeltdown
	vAbandoned
	vLast = vAbandoned
)

type cacheKey struct {
	path string
	v    uint8
}

// instruments are created once by newInstruments. Any of them may be nil
// if the provider failed to create it; record skips those.
type instruments struct {
	restarts  metric.Int64Counter
	exits     metric.Int64Counter
	duration  metric.Float64Histogram
	delay     metric.Float64Histogram
	meltdowns metric.Int64Counter
	abandoned metric.Int64Counter
	shutdown  metric.Float64Histogram
	dropped   metric.Int64ObservableCounter
}

func newInstruments(meter metric.Meter) (instruments, error) {
	var ins instruments
	var err, e error
	ins.restarts, e = meter.Int64Counter(MetricChildRestarts,
		metric.WithUnit("{restart}"),
		metric.WithDescription("Restarts of supervised children, by reason."))
	err = errors.Join(err, e)
	ins.exits, e = meter.Int64Counter(MetricChildExits,
		metric.WithUnit("{exit}"),
		metric.WithDescription("Ended attempts of supervised children, by exit kind."))
	err = errors.Join(err, e)
	ins.duration, e = meter.Float64Histogram(MetricChildAttemptDuration,
		metric.WithUnit("s"),
		metric.WithDescription("How long attempts of supervised children ran; error.type is set for failed attempts."),
		metric.WithExplicitBucketBoundaries(durationBounds...))
	err = errors.Join(err, e)
	ins.delay, e = meter.Float64Histogram(MetricChildBackoffDelay,
		metric.WithUnit("s"),
		metric.WithDescription("The backoff a supervised child waits before its restart."),
		metric.WithExplicitBucketBoundaries(delayBounds...))
	err = errors.Join(err, e)
	ins.meltdowns, e = meter.Int64Counter(MetricMeltdowns,
		metric.WithUnit("{meltdown}"),
		metric.WithDescription("Times a supervisor exceeded its restart intensity and gave up."))
	err = errors.Join(err, e)
	ins.abandoned, e = meter.Int64Counter(MetricChildAbandoned,
		metric.WithUnit("{child}"),
		metric.WithDescription("Children abandoned because they did not stop within their stop timeout."))
	err = errors.Join(err, e)
	ins.shutdown, e = meter.Float64Histogram(MetricShutdownDuration,
		metric.WithUnit("s"),
		metric.WithDescription("How long supervisors took to shut down, from the request to the end."),
		metric.WithExplicitBucketBoundaries(shutdownBounds...))
	err = errors.Join(err, e)
	ins.dropped, e = meter.Int64ObservableCounter(MetricEventsDropped,
		metric.WithUnit("{event}"),
		metric.WithDescription("Events of a supervision tree an observer (its hooks, a subscription) never saw, because its queue was full."))
	err = errors.Join(err, e)
	return ins, err
}

// addAttrs builds the attribute options of slot v for path. Called on a
// cache miss only.
func addAttrs(path string, v uint8) []metric.AddOption {
	child := lifecycle.AttrChildPath.String(path)
	var set attribute.Set
	switch v {
	case vRestartNormal, vRestartError, vRestartPanic, vRestartStale, vRestartSibling, vRestartManual:
		set = attribute.NewSet(child, AttrRestartReason.String(sdk.RestartReason(v-vRestartNormal+1).String()))
	case vExitNormal, vExitError, vExitPanic, vExitStopped, vExitStale:
		set = attribute.NewSet(child, AttrExitKind.String(sdk.ExitKind(v-vExitNormal+1).String()))
	case vMeltdown:
		set = attribute.NewSet(lifecycle.AttrSupervisorPath.String(path))
	default: // vAbandoned
		set = attribute.NewSet(child)
	}
	return []metric.AddOption{metric.WithAttributeSet(set)}
}

// restartSlot maps the reason of a restart to its cache slot; 0 for an
// unknown reason.
func restartSlot(r sdk.RestartReason) uint8 {
	if r < sdk.ReasonNormal || r > sdk.ReasonManual {
		return 0
	}
	return vRestartNormal + uint8(r) - uint8(sdk.ReasonNormal)
}

// exitSlot maps an exit kind to its cache slot; 0 for an unknown kind.
func exitSlot(k sdk.ExitKind) uint8 {
	if k < sdk.ExitNormal || k > sdk.ExitStale {
		return 0
	}
	return vExitNormal + uint8(k) - uint8(sdk.ExitNormal)
}
