package sdktest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// Service is a scripted sdk.Service: each attempt (each call of Serve)
// runs the next [Step] of its script, and is recorded. Build one with
// [Script] or [FailTimes]. It is safe for concurrent use, but one child
// runs one attempt at a time, so give each child its own Service.
type Service struct {
	script []Step

	mu       sync.Mutex
	attempts []*attempt
	released bool
	release  chan struct{} // made by the first Stubborn step; see releaseCh
}

// Attempt is what one call of Serve did.
type Attempt struct {
	// N numbers the attempts of the Service, from 1: for a Service run by
	// one child, the same number as Event.Attempt.
	N int
	// Started and Ended are when Serve was entered and returned; Ended is
	// zero while the attempt runs.
	Started, Ended time.Time
	// Err is what Serve returned (nil for a panic).
	Err      error
	Panicked bool
	// Cause is context.Cause of the attempt's context: as it was when
	// Serve returned, or is now for an attempt still running (a Stubborn
	// one, say). It is nil when the context had not ended, which is the
	// case for an attempt that returned on its own. When the supervisor
	// stopped the attempt it is a *sdk.StopCause; see Stop.
	Cause error
}

// Stop returns the *sdk.StopCause the supervisor stopped the attempt
// with, or nil when it did not stop it.
func (a Attempt) Stop() *sdk.StopCause {
	var sc *sdk.StopCause
	if errors.As(a.Cause, &sc) {
		return sc
	}
	return nil
}

// Running reports whether the attempt is still inside Serve.
func (a Attempt) Running() bool { return a.Ended.IsZero() }

// attempt is the Service's own record, with the context it needs to
// report a live cause.
type attempt struct {
	Attempt
	ctx context.Context
}

// Script returns a Service whose n-th attempt runs steps[n-1]; the
// attempts after the last step run the last step again. Script() with no
// step blocks until cancelled, as Script(Block()) does.
func Script(steps ...Step) *Service {
	if len(steps) == 0 {
		steps = []Step{Block()}
	}
	return &Service{script: steps}
}

// FailTimes returns a Service whose first n attempts return err at once
// and whose later attempts run then: a dependency that is down for n
// tries, then back. then is the behaviour of the recovered service,
// such as Block() for a long-running one or Return(nil) for a job.
func FailTimes(n int, err error, then Step) *Service {
	steps := make([]Step, 0, n+1)
	for range n {
		steps = append(steps, Return(err))
	}
	return Script(append(steps, then)...)
}

// Serve runs the next attempt of the script.
func (s *Service) Serve(ctx context.Context) (err error) {
	a, step := s.begin(ctx)
	// Deferred, so that a panicking or Goexit-ing step is recorded too.
	defer func() { s.end(a, err) }()
	_, err = step.run(ctx, s, a)
	return err
}

func (s *Service) begin(ctx context.Context) (*attempt, Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &attempt{Attempt: Attempt{N: len(s.attempts) + 1, Started: time.Now()}, ctx: ctx}
	s.attempts = append(s.attempts, a)
	return a, s.script[min(a.N, len(s.script))-1]
}

func (s *Service) end(a *attempt, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.Ended, a.Err = time.Now(), err
	if a.ctx.Err() != nil {
		a.Cause = context.Cause(a.ctx)
	}
}

// Attempts returns the attempts so far, in order. It settles a synctest
// bubble first, as the Recorder's accessors do.
func (s *Service) Attempts() []Attempt {
	Settle()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Attempt, 0, len(s.attempts))
	for _, a := range s.attempts {
		snap := a.Attempt
		if snap.Running() && a.ctx.Err() != nil {
			snap.Cause = context.Cause(a.ctx)
		}
		out = append(out, snap)
	}
	return out
}

// Release lets every Stubborn step of s return, now and from now on. It
// is idempotent. A test that uses Stubborn must call it before it ends,
// or the stubborn goroutine outlives the test: register it with
// t.Cleanup(svc.Release), inside a bubble with the bubble's own t.
func (s *Service) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.released {
		s.released = true
		if s.release != nil {
			close(s.release)
		}
	}
}

// releaseCh returns the channel Release closes. It is made on first use,
// by the attempt that needs it, so that it belongs to the attempt's
// synctest bubble: a goroutine blocked on a channel from outside its
// bubble would keep fake time from advancing.
func (s *Service) releaseCh() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.release == nil {
		s.release = make(chan struct{})
		if s.released {
			close(s.release)
		}
	}
	return s.release
}

// markPanicked records, just before a Panic step panics, what the
// deferred end cannot tell from a nil error.
func (s *Service) markPanicked(a *attempt) {
	s.mu.Lock()
	a.Panicked = true
	s.mu.Unlock()
}
