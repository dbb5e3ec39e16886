package lifecycle_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

func TestFinishFirstReportWins(t *testing.T) {
	clock := newFakeClock()
	m := newMachine(t, lifecycle.KindChild, "/root/x", lifecycle.WithClock(clock.Now))
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	at := clock.Advance(time.Second)

	first, err := m.Finish(lifecycle.ExitReport{State: lifecycle.StateCompleted, Phase: "run", Reason: "returned nil"})
	require.NoError(t, err)
	want := lifecycle.ExitReport{State: lifecycle.StateCompleted, Phase: "run", Reason: "returned nil", CompletedAt: at}
	require.Equal(t, want, first)

	// Late reporters (a timeout path, a panic handler) must not rewrite
	// history, and must not be told they failed either.
	clock.Advance(time.Second)
	second, err := m.Finish(lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "shutdown", Reason: "timeout", Panic: true})
	require.NoError(t, err)
	require.Equal(t, want, second)
	require.Equal(t, lifecycle.StateCompleted, m.State())
	require.Equal(t, &want, m.Health().Exit)

	// Even a report that would be invalid on its own gets the stored one.
	third, err := m.Finish(lifecycle.ExitReport{})
	require.NoError(t, err)
	require.Equal(t, want, third)
}

func TestFinishRejectsNonTerminalState(t *testing.T) {
	for _, s := range []lifecycle.State{0, lifecycle.StateStarting, lifecycle.StateRunning, 12} {
		m := newMachine(t, lifecycle.KindChild, "/root/x")
		before := m.Health()
		r, err := m.Finish(lifecycle.ExitReport{State: s, Reason: "bad"})
		requireFieldError(t, err, "State")
		require.Equal(t, lifecycle.ExitReport{}, r)
		require.Equal(t, before, m.Health())
		requireOpen(t, m)
	}
	// stopped is terminal for a child only.
	m := newMachine(t, lifecycle.KindSupervisor, "/root")
	_, err := m.Finish(lifecycle.ExitReport{State: lifecycle.StateStopped})
	requireFieldError(t, err, "State")
	require.True(t, m.Alive())
}

// A terminal state that the current state cannot reach is an illegal
// transition, not an argument error.
func TestFinishUnreachableTerminal(t *testing.T) {
	m := newMachine(t, lifecycle.KindSupervisor, "/root/x")
	_, err := m.Finish(lifecycle.ExitReport{State: lifecycle.StateCompleted})
	requireTransitionError(t, err, lifecycle.KindSupervisor, lifecycle.StateStarting, lifecycle.StateCompleted)
	require.True(t, m.Alive())
	requireOpen(t, m)
}

func TestFinishCompletedAtFromMachineClock(t *testing.T) {
	zone := time.FixedZone("UTC-5", -5*60*60)
	now := time.Date(2025, time.June, 1, 8, 0, 0, 0, zone)
	m := newMachine(t, lifecycle.KindSupervisor, "/root", lifecycle.WithClock(func() time.Time { return now }))

	r, err := m.Finish(lifecycle.ExitReport{
		State:       lifecycle.StateFailed,
		CompletedAt: time.Date(1999, time.January, 1, 0, 0, 0, 0, time.UTC), // ignored
	})
	require.NoError(t, err)
	require.Equal(t, time.Date(2025, time.June, 1, 13, 0, 0, 0, time.UTC), r.CompletedAt)
	require.Equal(t, time.UTC, r.CompletedAt.Location())
	require.Equal(t, r.CompletedAt, m.Health().Since)
}

func TestFailureReasonView(t *testing.T) {
	failed := lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "run", Reason: "boom", Panic: true, Recoverable: true}
	f, ok := failed.FailureReason()
	require.True(t, ok)
	require.Equal(t, lifecycle.FailureReason{Phase: "run", Reason: "boom", Panic: true, Recoverable: true}, f)

	for _, s := range []lifecycle.State{lifecycle.StateCompleted, lifecycle.StateStopped, lifecycle.StateRunning, 0} {
		f, ok := lifecycle.ExitReport{State: s, Phase: "run", Reason: "x", Panic: true}.FailureReason()
		require.False(t, ok, "%s", s)
		require.Equal(t, lifecycle.FailureReason{}, f)
	}
}

func TestHealthAfterFinishFailed(t *testing.T) {
	clock := newFakeClock()
	m := newMachine(t, lifecycle.KindChild, "/root/x", lifecycle.WithClock(clock.Now))
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	at := clock.Advance(time.Second)
	_, err := m.Finish(lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "run", Reason: "boom", Recoverable: true})
	require.NoError(t, err)

	require.Equal(t, lifecycle.Health{
		Kind:      lifecycle.KindChild,
		Path:      "/root/x",
		Alive:     false,
		State:     lifecycle.StateFailed,
		Since:     at,
		StartedAt: base,
		Failure:   &lifecycle.FailureReason{Phase: "run", Reason: "boom", Recoverable: true},
		Exit: &lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "run", Reason: "boom",
			Recoverable: true, CompletedAt: at},
	}, *m.Health())
}

func TestHealthAfterFinishCompleted(t *testing.T) {
	clock := newFakeClock()
	m := newMachine(t, lifecycle.KindChild, "/root/x", lifecycle.WithClock(clock.Now))
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	at := clock.Advance(time.Second)
	_, err := m.Finish(lifecycle.ExitReport{State: lifecycle.StateCompleted, Phase: "run", Reason: "done"})
	require.NoError(t, err)

	h := m.Health()
	require.False(t, h.Alive)
	require.False(t, m.Alive())
	require.Nil(t, h.Failure)
	require.Equal(t, &lifecycle.ExitReport{State: lifecycle.StateCompleted, Phase: "run", Reason: "done", CompletedAt: at}, h.Exit)
}

// The JSON field names are consumed by status pages and scripts; pin them
// byte for byte.
func TestHealthJSON(t *testing.T) {
	clock := newFakeClock()
	m := newMachine(t, lifecycle.KindSupervisor, "/root", lifecycle.WithClock(clock.Now))

	data, err := json.Marshal(m.Health())
	require.NoError(t, err)
	require.Equal(t, `{"kind":"supervisor","path":"/root","alive":true,"state":"starting",`+
		`"since":"2025-01-02T03:04:05Z","started_at":"2025-01-02T03:04:05Z"}`, string(data))

	clock.Advance(time.Second)
	require.NoError(t, m.Transition(lifecycle.StateAlive, "up"))
	clock.Advance(time.Second)
	_, _, err = m.RequestShutdown("operator", "maintenance")
	require.NoError(t, err)
	clock.Advance(time.Second)
	_, err = m.Finish(lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "shutdown",
		Reason: "child would not stop", Recoverable: true, Panic: true})
	require.NoError(t, err)

	data, err = json.Marshal(m.Health())
	require.NoError(t, err)
	require.Equal(t, `{"kind":"supervisor","path":"/root","alive":false,"state":"failed",`+
		`"since":"2025-01-02T03:04:08Z","started_at":"2025-01-02T03:04:05Z",`+
		`"shutdown":{"requested_by":"operator","reason":"maintenance","requested_at":"2025-01-02T03:04:07Z"},`+
		`"failure":{"phase":"shutdown","reason":"child would not stop","panic":true,"recoverable":true},`+
		`"exit":{"state":"failed","phase":"shutdown","reason":"child would not stop","recoverable":true,`+
		`"panic":true,"completed_at":"2025-01-02T03:04:08Z"}}`, string(data))
}

func TestExitReportJSON(t *testing.T) {
	r := lifecycle.ExitReport{
		State: lifecycle.StateStopped, Phase: "shutdown", Reason: "removed",
		CompletedAt: time.Date(2025, time.January, 2, 3, 4, 5, 600, time.UTC),
	}
	data, err := json.Marshal(r)
	require.NoError(t, err)
	require.Equal(t, `{"state":"stopped","phase":"shutdown","reason":"removed","recoverable":false,`+
		`"panic":false,"completed_at":"2025-01-02T03:04:05.0000006Z"}`, string(data))

	var back lifecycle.ExitReport
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, r, back)
}

func TestExitReportJSONRoundTripFromMachine(t *testing.T) {
	clock := newFakeClock()
	m := newMachine(t, lifecycle.KindChild, "/root/x", lifecycle.WithClock(clock.Now))
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	clock.Advance(1500 * time.Millisecond)
	r, err := m.Finish(lifecycle.ExitReport{State: lifecycle.StateFailed, Phase: "run", Reason: "panic: nil map",
		Panic: true})
	require.NoError(t, err)

	data, err := json.Marshal(r)
	require.NoError(t, err)
	var back lifecycle.ExitReport
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, r, back)
}

func TestRequestShutdownRejectsBlank(t *testing.T) {
	for _, tc := range []struct {
		by, reason, field string
	}{
		{"", "maintenance", "requestedBy"},
		{" \t", "maintenance", "requestedBy"},
		{"operator", "", "reason"},
		{"operator", "\n ", "reason"},
		{"", "", "requestedBy"},
	} {
		m := newMachine(t, lifecycle.KindSupervisor, "/root")
		before := m.Health()
		r, ended, err := m.RequestShutdown(tc.by, tc.reason)
		requireFieldError(t, err, tc.field)
		require.False(t, ended)
		require.Equal(t, lifecycle.ExitReport{}, r)
		require.Equal(t, before, m.Health())
	}
}

func TestRequestShutdownMovesToStopping(t *testing.T) {
	for _, tc := range []struct {
		kind lifecycle.Kind
		from lifecycle.State
		to   lifecycle.State
	}{
		{lifecycle.KindSupervisor, lifecycle.StateStarting, lifecycle.StateShuttingDown},
		{lifecycle.KindSupervisor, lifecycle.StateAlive, lifecycle.StateShuttingDown},
		{lifecycle.KindChild, lifecycle.StateStarting, lifecycle.StateStopping},
		{lifecycle.KindChild, lifecycle.StateRunning, lifecycle.StateStopping},
		{lifecycle.KindChild, lifecycle.StateReady, lifecycle.StateStopping},
		{lifecycle.KindChild, lifecycle.StateBackoff, lifecycle.StateStopping},
		{lifecycle.KindChild, lifecycle.StatePaused, lifecycle.StateStopping},
	} {
		clock := newFakeClock()
		m := newMachine(t, tc.kind, "/root/x", lifecycle.WithClock(clock.Now))
		for _, s := range pathTo(tc.kind, tc.from) {
			require.NoError(t, m.Transition(s, "setup"))
		}
		at := clock.Advance(time.Second)

		r, ended, err := m.RequestShutdown("operator", "maintenance")
		require.NoError(t, err)
		require.False(t, ended)
		require.Equal(t, lifecycle.ExitReport{}, r)

		h := m.Health()
		require.Equal(t, tc.to, h.State, "%s from %s", tc.kind, tc.from)
		require.Equal(t, at, h.Since)
		require.True(t, h.Alive)
		require.Equal(t, &lifecycle.ShutdownRequest{RequestedBy: "operator", Reason: "maintenance", RequestedAt: at}, h.Shutdown)
	}
}

// The first requester is who the operator needs to see; later requests
// (signals, parents cascading) must not overwrite it.
func TestRequestShutdownKeepsFirst(t *testing.T) {
	clock := newFakeClock()
	m := newMachine(t, lifecycle.KindSupervisor, "/root", lifecycle.WithClock(clock.Now))
	at := clock.Advance(time.Second)
	_, _, err := m.RequestShutdown("operator", "maintenance")
	require.NoError(t, err)
	first := m.Health()

	clock.Advance(time.Second)
	r, ended, err := m.RequestShutdown("signal", "SIGTERM")
	require.NoError(t, err)
	require.False(t, ended)
	require.Equal(t, lifecycle.ExitReport{}, r)
	require.Equal(t, first, m.Health())
	require.Equal(t, "operator", m.Health().Shutdown.RequestedBy)
	require.Equal(t, at, m.Health().Shutdown.RequestedAt)
}

func TestRequestShutdownAfterFinish(t *testing.T) {
	m := newMachine(t, lifecycle.KindChild, "/root/x")
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	stored, err := m.Finish(lifecycle.ExitReport{State: lifecycle.StateCompleted, Phase: "run", Reason: "done"})
	require.NoError(t, err)

	r, ended, err := m.RequestShutdown("operator", "maintenance")
	require.NoError(t, err)
	require.True(t, ended)
	require.Equal(t, stored, r)
	require.Nil(t, m.Health().Shutdown, "a request after the end is not recorded")
	require.Equal(t, lifecycle.StateCompleted, m.State())
}

// A child the supervisor is already stopping (to restart a sibling, say)
// records who asked without a second transition.
func TestRequestShutdownWhileStopping(t *testing.T) {
	clock := newFakeClock()
	m := newMachine(t, lifecycle.KindChild, "/root/x", lifecycle.WithClock(clock.Now))
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	stoppingAt := clock.Advance(time.Second)
	require.NoError(t, m.Transition(lifecycle.StateStopping, "sibling restart"))

	requestAt := clock.Advance(time.Second)
	_, ended, err := m.RequestShutdown("parent", "shutdown")
	require.NoError(t, err)
	require.False(t, ended)

	h := m.Health()
	require.Equal(t, lifecycle.StateStopping, h.State)
	require.Equal(t, stoppingAt, h.Since, "no transition, so Since is unchanged")
	require.Equal(t, &lifecycle.ShutdownRequest{RequestedBy: "parent", Reason: "shutdown", RequestedAt: requestAt}, h.Shutdown)
}

// A supervisor moved to shutting_down by Transition (no request recorded)
// still records the first explicit request.
func TestRequestShutdownWhileShuttingDown(t *testing.T) {
	m := newMachine(t, lifecycle.KindSupervisor, "/root")
	require.NoError(t, m.Transition(lifecycle.StateShuttingDown, "start failed"))
	_, _, err := m.RequestShutdown("operator", "maintenance")
	require.NoError(t, err)
	h := m.Health()
	require.Equal(t, lifecycle.StateShuttingDown, h.State)
	require.NotNil(t, h.Shutdown)
	require.Equal(t, "operator", h.Shutdown.RequestedBy)
}

// Once someone has asked a child to stop, the lifecycle must not run again
// unnoticed: either leaving stopping for another attempt is refused, or a
// later request drives the child back to stopping.
func TestRequestShutdownCannotBeOutrun(t *testing.T) {
	m := newMachine(t, lifecycle.KindChild, "/root/x")
	require.NoError(t, m.Transition(lifecycle.StateRunning, "launched"))
	_, _, err := m.RequestShutdown("operator", "maintenance")
	require.NoError(t, err)

	// A restart after the request would lose it: the machine refuses.
	for _, to := range []lifecycle.State{lifecycle.StateStarting, lifecycle.StateBackoff, lifecycle.StatePaused} {
		err := m.Transition(to, "restart")
		require.ErrorIs(t, err, lifecycle.ErrIllegalTransition, "to %s", to)
	}
	require.Equal(t, lifecycle.StateStopping, m.State())
	require.Equal(t, "operator", m.Health().Shutdown.RequestedBy)

	_, err = m.Finish(lifecycle.ExitReport{State: lifecycle.StateStopped, Phase: "shutdown", Reason: "maintenance"})
	require.NoError(t, err)
}
