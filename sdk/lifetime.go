package sdk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// begin creates the run of one Serve call and declares its children;
// nothing runs until the loop starts.
func (s *Supervisor) begin(ctx context.Context) (*run, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	chain, hooks := s.chain()
	mopts := s.machineOptions()
	path := s.Path()

	s.mu.Lock()
	if s.run != nil {
		s.mu.Unlock()
		return nil, ErrAlreadyRunning
	}
	if err := checkDependencies(s.decls); err != nil {
		s.mu.Unlock()
		return nil, err // nothing has started
	}
	if prev := s.last.Load(); prev != nil {
		prev.retire() // a new Serve reports under the same paths
	}
	r := &run{
		s:         s,
		cfg:       &s.cfg,
		path:      path,
		chain:     chain,
		hooks:     hooks,
		base:      context.WithoutCancel(ctx),
		mailbox:   make(chan msg, 64),
		done:      make(chan struct{}),
		window:    newRestartWindow(s.cfg.intensity),
		clocks:    deadlines{epoch: time.Now()},
		startup:   true,
		startDone: make(chan struct{}),
		hurry:     make(chan struct{}),
		step:      new(stepClock),
	}
	// The run's machines read the loop's step clock: a restart's
	// transitions share one reading.
	r.mopts = append(mopts, lifecycle.WithClock(r.step.now))
	lc, err := lifecycle.New(lifecycle.KindSupervisor, path, r.mopts...)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	r.lc = lc
	s.series.reserve(1 + len(s.decls))
	s.series.add(lc)
	// A nested supervisor is served with its parent's attempt context:
	// it emits into its root's feed, so the whole tree is numbered and
	// delivered in one order.
	if a := attemptFrom(ctx); a != nil && len(chain) > 1 && a.r.s == chain[1] {
		r.feed = a.r.feed
		r.parentAttempt = a
	} else {
		r.feed, r.ownsFeed = newFeed(s.cfg.feedLimit, s.cfg.recorderSize()), true
	}
	s.run = r
	s.last.Store(r)
	// The loop is the only writer of the declarations from here on (a
	// concurrent Add is posted to it), so they need no copy.
	decls := s.decls
	s.mu.Unlock()

	r.children = make([]*child, 0, len(decls))
	for _, d := range decls {
		c, err := r.declare(d)
		if err != nil {
			r.finish()
			return nil, err
		}
		r.holdIfStillRunning(c)
	}
	return r, nil
}

// declare creates the loop's record of a child, and its lifecycle.
func (r *run) declare(d *decl) (*child, error) {
	spec := &d.spec
	path := r.path + "/" + spec.Name
	lc, err := lifecycle.New(lifecycle.KindChild, path, r.mopts...)
	if err != nil {
		return nil, err
	}
	r.s.series.add(lc)
	r.declared++
	c := &child{decl: d, path: path, lc: lc, declared: r.declared}
	c.backoff.init(spec.Backoff, r.cfg.rand)
	r.children = append(r.children, c)
	d.c = c
	r.emit(Event{Type: EventChildAdded, Path: path, To: lifecycle.StateStarting, RequestedBy: d.by.by, Cause: d.by.reason})
	return c, nil
}

// holdIfStillRunning keeps a child from starting while an attempt that an
// earlier run abandoned is still inside its Serve: the same service must
// never run twice at once. The child ends failed, and the report says why.
func (r *run) holdIfStillRunning(c *child) {
	r.s.mu.Lock()
	old := r.s.stuck[c.spec.Name]
	if old != nil && !old.inServe.Load() {
		delete(r.s.stuck, c.spec.Name)
		old = nil
	}
	r.s.mu.Unlock()
	if old == nil || c.spec.ReplaceStuck {
		return
	}
	err := fmt.Errorf("sdk: not started: an attempt of %s abandoned by an earlier run is still running", c.path)
	c.lastErr = err
	r.lost = append(r.lost, c.path)
	c.outcome = OutcomeAbandoned
	r.emit(Event{Type: EventChildAbandoned, Path: c.path, Cause: "an earlier run's attempt is still running", Err: err})
	r.end(c, lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "startup", Reason: err.Error()})
}

// finish releases what the run holds once its supervisor has ended, and
// returns what Serve returns.
func (r *run) finish() error {
	r.result = r.err
	if len(r.lost) > 0 {
		r.result = errors.Join(r.result, &AbandonedError{Children: r.lost})
	}
	r.endSeq = r.feed.last()
	s := r.s
	s.mu.Lock()
	for _, c := range r.children {
		if stuck := c.stuck(); stuck != nil {
			if s.stuck == nil {
				s.stuck = make(map[string]*runner)
			}
			s.stuck[c.spec.Name] = stuck
		}
		retireRunner(c.rn)
	}
	r.stopClocks()
	if r.shut != nil && r.shut.timer != nil {
		r.shut.timer.Stop()
	}
	for _, p := range r.plans {
		p.disarm()
	}
	s.run = nil
	closeAtEnd := s.closeAtEnd
	s.closeAtEnd = false
	close(r.done)
	s.mu.Unlock()
	if closeAtEnd {
		r.retire()
	}
	if r.ownsFeed {
		r.feed.close()
	}
	return r.result
}

// flushHooks waits, bounded by ctx, until the tree's hooks have seen the
// run's last event. With hurry, a shutdown whose deadline passed cuts the
// wait short too: a hook that never returns must not keep Serve (which has
// no deadline of its own) or a Shutdown out of time from returning. Wait
// waits as long as its own context lets it.
func (r *run) flushHooks(ctx context.Context, hurry bool) error {
	if !r.ownsFeed {
		return nil // the root's Serve flushes the tree's feed
	}
	var h <-chan struct{}
	if hurry {
		h = r.hurry
	}
	return r.feed.flush(ctx, r.endSeq, h)
}

// retire closes the run's lifecycle machines, so their metric series
// disappear, and those of its nested supervisors. Only a finished run is
// retired, so nothing else touches its children any more.
func (r *run) retire() {
	r.s.series.retire()
	for _, c := range r.children {
		if sub := nestedSupervisor(c.spec.Service); sub != nil {
			sub.closeNested()
		}
	}
}

// onAdd declares a child added while the supervisor serves, and starts it
// once its dependencies are up.
func (r *run) onAdd(req *addRequest) error {
	spec := &req.d.spec
	if r.shut != nil {
		return ErrSupervisorDone
	}
	if r.child(spec.Name) != nil {
		return &SpecError{Child: spec.Name, Field: "Name", Problem: "is already used by a sibling"}
	}
	for i, d := range spec.DependsOn {
		if r.child(d) == nil {
			return &SpecError{Child: spec.Name, Field: fmt.Sprintf("DependsOn[%d]", i), Problem: fmt.Sprintf("%s is not a sibling", quoteName(d))}
		}
	}
	if max := r.cfg.maxChildren; max > 0 && len(r.children) >= max {
		return fmt.Errorf("%w: %s has %d, its limit (adding %s)", ErrTooManyChildren, r.path, max, quoteName(spec.Name))
	}
	c, err := r.declare(req.d)
	if err != nil {
		return err
	}
	r.s.mu.Lock()
	r.s.decls = append(r.s.decls, req.d)
	r.s.names[spec.Name] = req.d
	r.s.mu.Unlock()
	r.launchWhenDepsUp(c, "added")
	return nil
}
