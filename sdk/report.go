package sdk

import (
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// Cause says why a supervisor shut down.
type Cause string

const (
	CauseOperator     Cause = "operator"      // Shutdown was called
	CauseSignal       Cause = "signal"        // SIGINT or SIGTERM, through NotifyShutdown
	CauseContext      Cause = "context"       // the context given to Serve or Run ended
	CauseParent       Cause = "parent"        // the parent supervisor stopped this one
	CauseMeltdown     Cause = "meltdown"      // the restart intensity was exceeded
	CauseFatal        Cause = "fatal_child"   // a child returned ErrFatal
	CauseAutoShutdown Cause = "auto_shutdown" // significant children ended
	CauseStartFailure Cause = "start_failure" // a child failed before it became ready during Start
)

// StopOutcome says how a child's last attempt ended when the supervisor
// stopped it.
type StopOutcome string

const (
	// OutcomeGraceful: the attempt returned within its stop timeout.
	OutcomeGraceful StopOutcome = "graceful"
	// OutcomeAbandoned: it did not; its goroutine may still be running.
	OutcomeAbandoned StopOutcome = "abandoned"
	// OutcomeAlreadyExited: nothing was running when its turn came: the
	// child had ended, or waited for a restart, a resume or its
	// dependencies.
	OutcomeAlreadyExited StopOutcome = "already_exited"
	// OutcomeNeverStarted: the child never ran.
	OutcomeNeverStarted StopOutcome = "never_started"
	// OutcomeRemoved: an operator removed the child during the run
	// ([Supervisor.Remove]).
	OutcomeRemoved StopOutcome = "removed"
)

// maxRemovedReports bounds the removed children a report lists: the most
// recent ones; Report.Omitted counts the others.
const maxRemovedReports = 256

// Report is how a supervisor's run ended, for the whole tree below it.
// Shutdown and Wait return the same report, and it serialises to JSON
// with stable field names.
type Report struct {
	Path        string          `json:"path"`
	State       lifecycle.State `json:"state"`
	Cause       Cause           `json:"cause"`
	RequestedBy string          `json:"requested_by"`
	Reason      string          `json:"reason"`
	// Origin is the path where the failure that ended the tree began: the
	// leaf child whose exit melted the tree down or returned ErrFatal, at
	// any depth, or the child whose start failed. Empty for a requested
	// shutdown.
	Origin string `json:"origin,omitempty"`
	// Error is the supervisor's own error (meltdown, fatal child, start
	// failure), empty after a clean stop.
	Error       string    `json:"error,omitempty"`
	StartedAt   time.Time `json:"started_at"`
	RequestedAt time.Time `json:"shutdown_requested_at,omitzero"`
	EndedAt     time.Time `json:"ended_at,omitzero"`
	// Partial marks the report of a nested supervisor that was still
	// stopping when its parent's report was made (its parent abandoned
	// it): its children's states are those of that moment, and those that
	// had not ended are reported abandoned.
	Partial bool `json:"partial,omitempty"`
	// Children are every child of the run, in declaration order, then
	// the children removed during the run (outcome removed), the most
	// recent 256 of them; Omitted counts the removed children not listed
	// and the ended children a pool forgot.
	Children []ChildReport `json:"children"`
	Omitted  int           `json:"omitted,omitempty"`
}

// ChildReport is one child's part of a [Report].
type ChildReport struct {
	Path  string          `json:"path"`
	State lifecycle.State `json:"state"`
	// Attempts counts launches; Restarts the launches after the first.
	Attempts uint64 `json:"attempts"`
	Restarts int    `json:"restarts"`
	// LastError is the last error an attempt returned or panicked with.
	LastError string `json:"last_error,omitempty"`
	// PanicStack is the stack of the last recovered panic, bounded.
	PanicStack string      `json:"panic_stack,omitempty"`
	Outcome    StopOutcome `json:"outcome,omitempty"`
	// StopDuration is how long the supervisor waited for the last stop.
	StopDuration time.Duration `json:"stop_duration_ns"`
	// Supervisor is the nested supervisor's own report, for a child that
	// is a supervisor.
	Supervisor *Report `json:"supervisor,omitempty"`
}

// Abandoned lists the paths of the children in the tree that did not stop.
func (r *Report) Abandoned() []string {
	var out []string
	for _, c := range r.Children {
		if c.Outcome == OutcomeAbandoned {
			out = append(out, c.Path)
		}
		if c.Supervisor != nil {
			out = append(out, c.Supervisor.Abandoned()...)
		}
	}
	return out
}

func (r *run) buildReport() *Report {
	h := r.lc.Health()
	rep := &Report{
		Path:      r.path,
		State:     h.State,
		StartedAt: h.StartedAt,
		EndedAt:   h.Since,
		Children:  make([]ChildReport, 0, len(r.children)+len(r.removed)),
		Omitted:   r.omitted,
	}
	if h.Shutdown != nil {
		rep.RequestedAt = h.Shutdown.RequestedAt
	}
	if !r.lc.Alive() {
		rep.EndedAt = h.Since
	} else {
		rep.EndedAt, rep.Partial = time.Time{}, true
	}
	if sh := r.shut; sh != nil {
		rep.Cause, rep.RequestedBy, rep.Reason, rep.Origin = sh.cause.Cause, sh.cause.RequestedBy, sh.cause.Reason, sh.cause.Origin
	}
	if r.err != nil {
		rep.Error = r.err.Error()
	}
	for _, c := range r.children {
		cr := r.childReport(c)
		if rep.Partial && !c.ended() {
			// Still running when the parent gave up on this subtree: it
			// outlives the tree as much as the subtree does.
			cr.Outcome = OutcomeAbandoned
		}
		rep.Children = append(rep.Children, cr)
	}
	rep.Children = append(rep.Children, r.removed...)
	return rep
}

// childReport is c's part of the report.
func (r *run) childReport(c *child) ChildReport {
	cr := ChildReport{
		Path:         c.path,
		State:        c.state(),
		Attempts:     c.attempt,
		Restarts:     int(c.restarts),
		Outcome:      c.outcome,
		StopDuration: c.stopWaited,
	}
	if c.lastErr != nil {
		cr.LastError = c.lastErr.Error()
	}
	if p := c.lastPanic(); p != nil {
		cr.PanicStack = string(p.Stack)
	}
	if sub := nestedSupervisor(c.spec.Service); sub != nil {
		cr.Supervisor = sub.reportNow()
	}
	return cr
}

// reportWait bounds how long a report waits for a nested supervisor that
// is still running (one its parent abandoned) to describe itself. Loops
// run no user code, so it answers at once unless it is itself waiting to
// hand its parent a message.
const reportWait = 100 * time.Millisecond

// reportNow returns the supervisor's final report, or, while it still
// runs, a partial one of this moment.
func (s *Supervisor) reportNow() *Report {
	if rep := s.finalReport(); rep != nil {
		return rep
	}
	r := s.currentRun()
	if r == nil {
		return nil // never served
	}
	reply := make(chan *Report, 1)
	t := time.NewTimer(reportWait)
	defer t.Stop()
	select {
	case r.mailbox <- msg{kind: msgReport, report: reply}:
	case <-r.done:
		return s.finalReport()
	case <-t.C:
		return &Report{Path: r.path, State: r.lc.State(), Partial: true}
	}
	select {
	case rep := <-reply:
		return rep
	case <-r.done:
		return s.finalReport()
	case <-t.C:
		return &Report{Path: r.path, State: r.lc.State(), Partial: true}
	}
}

// removedReport keeps c's part of the report once an operator has removed
// it.
func (r *run) removedReport(c *child) {
	cr := r.childReport(c)
	cr.Outcome = OutcomeRemoved
	if len(r.removed) == maxRemovedReports {
		r.removed = append(r.removed[:0], r.removed[1:]...)
		r.omitted++
	}
	r.removed = append(r.removed, cr)
}
