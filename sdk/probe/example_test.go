package probe_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/supervisor-sdk/supervisor/sdk"
	"github.com/supervisor-sdk/supervisor/sdk/probe"
)

// The probes of a supervisor with one child, while it runs and once it
// has been shut down. In a program the handler is served on a port the
// cluster reaches, for example with http.ListenAndServe(":8081", h).
func ExampleHandler() {
	sup, err := sdk.New("app")
	if err != nil {
		panic(err)
	}
	err = sup.Add(context.Background(), sdk.Spec{Name: "api", Service: sdk.ServiceFunc(func(ctx context.Context) error {
		<-ctx.Done()
		return nil
	})}, "test", "declared by the test")
	if err != nil {
		panic(err)
	}
	if err := sup.Start(context.Background()); err != nil {
		panic(err)
	}
	h := probe.Handler(sup)
	get := func(path string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(path, rec.Code, rec.Body.String())
	}

	get("/livez")
	get("/readyz")
	if _, err := sup.Shutdown(context.Background(), "example", "done"); err != nil {
		panic(err)
	}
	get("/livez")
	// Output:
	// /livez 200 ok
	// /readyz 200 ok
	// /livez 503 completed: done
}
