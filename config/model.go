package config

import (
	"time"
)

// The model below is the single source of the file format: the loader
// decodes into it by its json tags, and the JSON Schema is generated from it
// (field descriptions are these doc comments, enum values are the typed
// constants). Run `go generate ./config/` after changing it.
//
// Optional scalars are pointers so that an explicit zero ("stale_after: 0s",
// which turns off an inherited heartbeat check) differs from an omitted
// field (which inherits).

// Config is a supervision tree: one supervisor, its settings, the defaults
// its children inherit, and its children. A child may itself be a
// supervisor with the same schema.
type Config struct {
	// Schema is ignored. It lets a JSON file name its schema for editors
	// ("$schema": "./supervisor.schema.json"); YAML files use a
	// "# yaml-language-server: $schema=..." comment instead.
	Schema string `json:"$schema,omitempty" yaml:"$schema,omitempty"`
	// Name of the supervisor: the first segment of every path in the tree
	// (letters, digits, '_', '-' and '.', at most 63 bytes). Required at
	// the top level; a nested supervisor is named by its child entry and
	// may omit it.
	Name string `json:"name,omitempty" yaml:"name,omitempty" schema:"pattern=^[A-Za-z0-9_.-]+$,maxLength=63"`
	// Strategy decides which children restart together when one fails.
	// Default one_for_one.
	Strategy Strategy `json:"strategy,omitempty" yaml:"strategy,omitempty"`
	// Intensity bounds the restarts this supervisor performs before it gives
	// up and fails (meltdown), which its parent sees as one failure. Fields
	// left out take the default of 10 restarts in 10s.
	Intensity *Intensity `json:"intensity,omitempty" yaml:"intensity,omitempty"`
	// Shutdown says how the children are stopped.
	Shutdown *Shutdown `json:"shutdown,omitempty" yaml:"shutdown,omitempty"`
	// AutoShutdown decides whether significant children end this
	// supervisor. Default never, which rejects significant children.
	AutoShutdown AutoShutdown `json:"auto_shutdown,omitempty" yaml:"auto_shutdown,omitempty"`
	// Defaults are inherited by every child of this supervisor that does not
	// set the field itself, and by the children of nested supervisors,
	// whose own defaults override them field by field.
	Defaults *Defaults `json:"defaults,omitempty" yaml:"defaults,omitempty"`
	// Children are started in this order and stopped in reverse order.
	Children []Child `json:"children,omitempty" yaml:"children,omitempty"`

	// Set by Load: where the configuration came from, and the path and
	// line of each field, so that later validation (in Build) can point
	// into the file. Only the top-level Config has them.
	source string
	fields *fields
}

// Intensity is the restart intensity: more than max_restarts restarts
// within period make the supervisor give up.
type Intensity struct {
	// MaxRestarts is the number of restarts tolerated within period; one
	// more is a meltdown. 0 makes any restart a meltdown. Default 10.
	MaxRestarts *int `json:"max_restarts,omitempty" yaml:"max_restarts,omitempty" schema:"minimum=0,maximum=10000"`
	// Period is the length of the sliding window, positive. Default 10s.
	Period *Duration `json:"period,omitempty" yaml:"period,omitempty"`
}

// Shutdown says how the supervisor's children stop.
type Shutdown struct {
	// Order in which the children are stopped. Default reverse.
	Order ShutdownOrder `json:"order,omitempty" yaml:"order,omitempty"`
	// Deadline bounds the whole shutdown of the tree: children still
	// running when it passes are abandoned and reported. Only the top-level
	// supervisor has one; it is exposed as Tree.ShutdownDeadline and
	// applied by Tree.Shutdown. Default: none, each child is bounded only
	// by its own stop_timeout.
	Deadline *Duration `json:"deadline,omitempty" yaml:"deadline,omitempty"`
}

// Defaults are settings a supervisor's children inherit. A field a child
// sets itself always wins; a field neither sets comes from the child's
// role. Defaults cascade: a nested supervisor's defaults override its
// parent's, field by field (backoff fields one by one).
type Defaults struct {
	// Role inherited by children that set none.
	Role Role `json:"role,omitempty" yaml:"role,omitempty"`
	// Restart type inherited by children that set none.
	Restart Restart `json:"restart,omitempty" yaml:"restart,omitempty"`
	// Backoff fields inherited one by one by children that do not set them.
	Backoff *Backoff `json:"backoff,omitempty" yaml:"backoff,omitempty"`
	// StopTimeout inherited by children that set none (but not by nested
	// supervisors). Positive.
	StopTimeout *Duration `json:"stop_timeout,omitempty" yaml:"stop_timeout,omitempty"`
	// StartTimeout inherited by children that declare readiness and set
	// none; ignored for the others. Positive.
	StartTimeout *Duration `json:"start_timeout,omitempty" yaml:"start_timeout,omitempty"`
	// StaleAfter inherited by task children that set none (nested
	// supervisors send no heartbeats). 0 turns the check off.
	StaleAfter *Duration `json:"stale_after,omitempty" yaml:"stale_after,omitempty"`
}

// Child is one child of a supervisor: a task from the registry, or a nested
// supervisor. Fields left out are inherited from the supervisor's defaults,
// then from the child's role.
type Child struct {
	// Name is unique among the supervisor's children and is the last
	// segment of the child's path (letters, digits, '_', '-' and '.', at
	// most 63 bytes).
	Name string `json:"name" yaml:"name" schema:"required,pattern=^[A-Za-z0-9_.-]+$,maxLength=63"`
	// Task is the registry key of the service to run. Exactly one of task
	// and supervisor is set.
	Task string `json:"task,omitempty" yaml:"task,omitempty" schema:"oneof=body"`
	// Supervisor makes this child a nested supervisor, with the same schema
	// as the top level. Exactly one of task and supervisor is set.
	Supervisor *Config `json:"supervisor,omitempty" yaml:"supervisor,omitempty" schema:"oneof=body"`
	// Role presets restart, backoff and stop_timeout for the kind of child.
	// Default: the defaults' role, else none.
	Role Role `json:"role,omitempty" yaml:"role,omitempty"`
	// Restart decides whether the child runs again after it ends on its
	// own. Default: the defaults' restart, else the role's.
	Restart Restart `json:"restart,omitempty" yaml:"restart,omitempty"`
	// Backoff is the delay policy between the child's attempts; each field
	// left out is inherited from the defaults, else from the role.
	Backoff *Backoff `json:"backoff,omitempty" yaml:"backoff,omitempty"`
	// StopTimeout bounds how long the supervisor waits for the child to
	// return once asked to stop; after it the child is abandoned and
	// reported. Positive. A nested supervisor takes neither the defaults'
	// nor a role's: left out, its stop is bounded only by its own children's
	// stop timeouts and the shutdown deadline.
	StopTimeout *Duration `json:"stop_timeout,omitempty" yaml:"stop_timeout,omitempty"`
	// Readiness declares that the service calls sdk.Ready when it is ready:
	// start waits for it, and dependents start after it. Not for nested
	// supervisors, which always declare it (ready once their own start has
	// completed).
	Readiness bool `json:"readiness,omitempty" yaml:"readiness,omitempty"`
	// StartTimeout bounds how long a child that declares readiness may take
	// to become ready. Only with readiness. Default 1m.
	StartTimeout *Duration `json:"start_timeout,omitempty" yaml:"start_timeout,omitempty"`
	// DependsOn names siblings that must be up before this child starts.
	// No cycles.
	DependsOn []string `json:"depends_on,omitempty" yaml:"depends_on,omitempty" schema:"unique,pattern=^[A-Za-z0-9_.-]+$,maxLength=63"`
	// StaleAfter, when positive, stops the child as failed when it has not
	// called sdk.Heartbeat for this long. 0 turns off an inherited check.
	StaleAfter *Duration `json:"stale_after,omitempty" yaml:"stale_after,omitempty"`
	// Significant children end their supervisor when they end on their own
	// and are not restarted, as the supervisor's auto_shutdown says. Only
	// for transient and temporary children.
	Significant bool `json:"significant,omitempty" yaml:"significant,omitempty"`
	// FailureLimit is how many consecutive failures the child may have
	// before its supervisor gives up, as on a meltdown: 0 or left out
	// takes the default (10), -1 means no limit. See sdk.Spec.FailureLimit.
	FailureLimit *int `json:"failure_limit,omitempty" yaml:"failure_limit,omitempty" schema:"minimum=-1,maximum=1000000"`
}

// Backoff is a child's delay policy between attempts: initial, then
// multiplied by multiplier after each consecutive failure, capped at max,
// spread by jitter.
type Backoff struct {
	// Initial is the delay before the first restart; 0 restarts at once.
	Initial *Duration `json:"initial,omitempty" yaml:"initial,omitempty"`
	// Max caps every delay; at least initial.
	Max *Duration `json:"max,omitempty" yaml:"max,omitempty"`
	// Multiplier is the growth per consecutive failure, at least 1 (1 keeps
	// the delay constant).
	Multiplier *float64 `json:"multiplier,omitempty" yaml:"multiplier,omitempty" schema:"minimum=1"`
	// Jitter spreads the delays of children that fail together.
	Jitter Jitter `json:"jitter,omitempty" yaml:"jitter,omitempty"`
	// ResetAfter makes an attempt that ran this long count as healthy, so
	// the next failure starts again from initial. 0: never.
	ResetAfter *Duration `json:"reset_after,omitempty" yaml:"reset_after,omitempty"`
}

// Duration is a Go duration string such as "250ms", "5s" or "1m30s".
type Duration time.Duration

// String returns the duration in Go syntax.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText encodes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Strategy is a supervisor's restart strategy.
type Strategy string

// Strategies.
const (
	// StrategyOneForOne restarts only the child that exited.
	StrategyOneForOne Strategy = "one_for_one"
	// StrategyOneForAll stops every other child, then restarts them all.
	StrategyOneForAll Strategy = "one_for_all"
	// StrategyRestForOne restarts the child and the children declared after
	// it.
	StrategyRestForOne Strategy = "rest_for_one"
)

// ShutdownOrder is how a supervisor stops its children.
type ShutdownOrder string

// Shutdown orders.
const (
	// ShutdownReverse stops the children one at a time, in reverse
	// declaration order.
	ShutdownReverse ShutdownOrder = "reverse"
	// ShutdownAllAtOnce stops every child at once and waits for all of them.
	ShutdownAllAtOnce ShutdownOrder = "all_at_once"
)

// AutoShutdown is what significant children do to their supervisor.
type AutoShutdown string

// Auto-shutdown modes.
const (
	// AutoShutdownNever: significant children are not allowed.
	AutoShutdownNever AutoShutdown = "never"
	// AutoShutdownAnySignificant: the supervisor shuts down when any
	// significant child ends on its own.
	AutoShutdownAnySignificant AutoShutdown = "any_significant"
	// AutoShutdownAllSignificant: the supervisor shuts down when every
	// significant child has ended on its own.
	AutoShutdownAllSignificant AutoShutdown = "all_significant"
)

// Role is a preset of restart, backoff and stop timeout for a kind of
// child.
type Role string

// Roles; the presets are the sdk's (see sdk.Role).
const (
	// RoleNone: permanent, backoff 50ms..5s, stop timeout 5s.
	RoleNone Role = "none"
	// RoleService: a long-running server. Permanent, backoff 100ms..10s,
	// stop timeout 10s.
	RoleService Role = "service"
	// RoleWorker: consumes work, done once it returns cleanly. Transient,
	// backoff 50ms..5s, stop timeout 5s.
	RoleWorker Role = "worker"
	// RoleJob: runs to completion, failures retried slowly. Transient,
	// backoff 1s..30s, stop timeout 5s.
	RoleJob Role = "job"
	// RoleSidecar: supports another child, restarts and stops fast.
	// Permanent, backoff 50ms..2s, stop timeout 2s.
	RoleSidecar Role = "sidecar"
)

// Restart decides, from how an attempt ended, whether the child runs again.
type Restart string

// Restart types.
const (
	// RestartPermanent: always restarted, after a clean exit too.
	RestartPermanent Restart = "permanent"
	// RestartTransient: restarted only after an error, a panic or a missed
	// heartbeat.
	RestartTransient Restart = "transient"
	// RestartTemporary: never restarted.
	RestartTemporary Restart = "temporary"
)

// Jitter spreads restart delays.
type Jitter string

// Jitter modes (see sdk.Jitter).
const (
	// JitterNone uses the exponential delay exactly.
	JitterNone Jitter = "none"
	// JitterFull draws the delay from [0, d].
	JitterFull Jitter = "full"
	// JitterEqual draws the delay from [d/2, d].
	JitterEqual Jitter = "equal"
	// JitterDecorrelated draws each delay from [initial, 3 × the previous
	// one], capped at max; it ignores multiplier.
	JitterDecorrelated Jitter = "decorrelated"
)
