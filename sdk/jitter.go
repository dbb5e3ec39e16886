package sdk

import (
	"fmt"
	"math/rand/v2"
)

// Jitter spreads restart delays so that children failing together do not
// restart together. Without it, siblings that lost the same dependency
// retry in lock step and hit it as a thundering herd on every attempt.
//
// Every mode keeps the delay within [0, Backoff.Max], so Max remains a
// hard upper bound that callers can rely on for timeouts and alerting.
type Jitter uint8

const (
	// JitterNone uses the exponential delay exactly. It is the zero value
	// so that a Backoff literal without Jitter is predictable.
	JitterNone Jitter = iota
	// JitterFull draws the delay uniformly from [0, d], where d is the
	// exponential delay. It spreads retries the most, at the price of
	// sometimes restarting almost immediately.
	JitterFull
	// JitterEqual draws the delay from [d/2, d]: it keeps at least half of
	// the exponential delay, so the backoff still slows a crash loop, while
	// spreading the rest.
	JitterEqual
	// JitterDecorrelated is AWS's "decorrelated jitter": each delay is
	// drawn uniformly from [Initial, 3×previous delay] and capped at Max.
	// It ignores Multiplier, growing by the random draws instead, and it
	// never goes below Initial, which suits dependencies that need a
	// minimum quiet time.
	JitterDecorrelated
)

// String returns the label used in configuration and telemetry.
func (j Jitter) String() string {
	switch j {
	case JitterNone:
		return "none"
	case JitterFull:
		return "full"
	case JitterEqual:
		return "equal"
	case JitterDecorrelated:
		return "decorrelated"
	}
	return fmt.Sprintf("Jitter(%d)", uint8(j))
}

// ParseJitter is the inverse of [Jitter.String]. It accepts only the exact
// labels, so that a typo in configuration fails loudly instead of silently
// disabling jitter.
func ParseJitter(label string) (Jitter, error) {
	for j := JitterNone; j <= JitterDecorrelated; j++ {
		if j.String() == label {
			return j, nil
		}
	}
	return JitterNone, fmt.Errorf("sdk: unknown jitter %q (want none, full, equal or decorrelated)", label)
}

// MarshalText encodes j as its label, so that JSON and YAML configurations
// read "full" rather than a number whose meaning depends on declaration
// order. An out-of-range value is an error rather than an unparsable label.
func (j Jitter) MarshalText() ([]byte, error) {
	if j > JitterDecorrelated {
		return nil, fmt.Errorf("sdk: cannot marshal unknown jitter %d", uint8(j))
	}
	return []byte(j.String()), nil
}

// UnmarshalText decodes a label written by [Jitter.MarshalText]. On error
// *j is left unchanged.
func (j *Jitter) UnmarshalText(text []byte) error {
	v, err := ParseJitter(string(text))
	if err != nil {
		return err
	}
	*j = v
	return nil
}

// Rand is the source of jitter. The supervisor's default is seeded from the
// runtime; tests pass a seeded one, such as *math/rand/v2.Rand, to get exact
// delay sequences.
type Rand interface {
	// Int64N returns a uniform value in [0, n). It is only called with
	// n > 0.
	Int64N(n int64) int64
}

// globalRand is the default [Rand]. The math/rand/v2 top-level functions
// are runtime-seeded and safe for concurrent use, so one value can serve
// every supervisor without locking of our own.
type globalRand struct{}

func (globalRand) Int64N(n int64) int64 { return rand.Int64N(n) }
