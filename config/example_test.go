package config_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/supervisor-sdk/supervisor/config"
	"github.com/supervisor-sdk/supervisor/sdk"
)

func Example() {
	var reg config.Registry
	err := reg.Register("http", func(fc config.FactoryContext) (sdk.Service, error) {
		fmt.Printf("making %s (%s): backoff %s..%s, stop timeout %s\n", fc.Path, fc.Field,
			fc.Spec.Backoff.Initial, fc.Spec.Backoff.Max, fc.Spec.StopTimeout)
		return sdk.ServiceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }), nil
	})
	if err != nil {
		panic(err)
	}
	cfg, err := config.Load(strings.NewReader(`
name: root
shutdown: {deadline: 10s}
defaults:
  stop_timeout: 3s
  backoff: {initial: 200ms}
children:
  - name: api
    task: http
    role: service
  - name: edge
    supervisor:
      defaults: {backoff: {max: 1s}}
      children:
        - name: proxy
          task: http
          role: sidecar
`), config.YAML)
	if err != nil {
		panic(err)
	}
	tree, err := config.Build(cfg, &reg)
	if err != nil {
		panic(err)
	}
	fmt.Println("root:", tree.Root.Path(), "shutdown deadline:", tree.ShutdownDeadline)
	// Output:
	// making /root/api (children[0]): backoff 200ms..10s, stop timeout 3s
	// making /root/edge/proxy (children[1].supervisor.children[0]): backoff 200ms..1s, stop timeout 3s
	// root: /root shutdown deadline: 10s
}

// Every problem is reported at once, with the path of the field and its
// line.
func Example_validation() {
	_, err := config.Load(strings.NewReader(`
name: root
stratgy: one_for_all
children:
  - name: api
    task: http
    backoff: {initial: 100ms, max: 50ms}
  - name: worker
    task: work
    depends_on: [api, db]
    stop_timeout: 5
`), config.YAML)
	fmt.Println(err)
	// Output:
	// config: 4 problems:
	//	line 3: stratgy: unknown field (did you mean "strategy"?)
	//	line 7: children[0].backoff.max: must be >= children[0].backoff.initial (100ms)
	//	line 10: children[1].depends_on[1]: "db" is not a sibling (siblings: api)
	//	line 11: children[1].stop_timeout: 5 has no unit: write a duration such as "5s" or "5ms"
}
