package deploy_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// stateColours are the colours a person reads the states by, the same in
// every panel: failed red, backoff orange, running green.
var stateColours = map[string]string{"failed": "red", "backoff": "orange", "running": "green", "alive": "green"}

// stateCode matches one branch of a state timeline's query:
// (... {..., <label>="<state>"}) == 1) * <code>.
var stateCode = regexp.MustCompile(`_state="([a-z_]+)"\}\) == 1\) \* (\d+)`)

// TestDashboardStateColours checks the state tables' and timelines' value
// mappings: every state of the kind (lifecycle.Kind.States) is mapped,
// with the agreed colours; a timeline's query numbers every state once
// and its mappings turn each number back into that state's name, so a
// state added to lifecycle, or a branch dropped from a query, shows here.
func TestDashboardStateColours(t *testing.T) {
	kinds := map[string]lifecycle.Kind{
		"supervisor_child_status": lifecycle.KindChild, "supervisor_child_state": lifecycle.KindChild,
		"supervisor_status": lifecycle.KindSupervisor, "supervisor_state": lifecycle.KindSupervisor,
	}
	seen := map[string]bool{}
	for _, p := range dashboardPanels(t) {
		switch p.Type {
		case "table":
			for _, field := range []string{"supervisor_child_state", "supervisor_state"} {
				if m := p.mappings(t, field); m != nil {
					seen["table "+field] = true
					checkMapped(t, p.Title, kinds[field], m, func(state string) string { return state })
				}
			}
		case "state-timeline":
			if len(p.Targets) != 1 {
				t.Fatalf("panel %q: %d queries, want one", p.Title, len(p.Targets))
			}
			expr := p.Targets[0].Expr
			var kind lifecycle.Kind
			for _, s := range selectors(grafanaVars.Replace(expr)) {
				kind = kinds[s.metric]
			}
			if kind == 0 {
				t.Fatalf("panel %q: selects no state set", p.Title)
			}
			codes := map[string]string{} // state → code
			for _, m := range stateCode.FindAllStringSubmatch(expr, -1) {
				if _, dup := codes[m[1]]; dup {
					t.Errorf("panel %q: state %s numbered twice", p.Title, m[1])
				}
				codes[m[1]] = m[2]
			}
			seen["timeline "+kind.String()] = true
			checkMapped(t, p.Title, kind, p.mappings(t, ""), func(state string) string {
				if codes[state] == "" {
					t.Errorf("panel %q: the query does not number state %s", p.Title, state)
				}
				return codes[state]
			})
		}
	}
	for _, want := range []string{"table supervisor_child_state", "table supervisor_state", "timeline child", "timeline supervisor"} {
		if !seen[want] {
			t.Errorf("no %s panel with value mappings", want)
		}
	}
}

// checkMapped checks that the mappings map key(state) to the state's name
// for every state of kind, with the agreed colours, and map nothing else.
func checkMapped(t *testing.T, title string, kind lifecycle.Kind, mappings []valueMapping, key func(state string) string) {
	t.Helper()
	if len(mappings) != 1 || mappings[0].Type != "value" {
		t.Errorf("panel %q: mappings %+v, want one value mapping", title, mappings)
		return
	}
	opts := mappings[0].Options
	var states []string
	for _, s := range kind.States() {
		states = append(states, s.String())
		k := key(s.String())
		o, ok := opts[k]
		if !ok {
			t.Errorf("panel %q: state %s (%q) is not mapped", title, s, k)
			continue
		}
		if o.Text != s.String() {
			t.Errorf("panel %q: %q shows as %q, want %s", title, k, o.Text, s)
		}
		if want := stateColours[s.String()]; want != "" && o.Color != want {
			t.Errorf("panel %q: %s is %s, want %s", title, s, o.Color, want)
		}
		if o.Color == "" {
			t.Errorf("panel %q: %s has no colour", title, s)
		}
	}
	for k, o := range opts {
		if !slices.Contains(states, o.Text) {
			t.Errorf("panel %q: maps %q to %q, which is no %s state", title, k, o.Text, kind)
		}
	}
	if len(opts) != len(states) {
		t.Errorf("panel %q: %d mappings for %d states", title, len(opts), len(states))
	}
}
