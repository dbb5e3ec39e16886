package otelexport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// prometheusReader is a pull reader registered on reg. The translation is
// pinned so that the rules in deploy/ keep matching whatever the
// exporter's default becomes, and the otel_scope_* labels are left out:
// every series of the supervisor has one of two scopes, which the metric
// name already tells apart, and with them every rule would have to
// aggregate them away.
func prometheusReader(reg prometheus.Registerer) (sdkmetric.Reader, error) {
	return otelprom.New(otelprom.WithRegisterer(reg),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		otelprom.WithoutScopeInfo())
}

// servePrometheus serves a pull reader's registry on
// OTEL_EXPORTER_PROMETHEUS_HOST:OTEL_EXPORTER_PROMETHEUS_PORT (default
// localhost:9464) at /metrics, with the Go runtime's and the process's
// collectors (go_*, process_*) as a process's endpoint has, and returns
// the address it listens on.
func servePrometheus() (sdkmetric.Reader, string, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r, err := prometheusReader(reg)
	if err != nil {
		return nil, "", err
	}
	addr := net.JoinHostPort(getenv(envPromHost, "localhost"), getenv(envPromPort, "9464"))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", errors.Join(fmt.Errorf("the Prometheus endpoint (%s, %s): %w", envPromHost, envPromPort, err), r.Shutdown(context.Background()))
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s := &servedReader{
		Reader: r,
		srv:    &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second},
		served: make(chan struct{}),
	}
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			otel.Handle(fmt.Errorf("otelexport: the Prometheus endpoint on %s stopped: %w", ln.Addr(), err))
		}
	}()
	return s, ln.Addr().String(), nil
}

// servedReader is a pull reader with the server that serves it; shutting
// it down stops the server too.
type servedReader struct {
	sdkmetric.Reader
	srv    *http.Server
	served chan struct{}
}

func (s *servedReader) Shutdown(ctx context.Context) error {
	err := errors.Join(s.Reader.Shutdown(ctx), s.srv.Shutdown(ctx))
	if err != nil {
		_ = s.srv.Close() // a scrape outlived ctx: cut it
	}
	<-s.served
	return err
}

func getenv(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
