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
	return fmt.Sprintf("sdk: child %q: %s: %s", e.Child, e.Field, e.Problem)
}

// Is reports whether target is [ErrInvalidSpec].
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

// ErrorType returns a fixed, low-cardinality name for telemetry (error.type).
func (e *SpecError) ErrorType() string { return "invalid_spec" }
