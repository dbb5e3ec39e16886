package sdk

import (
	"math"
	"time"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// child is the loop's record of one declared child. Only the loop
// goroutine touches it; the child's goroutine sees only the attempts handed
// to it.
//
// The child's lifecycle state is its only state: whether it is being
// stopped, waiting for a restart, paused or waiting for its dependencies is
// read from it (see the methods below), never kept beside it. The one fact
// beside it is the live attempt's identity, which the state cannot hold:
// within one step of the loop, an attempt is over (live is nil) a moment
// before the state moves on to what was decided.
type child struct {
	*decl    // the spec, shared with the supervisor's declarations
	path     string
	lc       *lifecycle.Machine
	declared uint64 // declaration order within the run
	// started is the child's place in the start order: set when it is
	// first launched, and kept across restarts, as OTP keeps a child's
	// place in its list. 0 until then.
	started uint64

	rn      *runner      // the goroutine that runs the attempts; nil until the first launch
	live    *attemptCtx  // the current attempt, while state is running, ready or stopping
	stop    stopping     // why the live attempt is being stopped, while state is stopping
	plan    *restartPlan // the scope restart the child is a member of
	backoff backoffState // consecutive failures: the one counter, with one reset rule
	// origin says, with why, why the child waits in backoff: the restart
	// decided for it, reported when it runs again.
	origin string

	attempt, generation uint64
	startedAt           time.Duration    // of the live attempt, since the run's epoch
	clocks              [numClocks]int32 // positions of the child's armed deadlines in the run's heap, +1; 0 when not armed
	restarts            int32            // saturating; see countRestart
	why                 RestartReason
	// wasReady records that an attempt has signalled readiness during the
	// run: the start waits for each child's first readiness only.
	wasReady bool

	lastErr    error
	outcome    StopOutcome
	stopWaited time.Duration
	// rare holds what few children ever need; nil until one does, so that
	// a healthy child does not carry it.
	rare *childRare
}

// childRare is the part of a child's record that only a paused, panicked
// or abandoned child needs.
type childRare struct {
	// pausedBy is who paused the child and why, while it is paused.
	pausedBy audit
	// stuck is the runner of an abandoned attempt, which may still be
	// inside Serve: the same service must not run twice at once unless
	// the spec allows it (ReplaceStuck).
	stuck     *runner
	lastPanic *PanicError
}

// rareFields returns c's rarely needed fields, allocating them on first use.
func (c *child) rareFields() *childRare {
	if c.rare == nil {
		c.rare = new(childRare)
	}
	return c.rare
}

func (c *child) pausedBy() audit {
	if c.rare == nil {
		return audit{}
	}
	return c.rare.pausedBy
}

func (c *child) stuck() *runner {
	if c.rare == nil {
		return nil
	}
	return c.rare.stuck
}

func (c *child) lastPanic() *PanicError {
	if c.rare == nil {
		return nil
	}
	return c.rare.lastPanic
}

// countRestart adds one restart; the count saturates rather than wraps.
func (c *child) countRestart() {
	if c.restarts < math.MaxInt32 {
		c.restarts++
	}
}

func (c *child) state() lifecycle.State { return c.lc.State() }

// isLive reports whether an attempt is inside Serve, as far as the loop
// knows: launched, and its exit not yet handled nor the attempt
// abandoned. Between the loop's steps it is exactly the states running,
// ready and stopping.
func (c *child) isLive() bool { return c.live != nil }

// isStopping reports whether the supervisor cancelled the live attempt.
func (c *child) isStopping() bool { return c.live != nil && c.state() == lifecycle.StateStopping }

// ended reports whether the child's lifecycle has ended.
func (c *child) ended() bool { return !c.lc.Alive() }

// isPending reports whether the child waits for its dependencies before
// launching: starting is a resting state only then.
func (c *child) isPending() bool { return c.state() == lifecycle.StateStarting }

// up reports whether dependents of c may start: its attempt runs and, when
// it declares readiness, has signalled it.
func (c *child) up() bool {
	switch c.state() {
	case lifecycle.StateReady:
		return true
	case lifecycle.StateRunning:
		return !c.spec.Readiness
	}
	return false
}

// stopping is what the supervisor intends with an attempt it stopped. It
// is meaningful while the child is in state stopping; when the attempt is
// over (returned or abandoned), exactly one of plan, cmd and the shutdown
// carries on.
type stopping struct {
	cause *StopCause
	at    time.Duration // the stop request, since the run's epoch: the stop timeout counts from it
	plan  *restartPlan  // the scope restart waiting for this stop
	cmd   *command      // the operator command waiting for this stop
}
