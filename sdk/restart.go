package sdk

import "fmt"

// RestartType decides, from how an attempt ended, whether the child runs
// again. The semantics are Erlang/OTP's.
type RestartType uint8

const (
	// RestartDefault takes the restart type of the child's [Role]
	// (permanent when no role is set).
	RestartDefault RestartType = iota
	// Permanent children are always restarted, after a clean exit too.
	Permanent
	// Transient children are restarted only after an abnormal exit: an
	// error or a panic.
	Transient
	// Temporary children are never restarted, not even when a sibling's
	// failure stops them under one_for_all or rest_for_one.
	Temporary
	// Custom children are restarted when [Spec.RestartIf] says so.
	Custom
)

var restartLabels = [...]string{RestartDefault: "default", Permanent: "permanent", Transient: "transient", Temporary: "temporary", Custom: "custom"}

func (r RestartType) String() string {
	if int(r) < len(restartLabels) {
		return restartLabels[r]
	}
	return fmt.Sprintf("restart(%d)", uint8(r))
}

// ExitKind classifies how an attempt ended, from the supervisor's own
// knowledge: an attempt the supervisor stopped is ExitStopped whatever Serve
// returned.
type ExitKind uint8

const (
	// ExitNormal: Serve returned nil (or ErrDoNotRestart) on its own.
	ExitNormal ExitKind = iota + 1
	// ExitError: Serve returned an error on its own.
	ExitError
	// ExitPanic: Serve panicked; the panic was recovered.
	ExitPanic
	// ExitStopped: the supervisor cancelled the attempt (shutdown, sibling
	// restart, meltdown, operator) and Serve returned.
	ExitStopped
	// ExitStale: the child stopped sending heartbeats for longer than its
	// StaleAfter, and the supervisor stopped it as failed.
	ExitStale
	exitKinds // number of kinds, for arrays indexed by kind
)

var exitLabels = [...]string{ExitNormal: "normal", ExitError: "error", ExitPanic: "panic", ExitStopped: "stopped", ExitStale: "stale"}

func (k ExitKind) String() string {
	if k > 0 && int(k) < len(exitLabels) {
		return exitLabels[k]
	}
	return fmt.Sprintf("exit(%d)", uint8(k))
}

// Abnormal reports whether the exit is a failure: an error, a panic or a
// missed heartbeat.
func (k ExitKind) Abnormal() bool { return k == ExitError || k == ExitPanic || k == ExitStale }

// Exit describes one ended attempt, as given to [Spec.RestartIf].
type Exit struct {
	Kind    ExitKind
	Err     error
	Attempt uint64
}

// RestartReason says why a child is restarted, on [EventChildBackoff] and
// [EventChildRestarting]: the supervisor's decision, carried in the event
// so that observers need not work it out.
type RestartReason uint8

const (
	// ReasonNormal: the attempt returned cleanly and the restart type
	// restarts it anyway (a permanent child, or RestartIf).
	ReasonNormal RestartReason = iota + 1
	// ReasonError: the attempt returned an error.
	ReasonError
	// ReasonPanic: the attempt panicked.
	ReasonPanic
	// ReasonStale: the attempt missed its heartbeat.
	ReasonStale
	// ReasonScope: a sibling's exit restarted the child's strategy scope;
	// [Event.Origin] names the sibling.
	ReasonScope
	// ReasonManual: an operator asked, with [Supervisor.Restart].
	ReasonManual
)

var reasonLabels = [...]string{ReasonNormal: "normal", ReasonError: "error", ReasonPanic: "panic", ReasonStale: "stale", ReasonScope: "sibling", ReasonManual: "manual"}

func (r RestartReason) String() string {
	if r > 0 && int(r) < len(reasonLabels) {
		return reasonLabels[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// reasonOf is the restart reason of a child's own exit of kind k.
func reasonOf(k ExitKind) RestartReason {
	switch k {
	case ExitError:
		return ReasonError
	case ExitPanic:
		return ReasonPanic
	case ExitStale:
		return ReasonStale
	}
	return ReasonNormal
}
