package otelsup

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/supervisor-sdk/supervisor/internal/version"
	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// ScopeName is the instrumentation scope of the adapter's own instruments
// and spans.
const ScopeName = "github.com/supervisor-sdk/supervisor/otelsup"

// Version returns the module version, reported as the instrumentation scope
// version.
func Version() string { return version.Version }

// Option configures [New].
type Option func(*config)

type config struct {
	mp    metric.MeterProvider
	tp    trace.TracerProvider
	tpSet bool // tp came from WithTracerProvider
}

// WithMeterProvider sets the provider of every instrument, the lifecycle
// state sets included. The default is the global MeterProvider; nil keeps
// the default.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) {
		if mp != nil {
			c.mp = mp
		}
	}
}

// WithTracerProvider sets the provider of the adapter's spans. The default
// is the global TracerProvider; nil keeps the default. With a
// [go.opentelemetry.io/otel/trace/noop.TracerProvider] the adapter starts
// no spans at all, so tracing costs nothing. By default, while no provider
// has been installed with otel.SetTracerProvider, the adapter skips
// tracing the same way (the global tracer would return non-recording
// spans); it starts tracing with the next attempt once one is installed.
// Passing otel.GetTracerProvider() explicitly turns that shortcut off, for
// auto-instrumentation agents that attach to the global tracer without
// installing a provider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) {
		if tp != nil {
			c.tp, c.tpSet = tp, true
		}
	}
}

// Adapter turns a supervision tree's events into OpenTelemetry metrics and
// spans.
// Create one with [New], pass [Adapter.Options] to [sdk.New] for the root
// supervisor (nested supervisors inherit both), and [Adapter.Close] it when
// the tree is gone. One Adapter may serve several trees. It is safe for
// concurrent use.
type Adapter struct {
	sm  *lifecycle.StateMetrics
	ins instruments
	tr  *tracing // nil with a no-op TracerProvider

	mu       sync.Mutex
	add      map[cacheKey][]metric.AddOption
	rec      map[cacheKey][]metric.RecordOption
	errTypes map[string]uint8 // interned error.type values → slot
	nextType uint8            // next free error.type slot
}

// New creates the instruments, once. As the OpenTelemetry Go contributing
// guide asks, an instrument that cannot be created is reported in the
// returned (joined) error while the Adapter is still returned and records
// everything else; the error is not also passed to otel.Handle.
func New(opts ...Option) (*Adapter, error) {
	c := config{mp: otel.GetMeterProvider(), tp: otel.GetTracerProvider()}
	for _, o := range opts {
		o(&c)
	}
	meter := c.mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version()), metric.WithSchemaURL(semconv.SchemaURL))
	a := &Adapter{
		add:      make(map[cacheKey][]metric.AddOption),
		rec:      make(map[cacheKey][]metric.RecordOption),
		errTypes: map[string]uint8{semconv.ErrorTypeOther.Value.AsString(): vDurOther, "panic": vDurPanic},
		nextType: vDurPanic + 1,
	}
	var err, e error
	a.sm, e = lifecycle.NewStateMetrics(lifecycle.WithMeterProvider(c.mp))
	err = errors.Join(err, e)
	a.ins, e = newInstruments(meter)
	err = errors.Join(err, e)
	if _, noop := c.tp.(tracenoop.TracerProvider); !noop {
		a.tr = newTracing(c.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(Version()), trace.WithSchemaURL(semconv.SchemaURL)))
		if !c.tpSet && isGlobalDefault(c.tp) {
			a.tr.unset = c.tp
		}
	}
	return a, err
}

// Options returns the supervisor options that connect a tree to the
// adapter: the lifecycle state sets and the event hook. Use them as
// sdk.New(name, a.Options()...). If the state sets could not be created
// (see [New]) the tree reports none, rather than falling back to the global
// provider.
func (a *Adapter) Options() []sdk.Option {
	return []sdk.Option{sdk.WithStateMetrics(a.sm), sdk.WithEventHook(a.hook)}
}

// Close ends every span the adapter still has open (normally none: a
// supervisor's terminal transition ends all of its spans, see the package
// documentation) and unregisters the state-set callback, so the state
// series stop being reported. The counters and the histogram keep what
// they have recorded, so flush or shut down the MeterProvider first if the
// final states should be exported. After Close the adapter starts no more
// spans. It is idempotent.
func (a *Adapter) Close() error {
	if a.tr != nil {
		a.tr.closeAll()
	}
	if a.sm == nil {
		return nil
	}
	return a.sm.Close()
}

// hook is the sdk event hook. It runs on supervisor goroutines, possibly
// several at once; in the steady state, and with a no-op TracerProvider,
// it allocates nothing.
func (a *Adapter) hook(e sdk.Event) {
	a.record(e)
	if a.tr != nil {
		a.tr.handle(e)
	}
}

// record updates the metrics.
func (a *Adapter) record(e sdk.Event) {
	switch e.Type {
	case sdk.EventChildExited:
		a.onExited(e)
	case sdk.EventChildRestarting:
		// The supervisor says why in the event: nothing to work out here.
		slot := restartSlot(e.Reason)
		if slot == 0 {
			return
		}
		a.mu.Lock()
		opts := a.addOpts(e.Path, slot)
		a.mu.Unlock()
		addOne(a.ins.restarts, opts)
	case sdk.EventSupervisorState:
		// Report the supervisor's meltdowns from its start, at 0, so that
		// its first meltdown is an increase to a query such as
		// increase(supervisor_meltdowns_total[5m]) rather than a new
		// series that starts at 1.
		a.mu.Lock()
		_, seen := a.add[cacheKey{e.Path, vMeltdown}]
		opts := a.addOpts(e.Path, vMeltdown)
		a.mu.Unlock()
		if !seen && a.ins.meltdowns != nil {
			a.ins.meltdowns.Add(context.Background(), 0, opts...)
		}
	case sdk.EventMeltdown:
		a.mu.Lock()
		opts := a.addOpts(e.Path, vMeltdown)
		a.mu.Unlock()
		addOne(a.ins.meltdowns, opts)
	case sdk.EventChildAbandoned:
		a.mu.Lock()
		opts := a.addOpts(e.Path, vAbandoned)
		a.mu.Unlock()
		addOne(a.ins.abandoned, opts)
	case sdk.EventChildEnded:
		a.forget(e.Path)
	}
}

func (a *Adapter) onExited(e sdk.Event) {
	slot := exitSlot(e.Exit)
	if slot == 0 {
		return
	}
	dur := vDurNone
	var typ string
	if e.Exit.Abnormal() {
		typ = errorType(e.Err)
	}
	a.mu.Lock()
	if typ != "" {
		dur = a.errTypeSlot(typ)
	}
	exitOpts := a.addOpts(e.Path, slot)
	durOpts := a.recOpts(e.Path, dur)
	a.mu.Unlock()
	addOne(a.ins.exits, exitOpts)
	if a.ins.duration != nil {
		a.ins.duration.Record(context.Background(), e.Ran.Seconds(), durOpts...)
	}
}

func addOne(c metric.Int64Counter, opts []metric.AddOption) {
	if c != nil {
		c.Add(context.Background(), 1, opts...)
	}
}

// addOpts returns the cached options of (path, v), building them on the
// first use. Callers hold a.mu.
func (a *Adapter) addOpts(path string, v uint8) []metric.AddOption {
	k := cacheKey{path, v}
	opts, ok := a.add[k]
	if !ok {
		opts = addAttrs(path, v)
		a.add[k] = opts
	}
	return opts
}

// recOpts is addOpts for the duration histogram. Callers hold a.mu.
func (a *Adapter) recOpts(path string, v uint8) []metric.RecordOption {
	k := cacheKey{path, v}
	opts, ok := a.rec[k]
	if !ok {
		kvs := []attribute.KeyValue{lifecycle.AttrChildPath.String(path)}
		if v != vDurNone {
			kvs = append(kvs, semconv.ErrorTypeKey.String(a.typeName(v)))
		}
		opts = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(kvs...))}
		a.rec[k] = opts
	}
	return opts
}

// errTypeSlot interns an error.type value; past maxErrorTypes distinct
// values it answers _OTHER. Callers hold a.mu.
func (a *Adapter) errTypeSlot(typ string) uint8 {
	if v, ok := a.errTypes[typ]; ok {
		return v
	}
	if len(a.errTypes) >= maxErrorTypes {
		return vDurOther
	}
	v := a.nextType
	a.nextType++
	a.errTypes[typ] = v
	return v
}

func (a *Adapter) typeName(v uint8) string {
	for s, x := range a.errTypes {
		if x == v {
			return s
		}
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

// forget drops what the adapter keeps for a child that will not run again,
// so its memory is bounded by the children that exist.
func (a *Adapter) forget(path string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for v := uint8(1); v <= vLast; v++ {
		delete(a.add, cacheKey{path, v})
	}
	for v := uint8(0); v < a.nextType; v++ {
		delete(a.rec, cacheKey{path, v})
	}
}
