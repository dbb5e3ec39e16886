package otelexport

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// targetInfo returns the resource attributes Setup built, as the
// Prometheus exporter's target_info series shows them.
func targetInfo(t *testing.T, opts ...Option) map[string]string {
	t.Helper()
	reg := prometheus.NewRegistry()
	setup(t, append(opts, WithPrometheus(reg))...)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "target_info" {
			out := map[string]string{}
			for _, l := range f.GetMetric()[0].GetLabel() {
				out[l.GetName()] = l.GetValue()
			}
			return out
		}
	}
	t.Fatal("no target_info")
	return nil
}

// TestServiceInstanceID: two setups with one OTEL_SERVICE_NAME (two
// replicas, or two in one process) have distinct service.instance.id
// values, so their series never overwrite each other.
func TestServiceInstanceID(t *testing.T) {
	cleanEnv(t, "OTEL_SERVICE_NAME=replicated")
	a, b := targetInfo(t), targetInfo(t)
	t.Logf("replica 1: %v; replica 2: %v", a, b)
	for _, r := range []map[string]string{a, b} {
		if r["service_name"] != "replicated" || r["service_instance_id"] == "" || r["host_name"] == "" || r["telemetry_sdk_language"] != "go" {
			t.Errorf("resource %v, want service.name replicated, a service.instance.id, host.name and telemetry.sdk.*", r)
		}
	}
	if a["service_instance_id"] == b["service_instance_id"] {
		t.Errorf("both setups have service.instance.id %q", a["service_instance_id"])
	}
}

// TestResourcePrecedence: the environment wins over detectors and
// WithResourceOptions; WithResource wins over the environment.
func TestResourcePrecedence(t *testing.T) {
	defaultName := WithResourceOptions(resource.WithAttributes(semconv.ServiceName("default-name")))
	cleanEnv(t)
	if got := targetInfo(t, defaultName)["service_name"]; got != "default-name" {
		t.Errorf("service.name %q, want WithResourceOptions' default-name", got)
	}
	cleanEnv(t, "OTEL_SERVICE_NAME=from-env", "OTEL_RESOURCE_ATTRIBUTES=service.instance.id=inst-1,deployment.environment.name=test")
	got := targetInfo(t, defaultName)
	if got["service_name"] != "from-env" || got["service_instance_id"] != "inst-1" || got["deployment_environment_name"] != "test" {
		t.Errorf("resource %v, want the environment's service.name, service.instance.id and attributes", got)
	}
	got = targetInfo(t, WithResource(resource.NewSchemaless(semconv.ServiceName("from-code"))))
	if got["service_name"] != "from-code" {
		t.Errorf("service.name %q, want WithResource's from-code", got["service_name"])
	}
}
