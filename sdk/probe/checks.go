package probe

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/supervisor-sdk/supervisor/lifecycle"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// check is one check of /livez or /readyz: a line of the verbose answer,
// in the Kubernetes convention ("[+]name ok" or "[-]name failed: reason"),
// and, when it failed, a line of the plain one ("path: reason").
type check struct {
	name, reason string
	path         string // of the supervisor or child checked
	supervisor   bool
	ok           bool
}

// verbose reports whether the request asks for the per-check breakdown:
// ?verbose, with any value, as the Kubernetes API server takes it.
func verbose(r *http.Request) bool {
	_, ok := r.URL.Query()["verbose"]
	return ok
}

// writeChecks answers a verbose probe: one line per check, then the
// verdict; 200 when every check passed, else 503.
func writeChecks(w http.ResponseWriter, probe string, checks []check) {
	var b strings.Builder
	passed := true
	for _, c := range checks {
		if c.ok {
			fmt.Fprintf(&b, "[+]%s ok\n", c.name)
			continue
		}
		passed = false
		fmt.Fprintf(&b, "[-]%s failed: %s\n", c.name, oneLine(c.reason))
	}
	code := http.StatusOK
	if passed {
		fmt.Fprintf(&b, "%s check passed\n", probe)
	} else {
		code = http.StatusServiceUnavailable
		fmt.Fprintf(&b, "%s check failed\n", probe)
	}
	text(w, code, b.String())
}

// liveChecks has one check: the supervisor is alive.
func liveChecks(hl lifecycle.Health) []check {
	c := check{name: "supervisor " + hl.Path, ok: hl.Alive}
	if !hl.Alive {
		c.reason = stateLabel(hl.State)
		if hl.Exit != nil && hl.Exit.Reason != "" {
			c.reason += ": " + hl.Exit.Reason
		}
	}
	return []check{c}
}

// readyChecks has a check per supervisor in the tree (started and alive)
// and per child whose readiness counts ([sdk.ChildStatus]
// CountsForReadiness), failed where it holds readiness up; and, for a
// supervisor that is not ready for none of those, a check that its start
// has completed. Both /readyz answers are made of them.
func readyChecks(st sdk.Status, checks []check) []check {
	first := len(checks)
	sup := check{name: "supervisor " + st.Path, path: st.Path, supervisor: true, ok: st.Health.State == lifecycle.StateAlive}
	if !sup.ok {
		sup.reason = stateLabel(st.Health.State)
	}
	checks = append(checks, sup)
	for _, c := range st.Children {
		if !c.CountsForReadiness() {
			continue
		}
		if c.Supervisor != nil && (c.Supervisor.Health.Alive || c.State == lifecycle.StateFailed) {
			checks = readyChecks(*c.Supervisor, checks) // its own checks say why
			continue
		}
		ck := check{name: c.Path, path: c.Path, ok: !c.HoldsUpReadiness()}
		if !ck.ok {
			ck.reason = stateLabel(c.State)
			if c.LastError != "" {
				ck.reason += " (last error: " + c.LastError + ")"
			}
		}
		checks = append(checks, ck)
	}
	if !st.Ready && allOK(checks[first:]) {
		checks = append(checks, check{name: "start " + st.Path, path: st.Path, reason: "the start has not completed"})
	}
	return checks
}

// writeFailed answers a plain /readyz that is not ready: "not ready", then
// a line per failed check, "path: reason".
func writeFailed(w http.ResponseWriter, checks []check) {
	var b strings.Builder
	b.WriteString("not ready")
	for _, c := range checks {
		if c.ok {
			continue
		}
		b.WriteString("\n" + c.path + ": ")
		if c.supervisor {
			b.WriteString("supervisor ")
		}
		b.WriteString(oneLine(c.reason))
	}
	text(w, http.StatusServiceUnavailable, b.String())
}
