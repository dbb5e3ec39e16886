package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// Status is a snapshot of a supervision tree.
type Status struct {
	Path string `json:"path"`
	// Health is zero (and omitted from JSON) before the supervisor has
	// started.
	Health lifecycle.Health `json:"health,omitzero"`
	// Ready reports that the start has completed and every child that
	// declares readiness (nested supervisors included) is ready now, in
	// this supervisor and below: one that failed for good counts as not
	// ready; one that completed or was removed, stopped or paused does not
	// count (see [ChildStatus.CountsForReadiness]); the children that keep
	// it from being ready are those whose [ChildStatus.HoldsUpReadiness]
	// is true.
	Ready    bool          `json:"ready"`
	Children []ChildStatus `json:"children"`
	// Events are the flight recorder's events that this supervisor
	// emitted (its own and its children's), oldest first: at most the
	// recorder's size (see [WithFlightRecorder]), none when it is off.
	// A nested supervisor's are in its own Status.
	Events []RecordedEvent `json:"events,omitempty"`
}

// ChildStatus is one child's part of a [Status].
type ChildStatus struct {
	Path       string          `json:"path"`
	State      lifecycle.State `json:"state"`
	Since      time.Time       `json:"since"`
	Attempt    uint64          `json:"attempt"`
	Generation uint64          `json:"generation"`
	Restarts   int             `json:"restarts"`
	LastError  string          `json:"last_error,omitempty"`
	// LastErrorAt is when LastError was returned: the time of the last
	// recorded exit with an error, or, once the flight recorder no longer
	// holds it, the time the child then entered backoff or failed. Zero
	// when not known.
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// ConsecutiveFailures counts the abnormal exits in a row, the count
	// that backoff grows with and [Spec.FailureLimit] bounds (reset by a
	// clean exit or a stable run).
	ConsecutiveFailures int `json:"consecutive_failures"`
	// UpSince is when the live attempt was launched (its uptime is the
	// time since); zero while no attempt is live.
	UpSince time.Time `json:"up_since,omitzero"`
	// NextRestart is when a child waiting in backoff is due to be launched
	// again: on its own, or with its scope (one_for_all, rest_for_one)
	// once every member of the scope has stopped; zero otherwise (while
	// the scope still waits for a sibling to stop, or the child runs).
	NextRestart time.Time `json:"next_restart,omitzero"`
	// DeclaresReadiness and Ready: whether the child signals readiness,
	// and whether its running attempt has.
	DeclaresReadiness bool `json:"declares_readiness"`
	Ready             bool `json:"ready"`
	Paused            bool `json:"paused"`
	// PausedBy and PausedReason say who paused the child and why, while
	// it is paused.
	PausedBy     string `json:"paused_by,omitempty"`
	PausedReason string `json:"paused_reason,omitempty"`
	// Live reports that an attempt is inside Serve, as far as the
	// supervisor knows (running, ready or stopping).
	Live bool `json:"live"`
	// LastHeartbeat is zero until the running attempt sends one.
	LastHeartbeat time.Time `json:"last_heartbeat,omitzero"`
	// Supervisor is the nested supervisor's status, for a child that is a
	// supervisor.
	Supervisor *Status `json:"supervisor,omitempty"`
	// Events are the child's events in the flight recorder, oldest first
	// (a subset of its supervisor's [Status].Events).
	Events []RecordedEvent `json:"events,omitempty"`
}

// Status returns a snapshot of the tree. While the supervisor runs, its
// goroutine copies the facts of its children between two events, so the
// snapshot is consistent; the rest (formatting, nested supervisors) is
// done by the caller, and concurrent callers share one copy, so that many
// status readers cannot starve supervision. ctx bounds the wait. After the
// supervisor has ended it describes the final states. A LastError longer
// than 1 KiB is cut. The flight recorder's events ([WithFlightRecorder])
// are copied under the recorder's own lock, not by the supervisor's
// goroutine.
func (s *Supervisor) Status(ctx context.Context) (Status, error) {
	if err := s.usable(); err != nil {
		return Status{}, err
	}
	if ctx.Err() != nil {
		return Status{}, context.Cause(ctx)
	}
	r, last := s.runs()
	var st Status
	switch {
	case r != nil:
		snap, err := r.sharedSnapshot(ctx)
		if err == errRunEnded {
			return s.Status(ctx) // it ended meanwhile
		}
		if err != nil {
			return Status{}, err
		}
		st = snap.status()
	case last != nil:
		r = last
		st = last.snapshot().status() // ended: nothing changes it any more
	default:
		return Status{Path: s.Path()}, nil
	}
	// The recorder has its own lock: reading it does not involve the loop.
	attachEvents(&st, r.feed.recent(st.Path))
	// Nested supervisors answer for themselves, outside this loop.
	for i := range st.Children {
		if sub := st.Children[i].Supervisor; sub != nil {
			ns := s.nested(sub.Path)
			if ns == nil { // removed since the copy: only its child's facts remain
				st.Children[i].Supervisor = nil
				continue
			}
			nested, err := ns.Status(ctx)
			if err != nil {
				return Status{}, err
			}
			st.Children[i].Supervisor = &nested
		}
	}
	// Ready is judged from the facts the status reports, so that a reader
	// of the status (the /readyz probe) can always say why it is not.
	for _, c := range st.Children {
		if c.HoldsUpReadiness() {
			st.Ready = false
			break
		}
	}
	return st, nil
}

// CountsForReadiness reports whether the child's readiness counts toward
// its supervisor's [Status].Ready: it declares readiness or is a nested
// supervisor, it is not paused, and it has not ended, unless it failed
// (one that failed for good counts, as not ready); one that completed or
// was stopped on purpose does not count.
func (c ChildStatus) CountsForReadiness() bool {
	return (c.DeclaresReadiness || c.Supervisor != nil) && !c.Paused &&
		(!lifecycle.KindChild.Terminal(c.State) || c.State == lifecycle.StateFailed)
}

// HoldsUpReadiness reports whether the child is a reason its supervisor is
// not ready: it counts for readiness and it is not ready (for a nested
// supervisor: it, or its own tree, is not).
func (c ChildStatus) HoldsUpReadiness() bool {
	return c.CountsForReadiness() && (!c.Ready || c.Supervisor != nil && !c.Supervisor.Ready)
}

var errRunEnded = errors.New("sdk: the run ended")

// statusCall is one copy of a run's children; the callers that ask for a
// status while one is being made share the next one, so that every caller
// gets a copy made after it asked, and at most one is made at a time.
type statusCall struct {
	done chan struct{}
	snap *runSnap
}

// sharedSnapshot returns a copy of the run's children made after the call.
func (r *run) sharedSnapshot(ctx context.Context) (*runSnap, error) {
	r.stMu.Lock()
	var call *statusCall
	switch {
	case r.stCall == nil:
		call = &statusCall{done: make(chan struct{})}
		r.stCall = call
		// Its own goroutine, so that every caller, this one included,
		// waits only as long as its own context lets it; it ends when
		// the loop answers or has finished.
		go r.copyForStatus(call)
	case r.stNext == nil:
		call = &statusCall{done: make(chan struct{})}
		r.stNext = call // made once the one in progress is done
	default:
		call = r.stNext
	}
	r.stMu.Unlock()
	select {
	case <-call.done:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	if call.snap == nil {
		return nil, errRunEnded
	}
	return call.snap, nil
}

func (r *run) copyForStatus(call *statusCall) {
	for call != nil {
		reply := make(chan *runSnap, 1)
		if r.post(msg{kind: msgStatus, status: reply}) {
			select {
			case call.snap = <-reply:
			case <-r.done:
			}
		}
		r.stMu.Lock()
		next := r.stNext
		r.stCall, r.stNext = next, nil
		r.stMu.Unlock()
		close(call.done)
		call = next
	}
}

// runSnap is what the loop copies for a status: the facts only it may
// read, nothing formatted.
type runSnap struct {
	path     string
	lc       *lifecycle.Machine
	started  bool
	children []childSnap
}

type childSnap struct {
	path                string
	lc                  *lifecycle.Machine
	attempt, generation uint64
	restarts            int
	lastErr             error
	readiness           bool
	pausedBy            audit
	live, nested        bool
	beat                int64
	failures            int
	upSince, nextAt     time.Time
}

// snapshot copies the run's children; only the loop, or anyone after the
// loop has ended, may call it.
func (r *run) snapshot() *runSnap {
	snap := &runSnap{path: r.path, lc: r.lc, started: !r.startup, children: make([]childSnap, len(r.children))}
	for i, c := range r.children {
		cs := &snap.children[i]
		*cs = childSnap{path: c.path, lc: c.lc, attempt: c.attempt, generation: c.generation, restarts: int(c.restarts),
			lastErr: c.lastErr, readiness: c.spec.Readiness, pausedBy: c.pausedBy(), live: c.isLive(),
			nested: nestedSupervisor(c.spec.Service) != nil}
		if a := c.live; a != nil {
			cs.beat = a.beat.Load()
			cs.upSince = r.clocks.epoch.Add(c.startedAt)
		}
		cs.failures = c.backoff.consecutive()
		switch i := c.clocks[clockWait]; {
		case i != 0:
			cs.nextAt = r.clocks.epoch.Add(r.clocks.h[i-1].at)
		case c.plan != nil && c.plan.timer != nil && !c.isLive():
			cs.nextAt = r.clocks.epoch.Add(c.plan.due) // its scope's delay runs
		}
	}
	return snap
}

// maxStatusError bounds a LastError in a status.
const maxStatusError = 1 << 10

// status formats the snapshot; it reads only the snapshot and the
// lock-free lifecycle machines, so any goroutine may call it.
func (snap *runSnap) status() Status {
	h := snap.lc.Health()
	st := Status{Path: snap.path, Health: *h, Ready: snap.started && h.State == lifecycle.StateAlive}
	st.Children = make([]ChildStatus, 0, len(snap.children))
	for i := range snap.children {
		c := &snap.children[i]
		h := c.lc.Health()
		cs := ChildStatus{
			Path:                c.path,
			State:               h.State,
			Since:               h.Since,
			Attempt:             c.attempt,
			Generation:          c.generation,
			Restarts:            c.restarts,
			DeclaresReadiness:   c.readiness,
			Ready:               h.State == lifecycle.StateReady,
			Paused:              h.State == lifecycle.StatePaused,
			PausedBy:            c.pausedBy.by,
			PausedReason:        c.pausedBy.reason,
			Live:                c.live,
			ConsecutiveFailures: c.failures,
		}
		if !c.upSince.IsZero() {
			cs.UpSince = c.upSince.UTC()
		}
		if !c.nextAt.IsZero() {
			cs.NextRestart = c.nextAt.UTC()
		}
		if c.lastErr != nil {
			cs.LastError = cut(c.lastErr.Error(), maxStatusError)
		}
		if c.beat != 0 {
			cs.LastHeartbeat = time.Unix(0, c.beat).UTC()
		}
		if c.nested {
			cs.Supervisor = &Status{Path: c.path}
		}
		st.Children = append(st.Children, cs)
	}
	return st
}

// cut bounds s to max bytes, on a rune boundary, saying how long it was.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf("… (%d bytes)", len(s))
}

// nested finds the nested supervisor at path among the declared children.
func (s *Supervisor) nested(path string) *Supervisor {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.names[path[strings.LastIndexByte(path, '/')+1:]]; d != nil {
		return nestedSupervisor(d.spec.Service)
	}
	return nil // removed meanwhile
}
