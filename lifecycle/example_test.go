package lifecycle_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"sort"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// ticker returns a clock that moves one second per reading, so the output
// of the examples is fixed.
func ticker() func() time.Time {
	now := time.Date(2025, time.January, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		now = now.Add(time.Second)
		return now
	}
}

func ExampleNew() {
	m, err := lifecycle.New(lifecycle.KindSupervisor, "/root",
		lifecycle.WithClock(ticker()), lifecycle.WithStateMetrics(nil))
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	fmt.Println(m.State())

	if err := m.Transition(lifecycle.StateAlive, "children started"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.State())

	if _, _, err := m.RequestShutdown("operator", "maintenance"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.State())

	_, err = m.Finish(lifecycle.ExitReport{State: lifecycle.StateCompleted, Phase: "shutdown", Reason: "all children stopped"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.State())

	report, err := m.Wait(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	out, _ := json.Marshal(report)
	fmt.Println(string(out))
	// Output:
	// starting
	// alive
	// shutting_down
	// completed
	// {"state":"completed","phase":"shutdown","reason":"all children stopped","recoverable":false,"panic":false,"completed_at":"2025-01-02T03:04:09Z"}
}

func ExampleMachine_Health() {
	m, _ := lifecycle.New(lifecycle.KindChild, "/root/api",
		lifecycle.WithClock(ticker()), lifecycle.WithStateMetrics(nil))
	defer m.Close()
	_ = m.Transition(lifecycle.StateRunning, "attempt 1")
	_ = m.Transition(lifecycle.StateReady, "listening")

	h := m.Health()
	fmt.Println(h.State, h.Alive, h.Since.Format(time.TimeOnly), h.Since.Sub(h.StartedAt))

	_, _ = m.Finish(lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "run", Reason: "exit status 1", Recoverable: true})
	out, _ := json.MarshalIndent(m.Health(), "", "  ")
	fmt.Println(string(out))
	// Output:
	// ready true 03:04:08 2s
	// {
	//   "kind": "child",
	//   "path": "/root/api",
	//   "alive": false,
	//   "state": "failed",
	//   "since": "2025-01-02T03:04:09Z",
	//   "started_at": "2025-01-02T03:04:06Z",
	//   "failure": {
	//     "phase": "run",
	//     "reason": "exit status 1",
	//     "panic": false,
	//     "recoverable": true
	//   },
	//   "exit": {
	//     "state": "failed",
	//     "phase": "run",
	//     "reason": "exit status 1",
	//     "recoverable": true,
	//     "panic": false,
	//     "completed_at": "2025-01-02T03:04:09Z"
	//   }
	// }
}

func ExampleMachine_RequestShutdown() {
	m, _ := lifecycle.New(lifecycle.KindChild, "/root/api",
		lifecycle.WithClock(ticker()), lifecycle.WithStateMetrics(nil))
	defer m.Close()
	_ = m.Transition(lifecycle.StateRunning, "attempt 1")

	_, ended, err := m.RequestShutdown("operator", "maintenance")
	fmt.Println(m.State(), ended, err)

	// Later requests keep the first one.
	_, _, _ = m.RequestShutdown("signal", "SIGTERM")
	sd := m.Health().Shutdown
	fmt.Println(sd.RequestedBy, sd.Reason, sd.RequestedAt.Format(time.TimeOnly))

	_, _ = m.Finish(lifecycle.ExitReport{State: lifecycle.StateStopped, Phase: "shutdown", Reason: "stopped"})
	report, ended, err := m.RequestShutdown("signal", "SIGTERM")
	fmt.Println(report.State, ended, err)

	_, _, err = m.RequestShutdown("", "no one asked")
	fmt.Println(err)
	// Output:
	// stopping false <nil>
	// operator maintenance 03:04:08
	// stopped true <nil>
	// lifecycle: requestedBy is blank
}

func ExampleMachine_Wait() {
	m, _ := lifecycle.New(lifecycle.KindChild, "/root/worker",
		lifecycle.WithClock(ticker()), lifecycle.WithStateMetrics(nil))
	defer m.Close()

	// A caller that stops waiting gets its context's cause.
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("caller gave up"))
	_, err := m.Wait(ctx)
	fmt.Println(err)

	go func() {
		_ = m.Transition(lifecycle.StateRunning, "attempt 1")
		_, _ = m.Finish(lifecycle.ExitReport{State: lifecycle.StateCompleted, Phase: "run", Reason: "done"})
	}()
	report, err := m.Wait(context.Background())
	fmt.Println(report.State, report.Reason, report.CompletedAt.Format(time.TimeOnly), err)

	// Once ended, Wait answers at once, even with a cancelled context.
	report, err = m.Wait(ctx)
	fmt.Println(report.State, err)
	// Output:
	// caller gave up
	// completed done 03:04:08 <nil>
	// completed <nil>
}

func ExampleParseState() {
	s, err := lifecycle.ParseState("shutting_down")
	fmt.Println(s == lifecycle.StateShuttingDown, err)

	_, err = lifecycle.ParseState("sleeping")
	var le *lifecycle.LabelError
	fmt.Println(errors.As(err, &le), le.Label, err)
	// Output:
	// true <nil>
	// true sleeping lifecycle: unknown state "sleeping"
}

func ExampleMachine_Bind() {
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	m, _ := lifecycle.New(lifecycle.KindChild, "/root/api",
		lifecycle.WithClock(ticker()), lifecycle.WithStateMetrics(nil))
	defer m.Close()

	_, span := tp.Tracer("example").Start(context.Background(), "attempt")
	m.Bind(span)
	_ = m.Transition(lifecycle.StateRunning, "attempt 1")
	_, _, _ = m.RequestShutdown("operator", "maintenance")
	_, _ = m.Finish(lifecycle.ExitReport{State: lifecycle.StateStopped, Reason: "stopped"})
	span.End()

	for _, ev := range recorder.Ended()[0].Events() {
		var from, to string
		for _, kv := range ev.Attributes {
			switch kv.Key {
			case lifecycle.AttrFrom:
				from = kv.Value.AsString()
			case lifecycle.AttrTo:
				to = kv.Value.AsString()
			}
		}
		fmt.Println(ev.Name, from, "→", to)
	}
	// Output:
	// supervisor.lifecycle.transition starting → running
	// supervisor.lifecycle.transition running → stopping
	// supervisor.lifecycle.transition stopping → stopped
}

func ExampleNewStateMetrics() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()

	sm, err := lifecycle.NewStateMetrics(lifecycle.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = sm.Close() }()

	sup, _ := lifecycle.New(lifecycle.KindSupervisor, "/root", lifecycle.WithStateMetrics(sm))
	defer sup.Close()
	child, _ := lifecycle.New(lifecycle.KindChild, "/root/api", lifecycle.WithStateMetrics(sm))
	defer child.Close()
	_ = sup.Transition(lifecycle.StateAlive, "children started")
	_ = child.Transition(lifecycle.StateRunning, "attempt 1")

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	var lines []string
	for _, sc := range rm.ScopeMetrics {
		for _, m := range sc.Metrics {
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				path, _ := dp.Attributes.Value(lifecycle.AttrChildPath)
				state, _ := dp.Attributes.Value(lifecycle.AttrChildState)
				if m.Name == lifecycle.MetricSupervisorStatus {
					path, _ = dp.Attributes.Value(lifecycle.AttrSupervisorPath)
					state, _ = dp.Attributes.Value(lifecycle.AttrSupervisorState)
				}
				lines = append(lines, fmt.Sprint(path.AsString(), " ", state.AsString(), " ", dp.Value))
			}
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// /root alive 1
	// /root completed 0
	// /root failed 0
	// /root shutting_down 0
	// /root starting 0
	// /root/api backoff 0
	// /root/api completed 0
	// /root/api failed 0
	// /root/api paused 0
	// /root/api ready 0
	// /root/api running 1
	// /root/api starting 0
	// /root/api stopped 0
	// /root/api stopping 0
}
