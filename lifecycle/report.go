package lifecycle

import "time"

// ExitReport says how a lifecycle ended. It is written once, when the
// machine reaches a terminal state, and never changes afterwards.
type ExitReport struct {
	// State is the terminal state: completed or failed (or stopped, for a
	// child).
	State State `json:"state"`
	// Phase names the part of the lifecycle that ended it, such as
	// "startup", "run" or "shutdown".
	Phase string `json:"phase"`
	// Reason is a human-readable explanation.
	Reason string `json:"reason"`
	// Recoverable reports whether running the same thing again may succeed.
	Recoverable bool `json:"recoverable"`
	// Panic reports whether the end was caused by a recovered panic.
	Panic bool `json:"panic"`
	// CompletedAt is when the machine reached State, in UTC.
	CompletedAt time.Time `json:"completed_at"`
}

// FailureReason is the view of a failed [ExitReport] that alerting and
// status pages need.
type FailureReason struct {
	Phase       string `json:"phase"`
	Reason      string `json:"reason"`
	Panic       bool   `json:"panic"`
	Recoverable bool   `json:"recoverable"`
}

// FailureReason returns the failure view of the report, and false when the
// report does not describe a failure.
func (r ExitReport) FailureReason() (FailureReason, bool) {
	if r.State != StateFailed {
		return FailureReason{}, false
	}
	return FailureReason{Phase: r.Phase, Reason: r.Reason, Panic: r.Panic, Recoverable: r.Recoverable}, true
}

// ShutdownRequest records who first asked a lifecycle to stop, and why.
type ShutdownRequest struct {
	RequestedBy string    `json:"requested_by"`
	Reason      string    `json:"reason"`
	RequestedAt time.Time `json:"requested_at"`
}

// Health is a consistent snapshot of a machine, as read by
// [Machine.Health]. The pointed-to values are shared by every reader and
// must not be modified.
type Health struct {
	Kind Kind   `json:"kind"`
	Path string `json:"path"`
	// Alive reports that the lifecycle has not ended.
	Alive bool  `json:"alive"`
	State State `json:"state"`
	// Since is when the machine entered State, in UTC.
	Since time.Time `json:"since"`
	// StartedAt is when the machine was created, in UTC.
	StartedAt time.Time `json:"started_at"`
	// Shutdown is the first shutdown request, once there is one.
	Shutdown *ShutdownRequest `json:"shutdown,omitempty"`
	// Failure is set when the lifecycle ended failed.
	Failure *FailureReason `json:"failure,omitempty"`
	// Exit is set once the lifecycle has ended.
	Exit *ExitReport `json:"exit,omitempty"`
}
