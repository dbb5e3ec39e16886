package lifecycle

import (
	"errors"
	"fmt"
)

var (
	// ErrIllegalTransition is matched by every [*TransitionError].
	ErrIllegalTransition = errors.New("lifecycle: illegal transition")
	// ErrTerminal is matched by a [*TransitionError] whose source state is
	// terminal: the lifecycle has ended and never moves again.
	ErrTerminal = errors.New("lifecycle: lifecycle has ended")
)

// TransitionError reports a transition the machine's kind does not allow.
// The machine is left unchanged.
type TransitionError struct {
	Kind     Kind
	Path     string
	From, To State
}

func (e *TransitionError) Error() string {
	if e.Kind.Terminal(e.From) {
		return fmt.Sprintf("lifecycle: %s %q: cannot move from terminal state %s to %s", e.Kind, e.Path, e.From, e.To)
	}
	return fmt.Sprintf("lifecycle: %s %q: illegal transition %s → %s", e.Kind, e.Path, e.From, e.To)
}

// Unwrap lets errors.Is match [ErrIllegalTransition], and [ErrTerminal] when
// the source state is terminal.
func (e *TransitionError) Unwrap() []error {
	if e.Kind.Terminal(e.From) {
		return []error{ErrIllegalTransition, ErrTerminal}
	}
	return []error{ErrIllegalTransition}
}

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (e *TransitionError) ErrorType() string { return "illegal_transition" }

// FieldError reports an argument that is missing or out of range. Field is
// the name of the argument as documented ("requestedBy", "path", ...).
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("lifecycle: %s %s", e.Field, e.Problem)
}

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (e *FieldError) ErrorType() string { return "invalid_argument" }

// LabelError reports a label that names no state or kind.
type LabelError struct {
	What  string // "state" or "kind"
	Label string
}

func (e *LabelError) Error() string {
	return fmt.Sprintf("lifecycle: unknown %s %q", e.What, e.Label)
}

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (e *LabelError) ErrorType() string { return "unknown_label" }
