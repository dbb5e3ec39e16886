package sdk

import (
	"context"
	"strings"
	"time"

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
	// count.
	Ready    bool          `json:"ready"`
	Children []ChildStatus `json:"children"`
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
}

// Status returns a snapshot of the tree. While the supervisor runs it is
// taken by the supervisor's goroutine between two events, so it is
// consistent; ctx bounds the wait. After the supervisor has ended it
// describes the final states.
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
		reply := make(chan Status, 1)
		if ok, err := r.postCtx(ctx, msg{kind: msgStatus, status: reply}); err != nil {
			return Status{}, err
		} else if !ok {
			return s.Status(ctx) // it ended meanwhile
		}
		select {
		case st = <-reply:
		case <-r.done:
			return s.Status(ctx)
		case <-ctx.Done():
			return Status{}, context.Cause(ctx)
		}
	case last != nil:
		st = last.status() // ended: nothing changes it any more
	default:
		return Status{Path: s.Path()}, nil
	}
	// Nested supervisors answer for themselves, outside this loop.
	for i := range st.Children {
		if sub := st.Children[i].Supervisor; sub != nil {
			ns := s.nested(sub.Path)
			if ns == nil {
				continue
			}
			nested, err := ns.Status(ctx)
			if err != nil {
				return Status{}, err
			}
			st.Children[i].Supervisor = &nested
			// A nested supervisor that should be running counts like a
			// readiness child: the tree is ready only when it is.
			if cs := st.Children[i]; !cs.Paused && (!lifecycle.KindChild.Terminal(cs.State) || cs.State == lifecycle.StateFailed) {
				st.Ready = st.Ready && nested.Ready && cs.State != lifecycle.StateFailed
			}
		}
	}
	return st, nil
}

// nested finds the nested supervisor at path among the declared children.
func (s *Supervisor) nested(path string) *Supervisor {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := path[strings.LastIndexByte(path, '/')+1:]
	for _, spec := range s.specs {
		if sub := nestedSupervisor(spec.Service); sub != nil && spec.Name == name {
			return sub
		}
	}
	return nil // removed meanwhile
}

// status builds the snapshot; only the loop, or anyone after the loop has
// ended, may call it.
func (r *run) status() Status {
	st := Status{Path: r.path, Health: *r.lc.Health(), Ready: !r.startup && r.lc.State() == lifecycle.StateAlive}
	st.Children = make([]ChildStatus, 0, len(r.children))
	for _, c := range r.children {
		h := c.lc.Health()
		cs := ChildStatus{
			Path:              c.path,
			State:             h.State,
			Since:             h.Since,
			Attempt:           c.attempt,
			Generation:        c.generation,
			Restarts:          c.restarts,
			DeclaresReadiness: c.spec.Readiness,
			Ready:             h.State == lifecycle.StateReady,
			Paused:            h.State == lifecycle.StatePaused,
			PausedBy:          c.pausedBy.by,
			PausedReason:      c.pausedBy.reason,
			Live:              c.isLive(),
		}
		if c.lastErr != nil {
			cs.LastError = c.lastErr.Error()
		}
		if a := c.live; a != nil {
			if b := a.beat.Load(); b != 0 {
				cs.LastHeartbeat = time.Unix(0, b).UTC()
			}
		}
		if nestedSupervisor(c.spec.Service) != nil {
			cs.Supervisor = &Status{Path: c.path}
		}
		// A child that declares readiness counts until it is ready, and for
		// good once it has failed; one that completed or was stopped on
		// purpose does not.
		if c.spec.Readiness && !cs.Paused && !cs.Ready && (!c.ended() || h.State == lifecycle.StateFailed) {
			st.Ready = false
		}
		st.Children = append(st.Children, cs)
	}
	return st
}
