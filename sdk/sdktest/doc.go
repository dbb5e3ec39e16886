// Package sdktest helps test code that runs under an sdk supervisor: your
// own services, and the trees you build from them. It works both inside a
// testing/synctest bubble, where time is fake and a test of minutes of
// restarts and timeouts runs in microseconds with exact delays, and in
// ordinary tests on the real clock.
//
// It has four parts:
//
//   - [Recorder] keeps the events of a tree (attach it with
//     sdk.WithEventHook(rec.Hook) or [Recorder.Subscribe]) and answers
//     questions about them: all events, by path and type, the last of a
//     type, the states a child went through, a compact rendering for
//     assertions and golden output.
//   - [Recorder.WaitFor], [Recorder.WaitState] and [Recorder.WaitReady]
//     block until something has happened, bounded by a context; they wake
//     on the recorder's events, not by polling.
//   - [Script] builds a scripted [Service] from steps ([Step]: run for a while,
//     block until cancelled, ignore cancellation, stop slowly, signal
//     readiness, send heartbeats, fail, panic), one per attempt, and
//     records every attempt it runs: when, what it returned, and the
//     context cause it saw.
//   - [ExpectStates], [ExpectOutcomes] and [ExpectAbandoned] check a
//     [sdk.Report] and report every difference through testing.TB.
//
// # Synctest
//
// Inside a bubble, the accessors of a Recorder and [Service.Attempts]
// first call [Settle], which waits until every goroutine of the bubble is
// blocked: hooks run asynchronously on the tree's own goroutine, and
// without settling a test would read the events of a moment ago. Outside
// a bubble Settle does nothing (it detects where it runs), so the same
// accessors return what has been delivered so far: read them after
// Supervisor.Shutdown or Wait (which return once the hooks have seen the
// last event), or after one of the Wait helpers. Call the accessors from
// the test's own goroutines, never from a hook: two goroutines of one
// bubble may not settle at once.
//
// Create the supervisor, and call Recorder.Subscribe, inside the bubble
// that runs them: a goroutine blocked on a channel made outside its
// bubble keeps fake time from moving. (A Script service may be built
// anywhere: what its steps block on is made by the attempt itself.)
// Register [Service.Release] with the bubble's own t.Cleanup, so that
// nothing outlives the bubble.
package sdktest
