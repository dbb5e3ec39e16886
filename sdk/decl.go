package sdk

// decl is one declared child: its normalised spec, with the supervisor's
// own copy of its backoff, and who declared it and why. It is made once,
// by Add, in one allocation; every run's record of the child points at it
// rather than copying the spec.
type decl struct {
	spec    Spec
	backoff Backoff
	by      audit
	// c is the child's record in the current run. Only the run's loop
	// touches it while serving (begin sets it before the loop starts), as
	// only the loop changes the declarations then.
	c *child
}

// audit is who declared a child and why.
type audit struct{ by, reason string }

// child returns the current run's record of the child name, or nil. Only
// the loop calls it: it alone changes the declarations while serving.
func (r *run) child(name string) *child {
	if d := r.s.names[name]; d != nil {
		return d.c
	}
	return nil
}
