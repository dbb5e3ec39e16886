package otelsup

import (
	"errors"
	"fmt"
	"reflect"
	"sync"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// maxErrorTypes bounds the distinct error.type values one adapter
// reports, on spans and metrics alike; later ones are reported as _OTHER.
// The bound is closed and per adapter, so a child failing with ever new
// error types cannot grow the series or the span attribute values.
const maxErrorTypes = 32

// otherType is semconv's error.type for anything beyond the bound.
var otherType = semconv.ErrorTypeOther.Value.AsString()

// errorTypes interns the error.type values of one adapter. Slot 0 is "no
// error.type" and slot 1 is _OTHER, so a slot fits the metric caches' keys.
type errorTypes struct {
	mu     sync.Mutex
	slots  map[string]uint8
	names  []string                // by slot
	byType map[reflect.Type]string // reflected names, so a failure does not reflect again
}

const (
	slotNone  uint8 = 0
	slotOther uint8 = 1
)

func newErrorTypes() *errorTypes {
	return &errorTypes{
		slots:  map[string]uint8{otherType: slotOther},
		names:  []string{"", otherType},
		byType: make(map[reflect.Type]string),
	}
}

// of returns the error.type of err and its slot; err == nil is _OTHER.
func (t *errorTypes) of(err error) (string, uint8) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.intern(t.name(err))
}

// named interns a value the adapter chose itself (meltdown, rejected...).
func (t *errorTypes) named(s string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, _ = t.intern(s)
	return s
}

func (t *errorTypes) intern(s string) (string, uint8) {
	if v, ok := t.slots[s]; ok {
		return s, v
	}
	if len(t.names) >= maxErrorTypes+2 { // neither "" nor _OTHER counts
		return otherType, slotOther
	}
	v := uint8(len(t.names))
	t.slots[s] = v
	t.names = append(t.names, s)
	return s, v
}

// name is semconv's error.type: the ErrorType of the first error in err's
// tree that has one (the sdk's errors do); "stale" or "start_timeout" for
// the sdk's sentinel failures that have none; else the error's type name,
// as semconv.ErrorType gives it (for example *errors.errorString). Callers
// hold t.mu.
func (t *errorTypes) name(err error) string {
	if s, ok := typedError(err); ok {
		return s
	}
	switch {
	case err == nil:
		return otherType
	case errors.Is(err, sdk.ErrStale):
		return "stale"
	case errors.Is(err, sdk.ErrStartTimeout):
		return "start_timeout"
	}
	rt := reflect.TypeOf(err)
	if s, ok := t.byType[rt]; ok {
		return s
	}
	s := semconv.ErrorType(err).Value.AsString()
	// A fmt.Errorf wrapper is named after what it wraps, so its type is no
	// key; the cache is bounded like the values.
	if rt != fmtWrapType && len(t.byType) < 2*maxErrorTypes {
		t.byType[rt] = s
	}
	return s
}

var fmtWrapType = reflect.TypeOf(fmtWrapped)

var fmtWrapped = wrapErr(errors.New("x"))

// errorTyper is implemented by errors that name their own, low-cardinality
// error.type, as the sdk's error types do.
type errorTyper interface {
	error
	ErrorType() string
}

// typedError finds the ErrorType of the first error in err's tree that has
// one. It walks the tree itself rather than with errors.As, which would
// cost an allocation per failed attempt.
func typedError(err error) (string, bool) {
	for err != nil {
		if et, ok := err.(errorTyper); ok {
			if s := et.ErrorType(); s != "" {
				return s, true
			}
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if s, ok := typedError(e); ok {
					return s, true
				}
			}
			return "", false
		default:
			return "", false
		}
	}
	return "", false
}

func wrapErr(err error) error { return fmt.Errorf("w: %w", err) }

// nameOf returns the value of slot v.
func (t *errorTypes) nameOf(v uint8) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if int(v) < len(t.names) {
		return t.names[v]
	}
	return otherType
}
