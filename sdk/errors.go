package sdk

import (
	"errors"
	"fmt"
)

// ErrInvalidSpec is matched by every [*SpecError].
var ErrInvalidSpec = errors.New("sdk: invalid spec")

// SpecError reports an invalid specification. Nothing is started when a
// specification is rejected.
type SpecError struct {
	// Child names the child whose spec is invalid; empty for a
	// supervisor-level setting.
	Child string
	// Field is the path of the offending field, such as "Backoff.Max".
	Field string
	// Problem says what is wrong with it.
	Problem string
}

func (e *SpecError) Error() string {
	if e.Child == "" {
		return fmt.Sprintf("sdk: supervisor spec: %s: %s", e.Field, e.Problem)
	}
	return fmt.Sprintf("sdk: child %s: %s: %s", quoteName(e.Child), e.Field, e.Problem)
}

// Is reports whether target is [ErrInvalidSpec].
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (e *SpecError) ErrorType() string { return "invalid_spec" }

// Control errors a child returns (wrapped or not) to steer its supervisor.
var (
	// ErrDoNotRestart ends the child as completed, whatever its restart
	// type: the child finished its work and must not run again.
	ErrDoNotRestart = errors.New("sdk: do not restart")
	// ErrFatal stops the whole supervisor: its children stop in order and
	// it ends failed, which its parent sees as a failure of this subtree.
	ErrFatal = errors.New("sdk: fatal, stop this tree")
)

// Errors the supervisor reports.
var (
	// ErrMeltdown is matched by the error of a supervisor that gave up
	// because its children restarted more often than its [Intensity]
	// allows.
	ErrMeltdown = errors.New("sdk: restart intensity exceeded (meltdown)")
	// ErrStopped is the cause a child's context is cancelled with when its
	// supervisor stops it; context.Cause(ctx) wraps it with the reason.
	ErrStopped = errors.New("sdk: stopped by supervisor")
	// ErrAlreadyRunning is returned by Serve on a supervisor that is
	// already serving.
	ErrAlreadyRunning = errors.New("sdk: supervisor already running")
	// ErrSupervisorDone is returned by operations on a supervisor that is
	// shutting down.
	ErrSupervisorDone = errors.New("sdk: supervisor is not running")
	// ErrAbandoned is matched by an [*AbandonedError].
	ErrAbandoned = errors.New("sdk: children abandoned")
)

// stopCause is the cancellation cause given to a child the supervisor
// stops; it matches ErrStopped and says why.
type stopCause struct{ reason string }

func (c *stopCause) Error() string        { return "sdk: stopped by supervisor: " + c.reason }
func (c *stopCause) Is(target error) bool { return target == ErrStopped }

// PanicError is the failure of an attempt that panicked. The stack is
// captured where the panic was recovered and bounded in size.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("sdk: panic: %v", e.Value) }

// Unwrap exposes the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (e *PanicError) ErrorType() string { return "panic" }

// MeltdownError is returned by a supervisor that gave up: its children
// restarted more often than its [Intensity] allows (Restarts counts the
// restarts within the window, the refused one included), or one child
// failed its [Spec.FailureLimit] times in a row (Child and Failures say
// which and how often).
type MeltdownError struct {
	Path      string
	Restarts  int
	Intensity Intensity
	Child     string
	Failures  int
	// Origin is the path of the leaf child whose failures began it: the
	// child that exceeded the intensity, or, when that child is a nested
	// supervisor that gave up, the origin of its own failure.
	Origin string
}

func (e *MeltdownError) Error() string {
	if e.Failures > 0 {
		return fmt.Sprintf("sdk: supervisor %s: child %s failed %d times in a row, its failure limit (meltdown)", e.Path, e.Child, e.Failures)
	}
	return fmt.Sprintf("sdk: supervisor %s: restart %d within %s would exceed the limit of %d (meltdown)",
		e.Path, e.Restarts, e.Intensity.Period, e.Intensity.MaxRestarts)
}

// Is reports whether target is [ErrMeltdown].
func (e *MeltdownError) Is(target error) bool { return target == ErrMeltdown }

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (e *MeltdownError) ErrorType() string { return "meltdown" }

// FatalError is returned by a supervisor stopped by a child's [ErrFatal].
type FatalError struct {
	Child string // path of the direct child that returned ErrFatal
	// Origin is the path of the leaf child that returned ErrFatal first,
	// at any depth of the tree.
	Origin string
	Err    error
}

func (e *FatalError) Error() string {
	return fmt.Sprintf("sdk: child %s stopped the tree: %v", e.Child, e.Err)
}
func (e *FatalError) Unwrap() error { return e.Err }

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (e *FatalError) ErrorType() string { return "fatal" }

// AbandonedError lists children that did not stop within their stop
// timeout. Their goroutines may still be running; each carries pprof labels
// naming its supervisor and child.
type AbandonedError struct {
	Children []string // paths
}

func (e *AbandonedError) Error() string {
	return fmt.Sprintf("sdk: %d children did not stop and were abandoned: %v", len(e.Children), e.Children)
}

// Is reports whether target is [ErrAbandoned].
func (e *AbandonedError) Is(target error) bool { return target == ErrAbandoned }

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (e *AbandonedError) ErrorType() string { return "abandoned" }

// originOf returns where the failure err of the child at path began: the
// deepest origin a nested supervisor's error names, or path.
func originOf(path string, err error) string {
	var me *MeltdownError
	var fe *FatalError
	var se *StartError
	switch {
	case errors.As(err, &me) && me.Origin != "":
		return me.Origin
	case errors.As(err, &fe) && fe.Origin != "":
		return fe.Origin
	case errors.As(err, &se) && se.Origin != "":
		return se.Origin
	}
	return path
}
