package sdk

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Subscription is a buffered feed of a supervisor's events, including those
// of its nested supervisors. Delivery never blocks the supervisor: when the
// buffer is full the event is dropped and counted.
type Subscription struct {
	s       *Supervisor
	ch      chan Event
	dropped atomic.Uint64

	mu     sync.Mutex // orders offers against Close, so C is never sent to after it is closed
	closed bool
}

// Subscribe starts a subscription with room for buffer events (at least
// 1). Events are delivered in the order each supervisor emits them. Call
// [Subscription.Close] when done.
func (s *Supervisor) Subscribe(buffer int) *Subscription {
	sub := &Subscription{s: s, ch: make(chan Event, max(buffer, 1))}
	s.subsMu.Lock()
	next := append(slices.Clone(s.subsList()), sub)
	s.subs.Store(&next)
	s.subsMu.Unlock()
	return sub
}

// C returns the channel of events. It is closed by [Subscription.Close].
func (sub *Subscription) C() <-chan Event { return sub.ch }

// Dropped returns how many events were dropped because the buffer was full.
func (sub *Subscription) Dropped() uint64 { return sub.dropped.Load() }

// Close ends the subscription and closes C. It is idempotent.
func (sub *Subscription) Close() {
	s := sub.s
	s.subsMu.Lock()
	next := slices.DeleteFunc(slices.Clone(s.subsList()), func(x *Subscription) bool { return x == sub })
	s.subs.Store(&next)
	s.subsMu.Unlock()
	sub.mu.Lock()
	if !sub.closed {
		sub.closed = true
		close(sub.ch)
	}
	sub.mu.Unlock()
}

func (sub *Subscription) offer(e Event) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.closed {
		return
	}
	select {
	case sub.ch <- e:
	default:
		sub.dropped.Add(1)
	}
}

// subsList returns the current subscriptions; the slice is never modified
// in place, so readers need no lock.
func (s *Supervisor) subsList() []*Subscription {
	if p := s.subs.Load(); p != nil {
		return *p
	}
	return nil
}
