package lifecycle

import "time"

// Option configures a [Machine] at construction.
type Option func(*options)

type options struct {
	now        func() time.Time
	metrics    *StateMetrics
	metricsSet bool
	emitter    emitter
}

// WithClock sets the source of transition times. The default is time.Now.
// A nil clock is rejected by [New].
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithStateMetrics registers the machine with sm, which reports its state
// set until [Machine.Close]. The default is a process-wide [StateMetrics] on
// the global MeterProvider, created on first use. WithStateMetrics(nil)
// reports nothing.
func WithStateMetrics(sm *StateMetrics) Option {
	return func(o *options) { o.metrics, o.metricsSet = sm, true }
}

// withEmitter replaces the span-event emitter; the seam for a log-based
// emitter and for tests.
func withEmitter(e emitter) Option {
	return func(o *options) { o.emitter = e }
}
