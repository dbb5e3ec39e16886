package lifecycle

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/supervisor-sdk/supervisor/internal/version"
)

// ScopeName is the instrumentation scope of the package's telemetry.
const ScopeName = "github.com/supervisor-sdk/supervisor/lifecycle"

// Version returns the module version reported as the instrumentation scope
// version.
func Version() string { return version.Version }

// State-set metrics. Both are asynchronous Int64 UpDownCounters reporting
// one series per state of the kind: 1 for the machine's current state, 0
// for the others. In Prometheus they become the gauges supervisor_status
// and supervisor_child_status, with labels supervisor_path/supervisor_state
// and supervisor_child_path/supervisor_child_state.
const (
	MetricSupervisorStatus = "supervisor.status"
	MetricChildStatus      = "supervisor.child.status"
)

// Attributes of the state-set series.
const (
	AttrSupervisorPath  attribute.Key = "supervisor.path"
	AttrSupervisorState attribute.Key = "supervisor.state"
	AttrChildPath       attribute.Key = "supervisor.child.path"
	AttrChildState      attribute.Key = "supervisor.child.state"
)

// StateMetrics reports the state set of every machine registered with it
// (see [WithStateMetrics]). Values are read from the machines when the
// OpenTelemetry SDK collects, so transitions never touch the metric path.
// Series per machine: 5 for a supervisor, 9 for a child.
type StateMetrics struct {
	sup, child metric.Int64ObservableUpDownCounter
	reg        metric.Registration

	mu     sync.Mutex
	head   *Machine // the registered machines, linked through their reg
	closed bool
}

// registration is a machine's place in its StateMetrics: a doubly linked
// list threaded through the machines, so registering costs no allocation
// and removing is O(1).
type registration struct {
	prev, next *Machine
	// opts holds one option per state, in table order; built on the first
	// collection that sees the machine.
	opts *[]metric.ObserveOption
}

// MetricsOption configures [NewStateMetrics].
type MetricsOption func(*metricsConfig)

type metricsConfig struct{ mp metric.MeterProvider }

// WithMeterProvider sets the provider of the instruments. The default is
// the global MeterProvider; nil keeps the default.
func WithMeterProvider(mp metric.MeterProvider) MetricsOption {
	return func(c *metricsConfig) {
		if mp != nil {
			c.mp = mp
		}
	}
}

// NewStateMetrics creates the state-set instruments once and registers the
// callback that observes them. Call [StateMetrics.Close] to unregister.
func NewStateMetrics(opts ...MetricsOption) (*StateMetrics, error) {
	c := metricsConfig{mp: otel.GetMeterProvider()}
	for _, o := range opts {
		o(&c)
	}
	meter := c.mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version()), metric.WithSchemaURL(semconv.SchemaURL))
	sm := &StateMetrics{}
	var err error
	sm.sup, err = meter.Int64ObservableUpDownCounter(MetricSupervisorStatus,
		metric.WithUnit("{supervisor}"),
		metric.WithDescription("Supervisor lifecycle state: 1 for the current state, 0 for the others."))
	if err != nil {
		return nil, err
	}
	sm.child, err = meter.Int64ObservableUpDownCounter(MetricChildStatus,
		metric.WithUnit("{child}"),
		metric.WithDescription("Supervised child lifecycle state: 1 for the current state, 0 for the others."))
	if err != nil {
		return nil, err
	}
	sm.reg, err = meter.RegisterCallback(sm.observe, sm.sup, sm.child)
	if err != nil {
		return nil, err
	}
	return sm, nil
}

var (
	defaultOnce    sync.Once
	defaultMetrics *StateMetrics
)

// defaultStateMetrics is shared by machines created without
// WithStateMetrics, so the process registers its instruments once.
func defaultStateMetrics() *StateMetrics {
	defaultOnce.Do(func() {
		sm, err := NewStateMetrics()
		if err != nil {
			otel.Handle(err)
			return
		}
		defaultMetrics = sm
	})
	return defaultMetrics
}

// Close unregisters the callback; the series stop being reported. It is
// idempotent.
func (sm *StateMetrics) Close() error {
	sm.mu.Lock()
	if sm.closed {
		sm.mu.Unlock()
		return nil
	}
	sm.closed = true
	for m := sm.head; m != nil; {
		next := m.reg.next
		m.reg = registration{}
		m = next
	}
	sm.head = nil
	sm.mu.Unlock()
	// Unregister takes the SDK's pipeline lock, which a concurrent collection
	// holds while it runs observe (which takes sm.mu): calling it under sm.mu
	// would invert the lock order and deadlock.
	return sm.reg.Unregister()
}

// add registers m. Its attribute options are built on the first
// collection that sees it and then kept, so collection allocates nothing
// per series in the steady state, and a process whose metrics are never
// collected (no SDK installed) never pays for them.
func (sm *StateMetrics) add(m *Machine) {
	sm.mu.Lock()
	if !sm.closed {
		m.reg = registration{next: sm.head}
		if sm.head != nil {
			sm.head.reg.prev = m
		}
		sm.head = m
	}
	sm.mu.Unlock()
}

// seriesOptions builds the options of every (machine, state) pair.
func seriesOptions(m *Machine) *[]metric.ObserveOption {
	pathKey, stateKey := AttrChildPath, AttrChildState
	if m.kind == KindSupervisor {
		pathKey, stateKey = AttrSupervisorPath, AttrSupervisorState
	}
	path := pathKey.String(m.path)
	opts := make([]metric.ObserveOption, len(m.tab.states))
	for i, s := range m.tab.states {
		opts[i] = metric.WithAttributeSet(attribute.NewSet(path, stateKey.String(s.String())))
	}
	return &opts
}

func (sm *StateMetrics) remove(m *Machine) {
	sm.mu.Lock()
	if m.reg.prev != nil || sm.head == m {
		if m.reg.prev != nil {
			m.reg.prev.reg.next = m.reg.next
		} else {
			sm.head = m.reg.next
		}
		if m.reg.next != nil {
			m.reg.next.reg.prev = m.reg.prev
		}
		m.reg = registration{}
	}
	sm.mu.Unlock()
}

func (sm *StateMetrics) observe(_ context.Context, o metric.Observer) error {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	for m := sm.head; m != nil; m = m.reg.next {
		if m.reg.opts == nil {
			m.reg.opts = seriesOptions(m)
		}
		opts := *m.reg.opts
		inst := sm.child
		if m.kind == KindSupervisor {
			inst = sm.sup
		}
		cur := m.State()
		for i, s := range m.tab.states {
			var v int64
			if s == cur {
				v = 1
			}
			o.ObserveInt64(inst, v, opts[i:i+1]...)
		}
	}
	return nil
}
