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
)

// Report is how a supervisor's run ended, for the whole tree below it.
// Shutdown and Wait return the same report, and it serialises to JSON
// with stable field names.
type Report struct {
	Path        string          `json:"path"`
	State       lifecycle.State `json:"state"`
	Cause       Cause           `json:"cause"`
	RequestedBy string          `json:"requested_by"`
	Reason      string          `json:"reason"`
	// Error is the supervisor's own error (meltdown, fatal child, start
	// failure), empty after a clean stop.
	Error     string        `json:"error,omitempty"`
	StartedAt time.Time     `json:"started_at"`
	EndedAt   time.Time     `json:"ended_at"`
	Children  []ChildReport `json:"children"`
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
		Children:  make([]ChildReport, 0, len(r.children)),
	}
	if sh := r.shut; sh != nil {
		rep.Cause, rep.RequestedBy, rep.Reason = sh.cause.Cause, sh.cause.RequestedBy, sh.cause.Reason
	}
	if r.err != nil {
		rep.Error = r.err.Error()
	}
	for _, c := range r.children {
		cr := ChildReport{
			Path:         c.path,
			State:        c.state(),
			Attempts:     c.attempt,
			Restarts:     c.restarts,
			Outcome:      c.outcome,
			StopDuration: c.stopWaited,
		}
		if c.lastErr != nil {
			cr.LastError = c.lastErr.Error()
		}
		if c.lastPanic != nil {
			cr.PanicStack = string(c.lastPanic.Stack)
		}
		if sub := nestedSupervisor(c.spec.Service); sub != nil {
			cr.Supervisor = sub.finalReport()
		}
		rep.Children = append(rep.Children, cr)
	}
	return rep
}
