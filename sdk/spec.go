package sdk

import (
	"fmt"
	"slices"
	"time"
)

// Spec declares one child. Only Name and Service are required; a [Role]
// fills the rest with defaults.
type Spec struct {
	// Name is unique among the supervisor's children and becomes the last
	// segment of the child's path. Letters, digits, '_', '-' and '.'.
	Name string
	// Service is what runs. A *Supervisor is a Service, which is how trees
	// are built.
	Service Service
	// Role presets the fields below that are left unset.
	Role Role
	// Restart decides whether the child runs again after an attempt ends
	// on its own.
	Restart RestartType
	// RestartIf is consulted when Restart is Custom, and must be set then
	// only. It runs on the supervisor's goroutine and must be fast.
	RestartIf func(Exit) bool
	// Backoff is the delay policy between this child's attempts; nil takes
	// the role's. Use NoBackoff to restart immediately.
	Backoff *Backoff
	// StopTimeout bounds how long the supervisor waits for Serve to return
	// after cancelling it, counted from that stop request; 0 takes the
	// role's. A child still running after it is abandoned and reported.
	StopTimeout time.Duration
	// Readiness declares that the child signals when it is ready, by
	// calling [Ready] with its context. Start waits for it, and siblings
	// that depend on it start only once it is ready.
	Readiness bool
	// StartTimeout bounds how long a child that declares readiness may
	// take to become ready; 0 takes one minute. During Start, missing it
	// fails the start; later, it is a failure of the attempt.
	StartTimeout time.Duration
	// DependsOn names siblings that must be up (ready, or running for a
	// child that does not declare readiness) before this child starts.
	DependsOn []string
	// StaleAfter, when positive, makes the child's liveness count: a child
	// that has not called [Heartbeat] for this long is stopped as failed
	// (ExitStale) and handled by its restart type.
	StaleAfter time.Duration
	// Significant children end their supervisor when they end on their own
	// and are not restarted (see [WithAutoShutdown]). Only transient and
	// temporary children may be significant, as in OTP.
	Significant bool
}

// NoBackoff restarts a child immediately after each exit.
var NoBackoff = &Backoff{Multiplier: 1}

// normalize validates s and returns it with the role's defaults applied.
// Errors name the child and the field.
func (s Spec) normalize() (Spec, error) {
	bad := func(field, format string, args ...any) (Spec, error) {
		return Spec{}, &SpecError{Child: s.Name, Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	if err := CheckName(s.Name); err != nil {
		return bad("Name", "%s", err)
	}
	if s.Service == nil {
		return bad("Service", "is nil")
	}
	if int(s.Role) >= len(roles) {
		return bad("Role", "%d is not a role", s.Role)
	}
	if int(s.Restart) >= len(restartLabels) {
		return bad("Restart", "%d is not a restart type", s.Restart)
	}
	if s.StopTimeout < 0 {
		return bad("StopTimeout", "is negative (%s)", s.StopTimeout)
	}
	if s.StartTimeout < 0 {
		return bad("StartTimeout", "is negative (%s)", s.StartTimeout)
	}
	if s.StartTimeout > 0 && !s.Readiness {
		return bad("StartTimeout", "is set but the child does not declare Readiness")
	}
	if s.StaleAfter < 0 {
		return bad("StaleAfter", "is negative (%s)", s.StaleAfter)
	}
	for i, d := range s.DependsOn {
		if d == s.Name {
			return bad(fmt.Sprintf("DependsOn[%d]", i), "a child cannot depend on itself")
		}
		if slices.Contains(s.DependsOn[:i], d) {
			return bad(fmt.Sprintf("DependsOn[%d]", i), "%q is listed twice", d)
		}
	}
	s.DependsOn = slices.Clone(s.DependsOn)
	d := roles[s.Role]
	if s.Restart == RestartDefault {
		s.Restart = d.restart
	}
	if s.Restart == Custom && s.RestartIf == nil {
		return bad("RestartIf", "is nil but Restart is custom")
	}
	if s.Restart != Custom && s.RestartIf != nil {
		return bad("RestartIf", "is set but Restart is %s, not custom", s.Restart)
	}
	if s.Significant && s.Restart == Permanent {
		return bad("Significant", "a permanent child cannot be significant: it never ends on its own")
	}
	if s.Backoff == nil {
		b := d.backoff
		s.Backoff = &b
	} else {
		b := *s.Backoff // the supervisor keeps its own copy
		s.Backoff = &b
	}
	if err := s.Backoff.Validate(); err != nil {
		if se, ok := err.(*SpecError); ok {
			se.Child = s.Name
		}
		return Spec{}, err
	}
	if s.StopTimeout == 0 {
		s.StopTimeout = d.stopTimeout
	}
	if s.Readiness && s.StartTimeout == 0 {
		s.StartTimeout = time.Minute
	}
	return s, nil
}
