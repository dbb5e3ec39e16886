package lifecycle

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Machine is one lifecycle: a state that moves along its kind's transition
// table and ends at most once. All methods are safe for concurrent use.
type Machine struct {
	// options are kept in the machine itself: applying them to a separate
	// struct made that struct escape, one allocation per machine.
	options
	kind      Kind
	tab       *table
	path      string
	startedAt int64 // UnixNano

	// Published for lock-free readers. Writers bump seq to odd, store, and
	// bump it back to even; a reader that sees the same even seq before and
	// after its loads has a consistent snapshot.
	seq      atomic.Uint64
	state    atomic.Uint32
	since    atomic.Int64 // UnixNano
	shutdown atomic.Pointer[ShutdownRequest]
	end      atomic.Pointer[ending]
	cache    atomic.Pointer[cachedHealth] // the snapshot of the current seq, built on first read

	mu   sync.Mutex // serialises writers; readers never take it
	span trace.Span
	// done is made by the first Done or Wait that needs it: most machines
	// are never waited on, and a channel costs more than the rest of a
	// machine's bookkeeping.
	done   chan struct{}
	closed bool

	reg registration // the machine's place in its StateMetrics, guarded by the StateMetrics' lock
}

// ending is the immutable terminal record shared by every reader.
type ending struct {
	report  ExitReport
	failure FailureReason
	failed  bool
}

// closedChan is the Done channel of a machine first asked for it after it
// ended.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// New returns a machine of the given kind in [StateStarting]. path names the
// lifecycle in telemetry and errors (for example "/root/api/http") and must
// not be blank.
func New(kind Kind, path string, opts ...Option) (*Machine, error) {
	if !kind.valid() {
		return nil, &FieldError{Field: "kind", Problem: fmt.Sprintf("is %s, not supervisor or child", kind)}
	}
	if strings.TrimSpace(path) == "" {
		return nil, &FieldError{Field: "path", Problem: "is blank"}
	}
	m := &Machine{options: options{now: time.Now, emitter: spanEmitter{}}, kind: kind, tab: kind.table(), path: path}
	for _, opt := range opts {
		opt(&m.options)
	}
	if m.now == nil {
		return nil, &FieldError{Field: "clock", Problem: "is nil"}
	}
	if !m.metricsSet {
		m.metrics = defaultStateMetrics()
	}
	start := m.now().UnixNano()
	m.startedAt = start
	m.state.Store(uint32(StateStarting))
	m.since.Store(start)
	if m.metrics != nil {
		m.metrics.add(m)
	}
	return m, nil
}

// Kind returns the machine's kind.
func (m *Machine) Kind() Kind { return m.kind }

// Path returns the name the machine was created with.
func (m *Machine) Path() string { return m.path }

// State returns the current state. It is one atomic load.
func (m *Machine) State() State { return State(m.state.Load()) }

// Alive reports whether the lifecycle has not ended. It is one atomic load.
func (m *Machine) Alive() bool { return !m.tab.terminal.has(m.State()) }

// Health returns a consistent snapshot of the machine without locking. A
// reader that races a transition sees the state before it or after it,
// never a mix. The snapshot is shared by every reader until the next
// transition and must not be modified.
//
// Transitions only publish atomics, so they allocate nothing; the first
// read after a transition builds the snapshot once (one allocation) and
// every later read returns it with two atomic loads.
func (m *Machine) Health() *Health {
	if c := m.cache.Load(); c != nil && c.seq == m.seq.Load() {
		return &c.h
	}
	c := &cachedHealth{h: Health{Kind: m.kind, Path: m.path, StartedAt: time.Unix(0, m.startedAt).UTC()}}
	for {
		s := m.seq.Load()
		if s&1 == 0 {
			st := State(m.state.Load())
			since := m.since.Load()
			sd := m.shutdown.Load()
			end := m.end.Load()
			if m.seq.Load() == s {
				c.seq = s
				c.h.State, c.h.Alive, c.h.Shutdown = st, !m.tab.terminal.has(st), sd
				c.h.Since = time.Unix(0, since).UTC()
				if end != nil {
					c.h.Exit = &end.report
					if end.failed {
						c.h.Failure = &end.failure
					}
				}
				break
			}
		}
		// A writer is mid-publish; its critical section is a handful of
		// stores, so yielding once is enough in practice.
		runtime.Gosched()
	}
	// Racing readers may each build one; any of them is correct for this
	// sequence number, so the last store wins harmlessly.
	m.cache.Store(c)
	return &c.h
}

// cachedHealth is an immutable snapshot and the sequence number it
// describes.
type cachedHealth struct {
	seq uint64
	h   Health
}

// Bind makes span the target of the transition events that follow, until
// the next Bind. The owner binds the span of its current operation (for a
// child, the span of the running attempt); nil unbinds. With no span bound,
// or a span that is not recording, transitions emit nothing.
func (m *Machine) Bind(span trace.Span) {
	m.mu.Lock()
	m.span = span
	m.mu.Unlock()
}

// Transition moves the machine to a non-terminal state. A transition the
// kind does not allow, or any move but to the stopping state once a
// shutdown has been requested, returns a [*TransitionError] and changes
// nothing;
// terminal states are reached only through [Machine.Finish], so that every
// ended lifecycle has an exit report.
func (m *Machine) Transition(to State, reason string) error {
	if m.tab.terminal.has(to) {
		return &FieldError{Field: "to", Problem: fmt.Sprintf("is the terminal state %s: end the lifecycle with Finish", to)}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	from := m.State()
	// Once a shutdown has been requested the lifecycle only winds down: a
	// stopping child must not be restarted past the request, or the request
	// would be lost.
	if !m.tab.next[from].has(to) || !to.valid() || (m.shutdown.Load() != nil && to != m.tab.stopping) {
		return &TransitionError{Kind: m.kind, Path: m.path, From: from, To: to}
	}
	at := m.now()
	m.publish(to, at, nil, nil)
	m.emitter.transition(m.span, event{m: m, from: from, to: to, reason: reason, at: at})
	return nil
}

// Finish ends the lifecycle with r, which must name a terminal state of the
// machine's kind reachable from the current state. The machine sets
// r.CompletedAt to the time of the transition, closes [Machine.Done] and
// returns the stored report. Only the first report is kept: once the
// lifecycle has ended, Finish returns the stored report and a nil error
// whatever r says.
func (m *Machine) Finish(r ExitReport) (ExitReport, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.end.Load(); e != nil {
		return e.report, nil
	}
	if !m.tab.terminal.has(r.State) {
		return ExitReport{}, &FieldError{Field: "State", Problem: fmt.Sprintf("is %s, not a terminal state of a %s", r.State, m.kind)}
	}
	from := m.State()
	if !m.tab.next[from].has(r.State) {
		return ExitReport{}, &TransitionError{Kind: m.kind, Path: m.path, From: from, To: r.State}
	}
	at := m.now()
	r.CompletedAt = at.UTC()
	e := &ending{report: r}
	e.failure, e.failed = r.FailureReason()
	m.publish(r.State, at, nil, e)
	if m.done != nil {
		close(m.done)
	}
	m.emitter.transition(m.span, event{m: m, from: from, to: r.State, reason: r.Reason, at: at})
	return r, nil
}

// RequestShutdown records the first request to stop the lifecycle and moves
// the machine to its stopping state (shutting_down for a supervisor,
// stopping for a child). requestedBy and reason must not be blank. When the
// lifecycle has already ended it returns the stored exit report and true.
// Later requests while stopping keep the first request and change nothing.
func (m *Machine) RequestShutdown(requestedBy, reason string) (ExitReport, bool, error) {
	if strings.TrimSpace(requestedBy) == "" {
		return ExitReport{}, false, &FieldError{Field: "requestedBy", Problem: "is blank"}
	}
	if strings.TrimSpace(reason) == "" {
		return ExitReport{}, false, &FieldError{Field: "reason", Problem: "is blank"}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.end.Load(); e != nil {
		return e.report, true, nil
	}
	if m.shutdown.Load() != nil {
		return ExitReport{}, false, nil
	}
	from := m.State()
	to := m.tab.stopping
	if from != to && !m.tab.next[from].has(to) {
		return ExitReport{}, false, &TransitionError{Kind: m.kind, Path: m.path, From: from, To: to}
	}
	at := m.now()
	req := &ShutdownRequest{RequestedBy: requestedBy, Reason: reason, RequestedAt: at.UTC()}
	if from == to {
		// Already stopping for another reason (a sibling restart, say):
		// record who asked, but there is no transition to report.
		m.seq.Add(1)
		m.shutdown.Store(req)
		m.seq.Add(1)
		return ExitReport{}, false, nil
	}
	m.publish(to, at, req, nil)
	m.emitter.transition(m.span, event{m: m, from: from, to: to, reason: reason, by: requestedBy, at: at})
	return ExitReport{}, false, nil
}

// publish stores a transition for readers. Callers hold m.mu.
func (m *Machine) publish(to State, at time.Time, req *ShutdownRequest, e *ending) {
	m.seq.Add(1)
	m.state.Store(uint32(to))
	m.since.Store(at.UnixNano())
	if req != nil {
		m.shutdown.Store(req)
	}
	if e != nil {
		m.end.Store(e)
	}
	m.seq.Add(1)
}

// Done returns a channel that is closed when the lifecycle ends.
func (m *Machine) Done() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done == nil {
		if m.end.Load() != nil {
			return closedChan
		}
		m.done = make(chan struct{})
	}
	return m.done
}

// Wait blocks until the lifecycle ends and returns its exit report, or
// returns the context's cause if ctx ends first. Any number of goroutines
// may wait, any number of times; all get the same report.
func (m *Machine) Wait(ctx context.Context) (ExitReport, error) {
	if e := m.end.Load(); e != nil {
		return e.report, nil
	}
	select {
	case <-m.Done():
		return m.end.Load().report, nil
	case <-ctx.Done():
		return ExitReport{}, context.Cause(ctx)
	}
}

// Close removes the machine from its [StateMetrics], so its series stop
// being reported. It does not change the state; it is idempotent. A machine
// that is never closed stays registered, and a failed child keeps reporting
// failed, which is what alerting needs while the child's owner exists.
func (m *Machine) Close() {
	m.mu.Lock()
	closed := m.closed
	m.closed = true
	m.mu.Unlock()
	if !closed && m.metrics != nil {
		m.metrics.remove(m)
	}
}
