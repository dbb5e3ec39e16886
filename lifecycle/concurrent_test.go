package lifecycle_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// childLoop is the legal non-terminal cycle a restarting child goes through.
var childLoop = map[lifecycle.State]lifecycle.State{
	lifecycle.StateRunning:  lifecycle.StateReady,
	lifecycle.StateReady:    lifecycle.StateBackoff,
	lifecycle.StateBackoff:  lifecycle.StateStarting,
	lifecycle.StateStarting: lifecycle.StateRunning,
}

const (
	stateUnit = time.Second
	stepUnit  = 100 * time.Second
)

// encode makes a transition time that names its own target state and step,
// so a reader can tell from Since alone which state it must be paired with.
func encode(s lifecycle.State, step int) time.Time {
	return base.Add(time.Duration(step)*stepUnit + time.Duration(s)*stateUnit)
}

func decode(t time.Time) (lifecycle.State, int) {
	d := t.Sub(base)
	return lifecycle.State(d % stepUnit / stateUnit), int(d / stepUnit)
}

// TestHealthConcurrentSafe would catch a torn snapshot: a State from one
// transition paired with the Since, Exit or Shutdown of another.
func TestHealthConcurrentSafe(t *testing.T) {
	// A publish that stores a field outside the odd sequence window leaves a
	// gap of a few nanoseconds; this many steps catch that about half the
	// time per run on two cores, which -count=5 turns into near
	// certainty.
	const writers, readers, stepsPerWriter = 4, 8, 5000

	var next atomic.Int64 // what the clock returns; set by the writer holding writeMu
	clock := func() time.Time { return time.Unix(0, next.Load()).UTC() }
	next.Store(encode(lifecycle.StateStarting, 0).UnixNano())
	m := newMachine(t, lifecycle.KindChild, "/root/worker", lifecycle.WithClock(clock))

	var writeMu sync.Mutex // pairs each clock value with its transition
	step := 0
	// stamp sets the time of the next transition. Callers hold writeMu.
	stamp := func(to lifecycle.State) {
		step++
		next.Store(encode(to, step).UnixNano())
	}

	var readerWG sync.WaitGroup
	var reads atomic.Int64
	for range readers {
		readerWG.Go(func() {
			lastStep := -1
			for {
				finished := !m.Alive()
				if err := checkHealth(*m.Health(), &lastStep); err != nil {
					t.Error(err)
					return
				}
				if s := m.State(); !lifecycle.KindChild.Has(s) {
					t.Errorf("State() = %s", s)
					return
				}
				reads.Add(1)
				if finished {
					return
				}
			}
		})
	}

	var writerWG sync.WaitGroup
	for range writers {
		writerWG.Go(func() {
			for range stepsPerWriter {
				writeMu.Lock()
				to := childLoop[m.State()]
				stamp(to)
				err := m.Transition(to, "cycle")
				writeMu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writerWG.Wait()

	// The writers are done, so writeMu is no longer needed to pair stamps.
	stamp(lifecycle.StateStopping)
	_, _, err := m.RequestShutdown("operator", "maintenance")
	require.NoError(t, err)
	stamp(lifecycle.StateStopped)
	_, err = m.Finish(lifecycle.ExitReport{State: lifecycle.StateStopped, Reason: "shutdown"})
	require.NoError(t, err)
	readerWG.Wait()

	_, lastStep := decode(m.Health().Since)
	require.Equal(t, writers*stepsPerWriter+2, lastStep)
	require.Positive(t, reads.Load())
}

func checkHealth(h lifecycle.Health, lastStep *int) error {
	k := lifecycle.KindChild
	if !k.Has(h.State) {
		return fmt.Errorf("state %s is not a child state", h.State)
	}
	sinceState, sinceStep := decode(h.Since)
	if sinceState != h.State {
		return fmt.Errorf("torn read: state %s with since %v (set for %s)", h.State, h.Since, sinceState)
	}
	if sinceStep < *lastStep {
		return fmt.Errorf("time went back: step %d after %d", sinceStep, *lastStep)
	}
	*lastStep = sinceStep
	if h.Alive == k.Terminal(h.State) {
		return fmt.Errorf("alive=%v in state %s", h.Alive, h.State)
	}
	if (h.Exit != nil) != k.Terminal(h.State) {
		return fmt.Errorf("exit=%v in state %s", h.Exit, h.State)
	}
	if h.Exit != nil && (h.Exit.State != h.State || !h.Exit.CompletedAt.Equal(h.Since)) {
		return fmt.Errorf("exit %+v does not match state %s since %v", *h.Exit, h.State, h.Since)
	}
	if h.Failure != nil {
		return fmt.Errorf("failure %+v without a failed end", *h.Failure)
	}
	stopping := h.State == lifecycle.StateStopping || h.State == lifecycle.StateStopped
	if (h.Shutdown != nil) != stopping {
		return fmt.Errorf("shutdown=%v in state %s", h.Shutdown, h.State)
	}
	if h.Shutdown != nil {
		if s, _ := decode(h.Shutdown.RequestedAt); s != lifecycle.StateStopping {
			return fmt.Errorf("shutdown requested at %v, not a stopping time", h.Shutdown.RequestedAt)
		}
	}
	return nil
}

// Exactly one of many racing Finish calls may win, and every caller must be
// handed the winner's report.
func TestFinishConcurrentSafe(t *testing.T) {
	const finishers = 32
	m := newMachine(t, lifecycle.KindSupervisor, "/root")
	require.NoError(t, m.Transition(lifecycle.StateShuttingDown, "stop"))

	reports := make([]lifecycle.ExitReport, finishers)
	var wg sync.WaitGroup
	for i := range finishers {
		wg.Go(func() {
			state := lifecycle.StateCompleted
			if i%2 == 1 {
				state = lifecycle.StateFailed
			}
			r, err := m.Finish(lifecycle.ExitReport{State: state, Reason: fmt.Sprint("finisher ", i)})
			if err != nil {
				t.Error(err)
			}
			reports[i] = r
		})
		wg.Go(func() {
			h := m.Health()
			if h.Exit != nil && (h.Exit.State != h.State || (h.Failure != nil) != (h.State == lifecycle.StateFailed)) {
				t.Errorf("inconsistent health %+v", h)
			}
		})
	}
	wg.Wait()

	h := m.Health()
	require.NotNil(t, h.Exit)
	for i, r := range reports {
		require.Equal(t, *h.Exit, r, "finisher %d", i)
	}
	require.Equal(t, h.Exit.State == lifecycle.StateFailed, h.Failure != nil)
	requireClosed(t, m)
}

func TestRequestShutdownConcurrentSafe(t *testing.T) {
	const requesters = 32
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	_, span := tp.Tracer("test").Start(context.Background(), "run")

	m := newMachine(t, lifecycle.KindChild, "/root/x")
	m.Bind(span)
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))

	var wg sync.WaitGroup
	for i := range requesters {
		wg.Go(func() {
			_, ended, err := m.RequestShutdown(fmt.Sprint("requester-", i), "stop")
			if err != nil || ended {
				t.Errorf("requester %d: ended=%v err=%v", i, ended, err)
			}
		})
	}
	wg.Wait()
	span.End()

	h := m.Health()
	require.Equal(t, lifecycle.StateStopping, h.State)
	require.NotNil(t, h.Shutdown)
	require.Regexp(t, `^requester-\d+$`, h.Shutdown.RequestedBy)

	// One transition for running, one for the single winning request.
	events := sr.Ended()[0].Events()
	require.Len(t, events, 2)
	require.Contains(t, events[1].Attributes, lifecycle.AttrRequestedBy.String(h.Shutdown.RequestedBy))
	require.NoError(t, tp.Shutdown(context.Background()))
}

// Collections racing transitions must see exactly one current state per
// machine, never zero or two.
func TestStateMetricsConcurrentSafe(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { require.NoError(t, mp.Shutdown(context.Background())) })
	sm, err := lifecycle.NewStateMetrics(lifecycle.WithMeterProvider(mp))
	require.NoError(t, err)

	const machines = 4
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range machines {
		m := newMachine(t, lifecycle.KindChild, fmt.Sprint("/root/c", i), lifecycle.WithStateMetrics(sm))
		require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := m.Transition(childLoop[m.State()], "cycle"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// Machines coming and going while collecting.
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m, err := lifecycle.New(lifecycle.KindSupervisor, fmt.Sprint("/tmp/", i), lifecycle.WithStateMetrics(sm))
			if err != nil {
				t.Error(err)
				return
			}
			m.Close()
		}
	})

	for range 200 {
		var rm metricdata.ResourceMetrics
		require.NoError(t, reader.Collect(context.Background(), &rm))
		perPath := map[string]int64{}
		for _, sc := range rm.ScopeMetrics {
			for _, met := range sc.Metrics {
				if met.Name != lifecycle.MetricChildStatus {
					continue
				}
				for _, dp := range met.Data.(metricdata.Sum[int64]).DataPoints {
					path, _ := dp.Attributes.Value(lifecycle.AttrChildPath)
					perPath[path.AsString()] += dp.Value
				}
			}
		}
		paths := make([]string, 0, len(perPath))
		for p, sum := range perPath {
			require.Equal(t, int64(1), sum, "path %s", p)
			paths = append(paths, p)
		}
		sort.Strings(paths)
		require.Equal(t, []string{"/root/c0", "/root/c1", "/root/c2", "/root/c3"}, paths)
	}
	close(stop)
	wg.Wait()
	require.NoError(t, sm.Close())
}
