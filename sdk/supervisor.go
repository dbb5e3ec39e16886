package sdk

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// Supervisor runs children and keeps them running according to their specs
// and its strategy. A Supervisor is itself a [Service], so supervisors nest
// into trees: a nested supervisor that gives up is one failure of its
// parent, and persistent faults escalate towards the root.
//
// All methods are safe for concurrent use.
type Supervisor struct {
	name string
	cfg  config

	mu     sync.Mutex
	path   string
	parent *Supervisor
	specs  []Spec              // declaration order; children added at run time are kept
	run    *run                // the current Serve, nil when not serving
	last   atomic.Pointer[run] // the latest Serve, for lock-free Health and to retire its series

	subsMu sync.Mutex // serialises Subscribe and Close; readers load subs
	subs   atomic.Pointer[[]*Subscription]
	names  map[string]struct{} // names in specs, for O(1) duplicate checks
	stuck  map[string]*child   // abandoned children of earlier runs, by name
}

// New returns a supervisor named name (the root of its own tree until it is
// added to a parent). Invalid options are reported as a [*SpecError].
func New(name string, opts ...Option) (*Supervisor, error) {
	if err := CheckName(name); err != nil {
		return nil, &SpecError{Field: "name", Problem: err.Error()}
	}
	c := config{strategy: OneForOne, intensity: DefaultIntensity, rand: globalRand{}}
	for _, o := range opts {
		o(&c)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &Supervisor{name: name, cfg: c, path: "/" + name, names: make(map[string]struct{})}, nil
}

// Name returns the supervisor's name.
func (s *Supervisor) Name() string { return s.name }

// Path returns the supervisor's path in its tree, such as "/root/api".
func (s *Supervisor) Path() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.path
}

// Add declares a child. Before Serve the child starts with the others, in
// declaration order; while serving it starts at once; between two Serve
// calls (a parent restarting a nested supervisor) it is declared for the
// next one. An invalid spec is rejected with a [*SpecError] naming the
// child and the field, and nothing starts. Once the supervisor has begun
// shutting down, Add returns [ErrSupervisorDone]. Add waits for the
// supervisor's goroutine, so it must not be called from an event hook.
func (s *Supervisor) Add(spec Spec) error {
	n, err := spec.normalize()
	if err != nil {
		return err
	}
	if n.Significant && s.cfg.autoShutdown == AutoShutdownNever {
		return &SpecError{Child: n.Name, Field: "Significant", Problem: "requires WithAutoShutdown(AnySignificant or AllSignificant)"}
	}
	if sub := nestedSupervisor(n.Service); sub != nil {
		if err := s.checkNesting(n.Name, sub); err != nil {
			return err
		}
	}
	s.mu.Lock()
	if _, dup := s.names[n.Name]; dup {
		s.mu.Unlock()
		return &SpecError{Child: n.Name, Field: "Name", Problem: "is already used by a sibling"}
	}
	r := s.run
	if r == nil {
		s.specs = append(s.specs, n)
		s.names[n.Name] = struct{}{}
		path := s.path + "/" + n.Name
		s.mu.Unlock()
		if sub := nestedSupervisor(n.Service); sub != nil {
			sub.setParent(s, path) // now, so that a later Add can see the tree
		}
		return nil
	}
	s.mu.Unlock()
	reply := make(chan error, 1)
	if !r.post(msg{kind: msgAdd, spec: &n, reply: reply}) {
		return ErrSupervisorDone
	}
	select {
	case err := <-reply:
		return err
	case <-r.done:
		return ErrSupervisorDone
	}
}

// Health returns the supervisor's lifecycle snapshot without locking.
// Before the first Serve it is the zero Health (not alive); after Serve
// returns it is the final one, with the exit report.
func (s *Supervisor) Health() lifecycle.Health {
	r := s.last.Load()
	if r == nil {
		return lifecycle.Health{}
	}
	return *r.lc.Health()
}

// Close retires the metric series of the supervisor's last run, and of its
// nested supervisors, so that a supervisor that is thrown away stops being
// reported. It does not stop a running supervisor; call it after Serve has
// returned. Until Close, a supervisor that ended keeps reporting its final
// states, which is what alerting on a failed tree needs.
func (s *Supervisor) Close() {
	r := s.last.Load()
	if r == nil {
		return
	}
	r.retire()
}

// checkNesting rejects a nested supervisor that would make the tree a
// cycle, or that already has another parent.
func (s *Supervisor) checkNesting(name string, sub *Supervisor) error {
	bad := func(problem string) error { return &SpecError{Child: name, Field: "Service", Problem: problem} }
	for p := s; p != nil; {
		if p == sub {
			return bad("a supervisor cannot supervise itself or one of its ancestors")
		}
		p.mu.Lock()
		next := p.parent
		p.mu.Unlock()
		p = next
	}
	sub.mu.Lock()
	parent := sub.parent
	sub.mu.Unlock()
	if parent != nil && parent != s {
		return bad("the supervisor is already supervised by " + parent.Path())
	}
	return nil
}

// Serve runs the supervisor until ctx is cancelled, a child returns
// [ErrFatal], or the restart intensity is exceeded. Children start in
// declaration order and stop in reverse order, each within its stop
// timeout. Serve returns nil after a clean stop, a [*MeltdownError] or
// [*FatalError] when the supervisor gave up, joined with an
// [*AbandonedError] when children did not stop. Serve may be called again
// after it returns (a parent restarts a nested supervisor that way); a
// concurrent second call returns [ErrAlreadyRunning].
func (s *Supervisor) Serve(ctx context.Context) error {
	r, err := s.begin(ctx)
	if err != nil {
		return err
	}
	return r.loop(ctx)
}

// setParent places s under parent in the tree; called by the parent's loop
// before s starts serving.
func (s *Supervisor) setParent(parent *Supervisor, path string) {
	s.mu.Lock()
	s.parent, s.path = parent, path
	if !s.cfg.metricsSet && parent.cfg.metricsSet {
		s.cfg.metrics, s.cfg.metricsSet = parent.cfg.metrics, true
	}
	s.mu.Unlock()
}

// chain returns this supervisor and its ancestors, and their hooks
// flattened, once per Serve so that emitting an event takes no locks.
func (s *Supervisor) chain() (sups []*Supervisor, hooks []func(Event)) {
	for p := s; p != nil; {
		sups = append(sups, p)
		hooks = append(hooks, p.cfg.hooks...)
		p.mu.Lock()
		next := p.parent
		p.mu.Unlock()
		p = next
	}
	return sups, hooks
}

func (s *Supervisor) machineOptions() []lifecycle.Option {
	if !s.cfg.metricsSet {
		return nil
	}
	return []lifecycle.Option{lifecycle.WithStateMetrics(s.cfg.metrics)}
}

// nestedSupervisor returns the supervisor behind a child's service when the
// child is a supervisor (or a pool), so that it joins the tree: its path,
// events, status and report nest under its parent's.
func nestedSupervisor(svc Service) *Supervisor {
	switch v := svc.(type) {
	case *Supervisor:
		return v
	case *Pool:
		return v.sup
	}
	return nil
}

// runs returns the current run (nil when not serving) and the latest one,
// read together: when cur is nil, last has finished, and nothing changes it
// any more.
func (s *Supervisor) runs() (cur, last *run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run, s.last.Load()
}
