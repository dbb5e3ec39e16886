package sdk

import "context"

// Service is anything a supervisor can run. Serve runs until its work is
// done or ctx is cancelled, and must return soon after ctx is cancelled: a
// child that does not return within its stop timeout is abandoned. Serve
// must not leave goroutines behind when it returns.
//
// The shape is the same as suture's Service, so suture services can be
// supervised unchanged.
type Service interface {
	Serve(ctx context.Context) error
}

// ServiceFunc adapts a function to [Service].
type ServiceFunc func(ctx context.Context) error

// Serve calls f(ctx).
func (f ServiceFunc) Serve(ctx context.Context) error { return f(ctx) }
