package sdktest

import (
	"context"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// Step is what an attempt of a [Script] does, or a part of it (see
// [Seq]). Some steps end the attempt (Return, Block, ...); others go on
// to the next step of a Seq (Sleep, Ready). Every wait of a step that
// the supervisor may interrupt ends the attempt with nil when its
// context is cancelled, as a well-behaved service does, unless the step
// says otherwise (Stubborn, SlowStop). Timed steps use the clock, so
// inside a synctest bubble they take exactly the fake time they say.
//
// The zero Step blocks, as Block does.
type Step struct {
	// fn performs the step; done reports that the attempt ends with err.
	fn func(ctx context.Context, s *Service, a *attempt) (done bool, err error)
}

func (st Step) run(ctx context.Context, s *Service, a *attempt) (done bool, err error) {
	if st.fn == nil {
		return Block().fn(ctx, s, a)
	}
	return st.fn(ctx, s, a)
}

// Return ends the attempt with err at once (nil: a clean exit).
func Return(err error) Step {
	return Step{func(context.Context, *Service, *attempt) (bool, error) { return true, err }}
}

// Panic panics with v.
func Panic(v any) Step {
	return Step{func(_ context.Context, s *Service, a *attempt) (bool, error) {
		s.markPanicked(a)
		panic(v)
	}}
}

// Sleep waits d and goes on to the next step.
func Sleep(d time.Duration) Step {
	return Step{func(ctx context.Context, _ *Service, _ *attempt) (bool, error) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return false, nil
		case <-ctx.Done():
			return true, nil
		}
	}}
}

// Ready signals readiness with sdk.Ready and goes on; the attempt ends
// with Ready's error if it has one (it is not a supervised attempt, or
// the attempt has ended).
func Ready() Step {
	return Step{func(ctx context.Context, _ *Service, _ *attempt) (bool, error) {
		if err := sdk.Ready(ctx); err != nil {
			return true, err
		}
		return false, nil
	}}
}

// Block runs until the attempt's context is cancelled, then returns nil.
func Block() Step {
	return Step{func(ctx context.Context, _ *Service, _ *attempt) (bool, error) {
		<-ctx.Done()
		return true, nil
	}}
}

// RunFor runs for d, then returns err: Seq(Sleep(d), Return(err)).
func RunFor(d time.Duration, err error) Step { return Seq(Sleep(d), Return(err)) }

// ReadyAfter signals readiness after d, then runs until cancelled:
// Seq(Sleep(d), Ready(), Block()).
func ReadyAfter(d time.Duration) Step { return Seq(Sleep(d), Ready(), Block()) }

// SlowStop runs until cancelled, then takes d to return nil: a service
// with a long clean-up, to exercise stop timeouts.
func SlowStop(d time.Duration) Step {
	return Step{func(ctx context.Context, _ *Service, _ *attempt) (bool, error) {
		<-ctx.Done()
		time.Sleep(d)
		return true, nil
	}}
}

// Stubborn ignores cancellation: it returns nil only once the Service is
// released ([Service.Release]), which the test must do before it ends.
// It is how a wedged service looks to the supervisor, which abandons it.
func Stubborn() Step {
	return Step{func(_ context.Context, s *Service, _ *attempt) (bool, error) {
		<-s.releaseCh()
		return true, nil
	}}
}

// HeartbeatEvery calls sdk.Heartbeat every p (the first p after the step
// begins) until the attempt's context is cancelled, then returns nil.
func HeartbeatEvery(p time.Duration) Step {
	return Step{func(ctx context.Context, _ *Service, _ *attempt) (bool, error) {
		t := time.NewTicker(p)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				sdk.Heartbeat(ctx)
			case <-ctx.Done():
				return true, nil
			}
		}
	}}
}

// Func ends the attempt with what f returns: the way out for a behaviour
// the other steps do not cover, still recorded as an attempt.
func Func(f func(ctx context.Context) error) Step {
	return Step{func(ctx context.Context, _ *Service, _ *attempt) (bool, error) { return true, f(ctx) }}
}

// Seq runs steps one after the other, within one attempt, until one ends
// the attempt; when none does, the attempt returns nil after the last.
func Seq(steps ...Step) Step {
	return Step{func(ctx context.Context, s *Service, a *attempt) (bool, error) {
		for _, st := range steps {
			if done, err := st.run(ctx, s, a); done {
				return true, err
			}
		}
		return true, nil
	}}
}
