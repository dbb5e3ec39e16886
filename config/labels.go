package config

import (
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// The tables below map the labels of the file format to sdk values. They
// are also the validator's lists of allowed labels, in the order error
// messages give them.

var strategies = []struct {
	label Strategy
	v     sdk.Strategy
}{{StrategyOneForOne, sdk.OneForOne}, {StrategyOneForAll, sdk.OneForAll}, {StrategyRestForOne, sdk.RestForOne}}

var shutdownOrders = []struct {
	label ShutdownOrder
	v     sdk.ShutdownOrder
}{{ShutdownReverse, sdk.StopInReverse}, {ShutdownAllAtOnce, sdk.StopAllAtOnce}}

var autoShutdowns = []struct {
	label AutoShutdown
	v     sdk.AutoShutdown
}{{AutoShutdownNever, sdk.AutoShutdownNever}, {AutoShutdownAnySignificant, sdk.AnySignificant}, {AutoShutdownAllSignificant, sdk.AllSignificant}}

var roles = []struct {
	label Role
	v     sdk.Role
}{{RoleService, sdk.RoleService}, {RoleWorker, sdk.RoleWorker}, {RoleJob, sdk.RoleJob}, {RoleSidecar, sdk.RoleSidecar}, {RoleNone, sdk.RoleNone}}

var restarts = []struct {
	label Restart
	v     sdk.RestartType
}{{RestartPermanent, sdk.Permanent}, {RestartTransient, sdk.Transient}, {RestartTemporary, sdk.Temporary}}

var jitters = []Jitter{JitterNone, JitterFull, JitterEqual, JitterDecorrelated}

// lookup finds label in table; ok is false for an unknown label.
func lookup[L ~string, V any](table []struct {
	label L
	v     V
}, label L) (v V, ok bool) {
	for _, e := range table {
		if e.label == label {
			return e.v, true
		}
	}
	return v, false
}

// labelsOf lists the labels of table for error messages: "a, b or c".
func labelsOf[L ~string, V any](table []struct {
	label L
	v     V
}) string {
	ls := make([]string, len(table))
	for i, e := range table {
		ls[i] = string(e.label)
	}
	return orList(ls)
}

func orList(ls []string) string {
	switch len(ls) {
	case 0:
		return ""
	case 1:
		return ls[0]
	}
	s := ""
	for i, l := range ls[:len(ls)-1] {
		if i > 0 {
			s += ", "
		}
		s += l
	}
	return s + " or " + ls[len(ls)-1]
}

// preset is what a role fills in when neither the child nor the defaults
// set a field.
type preset struct {
	restart     sdk.RestartType
	backoff     sdk.Backoff
	stopTimeout time.Duration
}

// presets mirrors the role table of package sdk (sdk/role.go), which sdk
// does not export. The effective specs are resolved here rather than left
// to sdk, because a backoff that sets only some fields needs the role's
// values for the others, and so that the effective tree can be shown in
// full. TestPresetsMatchSDK parses sdk/role.go and fails when the two
// tables differ.
var presets = map[sdk.Role]preset{
	sdk.RoleNone:    {sdk.Permanent, sdk.Backoff{Initial: 50 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2, Jitter: sdk.JitterEqual, ResetAfter: 30 * time.Second}, 5 * time.Second},
	sdk.RoleService: {sdk.Permanent, sdk.Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, Jitter: sdk.JitterEqual, ResetAfter: time.Minute}, 10 * time.Second},
	sdk.RoleWorker:  {sdk.Transient, sdk.Backoff{Initial: 50 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2, Jitter: sdk.JitterEqual, ResetAfter: 30 * time.Second}, 5 * time.Second},
	sdk.RoleJob:     {sdk.Transient, sdk.Backoff{Initial: time.Second, Max: 30 * time.Second, Multiplier: 2, Jitter: sdk.JitterEqual, ResetAfter: 5 * time.Minute}, 5 * time.Second},
	sdk.RoleSidecar: {sdk.Permanent, sdk.Backoff{Initial: 50 * time.Millisecond, Max: 2 * time.Second, Multiplier: 2, Jitter: sdk.JitterEqual, ResetAfter: 30 * time.Second}, 2 * time.Second},
}
