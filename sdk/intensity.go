package sdk

import (
	"fmt"
	"time"
)

// Intensity bounds how many restarts a supervisor performs within Period
// before it gives up (meltdown). It is OTP's MaxR/MaxT as a sliding window:
// restarting is how a supervisor handles transient faults, and a fault that
// survives MaxRestarts restarts is not transient, so the supervisor stops
// its children and escalates to its parent instead of looping forever.
//
// Only restarts count. Clean exits that are not restarted, and children the
// supervisor stops itself, do not, so a healthy supervisor with short-lived
// children never melts down.
type Intensity struct {
	// MaxRestarts is the number of restarts tolerated within Period; one
	// more is a meltdown. 0 means any restart is a meltdown, which suits a
	// supervisor whose children must never fail silently. It is at most
	// 10000 because the window keeps one time per tolerated restart; a
	// higher rate is better expressed as a shorter Period.
	MaxRestarts int
	// Period is the length of the sliding window and must be positive. A
	// restart exactly Period old has left the window.
	Period time.Duration
}

// DefaultIntensity tolerates 10 restarts within 10 seconds.
//
// OTP's default of 1 restart in 5 seconds suits BEAM processes that restart
// in microseconds with no backoff, where more than one restart is already a
// loop. Here every child has its own [Backoff], which already slows a
// single crash-looping child, so the limit is there to catch a fault that
// backoff does not contain: many children failing together, or a policy
// with no delay. Too low a limit would melt a whole tree down on a brief
// outage of a dependency that several children share, before their
// backoffs have had a chance to ride it out; 10 in 10s still stops a
// zero-delay crash loop within a fraction of a second.
func DefaultIntensity() Intensity { return Intensity{MaxRestarts: 10, Period: 10 * time.Second} }

// Validate reports an invalid field as a *[SpecError] whose Field is
// "Intensity.MaxRestarts" or "Intensity.Period". Child is left empty
// because intensity is a supervisor-level setting.
func (i Intensity) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &SpecError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	switch {
	case i.MaxRestarts < 0:
		return bad("Intensity.MaxRestarts", "negative count %d", i.MaxRestarts)
	case i.MaxRestarts > 10000:
		return bad("Intensity.MaxRestarts", "%d is more than 10000", i.MaxRestarts)
	case i.Period <= 0:
		return bad("Intensity.Period", "%v is not positive", i.Period)
	}
	return nil
}

// restartWindow records restart times in a ring buffer of MaxRestarts+1
// entries. That is all the history needed: the intensity is exceeded
// exactly when the oldest of the last MaxRestarts+1 restarts is still
// inside the window. So memory is bounded by the limit rather than by the
// restart rate, and record is O(1) with no allocation after construction.
//
// Like backoffState it belongs to the supervisor's event loop and is not
// safe for concurrent use. Times passed to it must not decrease; times
// from time.Now carry a monotonic reading, so wall-clock jumps do not
// matter.
type restartWindow struct {
	period time.Duration
	times  []time.Time // ring; len is MaxRestarts+1
	next   int         // slot the next restart is written to
	filled int         // slots written so far, up to len(times)
}

// newRestartWindow returns an empty window. An invalid MaxRestarts is
// clamped into [0, 10000] rather than trusted, so an unvalidated spec cannot
// panic or exhaust memory here; [Intensity.Validate] is what reports it.
func newRestartWindow(i Intensity) *restartWindow {
	n := min(max(i.MaxRestarts, 0), 10000)
	return &restartWindow{period: i.Period, times: make([]time.Time, n+1)}
}

// record adds a restart at now and reports whether the intensity is
// exceeded, that is, whether more than MaxRestarts restarts fall within
// (now−Period, now], this one included.
func (w *restartWindow) record(now time.Time) (exceeded bool) {
	w.times[w.next] = now
	w.next++
	if w.next == len(w.times) {
		w.next = 0
	}
	if w.filled < len(w.times) {
		w.filled++
		if w.filled < len(w.times) {
			return false
		}
	}
	// The ring is full, so w.next is the oldest of the last
	// MaxRestarts+1 restarts; they are all within the window if it is.
	return now.Sub(w.times[w.next]) < w.period
}

// count returns the number of restarts within (now−Period, now], for
// reporting how close the supervisor is to a meltdown. Only the last
// MaxRestarts+1 restarts are remembered, so the count saturates at
// MaxRestarts+1, which already means the intensity is exceeded.
func (w *restartWindow) count(now time.Time) int {
	c := 0
	for _, t := range w.times[:w.filled] {
		if d := now.Sub(t); d >= 0 && d < w.period {
			c++
		}
	}
	return c
}
