package otelsup_test

import (
	"context"
	"errors"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/supervisor-sdk/supervisor/otelsup"
	"github.com/supervisor-sdk/supervisor/sdk"
)

func ExampleNew() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	a, err := otelsup.New(otelsup.WithMeterProvider(mp))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Stop once the worker is running again after its failure.
	stopAfterRestart := func(e sdk.Event) {
		if e.Type == sdk.EventChildRunning && e.Attempt == 2 {
			cancel()
		}
	}
	root, err := sdk.New("root", append(a.Options(), sdk.WithEventHook(stopAfterRestart))...)
	if err != nil {
		fmt.Println(err)
		return
	}
	failed := false
	err = root.Add(context.Background(), sdk.Spec{Name: "worker", Backoff: sdk.NoBackoff(), Service: sdk.ServiceFunc(func(ctx context.Context) error {
		if !failed {
			failed = true
			return errors.New("connection refused")
		}
		<-ctx.Done()
		return nil
	})}, "test", "declared by the test")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := root.Serve(ctx); err != nil {
		fmt.Println(err)
		return
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != otelsup.MetricChildRestarts {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				if dp.Value == 0 {
					continue // every known reason is reported from the start, at 0
				}
				path, _ := dp.Attributes.Value("supervisor.child.path")
				reason, _ := dp.Attributes.Value(otelsup.AttrRestartReason)
				fmt.Printf("%s{path=%s, reason=%s} = %d\n", m.Name, path.Emit(), reason.Emit(), dp.Value)
			}
		}
	}
	// Output:
	// supervisor.child.restarts{path=/root/worker, reason=error} = 1
}
