package otelexport

import (
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
)

// The variables that decide whether and how a signal is exported; the
// exporters read the rest (endpoints, headers, TLS, timeouts) themselves.
const (
	envSDKDisabled  = "OTEL_SDK_DISABLED"
	envEndpoint     = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envProtocol     = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envPromHost     = "OTEL_EXPORTER_PROMETHEUS_HOST"
	envPromPort     = "OTEL_EXPORTER_PROMETHEUS_PORT"
	exporterNone    = "none"
	exporterOTLP    = "otlp"
	exporterProm    = "prometheus"
	exporterConsole = "console"
)

// signal names the variables of one signal.
type signal struct {
	exporterVar string // OTEL_TRACES_EXPORTER
	endpointVar string // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
	protocolVar string // OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
}

var (
	tracesSignal  = signal{"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"}
	metricsSignal = signal{"OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"}
)

// exporter returns the exporter the environment selects. Unlike the
// specification's default (otlp), an unset OTEL_*_EXPORTER selects otlp
// only when an endpoint says where to send: a process nobody configured
// makes no connection attempts and logs no export errors.
func (s signal) exporter() string {
	if v := os.Getenv(s.exporterVar); v != "" {
		return v
	}
	if os.Getenv(envEndpoint) != "" || os.Getenv(s.endpointVar) != "" {
		return exporterOTLP
	}
	return exporterNone
}

// protocol returns the OTLP protocol the environment selects, "" when
// none does (Setup then uses gRPC, the protocol of the default port 4317,
// where the specification and autoexport would use http/protobuf).
func (s signal) protocol() string {
	if v := os.Getenv(s.protocolVar); v != "" {
		return v
	}
	return os.Getenv(envProtocol)
}

// env renders the variables that selected this signal's exporter, for
// error messages.
func (s signal) env() string {
	var set []string
	for _, k := range []string{s.exporterVar, envEndpoint, s.endpointVar, envProtocol, s.protocolVar} {
		if v, ok := os.LookupEnv(k); ok {
			set = append(set, fmt.Sprintf("%s=%q", k, v))
		}
	}
	if len(set) == 0 {
		return "no OTEL_* variable set"
	}
	return strings.Join(set, " ")
}

// sdkDisabled reports whether OTEL_SDK_DISABLED is true (case-insensitive,
// as the specification says). Another value leaves the SDK on and is
// reported to the error handler, since it was probably meant to disable it.
func sdkDisabled() bool {
	v := strings.TrimSpace(os.Getenv(envSDKDisabled))
	switch {
	case strings.EqualFold(v, "true"):
		return true
	case v != "" && !strings.EqualFold(v, "false"):
		otel.Handle(fmt.Errorf("otelexport: %s=%q is neither true nor false: the SDK stays enabled", envSDKDisabled, v))
	}
	return false
}
