package sdk

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// Supervisor runs children and keeps them running according to their specs
// and its strategy. A Supervisor is itself a [Service], so supervisors nest
// into trees: a nested supervisor that gives up is one failure of its
// parent, and persistent faults escalate towards the root.
//
// Create one with [New]; the zero Supervisor is not usable, and its methods
// return an [ErrInvalidSpec] error. All methods are safe for concurrent
// use, also from event hooks (see [WithEventHook]).
type Supervisor struct {
	name string
	cfg  config

	mu    sync.Mutex
	decls []*decl             // declaration order; children added at run time are kept
	names map[string]*decl    // decls by name: the O(1) duplicate check, and the run's index of its children
	run   *run                // the current Serve, nil when not serving
	last  atomic.Pointer[run] // the latest Serve, for lock-free Health and to retire its series
	stuck map[string]*runner  // runners of attempts abandoned by earlier runs, by child name
	// closeAtEnd asks the current run to retire its series when it ends:
	// Close was called on an ancestor while this supervisor still ran.
	closeAtEnd bool

	// The tree: guarded by treeMu, which every supervisor shares, so that
	// the cycle check and the link are one step.
	parent *Supervisor
	path   string

	// series holds the latest run's machines, retired by Close or, when
	// the supervisor is dropped without it, by a cleanup.
	series *seriesSet

	subsMu sync.Mutex // serialises Subscribe and Close; readers load subs
	subs   atomic.Pointer[[]*Subscription]
}

// treeMu guards every supervisor's parent and path. Trees change rarely
// (a nested supervisor is added), so one lock for all of them costs
// nothing and makes "is this a cycle?" and "link it" atomic.
var treeMu sync.Mutex

// errZero is returned by the methods of a Supervisor not made by New.
var errZero = &SpecError{Field: "Supervisor", Problem: "is not initialised: create supervisors with sdk.New"}

// New returns a supervisor named name (the root of its own tree until it is
// added to a parent). Invalid options are reported as a [*SpecError].
func New(name string, opts ...Option) (*Supervisor, error) {
	if err := CheckName(name); err != nil {
		return nil, &SpecError{Field: "name", Problem: err.Error()}
	}
	c := config{strategy: OneForOne, intensity: DefaultIntensity(), rand: globalRand{}}
	for _, o := range opts {
		if o == nil {
			return nil, &SpecError{Field: "Option", Problem: "is nil"}
		}
		o(&c)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	s := &Supervisor{name: name, cfg: c, path: "/" + name, names: make(map[string]*decl), series: new(seriesSet)}
	runtime.AddCleanup(s, (*seriesSet).retire, s.series)
	return s, nil
}

func (s *Supervisor) usable() error {
	if s == nil || s.names == nil {
		return errZero
	}
	return nil
}

// Name returns the supervisor's name.
func (s *Supervisor) Name() string {
	if s == nil {
		return ""
	}
	return s.name
}

// Path returns the supervisor's path in its tree, such as "/root/api".
func (s *Supervisor) Path() string {
	if s.usable() != nil {
		return ""
	}
	treeMu.Lock()
	defer treeMu.Unlock()
	return s.path
}

// Add declares a child. Before Serve the child starts with the others, in
// declaration order; while serving it starts at once (once its
// dependencies are up); between two Serve calls (a parent restarting a
// nested supervisor) it is declared for the next one. requestedBy and
// reason, which must not be blank, say who added it and why, in its
// EventChildAdded. An invalid spec is rejected with every defect at once
// (an errors.Join of [*SpecError]s naming the child and the field), and
// nothing starts. Beyond [WithMaxChildren] it returns an error matching
// [ErrTooManyChildren]; once the supervisor has begun shutting down,
// [ErrSupervisorDone]. While serving, Add waits for the supervisor's
// goroutine, bounded by ctx.
func (s *Supervisor) Add(ctx context.Context, spec Spec, requestedBy, reason string) error {
	if err := s.usable(); err != nil {
		return err
	}
	if err := validateAudit(requestedBy, reason); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	d, err := spec.normalize()
	if err != nil {
		return err
	}
	n := &d.spec
	if n.Significant && s.cfg.autoShutdown == AutoShutdownNever {
		return &SpecError{Child: n.Name, Field: "Significant", Problem: "requires WithAutoShutdown(AnySignificant or AllSignificant)"}
	}
	sub := nestedSupervisor(n.Service)
	if sub != nil {
		if err := s.adopt(n.Name, sub); err != nil {
			return err
		}
	}
	d.by = audit{requestedBy, reason}
	err = s.declare(ctx, d)
	if err != nil && sub != nil {
		s.disown(sub)
	}
	return err
}

// declare records a declaration, or hands it to the running loop.
func (s *Supervisor) declare(ctx context.Context, d *decl) error {
	n := &d.spec
	s.mu.Lock()
	if _, dup := s.names[n.Name]; dup {
		s.mu.Unlock()
		return &SpecError{Child: n.Name, Field: "Name", Problem: "is already used by a sibling"}
	}
	if max := s.cfg.maxChildren; max > 0 && len(s.decls) >= max {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s has %d, its limit (adding %s)", ErrTooManyChildren, s.name, max, quoteName(n.Name))
	}
	r := s.run
	if r == nil {
		s.decls = append(s.decls, d)
		s.names[n.Name] = d
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	req := &addRequest{d: d, reply: make(chan error, 1)}
	if r.shutting.Load() {
		return ErrSupervisorDone
	}
	if ok, err := r.postCtx(ctx, msg{kind: msgAdd, add: req}); err != nil {
		return err
	} else if !ok {
		return ErrSupervisorDone
	}
	select {
	case err := <-req.reply:
		return err
	case <-r.done:
		return ErrSupervisorDone
	case <-ctx.Done():
		return context.Cause(ctx) // the supervisor may still add it
	}
}

type addRequest struct {
	d     *decl
	reply chan error
}

// ErrTooManyChildren is matched when Add (or Pool.Start) would exceed the
// supervisor's [WithMaxChildren].
var ErrTooManyChildren = errors.New("sdk: too many children")

// adopt makes s the parent of sub, rejecting a cycle or a second parent,
// in one step under treeMu.
func (s *Supervisor) adopt(name string, sub *Supervisor) error {
	bad := func(problem string) error { return &SpecError{Child: name, Field: "Service", Problem: problem} }
	if err := sub.usable(); err != nil {
		return bad("is a supervisor not created with sdk.New")
	}
	treeMu.Lock()
	defer treeMu.Unlock()
	for p := s; p != nil; p = p.parent {
		if p == sub {
			return bad("a supervisor cannot supervise itself or one of its ancestors")
		}
	}
	if sub.parent != nil {
		return bad("the supervisor is already supervised by " + sub.parent.path)
	}
	sub.parent = s
	sub.setPath(s.path + "/" + name)
	return nil
}

// disown undoes adopt for a nested supervisor whose Add failed.
func (s *Supervisor) disown(sub *Supervisor) {
	treeMu.Lock()
	defer treeMu.Unlock()
	if sub.parent == s {
		sub.parent = nil
		sub.setPath("/" + sub.name)
	}
}

// setPath renames s and its declared nested supervisors. Callers hold
// treeMu.
func (s *Supervisor) setPath(path string) {
	s.path = path
	s.mu.Lock()
	decls := s.decls
	s.mu.Unlock()
	for _, d := range decls {
		if sub := nestedSupervisor(d.spec.Service); sub != nil {
			sub.setPath(path + "/" + d.spec.Name)
		}
	}
}

// Health returns the supervisor's lifecycle snapshot without locking.
// Before the first Serve it is the zero Health (not alive); after Serve
// returns it is the final one, with the exit report.
func (s *Supervisor) Health() lifecycle.Health {
	if s.usable() != nil {
		return lifecycle.Health{}
	}
	r := s.last.Load()
	if r == nil {
		return lifecycle.Health{}
	}
	return *r.lc.Health()
}

// Close retires the metric series of the supervisor's last run, and of its
// nested supervisors, so that a supervisor that is thrown away stops being
// reported. Until Close, a supervisor that ended keeps reporting its final
// states, which is what alerting on a failed tree needs. A supervisor that
// is dropped without Close retires its series once the garbage collector
// finds it unreachable, so it holds no memory after that. Close returns
// [ErrAlreadyRunning] and changes nothing while the supervisor serves; a
// nested supervisor that still runs (abandoned by its parent) retires its
// series when it ends.
func (s *Supervisor) Close() error {
	if err := s.usable(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != nil {
		return ErrAlreadyRunning
	}
	if r := s.last.Load(); r != nil {
		r.retire()
	}
	return nil
}

// closeNested is Close for a nested supervisor, called by its parent's
// retire: a nested supervisor that still runs retires when it ends.
func (s *Supervisor) closeNested() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != nil {
		s.closeAtEnd = true
		return
	}
	if r := s.last.Load(); r != nil {
		r.retire()
	}
}

// Serve runs the supervisor until ctx is cancelled, a child returns
// [ErrFatal], or the restart intensity is exceeded. Children start in
// declaration order (each once its dependencies are up) and stop in
// reverse start order, each within its stop timeout. Serve returns nil
// after a clean stop, a [*MeltdownError] or [*FatalError] when the
// supervisor gave up, joined with an [*AbandonedError] when children did
// not stop. With a ctx that has already ended it starts nothing (its
// report lists every child as never started) and returns ctx's cause. Serve may be called again after it returns (a
// parent restarts a nested supervisor that way); a concurrent second call
// returns [ErrAlreadyRunning].
func (s *Supervisor) Serve(ctx context.Context) error {
	r, err := s.begin(ctx)
	if err != nil {
		return err
	}
	err = r.loop(ctx)
	_ = r.flushHooks(context.Background(), true)
	if r.doa {
		return errors.Join(context.Cause(ctx), err) // it never started
	}
	return err
}

// chain returns this supervisor and its ancestors, and their hooks
// flattened, once per Serve so that emitting an event takes no locks.
func (s *Supervisor) chain() (sups []*Supervisor, hooks []func(Event)) {
	treeMu.Lock()
	defer treeMu.Unlock()
	for p := s; p != nil; p = p.parent {
		sups = append(sups, p)
		hooks = append(hooks, p.cfg.hooks...)
	}
	return sups, hooks
}

// inherited returns the state metrics the supervisor reports through: its
// own setting, or the nearest ancestor's.
func (s *Supervisor) machineOptions() []lifecycle.Option {
	treeMu.Lock()
	defer treeMu.Unlock()
	for p := s; p != nil; p = p.parent {
		if p.cfg.metricsSet {
			return []lifecycle.Option{lifecycle.WithStateMetrics(p.cfg.metrics)}
		}
	}
	return nil
}

// nestedSupervisor returns the supervisor behind a child's service when the
// child is a supervisor (or a pool), so that it joins the tree: its path,
// events, status and report nest under its parent's.
func nestedSupervisor(svc Service) *Supervisor {
	switch v := svc.(type) {
	case *Supervisor:
		return v
	case *Pool:
		if v != nil {
			return v.sup
		}
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
