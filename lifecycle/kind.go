package lifecycle

import "fmt"

// Kind selects the states and transitions a [Machine] allows.
type Kind uint8

const (
	// KindSupervisor is the control plane of one supervisor:
	// starting → alive → shutting_down → completed, and failed from any
	// non-terminal state.
	KindSupervisor Kind = iota + 1
	// KindChild is one supervised child across all of its attempts.
	KindChild
)

// mask is a set of states, bit s for State s.
type mask uint16

func maskOf(states ...State) mask {
	var m mask
	for _, s := range states {
		m |= 1 << s
	}
	return m
}

func (m mask) has(s State) bool { return m&(1<<s) != 0 }

// table is the static description of a kind.
type table struct {
	label    string
	states   []State // in documentation order; also the order of metric series
	terminal mask
	next     [numStates]mask // legal targets per source state
	stopping State           // where a shutdown request moves the machine
}

var tables = [...]table{
	KindSupervisor: {
		label:    "supervisor",
		states:   []State{StateStarting, StateAlive, StateShuttingDown, StateCompleted, StateFailed},
		terminal: maskOf(StateCompleted, StateFailed),
		next: [numStates]mask{
			StateStarting:     maskOf(StateAlive, StateShuttingDown, StateFailed),
			StateAlive:        maskOf(StateShuttingDown, StateFailed),
			StateShuttingDown: maskOf(StateCompleted, StateFailed),
		},
		stopping: StateShuttingDown,
	},
	KindChild: {
		label: "child",
		states: []State{StateStarting, StateRunning, StateReady, StateBackoff, StatePaused,
			StateStopping, StateCompleted, StateStopped, StateFailed},
		terminal: maskOf(StateCompleted, StateStopped, StateFailed),
		next: [numStates]mask{
			StateStarting: maskOf(StateRunning, StateBackoff, StatePaused, StateStopping, StateStopped, StateFailed),
			StateRunning:  maskOf(StateReady, StateBackoff, StateStarting, StateStopping, StateCompleted, StateFailed),
			StateReady:    maskOf(StateRunning, StateBackoff, StateStarting, StateStopping, StateCompleted, StateFailed),
			StateBackoff:  maskOf(StateStarting, StateStopping, StatePaused, StateStopped, StateFailed),
			StatePaused:   maskOf(StateStarting, StateStopping, StateStopped),
			// completed: an attempt stopped as a failure (no heartbeat) may
			// have returned on its own, cleanly, before it saw the stop.
			StateStopping: maskOf(StateStopped, StateCompleted, StateFailed, StatePaused, StateStarting, StateBackoff),
		},
		stopping: StateStopping,
	},
}

func (k Kind) valid() bool { return k == KindSupervisor || k == KindChild }

func (k Kind) table() *table { return &tables[k] }

// String returns "supervisor" or "child".
func (k Kind) String() string {
	if !k.valid() {
		return fmt.Sprintf("kind(%d)", uint8(k))
	}
	return tables[k].label
}

// States lists the states of the kind, in lifecycle order. The slice is a
// copy.
func (k Kind) States() []State {
	if !k.valid() {
		return nil
	}
	return append([]State(nil), tables[k].states...)
}

// Has reports whether s is a state of the kind.
func (k Kind) Has(s State) bool {
	if !k.valid() || !s.valid() {
		return false
	}
	for _, x := range tables[k].states {
		if x == s {
			return true
		}
	}
	return false
}

// Terminal reports whether s ends a lifecycle of this kind.
func (k Kind) Terminal(s State) bool {
	return k.valid() && s.valid() && tables[k].terminal.has(s)
}

// CanTransition reports whether the kind allows moving from one state to
// another. A terminal state allows nothing, and no state moves to itself.
func (k Kind) CanTransition(from, to State) bool {
	return k.valid() && from.valid() && to.valid() && tables[k].next[from].has(to)
}

// ParseKind returns the kind whose label is label.
func ParseKind(label string) (Kind, error) {
	for _, k := range []Kind{KindSupervisor, KindChild} {
		if tables[k].label == label {
			return k, nil
		}
	}
	return 0, &LabelError{What: "kind", Label: label}
}

// MarshalText encodes the kind as its label.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.valid() {
		return nil, &LabelError{What: "kind", Label: k.String()}
	}
	return []byte(tables[k].label), nil
}

// UnmarshalText decodes a label written by [Kind.MarshalText].
func (k *Kind) UnmarshalText(text []byte) error {
	v, err := ParseKind(string(text))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
