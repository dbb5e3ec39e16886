package sdktest

import (
	"slices"
	"sync"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// Recorder keeps every event it is given, in the order given. The zero
// Recorder is ready to use; it is safe for concurrent use. Attach it to a
// tree in one way only, or it records events twice.
//
// Its accessors settle a synctest bubble before they read (see [Settle]
// and the package documentation), so that inside a bubble they see
// everything that has happened; outside one they see what has been
// delivered so far.
type Recorder struct {
	mu     sync.Mutex
	events []sdk.Event
	// wake are the channels of blocked waiters, closed at the next event.
	// Each waiter makes its own, so that the channel belongs to the
	// waiter's bubble and blocking on it lets fake time advance.
	wake []chan struct{}
	subs []*sdk.Subscription
}

// subscriptionBuffer matches the sdk's default hook queue, so that the
// two ways of attaching lose events under the same load.
const subscriptionBuffer = 4096

// Hook records e. Pass it to sdk.WithEventHook on the root of the tree;
// it never blocks.
func (r *Recorder) Hook(e sdk.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	for _, ch := range r.wake {
		close(ch)
	}
	r.wake = nil
	r.mu.Unlock()
}

// Subscribe records the events of s and its subtree through a
// subscription, for a supervisor built elsewhere (whose hooks are fixed
// at sdk.New). Subscriptions receive events as they are emitted, and a
// goroutine of the recorder's moves them here. stop closes the
// subscription and returns once every event it buffered has been
// recorded; it is idempotent. Call it before the test ends (a deferred
// call, or t.Cleanup inside a bubble).
func (r *Recorder) Subscribe(s *sdk.Supervisor) (stop func()) {
	sub := s.Subscribe(subscriptionBuffer)
	r.mu.Lock()
	r.subs = append(r.subs, sub)
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range sub.C() {
			r.Hook(e)
		}
	}()
	return func() {
		sub.Close()
		<-done
	}
}

// Dropped counts the events lost by the recorder's subscriptions because
// their buffers were full. (Events dropped by the hook queue show as gaps
// in Event.Seq instead.)
func (r *Recorder) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n uint64
	for _, sub := range r.subs {
		n += sub.Dropped()
	}
	return n
}

// Events returns a copy of every event recorded so far.
func (r *Recorder) Events() []sdk.Event {
	Settle()
	return r.snapshot()
}

func (r *Recorder) snapshot() []sdk.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Filter returns the events that [Match] path and types.
func (r *Recorder) Filter(path string, types ...sdk.EventType) []sdk.Event {
	return slices.DeleteFunc(r.Events(), not(Match(path, types...)))
}

// Last returns the last event of type typ for path ("" for any), and
// whether there is one.
func (r *Recorder) Last(path string, typ sdk.EventType) (sdk.Event, bool) {
	evs := r.Filter(path, typ)
	if len(evs) == 0 {
		return sdk.Event{}, false
	}
	return evs[len(evs)-1], true
}

// States returns the lifecycle states path went through, in order: the
// To of each of its events that has one, a state repeated by consecutive
// events listed once. For a child that failed once and was restarted
// after a backoff it is starting, running, backoff, starting, running.
func (r *Recorder) States(path string) []lifecycle.State {
	return statesOf(r.Events(), path)
}

func statesOf(evs []sdk.Event, path string) []lifecycle.State {
	var out []lifecycle.State
	for _, e := range evs {
		if e.Path == path && e.To != 0 && (len(out) == 0 || out[len(out)-1] != e.To) {
			out = append(out, e.To)
		}
	}
	return out
}

// Match returns a predicate for events of path ("" for any path) whose
// type is one of types (none for any type), for Filter, WaitFor and
// slices.DeleteFunc alike.
func Match(path string, types ...sdk.EventType) func(sdk.Event) bool {
	return func(e sdk.Event) bool {
		return (path == "" || e.Path == path) && (len(types) == 0 || slices.Contains(types, e.Type))
	}
}

func not(f func(sdk.Event) bool) func(sdk.Event) bool {
	return func(e sdk.Event) bool { return !f(e) }
}
