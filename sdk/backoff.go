package sdk

import (
	"fmt"
	"math"
	"time"
)

// Backoff is the per-child delay policy between attempts. It is never
// supervisor-wide: a shared pause (as in suture) also delays healthy
// siblings that happen to fail during it, while a per-child policy slows
// only the child that keeps failing. Bounding the total number of restarts
// is the job of [Intensity], which is kept separate so that either can be
// tuned without silently disabling the other.
//
// Growth is multiplicative, so Initial 0 means every delay is 0: the child
// restarts immediately and only Intensity limits a crash loop.
type Backoff struct {
	// Initial is the delay before the first restart. 0 is allowed and
	// means restart immediately.
	Initial time.Duration
	// Max caps every delay, jittered or not, so it can be used as the
	// longest time a failed child stays down.
	Max time.Duration
	// Multiplier is the growth per consecutive failure; 1 gives a
	// constant delay. It must be at least 1 so that a persistent failure
	// never restarts faster over time.
	Multiplier float64
	// Jitter spreads delays of children that fail together.
	Jitter Jitter
	// ResetAfter makes an attempt that ran at least this long count as
	// healthy, so the next failure starts again from Initial instead of
	// paying for failures long past. 0 means time never resets the growth.
	ResetAfter time.Duration
}

// Validate reports the first invalid field as a *[SpecError] whose Field is
// the path within the policy, such as "Backoff.Max". Child is left empty
// because a Backoff does not know which child it belongs to; the caller
// fills it in.
func (b Backoff) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &SpecError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	switch {
	case b.Initial < 0:
		return bad("Backoff.Initial", "negative duration %v", b.Initial)
	case b.Max < 0:
		return bad("Backoff.Max", "negative duration %v", b.Max)
	case b.Max < b.Initial:
		return bad("Backoff.Max", "%v is less than Initial %v", b.Max, b.Initial)
	case math.IsNaN(b.Multiplier) || math.IsInf(b.Multiplier, 0) || b.Multiplier < 1:
		return bad("Backoff.Multiplier", "%v is not a finite number >= 1", b.Multiplier)
	case b.Jitter > JitterDecorrelated:
		return bad("Backoff.Jitter", "unknown jitter %d", uint8(b.Jitter))
	case b.ResetAfter < 0:
		return bad("Backoff.ResetAfter", "negative duration %v", b.ResetAfter)
	}
	return nil
}

// Delay returns the un-jittered exponential delay before the n-th
// consecutive restart: min(Max, Initial × Multiplier^(n−1)). n below 1 is
// treated as 1.
//
// The computation saturates at Max instead of overflowing, so the result is
// always in [0, Max] however large n or Multiplier is; a supervisor that
// has been failing for months must not wrap around to a negative delay and
// spin. Invalid policies are clamped into the same range rather than
// trusted, although [Backoff.Validate] should have rejected them.
func (b Backoff) Delay(n int) time.Duration {
	if b.Max <= 0 || b.Initial <= 0 {
		return 0
	}
	d := b.Initial
	if n > 1 && b.Multiplier != 1 {
		f := float64(b.Initial) * math.Pow(b.Multiplier, float64(n-1))
		// The negated comparison also sends NaN to Max.
		if !(f < float64(b.Max)) {
			return b.Max
		}
		if f <= 0 {
			return 0
		}
		d = time.Duration(f)
	}
	return min(d, b.Max)
}

// backoffState is one child's failure history: the count of consecutive
// failures, which is the only such counter a child has (backoff delays,
// events and log levels all read it), and the decorrelated-jitter state.
// Its one reset rule: a clean exit, or an attempt that ran at least
// ResetAfter, clears the count. It is owned by the supervisor's loop and
// deliberately not safe for concurrent use, which keeps it free of locks
// and allocations.
type backoffState struct {
	policy *Backoff
	rnd    Rand
	// n is the number of consecutive failures.
	n int
	// prev is the last decorrelated delay; decorrelated jitter grows from
	// it rather than from n. It restarts at Initial.
	prev time.Duration
}

// init starts a child's history with no failures. A nil rnd selects the
// runtime-seeded global source.
func (s *backoffState) init(b *Backoff, rnd Rand) {
	if rnd == nil {
		rnd = globalRand{}
	}
	*s = backoffState{policy: b, rnd: rnd}
	s.reset()
}

func newBackoffState(b Backoff, rnd Rand) *backoffState {
	s := &backoffState{}
	s.init(&b, rnd)
	return s
}

// record counts how an attempt that ran for ran ended. A run of at least
// ResetAfter clears the count first: the child had recovered, so an old
// failure no longer makes the next delay longer.
func (s *backoffState) record(failed bool, ran time.Duration) {
	if rs := s.policy.ResetAfter; rs > 0 && ran >= rs {
		s.reset()
	}
	if !failed {
		s.reset()
		return
	}
	if s.n < math.MaxInt {
		s.n++
	}
}

// after returns the count a failure after an attempt that ran for ran
// would make, without counting it.
func (s *backoffState) after(ran time.Duration) int {
	if rs := s.policy.ResetAfter; rs > 0 && ran >= rs {
		return 1
	}
	return s.n + 1
}

// next counts a failure after an attempt that ran for ran and returns the
// delay before the next attempt.
func (s *backoffState) next(ran time.Duration) time.Duration {
	s.record(true, ran)
	return s.delay()
}

// delay draws the delay before the next attempt for the current count;
// with no failure counted it is the first restart's.
func (s *backoffState) delay() time.Duration {
	b := s.policy
	n := max(s.n, 1)
	switch b.Jitter {
	case JitterFull:
		return s.uniform(0, b.Delay(n))
	case JitterEqual:
		d := b.Delay(n)
		half := d / 2
		return half + s.uniform(0, d-half)
	case JitterDecorrelated:
		hi := b.Max
		if s.prev <= b.Max/3 {
			hi = s.prev * 3
		}
		lo := min(max(b.Initial, 0), max(b.Max, 0))
		s.prev = s.uniform(lo, hi)
		return s.prev
	}
	return b.Delay(n)
}

// reset forgets the failure history, as if the child had never failed.
func (s *backoffState) reset() {
	s.n = 0
	s.prev = s.policy.Initial
}

// consecutive returns the number of consecutive failures.
func (s *backoffState) consecutive() int { return s.n }

// uniform returns a value in [lo, hi], or lo when the range is empty. The
// result is clamped so that a misbehaving Rand cannot push a delay past
// Max.
func (s *backoffState) uniform(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	span := int64(hi - lo)
	if span < math.MaxInt64 {
		span++ // make hi reachable
	}
	v := lo + time.Duration(s.rnd.Int64N(span))
	return min(max(v, lo), hi)
}
