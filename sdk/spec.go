package sdk

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"
)

// Spec declares one child. Only Name and Service are required; a [Role]
// fills the rest with defaults.
type Spec struct {
	// Name is unique among the supervisor's children and becomes the last
	// segment of the child's path; see [CheckName].
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
	// only. It runs on the child's own goroutine right after the attempt
	// ends, so a slow predicate delays only this child's restart; a
	// predicate that panics ends the child failed, with the panic as its
	// error.
	RestartIf func(Exit) bool
	// Backoff is the delay policy between this child's attempts; nil takes
	// the role's. Use [NoBackoff] to restart immediately.
	Backoff *Backoff
	// StopTimeout bounds how long the supervisor waits for Serve to return
	// after cancelling it, counted from that stop request; 0 takes the
	// role's. A child still running after it is abandoned and reported. For
	// a nested supervisor 0 means no bound but the shutdown's deadline, as
	// OTP gives supervisors infinity: its own children's stop timeouts
	// bound how long it takes.
	StopTimeout time.Duration
	// Readiness declares that the child signals when it is ready, by
	// calling [Ready] with its context. Start waits for it, and siblings
	// that depend on it start only once it is ready. A nested supervisor
	// always declares it: it is ready once its own start has completed,
	// and a failure of its start fails its parent's.
	Readiness bool
	// StartTimeout bounds how long a child that declares readiness may
	// take to become ready; 0 takes one minute (no bound for a nested
	// supervisor, whose children's start timeouts bound it). During Start,
	// missing it fails the start; later, it is a failure of the attempt.
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
	// ReplaceStuck decides what happens when an attempt that the
	// supervisor stopped in order to run the child again (a sibling's
	// scope restart, an operator's Restart) does not return within
	// StopTimeout. By default the attempt is abandoned and reported, and
	// the child ends failed and never runs again under this supervisor:
	// its goroutine may still be inside Serve, and a second attempt would
	// run beside it. With ReplaceStuck the abandoned attempt is reported
	// and fenced off (its late exit, readiness and heartbeats change
	// nothing) and a new attempt starts anyway, so two instances of the
	// service may briefly run at once: set it only for services for which
	// that is safe. Shutdown and Remove abandon a stuck attempt either way.
	ReplaceStuck bool
	// FailureLimit is how many consecutive failures (errors, panics,
	// missed heartbeats, with no stable run between them: see
	// Backoff.ResetAfter) the supervisor tolerates from this child before
	// it gives up, as on a meltdown, so that the fault escalates to its
	// parent. The restart intensity catches failures that come fast; this
	// limit catches a fault that persists however slowly the backoff lets
	// it loop. 0 takes the role's (10: at most a few minutes of failing
	// under any role's backoff); negative means no limit.
	FailureLimit int
}

// NoBackoff returns a policy that restarts a child immediately after each
// exit; only the restart intensity then limits a crash loop.
func NoBackoff() *Backoff { return &Backoff{Multiplier: 1} }

// normalize validates s and returns it with the role's defaults applied.
// Every defect is reported at once, as an errors.Join of *SpecErrors that
// name the child and the field.
func (s Spec) normalize() (*decl, error) {
	var b Backoff // the supervisor's own copy, kept in the decl
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &SpecError{Child: s.Name, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if err := CheckName(s.Name); err != nil {
		bad("Name", "%s", err)
	}
	nested := false
	if isNil(s.Service) {
		bad("Service", "is nil")
	} else if nestedSupervisor(s.Service) != nil {
		nested = true
		s.Readiness = true
	}
	if int(s.Role) >= len(roles) {
		bad("Role", "%d is not a role", s.Role)
	}
	if int(s.Restart) >= len(restartLabels) {
		bad("Restart", "%d is not a restart type", s.Restart)
	}
	if s.StopTimeout < 0 {
		bad("StopTimeout", "is negative (%s)", s.StopTimeout)
	}
	if s.StartTimeout < 0 {
		bad("StartTimeout", "is negative (%s)", s.StartTimeout)
	}
	if s.StartTimeout > 0 && !s.Readiness {
		bad("StartTimeout", "is set but the child does not declare Readiness")
	}
	if s.StaleAfter < 0 {
		bad("StaleAfter", "is negative (%s)", s.StaleAfter)
	}
	if len(s.DependsOn) > maxDependsOn {
		bad("DependsOn", "lists %d siblings; the limit is %d", len(s.DependsOn), maxDependsOn)
	} else {
		seen := make(map[string]struct{}, len(s.DependsOn))
		for i, d := range s.DependsOn {
			if _, dup := seen[d]; dup {
				bad(fmt.Sprintf("DependsOn[%d]", i), "%s is listed twice", quoteName(d))
				continue
			}
			seen[d] = struct{}{}
			switch {
			case d == s.Name:
				bad(fmt.Sprintf("DependsOn[%d]", i), "a child cannot depend on itself")
			case CheckName(d) != nil:
				bad(fmt.Sprintf("DependsOn[%d]", i), "%s", CheckName(d))
			}
		}
	}
	s.DependsOn = slices.Clone(s.DependsOn)
	if int(s.Role) < len(roles) && int(s.Restart) < len(restartLabels) {
		d := roles[s.Role]
		if s.Restart == RestartDefault {
			s.Restart = d.restart
		}
		if s.Restart == Custom && s.RestartIf == nil {
			bad("RestartIf", "is nil but Restart is custom")
		}
		if s.Restart != Custom && s.RestartIf != nil {
			bad("RestartIf", "is set but Restart is %s, not custom", s.Restart)
		}
		if s.Significant && s.Restart == Permanent {
			bad("Significant", "a permanent child cannot be significant: it never ends on its own")
		}
		if s.Backoff == nil {
			b = d.backoff
		} else {
			b = *s.Backoff
		}
		if err := b.Validate(); err != nil {
			if se, ok := err.(*SpecError); ok {
				se.Child = s.Name
			}
			errs = append(errs, err)
		}
		if s.StopTimeout == 0 && !nested {
			s.StopTimeout = d.stopTimeout
		}
		switch {
		case s.FailureLimit == 0:
			s.FailureLimit = defaultFailureLimit
		case s.FailureLimit < 0:
			s.FailureLimit = 0 // no limit
		}
	}
	if s.Readiness && s.StartTimeout == 0 && !nested {
		s.StartTimeout = time.Minute
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	n := &decl{spec: s, backoff: b}
	n.spec.Backoff = &n.backoff
	return n, nil
}

// defaultFailureLimit is every role's failure limit: with the role
// backoffs (at most 30s between attempts) a child that keeps failing gives
// up within about three minutes.
const defaultFailureLimit = 10

// maxDependsOn bounds a child's dependency list.
const maxDependsOn = 1024

// isNil reports whether svc is nil, or an interface holding a nil pointer,
// func, map, channel or slice: a typed nil such as ServiceFunc(nil) or
// (*Supervisor)(nil) would otherwise pass validation and fail (or panic)
// only when it runs.
func isNil(svc Service) bool {
	if svc == nil {
		return true
	}
	switch v := reflect.ValueOf(svc); v.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Chan, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}
