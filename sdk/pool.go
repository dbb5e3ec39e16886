package sdk

import (
	"context"
	"strconv"
	"sync/atomic"
)

// Pool is a dynamic set of identical children built from one template,
// added while it runs: Erlang/OTP's simple_one_for_one. Each child is
// restarted on its own (one_for_one), and a child that ends for good is
// removed, so a pool that runs many short-lived children does not grow.
//
// A Pool is a [Service]: add it to a supervisor, or Serve it directly.
type Pool struct {
	sup  *Supervisor
	tmpl Spec
	seq  atomic.Uint64
}

// NewPool returns a pool named name whose children follow template.
// template.Service is ignored (each [Pool.Start] brings its own) and
// template.Name is the prefix of the children's names ("conn" gives
// "conn-1", "conn-2", ...). The pool always uses [OneForOne]; options that
// set another strategy are rejected.
func NewPool(name string, template Spec, opts ...Option) (*Pool, error) {
	sup, err := New(name, opts...)
	if err != nil {
		return nil, err
	}
	if sup.cfg.strategy != OneForOne {
		return nil, &SpecError{Field: "Strategy", Problem: "a pool restarts each child on its own: only one_for_one is allowed"}
	}
	sup.cfg.removeEnded = true
	probe := template
	probe.Service = ServiceFunc(func(context.Context) error { return nil })
	probe.Name = template.Name + "-1"
	if _, err := probe.normalize(); err != nil {
		return nil, err
	}
	return &Pool{sup: sup, tmpl: template}, nil
}

// Start adds a child running svc and returns its path. name names the
// child; "" takes the template's name and a sequence number ("conn-1",
// "conn-2", ...). A name in use is an error naming it. requestedBy and
// reason, which must not be blank, are recorded in the child's
// EventChildAdded. Before the pool serves, the child waits and starts
// with the pool. Beyond the pool's [WithMaxChildren] it is an error
// matching [ErrTooManyChildren].
func (p *Pool) Start(ctx context.Context, name string, svc Service, requestedBy, reason string) (string, error) {
	if err := validateAudit(requestedBy, reason); err != nil {
		return "", err // before a number is used up
	}
	spec := p.tmpl
	spec.Service = svc
	spec.Name = name
	if name == "" {
		spec.Name = p.tmpl.Name + "-" + strconv.FormatUint(p.seq.Add(1), 10)
	}
	if err := p.sup.Add(ctx, spec, requestedBy, reason); err != nil {
		return "", err
	}
	return p.sup.Path() + "/" + spec.Name, nil
}

// Serve runs the pool; see [Supervisor.Serve].
func (p *Pool) Serve(ctx context.Context) error { return p.sup.Serve(ctx) }

// Supervisor returns the pool's supervisor, for health, events and
// subscriptions.
func (p *Pool) Supervisor() *Supervisor { return p.sup }
