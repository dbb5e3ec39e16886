package lifecycle

import "fmt"

// State is one state of a lifecycle. Supervisor machines and child machines
// use different subsets (see [Kind.States]); the labels are shared so that a
// state means the same thing wherever it appears.
//
// The zero State is not a state: it marshals to an error and is never
// reported by a machine.
type State uint8

// Supervisor states, the control plane of one supervisor.
const (
	// StateStarting: the machine exists and its owner is bringing it up.
	// Both kinds start here. A child is starting while the supervisor
	// launches an attempt (including any wait for the siblings it depends
	// on).
	StateStarting State = iota + 1
	// StateAlive: the supervisor runs and supervises its children.
	StateAlive
	// StateShuttingDown: someone asked the supervisor to stop (see
	// [Machine.RequestShutdown]); its children are being stopped.
	StateShuttingDown
	// StateCompleted is terminal. A supervisor completed a requested
	// shutdown; a child returned cleanly and will not be restarted.
	StateCompleted
	// StateFailed is terminal. A supervisor gave up (meltdown, fatal child,
	// start failure); a child exited abnormally and will not be restarted,
	// or would not stop and was abandoned.
	StateFailed
)

// Child states, one child across all of its attempts.
const (
	// StateRunning: the child's Serve is executing.
	StateRunning State = iota + StateFailed + 1
	// StateReady: the child is running and has signalled readiness.
	StateReady
	// StateBackoff: the last attempt exited and the next one is scheduled
	// after a delay.
	StateBackoff
	// StatePaused: an operator paused the child; its attempt has stopped
	// and restarts are held until it is resumed.
	StatePaused
	// StateStopping: the supervisor cancelled the attempt's context and is
	// waiting for Serve to return.
	StateStopping
	// StateStopped is terminal: the supervisor stopped the child (shutdown,
	// removal, meltdown) and will not run it again.
	StateStopped
)

// numStates bounds the arrays indexed by State.
const numStates = int(StateStopped) + 1

var stateLabels = [numStates]string{
	StateStarting:     "starting",
	StateAlive:        "alive",
	StateShuttingDown: "shutting_down",
	StateCompleted:    "completed",
	StateFailed:       "failed",
	StateRunning:      "running",
	StateReady:        "ready",
	StateBackoff:      "backoff",
	StatePaused:       "paused",
	StateStopping:     "stopping",
	StateStopped:      "stopped",
}

func (s State) valid() bool { return s > 0 && int(s) < numStates }

// String returns the state's stable lowercase label, such as "shutting_down".
func (s State) String() string {
	if !s.valid() {
		return fmt.Sprintf("state(%d)", uint8(s))
	}
	return stateLabels[s]
}

// ParseState returns the state whose label is label. An unknown label
// yields a [*LabelError] naming it.
func ParseState(label string) (State, error) {
	for s := StateStarting; int(s) < numStates; s++ {
		if stateLabels[s] == label {
			return s, nil
		}
	}
	return 0, &LabelError{What: "state", Label: label}
}

// MarshalText encodes the state as its label, so that JSON and other text
// encodings carry "running" rather than a number.
func (s State) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, &LabelError{What: "state", Label: s.String()}
	}
	return []byte(stateLabels[s]), nil
}

// UnmarshalText decodes a label written by [State.MarshalText].
func (s *State) UnmarshalText(text []byte) error {
	v, err := ParseState(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
