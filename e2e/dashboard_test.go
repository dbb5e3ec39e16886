package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// dashboardFile is the shipped Grafana dashboard.
const dashboardFile = "../deploy/grafana/dashboards/supervisor.json"

// dashboardVars stands in for Grafana's variables: All for $job and
// $instance (regex matchers only), and windows that fit a scrape every
// second.
var dashboardVars = strings.NewReplacer(
	"$__rate_interval", "1m", "$__range", "1h", "$__interval", "1m",
	"$job", ".*", "$instance", ".*",
)

type dashboard struct {
	Panels []struct {
		Type, Title string
		Targets     []struct{ Expr string }
		FieldConfig struct {
			Defaults struct {
				Mappings []struct {
					Options map[string]struct{ Text string }
				}
			}
		}
	}
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// checkDashboard runs every query of the shipped dashboard against a
// Prometheus that scrapes a running tree: each must be accepted, and the
// child state timeline, read through its own value mappings, must show
// each child of want in the state given.
func checkDashboard(t *testing.T, ctx context.Context, api string, want map[string]string) {
	t.Helper()
	d := readDashboard(t)
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			n++
			res, err := instant(ctx, api, dashboardVars.Replace(tg.Expr))
			if err != nil {
				t.Errorf("panel %q: %v", p.Title, err)
				continue
			}
			if p.Type != "state-timeline" || !strings.Contains(tg.Expr, "supervisor_child_status") {
				continue
			}
			names := map[string]string{} // value → state
			for _, m := range p.FieldConfig.Defaults.Mappings {
				for v, o := range m.Options {
					names[v] = o.Text
				}
			}
			got := map[string]string{}
			for _, r := range res {
				got[r.Metric["supervisor_child_path"]] = names[fmt.Sprint(r.Value[1])]
			}
			for path, state := range want {
				if got[path] != state {
					t.Errorf("panel %q shows %s as %q, want %s (all: %v)", p.Title, path, got[path], state, got)
				}
			}
			t.Logf("panel %q: %v", p.Title, got)
		}
	}
	t.Logf("%d dashboard queries accepted by Prometheus", n)
}

type sample struct {
	Metric map[string]string
	Value  [2]any
}

// instant runs an instant query and returns its vector.
func instant(ctx context.Context, api, expr string) ([]sample, error) {
	var resp struct {
		Status string
		Data   struct {
			ResultType string
			Result     []sample
		}
	}
	code, body, err := get(ctx, api+"/api/v1/query?query="+url.QueryEscape(expr))
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("query %s: %d %s", expr, code, tail(string(body), 500))
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, err
	}
	if resp.Status != "success" || resp.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: %s", expr, tail(string(body), 500))
	}
	return resp.Data.Result, nil
}
