package sdk

import (
	"fmt"
	"time"
)

// Role is a preset of sensible defaults for a kind of child. A role fills
// only the fields a spec leaves unset; explicit fields always win.
//
//	role     restart    backoff (initial..max, ×2, equal jitter)  stop timeout
//	(none)   permanent  50ms..5s, reset after 30s                   5s
//	service  permanent  100ms..10s, reset after 1m                  10s
//	worker   transient  50ms..5s, reset after 30s                   5s
//	job      transient  1s..30s, reset after 5m                     5s
//	sidecar  permanent  50ms..2s, reset after 30s                   2s
type Role uint8

const (
	RoleNone Role = iota
	// RoleService is a long-running server: always restarted.
	RoleService
	// RoleWorker consumes work; once it returns cleanly it is done.
	RoleWorker
	// RoleJob runs to completion; failures are retried slowly.
	RoleJob
	// RoleSidecar supports another child; it restarts fast and stops fast.
	RoleSidecar
)

var roleLabels = [...]string{RoleNone: "none", RoleService: "service", RoleWorker: "worker", RoleJob: "job", RoleSidecar: "sidecar"}

func (r Role) String() string {
	if int(r) < len(roleLabels) {
		return roleLabels[r]
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

type roleDefaults struct {
	restart     RestartType
	backoff     Backoff
	stopTimeout time.Duration
}

var roles = [...]roleDefaults{
	RoleNone:    {Permanent, Backoff{Initial: 50 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2, Jitter: JitterEqual, ResetAfter: 30 * time.Second}, 5 * time.Second},
	RoleService: {Permanent, Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, Jitter: JitterEqual, ResetAfter: time.Minute}, 10 * time.Second},
	RoleWorker:  {Transient, Backoff{Initial: 50 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2, Jitter: JitterEqual, ResetAfter: 30 * time.Second}, 5 * time.Second},
	RoleJob:     {Transient, Backoff{Initial: time.Second, Max: 30 * time.Second, Multiplier: 2, Jitter: JitterEqual, ResetAfter: 5 * time.Minute}, 5 * time.Second},
	RoleSidecar: {Permanent, Backoff{Initial: 50 * time.Millisecond, Max: 2 * time.Second, Multiplier: 2, Jitter: JitterEqual, ResetAfter: 30 * time.Second}, 2 * time.Second},
}
