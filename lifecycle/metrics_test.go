package lifecycle_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

type metricsEnv struct {
	reader *sdkmetric.ManualReader
	sm     *lifecycle.StateMetrics
}

func newMetricsEnv(t *testing.T) metricsEnv {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { require.NoError(t, mp.Shutdown(context.Background())) })
	sm, err := lifecycle.NewStateMetrics(lifecycle.WithMeterProvider(mp))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sm.Close()) })
	return metricsEnv{reader: reader, sm: sm}
}

func (e metricsEnv) collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, e.reader.Collect(context.Background(), &rm))
	return rm
}

// points counts the data points of everything collected.
func (e metricsEnv) points(t *testing.T) int {
	t.Helper()
	n := 0
	for _, sc := range e.collect(t).ScopeMetrics {
		for _, m := range sc.Metrics {
			n += len(m.Data.(metricdata.Sum[int64]).DataPoints)
		}
	}
	return n
}

// machineState is one machine as the state set should show it.
type machineState struct {
	kind    lifecycle.Kind
	path    string
	current lifecycle.State
}

// wantScope writes out the exact expected instrumentation scope for the
// given machines: one series per state of each kind, 1 only for current.
func wantScope(machines ...machineState) metricdata.ScopeMetrics {
	sup := metricdata.Metrics{
		Name:        lifecycle.MetricSupervisorStatus,
		Description: "Supervisor lifecycle state: 1 for the current state, 0 for the others.",
		Unit:        "{supervisor}",
	}
	child := metricdata.Metrics{
		Name:        lifecycle.MetricChildStatus,
		Description: "Supervised child lifecycle state: 1 for the current state, 0 for the others.",
		Unit:        "{child}",
	}
	var supPoints, childPoints []metricdata.DataPoint[int64]
	for _, m := range machines {
		pathKey, stateKey, points := lifecycle.AttrChildPath, lifecycle.AttrChildState, &childPoints
		if m.kind == lifecycle.KindSupervisor {
			pathKey, stateKey, points = lifecycle.AttrSupervisorPath, lifecycle.AttrSupervisorState, &supPoints
		}
		for _, s := range m.kind.States() {
			var v int64
			if s == m.current {
				v = 1
			}
			*points = append(*points, metricdata.DataPoint[int64]{
				Attributes: attribute.NewSet(pathKey.String(m.path), stateKey.String(s.String())),
				Value:      v,
			})
		}
	}
	sum := func(points []metricdata.DataPoint[int64]) metricdata.Sum[int64] {
		return metricdata.Sum[int64]{
			DataPoints:  points,
			Temporality: metricdata.CumulativeTemporality,
			IsMonotonic: false,
		}
	}
	sc := metricdata.ScopeMetrics{Scope: instrumentation.Scope{
		Name:      lifecycle.ScopeName,
		Version:   lifecycle.Version(),
		SchemaURL: semconv.SchemaURL,
	}}
	if supPoints != nil {
		sup.Data = sum(supPoints)
		sc.Metrics = append(sc.Metrics, sup)
	}
	if childPoints != nil {
		child.Data = sum(childPoints)
		sc.Metrics = append(sc.Metrics, child)
	}
	return sc
}

func (e metricsEnv) requireState(t *testing.T, machines ...machineState) {
	t.Helper()
	rm := e.collect(t)
	require.Len(t, rm.ScopeMetrics, 1)
	metricdatatest.AssertEqual(t, wantScope(machines...), rm.ScopeMetrics[0],
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestStateMetricsChild(t *testing.T) {
	env := newMetricsEnv(t)
	m := newMachine(t, lifecycle.KindChild, "/root/api", lifecycle.WithStateMetrics(env.sm))
	env.requireState(t, machineState{lifecycle.KindChild, "/root/api", lifecycle.StateStarting})

	for _, s := range []lifecycle.State{
		lifecycle.StateRunning, lifecycle.StateReady, lifecycle.StateBackoff,
		lifecycle.StatePaused, lifecycle.StateStopping,
	} {
		require.NoError(t, m.Transition(s, "step"))
		env.requireState(t, machineState{lifecycle.KindChild, "/root/api", s})
	}
	_, err := m.Finish(lifecycle.ExitReport{State: lifecycle.StateStopped})
	require.NoError(t, err)
	// A finished machine keeps reporting its end until it is closed.
	env.requireState(t, machineState{lifecycle.KindChild, "/root/api", lifecycle.StateStopped})
	env.requireState(t, machineState{lifecycle.KindChild, "/root/api", lifecycle.StateStopped})
}

func TestStateMetricsSupervisor(t *testing.T) {
	env := newMetricsEnv(t)
	m := newMachine(t, lifecycle.KindSupervisor, "/root", lifecycle.WithStateMetrics(env.sm))
	env.requireState(t, machineState{lifecycle.KindSupervisor, "/root", lifecycle.StateStarting})

	require.NoError(t, m.Transition(lifecycle.StateAlive, "up"))
	env.requireState(t, machineState{lifecycle.KindSupervisor, "/root", lifecycle.StateAlive})

	_, _, err := m.RequestShutdown("operator", "maintenance")
	require.NoError(t, err)
	env.requireState(t, machineState{lifecycle.KindSupervisor, "/root", lifecycle.StateShuttingDown})

	_, err = m.Finish(lifecycle.ExitReport{State: lifecycle.StateFailed})
	require.NoError(t, err)
	env.requireState(t, machineState{lifecycle.KindSupervisor, "/root", lifecycle.StateFailed})
}

func TestStateMetricsSeveralMachines(t *testing.T) {
	env := newMetricsEnv(t)
	sup := newMachine(t, lifecycle.KindSupervisor, "/root", lifecycle.WithStateMetrics(env.sm))
	api := newMachine(t, lifecycle.KindChild, "/root/api", lifecycle.WithStateMetrics(env.sm))
	newMachine(t, lifecycle.KindChild, "/root/db", lifecycle.WithStateMetrics(env.sm))

	require.NoError(t, sup.Transition(lifecycle.StateAlive, "up"))
	require.NoError(t, api.Transition(lifecycle.StateRunning, "launched"))
	env.requireState(t,
		machineState{lifecycle.KindSupervisor, "/root", lifecycle.StateAlive},
		machineState{lifecycle.KindChild, "/root/api", lifecycle.StateRunning},
		machineState{lifecycle.KindChild, "/root/db", lifecycle.StateStarting},
	)

	// Closing one machine removes its series and only its series.
	api.Close()
	env.requireState(t,
		machineState{lifecycle.KindSupervisor, "/root", lifecycle.StateAlive},
		machineState{lifecycle.KindChild, "/root/db", lifecycle.StateStarting},
	)
	api.Close() // idempotent
	env.requireState(t,
		machineState{lifecycle.KindSupervisor, "/root", lifecycle.StateAlive},
		machineState{lifecycle.KindChild, "/root/db", lifecycle.StateStarting},
	)
}

// Close of the last machine must leave no series behind, not series stuck
// at their last value.
func TestStateMetricsMachineClose(t *testing.T) {
	env := newMetricsEnv(t)
	m := newMachine(t, lifecycle.KindChild, "/root/api", lifecycle.WithStateMetrics(env.sm))
	require.Equal(t, 9, env.points(t))
	m.Close()
	require.Zero(t, env.points(t))

	// Closing does not change the lifecycle itself.
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	require.Zero(t, env.points(t))
}

func TestStateMetricsClose(t *testing.T) {
	env := newMetricsEnv(t)
	m := newMachine(t, lifecycle.KindSupervisor, "/root", lifecycle.WithStateMetrics(env.sm))
	require.Equal(t, 5, env.points(t))

	require.NoError(t, env.sm.Close())
	require.Zero(t, env.points(t))
	require.NoError(t, env.sm.Close())
	require.Zero(t, env.points(t))

	// Machines outliving their StateMetrics, or created after it closed,
	// must neither report nor fail.
	m.Close()
	late := newMachine(t, lifecycle.KindChild, "/root/late", lifecycle.WithStateMetrics(env.sm))
	require.NoError(t, late.Transition(lifecycle.StateRunning, "launched"))
	require.Zero(t, env.points(t))
}

func TestStateMetricsNil(t *testing.T) {
	env := newMetricsEnv(t)
	m := newMachine(t, lifecycle.KindChild, "/root/api") // WithStateMetrics(nil)
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	require.Zero(t, env.points(t))
}

// Without WithStateMetrics the machine uses the process-wide default on the
// global provider; that path must work, whatever the global state is.
func TestStateMetricsDefault(t *testing.T) {
	m, err := lifecycle.New(lifecycle.KindChild, "/root/default")
	require.NoError(t, err)
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	m.Close()
	m.Close()
	require.Equal(t, lifecycle.StateRunning, m.State())
}

func TestWithMeterProviderNilKeepsDefault(t *testing.T) {
	sm, err := lifecycle.NewStateMetrics(lifecycle.WithMeterProvider(nil))
	require.NoError(t, err)
	require.NoError(t, sm.Close())
}
