package lifecycle_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// The intended transition tables, written out as data: any change to
// kind.go must be mirrored here on purpose.
var transitionTables = map[lifecycle.Kind]map[lifecycle.State][]lifecycle.State{
	lifecycle.KindSupervisor: {
		lifecycle.StateStarting:     {lifecycle.StateAlive, lifecycle.StateShuttingDown, lifecycle.StateFailed},
		lifecycle.StateAlive:        {lifecycle.StateShuttingDown, lifecycle.StateFailed},
		lifecycle.StateShuttingDown: {lifecycle.StateCompleted, lifecycle.StateFailed},
	},
	lifecycle.KindChild: {
		lifecycle.StateStarting: {lifecycle.StateRunning, lifecycle.StateBackoff, lifecycle.StatePaused, lifecycle.StateStopping,
			lifecycle.StateStopped, lifecycle.StateFailed},
		lifecycle.StateRunning: {lifecycle.StateReady, lifecycle.StateBackoff, lifecycle.StateStarting,
			lifecycle.StateStopping, lifecycle.StateCompleted, lifecycle.StateFailed},
		lifecycle.StateReady: {lifecycle.StateRunning, lifecycle.StateBackoff, lifecycle.StateStarting,
			lifecycle.StateStopping, lifecycle.StateCompleted, lifecycle.StateFailed},
		lifecycle.StateBackoff: {lifecycle.StateStarting, lifecycle.StateStopping, lifecycle.StatePaused,
			lifecycle.StateStopped, lifecycle.StateFailed},
		lifecycle.StatePaused: {lifecycle.StateStarting, lifecycle.StateStopping, lifecycle.StateStopped},
		lifecycle.StateStopping: {lifecycle.StateStopped, lifecycle.StateCompleted, lifecycle.StateFailed, lifecycle.StatePaused,
			lifecycle.StateStarting, lifecycle.StateBackoff},
	},
}

var kinds = []lifecycle.Kind{lifecycle.KindSupervisor, lifecycle.KindChild}

// probeStates covers every state plus values that are no state at all, so
// a table that leaks into foreign or invalid states is caught.
func probeStates() []lifecycle.State {
	out := []lifecycle.State{0}
	for s := lifecycle.StateStarting; s <= lifecycle.StateStopped; s++ {
		out = append(out, s)
	}
	return append(out, 12, 255)
}

func TestCanTransitionTable(t *testing.T) {
	for _, k := range kinds {
		for _, from := range probeStates() {
			for _, to := range probeStates() {
				want := contains(transitionTables[k][from], to)
				require.Equal(t, want, k.CanTransition(from, to), "%s: %s → %s", k, from, to)
			}
		}
	}
	require.False(t, lifecycle.Kind(0).CanTransition(lifecycle.StateStarting, lifecycle.StateAlive))
}

// pathTo returns the shortest non-terminal path from starting to target
// according to the expected table, so every source state can be reached.
func pathTo(k lifecycle.Kind, target lifecycle.State) []lifecycle.State {
	prev := map[lifecycle.State]lifecycle.State{}
	queue := []lifecycle.State{lifecycle.StateStarting}
	seen := map[lifecycle.State]bool{lifecycle.StateStarting: true}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s == target {
			var path []lifecycle.State
			for ; s != lifecycle.StateStarting; s = prev[s] {
				path = append([]lifecycle.State{s}, path...)
			}
			return path
		}
		for _, n := range transitionTables[k][s] {
			if !seen[n] && !k.Terminal(n) {
				seen[n], prev[n] = true, s
				queue = append(queue, n)
			}
		}
	}
	panic(fmt.Sprintf("%s %s unreachable", k, target))
}

// TestMachineFollowsTable drives a fresh machine to every non-terminal
// state and tries every possible move from there: legal ones must succeed
// through the right method, illegal ones must fail and change nothing.
func TestMachineFollowsTable(t *testing.T) {
	for _, k := range kinds {
		for _, from := range k.States() {
			if k.Terminal(from) {
				continue
			}
			for _, to := range probeStates() {
				t.Run(fmt.Sprintf("%s/%s→%s", k, from, to), func(t *testing.T) {
					clock := newFakeClock()
					m := newMachine(t, k, "/root/x", lifecycle.WithClock(clock.Now))
					for _, s := range pathTo(k, from) {
						clock.Advance(time.Second)
						require.NoError(t, m.Transition(s, "setup"))
					}
					require.Equal(t, from, m.State())
					before := m.Health()
					at := clock.Advance(time.Second)

					legal := contains(transitionTables[k][from], to)
					switch {
					case legal && !k.Terminal(to):
						require.NoError(t, m.Transition(to, "move"))
						require.Equal(t, to, m.State())
						require.Equal(t, at, m.Health().Since)
					case legal:
						r, err := m.Finish(lifecycle.ExitReport{State: to, Reason: "end"})
						require.NoError(t, err)
						require.Equal(t, to, r.State)
						require.Equal(t, to, m.State())
					case k.Terminal(to):
						requireFieldError(t, m.Transition(to, "move"), "to")
						requireTransitionError(t, finishErr(m, to), k, from, to)
						require.Equal(t, before, m.Health())
					default:
						requireTransitionError(t, m.Transition(to, "move"), k, from, to)
						require.Equal(t, before, m.Health())
					}
				})
			}
		}
	}
}

func finishErr(m *lifecycle.Machine, s lifecycle.State) error {
	_, err := m.Finish(lifecycle.ExitReport{State: s})
	return err
}

func requireTransitionError(tb testing.TB, err error, k lifecycle.Kind, from, to lifecycle.State) {
	tb.Helper()
	require.ErrorIs(tb, err, lifecycle.ErrIllegalTransition)
	require.Equal(tb, k.Terminal(from), errors.Is(err, lifecycle.ErrTerminal))
	var te *lifecycle.TransitionError
	require.ErrorAs(tb, err, &te)
	require.Equal(tb, lifecycle.TransitionError{Kind: k, Path: "/root/x", From: from, To: to}, *te)
	require.Equal(tb, "illegal_transition", te.ErrorType())
}

func TestIllegalTransitionMessage(t *testing.T) {
	m := newMachine(t, lifecycle.KindSupervisor, "/root/x")
	err := m.Transition(lifecycle.StateRunning, "nope")
	require.EqualError(t, err, `lifecycle: supervisor "/root/x": illegal transition starting → running`)
}

// The full table test exercises each edge in isolation; this checks that
// long realistic lifecycles compose.
func TestMachineLegalPaths(t *testing.T) {
	for _, tc := range []struct {
		kind lifecycle.Kind
		path []lifecycle.State
		end  lifecycle.State
	}{
		{lifecycle.KindSupervisor, []lifecycle.State{lifecycle.StateAlive, lifecycle.StateShuttingDown}, lifecycle.StateCompleted},
		{lifecycle.KindSupervisor, nil, lifecycle.StateFailed},
		{lifecycle.KindChild, []lifecycle.State{
			lifecycle.StateRunning, lifecycle.StateReady, lifecycle.StateBackoff, lifecycle.StateStarting,
			lifecycle.StateRunning, lifecycle.StateStopping, lifecycle.StatePaused, lifecycle.StateStarting,
			lifecycle.StateRunning, lifecycle.StateReady,
		}, lifecycle.StateCompleted},
		{lifecycle.KindChild, []lifecycle.State{
			lifecycle.StateRunning, lifecycle.StateStopping, lifecycle.StateBackoff, lifecycle.StatePaused,
		}, lifecycle.StateStopped},
	} {
		m := newMachine(t, tc.kind, "/root/x")
		for _, s := range tc.path {
			require.NoError(t, m.Transition(s, "step"))
			require.Equal(t, s, m.State())
			require.True(t, m.Alive())
		}
		_, err := m.Finish(lifecycle.ExitReport{State: tc.end})
		require.NoError(t, err)
		require.Equal(t, tc.end, m.State())
		require.False(t, m.Alive())
	}
}

func TestTransitionAfterFinishIsTerminal(t *testing.T) {
	for _, k := range kinds {
		for _, end := range k.States() {
			if !k.Terminal(end) {
				continue
			}
			m := newMachine(t, k, "/root/x")
			for _, s := range pathTo(k, lastBefore(k, end)) {
				require.NoError(t, m.Transition(s, "setup"))
			}
			_, err := m.Finish(lifecycle.ExitReport{State: end})
			require.NoError(t, err)
			before := m.Health()

			for _, to := range k.States() {
				if k.Terminal(to) {
					continue
				}
				err := m.Transition(to, "too late")
				require.ErrorIs(t, err, lifecycle.ErrTerminal, "%s %s → %s", k, end, to)
				requireTransitionError(t, err, k, end, to)
				require.Contains(t, err.Error(), "cannot move from terminal state "+end.String())
			}
			require.Equal(t, before, m.Health())
		}
	}
}

// lastBefore returns some non-terminal state from which end is legal.
func lastBefore(k lifecycle.Kind, end lifecycle.State) lifecycle.State {
	for _, s := range k.States() {
		if contains(transitionTables[k][s], end) {
			return s
		}
	}
	panic("no way to " + end.String())
}

func TestTransitionTimes(t *testing.T) {
	clock := newFakeClock()
	m := newMachine(t, lifecycle.KindChild, "/root/x", lifecycle.WithClock(clock.Now))
	require.Equal(t, base, m.Health().StartedAt)
	require.Equal(t, base, m.Health().Since)

	t1 := clock.Advance(3 * time.Second)
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	// Reading later must report when the transition happened, not when the
	// health was read.
	clock.Advance(time.Minute)
	require.Equal(t, t1, m.Health().Since)

	t2 := clock.Advance(time.Millisecond + time.Nanosecond)
	require.NoError(t, m.Transition(lifecycle.StateReady, "ready"))
	clock.Advance(time.Hour)
	h := m.Health()
	require.Equal(t, t2, h.Since)
	require.Equal(t, base, h.StartedAt)

	// An illegal attempt must not touch the time either.
	clock.Advance(time.Second)
	require.Error(t, m.Transition(lifecycle.StatePaused, "nope"))
	require.Equal(t, t2, m.Health().Since)
}

// Health times are documented as UTC whatever zone the clock uses.
func TestTransitionTimesAreUTC(t *testing.T) {
	zone := time.FixedZone("UTC+2", 2*60*60)
	local := time.Date(2025, time.March, 4, 12, 0, 0, 0, zone)
	m := newMachine(t, lifecycle.KindSupervisor, "/root", lifecycle.WithClock(func() time.Time { return local }))
	require.NoError(t, m.Transition(lifecycle.StateAlive, "up"))
	h := m.Health()
	require.Equal(t, time.UTC, h.Since.Location())
	require.Equal(t, time.UTC, h.StartedAt.Location())
	require.True(t, local.Equal(h.Since))
	require.Equal(t, time.Date(2025, time.March, 4, 10, 0, 0, 0, time.UTC), h.Since)
}

func TestNewStartsInStarting(t *testing.T) {
	for _, k := range kinds {
		m := newMachine(t, k, "/root/api")
		require.Equal(t, k, m.Kind())
		require.Equal(t, "/root/api", m.Path())
		require.Equal(t, lifecycle.StateStarting, m.State())
		require.True(t, m.Alive())
		h := m.Health()
		require.Equal(t, k, h.Kind)
		require.Equal(t, "/root/api", h.Path)
		require.True(t, h.Alive)
		require.Nil(t, h.Shutdown)
		require.Nil(t, h.Exit)
		require.Nil(t, h.Failure)
	}
}

func TestNewRejectsBlankPath(t *testing.T) {
	for _, path := range []string{"", " ", "\t\n"} {
		m, err := lifecycle.New(lifecycle.KindChild, path, lifecycle.WithStateMetrics(nil))
		require.Nil(t, m)
		requireFieldError(t, err, "path")
	}
}

func TestNewRejectsInvalidKind(t *testing.T) {
	for _, k := range []lifecycle.Kind{0, 3, 255} {
		m, err := lifecycle.New(k, "/root", lifecycle.WithStateMetrics(nil))
		require.Nil(t, m)
		requireFieldError(t, err, "kind")
	}
}

func TestNewRejectsNilClock(t *testing.T) {
	m, err := lifecycle.New(lifecycle.KindChild, "/root", lifecycle.WithClock(nil), lifecycle.WithStateMetrics(nil))
	require.Nil(t, m)
	requireFieldError(t, err, "clock")
}
