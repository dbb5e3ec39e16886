package sdk_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// recorder is an event hook that keeps every event it sees. It is safe for
// concurrent use: nested supervisors call it from their own goroutines.
type recorder struct {
	mu     sync.Mutex
	events []sdk.Event
	// then, when set, runs after the event has been recorded, outside the
	// lock (it may call back into the recorder).
	then func(sdk.Event)
}

func newRecorder() *recorder { return &recorder{} }

// hook is the function to pass to sdk.WithEventHook.
func (r *recorder) hook(e sdk.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	then := r.then
	r.mu.Unlock()
	if then != nil {
		then(e)
	}
}

// all returns a copy of every event seen so far, in the order seen. Hooks
// run on the tree's own goroutine, so inside a synctest bubble it first
// lets every goroutine of the bubble settle: what has happened has been
// delivered.
func (r *recorder) all() []sdk.Event {
	settle()
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// settle waits for the synctest bubble to be idle, when called from one.
func settle() {
	defer func() { _ = recover() }() // outside a bubble there is nothing to wait for
	synctest.Wait()
}

// filter returns the events of the given path ("" for any) whose type is
// one of types (none for any).
func (r *recorder) filter(path string, types ...sdk.EventType) []sdk.Event {
	var out []sdk.Event
	for _, e := range r.all() {
		if path != "" && e.Path != path {
			continue
		}
		if len(types) > 0 && !slices.Contains(types, e.Type) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// count returns how many events of type t and path ("" for any) were seen.
func (r *recorder) count(path string, t sdk.EventType) int {
	return len(r.filter(path, t))
}

// last returns the last event of type t and path, failing the test when
// there is none.
func (r *recorder) last(t *testing.T, path string, typ sdk.EventType) sdk.Event {
	t.Helper()
	evs := r.filter(path, typ)
	require.NotEmpty(t, evs, "no %s event for %q; saw:\n%s", typ, path, strings.Join(r.strings(""), "\n"))
	return evs[len(evs)-1]
}

// strings renders the matching events compactly, see compact.
func (r *recorder) strings(path string, types ...sdk.EventType) []string {
	var out []string
	for _, e := range r.filter(path, types...) {
		out = append(out, compact(e))
	}
	return out
}

// compact renders an event as "type path#attempt" followed by what
// distinguishes it: the exit kind of an exit, the target state of a move.
func compact(e sdk.Event) string {
	s := e.Type.String() + " " + e.Path
	if e.Attempt > 0 {
		s += fmt.Sprintf("#%d", e.Attempt)
	}
	if e.Exit != 0 {
		s += " " + e.Exit.String()
	}
	// Running, stopping and backoff events always name the state they
	// enter; the suffix would add nothing.
	if e.To != 0 && !namesItsState[e.Type] {
		s += " →" + e.To.String()
	}
	return s
}

// namesItsState are the events whose type says the state they enter.
var namesItsState = map[sdk.EventType]bool{
	sdk.EventChildAdded: true, sdk.EventChildStarting: true, sdk.EventChildPending: true, sdk.EventChildRunning: true,
	sdk.EventChildStopping: true, sdk.EventChildBackoff: true,
}

// ended returns the final state of every child that ended, by path.
func (r *recorder) ended() map[string]lifecycle.State {
	out := map[string]lifecycle.State{}
	for _, e := range r.filter("", sdk.EventChildEnded) {
		out[e.Path] = e.To
	}
	return out
}

// attempts counts calls to a service and remembers the order of calls
// across services that share it.
type attempts struct {
	mu    sync.Mutex
	log   []string
	count map[string]int
}

func newAttempts() *attempts { return &attempts{count: map[string]int{}} }

// start records that name began an attempt and returns its number, from 1.
func (a *attempts) start(name string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.count[name]++
	a.log = append(a.log, fmt.Sprintf("start %s#%d", name, a.count[name]))
	return a.count[name]
}

// note appends an arbitrary line to the shared log.
func (a *attempts) note(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log = append(a.log, fmt.Sprintf(format, args...))
}

func (a *attempts) of(name string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.count[name]
}

func (a *attempts) lines() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.log)
}

// idle runs until its context is cancelled and returns nil.
func idle(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// failing returns a service that returns err on its first n attempts and
// then blocks until its context is cancelled. calls counts every attempt.
func failing(n int, err error, calls *atomic.Int64) sdk.Service {
	return sdk.ServiceFunc(func(ctx context.Context) error {
		if int(calls.Add(1)) <= n {
			return err
		}
		<-ctx.Done()
		return nil
	})
}

// stubborn is a service that ignores cancellation: Serve returns only once
// the test closes it with release. Tests must release it before they end
// so that no goroutine is left behind.
type stubborn struct {
	started chan struct{} // closed when Serve is first entered
	gate    chan struct{}
	once    sync.Once
	sOnce   sync.Once
	// cancelled is set once Serve has seen its context end.
	cancelled atomic.Bool
}

func newStubborn(t testing.TB) *stubborn {
	s := &stubborn{started: make(chan struct{}), gate: make(chan struct{})}
	t.Cleanup(s.release)
	return s
}

func (s *stubborn) Serve(ctx context.Context) error {
	s.sOnce.Do(func() { close(s.started) })
	select {
	case <-ctx.Done():
		s.cancelled.Store(true)
	case <-s.gate:
		return nil
	}
	<-s.gate
	return nil
}

// release lets Serve return. It is idempotent.
func (s *stubborn) release() { s.once.Do(func() { close(s.gate) }) }

// newSup builds a supervisor or fails the test.
func newSup(t testing.TB, name string, opts ...sdk.Option) *sdk.Supervisor {
	t.Helper()
	s, err := sdk.New(name, opts...)
	require.NoError(t, err)
	before := len(sdk.Bugs())
	t.Cleanup(func() {
		if bugs := sdk.Bugs(); len(bugs) > before {
			t.Errorf("internal bug (illegal transition or broken invariant): %v", bugs[before])
		}
	})
	return s
}

// add declares children or fails the test.
func add(t testing.TB, s *sdk.Supervisor, specs ...sdk.Spec) {
	t.Helper()
	for _, spec := range specs {
		require.NoError(t, s.Add(context.Background(), spec, "test", "declared by the test"), "add %s", spec.Name)
	}
}

// serving is a Serve call running on its own goroutine.
type serving struct {
	cancel   context.CancelFunc
	finished chan struct{}
	err      error
}

// serve starts s.Serve with a cancellable context. The test's cleanup
// cancels it and waits for it to return, so that a failing test leaves no
// goroutine behind (inside a synctest bubble, cleanups run in the bubble).
func serve(t testing.TB, s *sdk.Supervisor) *serving {
	ctx, cancel := context.WithCancel(context.Background())
	sv := &serving{cancel: cancel, finished: make(chan struct{})}
	go func() {
		sv.err = s.Serve(ctx)
		close(sv.finished)
	}()
	t.Cleanup(func() {
		sv.cancel()
		<-sv.finished
	})
	return sv
}

// stop cancels the Serve call and returns its result.
func (sv *serving) stop() error {
	sv.cancel()
	return sv.wait()
}

// wait waits for Serve to return on its own and returns its result.
func (sv *serving) wait() error {
	<-sv.finished
	return sv.err
}

// returned reports whether Serve has returned, and its result. Under
// synctest, call synctest.Wait first.
func (sv *serving) returned() (bool, error) {
	select {
	case <-sv.finished:
		return true, sv.err
	default:
		return false, nil
	}
}

// startSup starts s with Start, failing the test if it does not start, and
// shuts it down when the test ends (inside a synctest bubble, cleanups run
// in the bubble), so that no goroutine is left behind.
func startSup(t testing.TB, s *sdk.Supervisor) {
	t.Helper()
	require.NoError(t, s.Start(context.Background()))
	shutdownAtEnd(t, s)
}

// shutdownAtEnd shuts s down when the test ends. It does nothing to a
// supervisor that never started or has already ended.
func shutdownAtEnd(t testing.TB, s *sdk.Supervisor) {
	t.Cleanup(func() { _, _ = s.Shutdown(context.Background(), "test", "cleanup") })
}

// readyAfter is a service that signals readiness after d and then runs
// until cancelled.
func readyAfter(d time.Duration) sdk.Service {
	return sdk.ServiceFunc(func(ctx context.Context) error {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil
		}
		if err := sdk.Ready(ctx); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	})
}

// steered is a service whose attempts log their entry and exit in log
// ("enter name#n", "cancelled name#n", "exit name#n"), take stopDelay to
// return once cancelled, and return whatever the test sends on fail.
type steered struct {
	name      string
	log       *attempts
	stopDelay time.Duration
	fail      chan error
}

// newSteered returns a steered service. Create it inside the synctest
// bubble that uses it: its channel belongs to the bubble.
func newSteered(log *attempts, name string, stopDelay time.Duration) *steered {
	return &steered{name: name, log: log, stopDelay: stopDelay, fail: make(chan error)}
}

func (s *steered) Serve(ctx context.Context) error {
	n := s.log.start(s.name)
	s.log.note("enter %s#%d", s.name, n)
	select {
	case err := <-s.fail:
		s.log.note("exit %s#%d", s.name, n)
		return err
	case <-ctx.Done():
	}
	s.log.note("cancelled %s#%d", s.name, n)
	time.Sleep(s.stopDelay)
	s.log.note("exit %s#%d", s.name, n)
	return nil
}

// spec returns the child spec running s, restarted without delay.
func (s *steered) spec() sdk.Spec {
	return sdk.Spec{Name: s.name, Service: s, Backoff: sdk.NoBackoff(), StopTimeout: s.stopDelay + time.Second}
}

// prefixed returns the lines of log that start with one of the prefixes,
// in order.
func prefixed(lines []string, prefixes ...string) []string {
	var out []string
	for _, l := range lines {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// epoch is the time a synctest bubble starts at.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// timeline renders events as "offset type path#attempt", offset from the
// start of the synctest bubble.
func timeline(evs []sdk.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Time.Sub(epoch).String()+" "+compact(e))
	}
	return out
}

// bubble is synctest.Test, except that a test that skips itself inside the
// bubble (t.Skip on a known bug) is reported as skipped rather than passed.
func bubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	var skipped bool
	synctest.Test(t, func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		f(t)
	})
	if skipped {
		t.SkipNow()
	}
}

// runSup serves s until ctx ends and returns its report with Serve's
// error.
func runSup(ctx context.Context, s *sdk.Supervisor) (*sdk.Report, error) {
	err := s.Serve(ctx)
	rep, _ := s.Wait(context.Background())
	return rep, err
}

// reportOf returns the report of s's last run, or nil while it runs or
// before it has run.
func reportOf(s *sdk.Supervisor) *sdk.Report {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, _ := s.Wait(ctx) // nil, ctx's cause, while it runs
	return rep
}

// cmdErr drops a command's result: for tests that look only at its error.
func cmdErr(_ sdk.CommandResult, err error) error { return err }
