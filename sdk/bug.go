package sdk

import (
	"fmt"
	"sync/atomic"

	"go.opentelemetry.io/otel"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// bugHandler, when set, receives the internal errors that can only mean a
// bug in the supervisor, such as an illegal lifecycle transition. Without
// it they go to otel.Handle: a bug is reported, never fatal to the
// services. The package's tests set it so that such a bug fails them.
var bugHandler atomic.Pointer[func(error)]

func reportBug(err error) {
	if h := bugHandler.Load(); h != nil {
		(*h)(err)
		return
	}
	otel.Handle(err)
}

// checkSteps, when set (by the package's tests), makes the loop check its
// invariants after every message: between two steps, a child has a live
// attempt exactly when its state is running, ready or stopping, and a
// child in a plan is waiting in backoff or being stopped. Trees larger
// than checkStepsMax are not checked: the check is linear in children.
var checkSteps bool

const checkStepsMax = 64

func (r *run) checkStep() {
	if len(r.children) > checkStepsMax {
		return
	}
	for _, c := range r.children {
		st := c.state()
		liveState := st == lifecycle.StateRunning || st == lifecycle.StateReady || st == lifecycle.StateStopping
		if liveState != (c.live != nil) {
			reportBug(fmt.Errorf("sdk: %s is %s with live attempt %v", c.path, st, c.live != nil))
		}
		if c.plan != nil && c.plan.done {
			reportBug(fmt.Errorf("sdk: %s is in a finished plan", c.path))
		}
		if c.plan != nil && st != lifecycle.StateBackoff && !c.isLive() {
			reportBug(fmt.Errorf("sdk: %s is in a plan but %s", c.path, st))
		}
	}
}
