package sdktest

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// The Wait helpers block on the recorder's next event, never on a timer,
// so inside a synctest bubble they are durably blocked and fake time
// moves on to whatever the tree does next; outside a bubble they wake
// when the event arrives. Each is bounded by ctx: give it a deadline
// (inside a bubble the deadline is fake time and costs nothing). They
// see only the events of the tree the recorder is attached to.

// WaitFor returns the first event recorded, before or after the call,
// for which match is true. When ctx ends first it returns an error
// wrapping ctx's cause and listing the last events seen.
func (r *Recorder) WaitFor(ctx context.Context, match func(sdk.Event) bool) (sdk.Event, error) {
	for i := 0; ; {
		evs, wake := r.since(i)
		if k := slices.IndexFunc(evs, match); k >= 0 {
			return evs[k], nil
		}
		i += len(evs)
		if err := await(ctx, wake); err != nil {
			return sdk.Event{}, r.gaveUp("no matching event", err)
		}
	}
}

// WaitState returns once path is in one of states, as its events tell
// (see [Recorder.States]): at once if its last event left it there,
// otherwise at the first later event that moves it into one of them,
// which it returns. A state entered and left between two looks is not
// missed: every event is examined.
func (r *Recorder) WaitState(ctx context.Context, path string, states ...lifecycle.State) (sdk.Event, error) {
	in := func(e sdk.Event) bool { return e.Path == path && e.To != 0 && slices.Contains(states, e.To) }
	evs, _ := r.since(0)
	for k := len(evs) - 1; k >= 0; k-- {
		if e := evs[k]; e.Path == path && e.To != 0 {
			if in(e) {
				return e, nil
			}
			break
		}
	}
	for i := len(evs); ; {
		evs, wake := r.since(i)
		if k := slices.IndexFunc(evs, in); k >= 0 {
			return evs[k], nil
		}
		i += len(evs)
		if err := await(ctx, wake); err != nil {
			return sdk.Event{}, r.gaveUp(fmt.Sprintf("%s never reached %v (its states: %v)", path, states, statesOf(r.snapshot(), path)), err)
		}
	}
}

// WaitReady returns once s's Status says the tree is ready: its start has
// completed and every child that declares readiness is ready now. It
// asks again after each event, so the recorder must be attached to s's
// tree. It returns an error when s has ended (it will not become ready)
// or when ctx ends first.
func (r *Recorder) WaitReady(ctx context.Context, s *sdk.Supervisor) error {
	for {
		// Look at the events first, so that an event that makes the tree
		// ready while Status is being answered still wakes us.
		n := r.count()
		st, err := s.Status(ctx)
		if err != nil {
			return r.gaveUp(s.Path()+" is not ready", err)
		}
		if st.Ready {
			return nil
		}
		if st.Health.State != 0 && !st.Health.Alive {
			return fmt.Errorf("sdktest: %s ended (%s) before it was ready", s.Path(), st.Health.State)
		}
		_, wake := r.since(n)
		if err := await(ctx, wake); err != nil {
			return r.gaveUp(s.Path()+" is not ready", err)
		}
	}
}

// since returns the events from index i on, or, when there are none yet,
// a channel closed by the next event.
func (r *Recorder) since(i int) ([]sdk.Event, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) > i {
		return slices.Clone(r.events[i:]), nil
	}
	ch := make(chan struct{})
	r.wake = append(r.wake, ch)
	return nil, ch
}

func (r *Recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// await blocks until wake is closed (a nil wake: there is more to look
// at already) or ctx ends.
func await(ctx context.Context, wake <-chan struct{}) error {
	if wake == nil {
		return nil
	}
	select {
	case <-wake:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// lastShown bounds the events an error lists: enough to see what the
// tree was doing, short enough to read.
const lastShown = 12

func (r *Recorder) gaveUp(what string, cause error) error {
	evs := r.snapshot()
	var b strings.Builder
	fmt.Fprintf(&b, "%d events recorded", len(evs))
	if len(evs) > lastShown {
		fmt.Fprintf(&b, ", the last %d", lastShown)
		evs = evs[len(evs)-lastShown:]
	}
	for _, e := range evs {
		b.WriteString("\n\t" + Compact(e))
	}
	return fmt.Errorf("sdktest: %s: %w (%s)", what, cause, b.String())
}
