package lifecycle_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// The labels are a wire format (JSON, metric attributes, span attributes):
// renaming one breaks dashboards and alerts, so they are pinned here.
var stateLabels = []struct {
	state lifecycle.State
	label string
}{
	{lifecycle.StateStarting, "starting"},
	{lifecycle.StateAlive, "alive"},
	{lifecycle.StateShuttingDown, "shutting_down"},
	{lifecycle.StateCompleted, "completed"},
	{lifecycle.StateFailed, "failed"},
	{lifecycle.StateRunning, "running"},
	{lifecycle.StateReady, "ready"},
	{lifecycle.StateBackoff, "backoff"},
	{lifecycle.StatePaused, "paused"},
	{lifecycle.StateStopping, "stopping"},
	{lifecycle.StateStopped, "stopped"},
}

func TestStateLabels(t *testing.T) {
	seen := map[lifecycle.State]bool{}
	for _, tc := range stateLabels {
		t.Run(tc.label, func(t *testing.T) {
			require.Equal(t, tc.label, tc.state.String())

			text, err := tc.state.MarshalText()
			require.NoError(t, err)
			require.Equal(t, tc.label, string(text))

			parsed, err := lifecycle.ParseState(tc.label)
			require.NoError(t, err)
			require.Equal(t, tc.state, parsed)
		})
		require.False(t, seen[tc.state], "two labels for state %d", tc.state)
		seen[tc.state] = true
	}
}

func TestKindLabels(t *testing.T) {
	for _, tc := range []struct {
		kind  lifecycle.Kind
		label string
	}{
		{lifecycle.KindSupervisor, "supervisor"},
		{lifecycle.KindChild, "child"},
	} {
		require.Equal(t, tc.label, tc.kind.String())
		text, err := tc.kind.MarshalText()
		require.NoError(t, err)
		require.Equal(t, tc.label, string(text))
		parsed, err := lifecycle.ParseKind(tc.label)
		require.NoError(t, err)
		require.Equal(t, tc.kind, parsed)
	}
}

// Out-of-range values still print something useful in logs and errors.
func TestInvalidValuesString(t *testing.T) {
	require.Equal(t, "state(0)", lifecycle.State(0).String())
	require.Equal(t, "state(12)", lifecycle.State(12).String())
	require.Equal(t, "kind(0)", lifecycle.Kind(0).String())
	require.Equal(t, "kind(3)", lifecycle.Kind(3).String())
}

func TestStateJSONValue(t *testing.T) {
	for _, tc := range stateLabels {
		data, err := json.Marshal(tc.state)
		require.NoError(t, err)
		require.Equal(t, `"`+tc.label+`"`, string(data))

		var got lifecycle.State
		require.NoError(t, json.Unmarshal(data, &got))
		require.Equal(t, tc.state, got)
	}
}

func TestKindJSONValue(t *testing.T) {
	for _, k := range []lifecycle.Kind{lifecycle.KindSupervisor, lifecycle.KindChild} {
		data, err := json.Marshal(k)
		require.NoError(t, err)
		require.Equal(t, `"`+k.String()+`"`, string(data))

		var got lifecycle.Kind
		require.NoError(t, json.Unmarshal(data, &got))
		require.Equal(t, k, got)
	}
}

func TestStateKindJSONInStruct(t *testing.T) {
	type row struct {
		Kind  lifecycle.Kind  `json:"kind"`
		State lifecycle.State `json:"state"`
	}
	in := row{Kind: lifecycle.KindChild, State: lifecycle.StateShuttingDown}

	data, err := json.Marshal(in)
	require.NoError(t, err)
	require.Equal(t, `{"kind":"child","state":"shutting_down"}`, string(data))

	var out row
	require.NoError(t, json.Unmarshal(data, &out))
	require.Equal(t, in, out)
}

// Map keys go through MarshalText too; a status page keyed by state must
// read "running", not "6".
func TestStateKindJSONMapKeys(t *testing.T) {
	states := map[lifecycle.State]int{lifecycle.StateRunning: 2, lifecycle.StateBackoff: 1}
	data, err := json.Marshal(states)
	require.NoError(t, err)
	require.Equal(t, `{"backoff":1,"running":2}`, string(data))
	var gotStates map[lifecycle.State]int
	require.NoError(t, json.Unmarshal(data, &gotStates))
	require.Equal(t, states, gotStates)

	kinds := map[lifecycle.Kind]string{lifecycle.KindSupervisor: "/root", lifecycle.KindChild: "/root/api"}
	data, err = json.Marshal(kinds)
	require.NoError(t, err)
	require.Equal(t, `{"child":"/root/api","supervisor":"/root"}`, string(data))
	var gotKinds map[lifecycle.Kind]string
	require.NoError(t, json.Unmarshal(data, &gotKinds))
	require.Equal(t, kinds, gotKinds)
}

func TestParseStateUnknown(t *testing.T) {
	_, err := lifecycle.ParseState("sleeping")
	var le *lifecycle.LabelError
	require.ErrorAs(t, err, &le)
	require.Equal(t, lifecycle.LabelError{What: "state", Label: "sleeping"}, *le)
	require.Contains(t, err.Error(), "sleeping")
	require.Equal(t, "unknown_label", le.ErrorType())

	// Labels are exact: no case folding, no trimming.
	for _, label := range []string{"", "Running", " running", "shutting-down"} {
		_, err := lifecycle.ParseState(label)
		require.ErrorAs(t, err, &le, "label %q", label)
	}
}

func TestParseKindUnknown(t *testing.T) {
	_, err := lifecycle.ParseKind("sleeping")
	var le *lifecycle.LabelError
	require.ErrorAs(t, err, &le)
	require.Equal(t, lifecycle.LabelError{What: "kind", Label: "sleeping"}, *le)
	require.Contains(t, err.Error(), "sleeping")
}

func TestUnmarshalUnknownLabel(t *testing.T) {
	var s lifecycle.State
	err := json.Unmarshal([]byte(`"sleeping"`), &s)
	var le *lifecycle.LabelError
	require.ErrorAs(t, err, &le)
	require.Equal(t, "sleeping", le.Label)
	require.Contains(t, err.Error(), "sleeping")
	require.Equal(t, lifecycle.State(0), s, "a failed decode must not change the value")

	var k lifecycle.Kind
	err = json.Unmarshal([]byte(`"sleeping"`), &k)
	require.ErrorAs(t, err, &le)
	require.Equal(t, "kind", le.What)
}

// A zero State in a report means a bug upstream; failing loudly beats
// writing a label nobody can parse back.
func TestZeroStateDoesNotMarshal(t *testing.T) {
	_, err := json.Marshal(lifecycle.State(0))
	var le *lifecycle.LabelError
	require.ErrorAs(t, err, &le)
	require.Equal(t, lifecycle.LabelError{What: "state", Label: "state(0)"}, *le)

	_, err = json.Marshal(lifecycle.ExitReport{})
	require.ErrorAs(t, err, &le)

	_, err = lifecycle.State(12).MarshalText()
	require.ErrorAs(t, err, &le)

	_, err = json.Marshal(lifecycle.Kind(0))
	require.ErrorAs(t, err, &le)
	require.Equal(t, lifecycle.LabelError{What: "kind", Label: "kind(0)"}, *le)
}

// The order is the documented lifecycle order and also the order of the
// metric series.
func TestKindStates(t *testing.T) {
	require.Equal(t, []lifecycle.State{
		lifecycle.StateStarting, lifecycle.StateAlive, lifecycle.StateShuttingDown,
		lifecycle.StateCompleted, lifecycle.StateFailed,
	}, lifecycle.KindSupervisor.States())
	require.Equal(t, []lifecycle.State{
		lifecycle.StateStarting, lifecycle.StateRunning, lifecycle.StateReady, lifecycle.StateBackoff,
		lifecycle.StatePaused, lifecycle.StateStopping, lifecycle.StateCompleted, lifecycle.StateStopped,
		lifecycle.StateFailed,
	}, lifecycle.KindChild.States())
	require.Nil(t, lifecycle.Kind(0).States())
}

// Callers may sort or edit the slice; that must not corrupt the kind.
func TestKindStatesIsACopy(t *testing.T) {
	s := lifecycle.KindSupervisor.States()
	s[0] = lifecycle.StateFailed
	require.Equal(t, lifecycle.StateStarting, lifecycle.KindSupervisor.States()[0])
}

func TestKindHas(t *testing.T) {
	for _, k := range []lifecycle.Kind{lifecycle.KindSupervisor, lifecycle.KindChild} {
		own := map[lifecycle.State]bool{}
		for _, s := range k.States() {
			own[s] = true
		}
		for s := lifecycle.State(0); s <= 12; s++ {
			require.Equal(t, own[s], k.Has(s), "%s.Has(%s)", k, s)
		}
	}
	require.False(t, lifecycle.Kind(0).Has(lifecycle.StateStarting))
}

func TestKindTerminal(t *testing.T) {
	terminal := map[lifecycle.Kind][]lifecycle.State{
		lifecycle.KindSupervisor: {lifecycle.StateCompleted, lifecycle.StateFailed},
		lifecycle.KindChild:      {lifecycle.StateCompleted, lifecycle.StateStopped, lifecycle.StateFailed},
	}
	for k, want := range terminal {
		for s := lifecycle.State(0); s <= 12; s++ {
			require.Equal(t, contains(want, s), k.Terminal(s), "%s.Terminal(%s)", k, s)
		}
	}
	require.False(t, lifecycle.Kind(0).Terminal(lifecycle.StateFailed))
}

func contains(states []lifecycle.State, s lifecycle.State) bool {
	for _, x := range states {
		if x == s {
			return true
		}
	}
	return false
}
