package sdk

import (
	"fmt"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// Option configures a [Supervisor] at construction.
type Option func(*config)

type config struct {
	strategy      Strategy
	intensity     Intensity
	autoShutdown  AutoShutdown
	hooks         []func(Event)
	passPanics    bool
	rand          Rand
	metrics       *lifecycle.StateMetrics
	metricsSet    bool
	removeEnded   bool // pools forget children that end for good
	shutdownOrder ShutdownOrder
	feedLimit     int
	maxChildren   int
	recorder      int // flight recorder size, when recorderSet
	recorderSet   bool
}

// Strategy decides which children restart together.
type Strategy uint8

const (
	// OneForOne restarts only the child that exited.
	OneForOne Strategy = iota + 1
	// OneForAll stops every other child, then restarts them all.
	OneForAll
	// RestForOne stops the children declared after the one that exited,
	// then restarts it and them.
	RestForOne
)

var strategyLabels = [...]string{OneForOne: "one_for_one", OneForAll: "one_for_all", RestForOne: "rest_for_one"}

func (s Strategy) String() string {
	if s > 0 && int(s) < len(strategyLabels) {
		return strategyLabels[s]
	}
	return fmt.Sprintf("strategy(%d)", uint8(s))
}

// AutoShutdown decides whether significant children end their supervisor.
type AutoShutdown uint8

const (
	// AutoShutdownNever: the default; significant children are rejected.
	AutoShutdownNever AutoShutdown = iota
	// AnySignificant: the supervisor shuts down when any significant child
	// ends on its own and is not restarted.
	AnySignificant
	// AllSignificant: the supervisor shuts down when the last significant
	// child has ended on its own.
	AllSignificant
)

// WithStrategy sets the restart strategy. The default is OneForOne.
func WithStrategy(s Strategy) Option { return func(c *config) { c.strategy = s } }

// WithIntensity sets the restart intensity. The default is
// [DefaultIntensity]().
func WithIntensity(i Intensity) Option { return func(c *config) { c.intensity = i } }

// WithAutoShutdown sets what significant children do to the supervisor.
func WithAutoShutdown(a AutoShutdown) Option { return func(c *config) { c.autoShutdown = a } }

// WithEventHook adds an observer of every event of the supervisor and of
// its nested supervisors. Hooks run in event order, one event at a time,
// on a goroutine of the tree's own, never on a supervisor's: a slow hook
// delays only the hooks after it, a panicking one is recovered and
// reported (an [EventHookPanicked]), and a hook may call any method of the
// supervisor (see [Supervisor.Shutdown] for the one that calls Shutdown).
// The events queued for hooks are bounded (see [WithHookQueue]); when the
// queue is full an event is dropped for the hooks, which see the gap in
// [Event.Seq]. [Supervisor.Shutdown], Wait and Serve return once the hooks
// have seen the supervisor's last event.
func WithEventHook(h func(Event)) Option {
	return func(c *config) {
		if h != nil {
			c.hooks = append(c.hooks, h)
		}
	}
}

// WithHookQueue bounds the events queued for the tree's hooks (see
// [WithEventHook]) to n; 0 or less keeps the default, 4096. It matters on
// the root supervisor, whose queue the whole tree shares.
func WithHookQueue(n int) Option { return func(c *config) { c.feedLimit = n } }

// WithMaxChildren bounds the supervisor's children to n (0, the default:
// no bound): Add, and Pool.Start, beyond it return an error matching
// [ErrTooManyChildren]. It bounds what a pool fed by outside requests can
// grow to.
func WithMaxChildren(n int) Option { return func(c *config) { c.maxChildren = n } }

// WithPanicPassThrough lets a child's panic crash the process after the
// panic event has been delivered, instead of treating it as a failure.
func WithPanicPassThrough() Option { return func(c *config) { c.passPanics = true } }

// WithRand sets the source of backoff jitter, for reproducible tests.
func WithRand(r Rand) Option { return func(c *config) { c.rand = r } }

// WithStateMetrics reports the lifecycle state sets of the supervisor and
// its children through sm (nil: none). The default is the process-wide
// state metrics of package lifecycle, on the global MeterProvider. Nested
// supervisors without their own setting inherit their parent's.
func WithStateMetrics(sm *lifecycle.StateMetrics) Option {
	return func(c *config) { c.metrics, c.metricsSet = sm, true }
}

func (c *config) validate() error {
	bad := func(field, format string, args ...any) error {
		return &SpecError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	if c.strategy < OneForOne || c.strategy > RestForOne {
		return bad("Strategy", "%d is not a strategy", c.strategy)
	}
	if c.autoShutdown > AllSignificant {
		return bad("AutoShutdown", "%d is not an auto-shutdown mode", c.autoShutdown)
	}
	if c.rand == nil {
		return bad("Rand", "is nil")
	}
	if c.maxChildren < 0 {
		return bad("MaxChildren", "is negative (%d)", c.maxChildren)
	}
	return c.intensity.Validate()
}
