package otelexport

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/resource"
)

// buildResource detects, each overriding the ones before: the service
// (service.name unknown_service:<executable> and a random
// service.instance.id, so that two replicas with one OTEL_SERVICE_NAME
// never share a series), the SDK (telemetry.sdk.*), the host (host.name),
// the caller's options, then the environment (OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES); WithResource is merged over the result.
func buildResource(ctx context.Context, c *config) (*resource.Resource, error) {
	opts := []resource.Option{resource.WithService(), resource.WithTelemetrySDK(), resource.WithHost()}
	opts = append(opts, c.resourceOpts...)
	opts = append(opts, resource.WithFromEnv())
	res, err := resource.New(ctx, opts...)
	if err != nil {
		if !errors.Is(err, resource.ErrPartialResource) {
			return nil, err
		}
		otel.Handle(err) // a detector failed; keep what the others found
	}
	if c.res != nil {
		if res, err = resource.Merge(res, c.res); err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
			return nil, err
		}
	}
	return res, nil
}
