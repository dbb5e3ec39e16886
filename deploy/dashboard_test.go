package deploy_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/supervisor-sdk/supervisor/lifecycle"
)

// dashPanel is the part of a dashboard panel that the checks below read:
// what PromQL does not show (value mappings, data links and their Jaeger
// queries).
type dashPanel struct {
	ID      int
	Type    string
	Title   string
	Targets []struct {
		Expr   string
		Format string
	}
	FieldConfig struct {
		Defaults  fieldProps
		Overrides []struct {
			Matcher struct {
				ID      string
				Options string
			}
			Properties []struct {
				ID    string
				Value json.RawMessage
			}
		}
	}
}

type fieldProps struct {
	Mappings []valueMapping
	Links    []dataLink
}

type valueMapping struct {
	Type    string
	Options map[string]struct {
		Text  string
		Color string
	}
}

// dataLink is a Grafana data link. An internal one opens a query of the
// datasource it names in Explore, so it needs no URL.
type dataLink struct {
	Title    string
	URL      string
	Internal *struct {
		DatasourceUID  string `json:"datasourceUid"`
		DatasourceName string
		Query          struct {
			Datasource struct{ Type, UID string }
			QueryType  string
			Service    string
			Operation  string
			Tags       string
		}
	}
}

func dashboardPanels(t *testing.T) []dashPanel {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct{ Panels []dashPanel }
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	return dash.Panels
}

// links returns a panel's data links, from its defaults and overrides,
// with the field the override applies to ("" for the defaults).
func (p dashPanel) links(t *testing.T) map[string][]dataLink {
	t.Helper()
	out := map[string][]dataLink{}
	if l := p.FieldConfig.Defaults.Links; len(l) > 0 {
		out[""] = l
	}
	for _, o := range p.FieldConfig.Overrides {
		for _, prop := range o.Properties {
			if prop.ID != "links" {
				continue
			}
			var l []dataLink
			if err := json.Unmarshal(prop.Value, &l); err != nil {
				t.Fatalf("panel %q: links: %v", p.Title, err)
			}
			out[o.Matcher.Options] = append(out[o.Matcher.Options], l...)
		}
	}
	return out
}

// mappings returns the value mappings of the field named field, or of the
// defaults for "".
func (p dashPanel) mappings(t *testing.T, field string) []valueMapping {
	t.Helper()
	if field == "" {
		return p.FieldConfig.Defaults.Mappings
	}
	var out []valueMapping
	for _, o := range p.FieldConfig.Overrides {
		for _, prop := range o.Properties {
			if o.Matcher.Options == field && prop.ID == "mappings" {
				var m []valueMapping
				if err := json.Unmarshal(prop.Value, &m); err != nil {
					t.Fatalf("panel %q: mappings: %v", p.Title, err)
				}
				out = append(out, m...)
			}
		}
	}
	return out
}

// TestDashboardNoHardcodedURLs: every link goes through Grafana (its
// datasources, or a relative path), so the dashboard works wherever
// Grafana and Jaeger run, not only on the compose stack's loopback ports.
func TestDashboardNoHardcodedURLs(t *testing.T) {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(path+"."+k, x)
			}
		case []any:
			for i, x := range v {
				walk(path+"["+strconv.Itoa(i)+"]", x)
			}
		case string:
			if strings.Contains(v, "://") {
				t.Errorf("%s: %q is an absolute URL; link through a datasource instead", path, v)
			}
		}
	}
	walk("dashboard", doc)
}

// fieldRef matches the data link variables that take a value from the
// row or series clicked: ${__data.fields.x} (tables) and
// ${__field.labels.x} (series).
var fieldRef = regexp.MustCompile(`\$\{__(?:data\.fields|field\.labels)\.([a-zA-Z_][a-zA-Z0-9_]*)\}`)

// outerBy matches the label list of an expression's outermost
// aggregation, when the expression starts with one.
var outerBy = regexp.MustCompile(`^\s*[a-z_]+\s+by\s*\(([^)]*)\)`)

// TestDashboardTraceLinks checks the links to Jaeger: each is an internal
// data link to the provisioned Jaeger datasource (by its uid) searching
// the spans of one child (operation supervisor.child.exit, tag
// supervisor.child.path) or one supervisor (tag supervisor.path), and each
// value it takes from the panel is a label the panel's queries keep. The
// span name and attributes are checked against real spans by
// TestTraceLinkAttributes; the labels against the export by
// TestMetricNamesExported.
func TestDashboardTraceLinks(t *testing.T) {
	var ds struct {
		Datasources []struct{ Name, UID, Type string }
	}
	readYAML(t, "grafana/provisioning/datasources/datasources.yaml", &ds)
	var jaegerUID, jaegerName string
	for _, d := range ds.Datasources {
		if d.Type == "jaeger" {
			jaegerUID, jaegerName = d.UID, d.Name
		}
	}
	if jaegerUID == "" {
		t.Fatal("no Jaeger datasource is provisioned")
	}
	fams, _ := exported(t)
	linked := map[string]bool{} // panel types with a trace link
	for _, p := range dashboardPanels(t) {
		for field, links := range p.links(t) {
			for _, l := range links {
				where := "panel " + strconv.Quote(p.Title) + " link " + strconv.Quote(l.Title)
				if l.Internal == nil {
					t.Errorf("%s: not an internal link through a datasource (url %q)", where, l.URL)
					continue
				}
				in := l.Internal
				if in.DatasourceUID != jaegerUID || in.DatasourceName != jaegerName || in.Query.Datasource.UID != jaegerUID || in.Query.Datasource.Type != "jaeger" {
					t.Errorf("%s: datasource %q/%q (query %+v), want the provisioned Jaeger datasource %q (%s)",
						where, in.DatasourceUID, in.DatasourceName, in.Query.Datasource, jaegerUID, jaegerName)
				}
				if in.Query.QueryType != "search" || in.Query.Service == "" {
					t.Errorf("%s: query %+v, want a search with a service", where, in.Query)
				}
				key, _, _ := strings.Cut(in.Query.Tags, "=")
				wantKey := string(lifecycle.AttrSupervisorPath)
				if in.Query.Operation != "" {
					wantKey = string(lifecycle.AttrChildPath)
					if in.Query.Operation != "supervisor.child.exit" {
						t.Errorf("%s: operation %q, want supervisor.child.exit", where, in.Query.Operation)
					}
				}
				if key != wantKey {
					t.Errorf("%s: tags %q, want %s=<path>", where, in.Query.Tags, wantKey)
				}
				for _, m := range fieldRef.FindAllStringSubmatch(in.Query.Service+" "+in.Query.Tags+" "+l.Title, -1) {
					checkKeptLabel(t, fams, p, where, m[1])
				}
				if field != "" && !slices.ContainsFunc(p.Targets, func(tg struct{ Expr, Format string }) bool { return tg.Format == "table" }) {
					t.Errorf("%s: on field %s of a panel without a table query", where, field)
				}
				linked[p.Type] = true
			}
		}
	}
	for _, typ := range []string{"table", "state-timeline", "timeseries"} {
		if !linked[typ] {
			t.Errorf("no %s panel links to traces", typ)
		}
	}
}

// checkKeptLabel fails unless label is a label of a metric every query of
// p selects and survives the query's outermost aggregation, so that the
// link's variable has a value.
func checkKeptLabel(t *testing.T, fams map[string]*dto.MetricFamily, p dashPanel, where, label string) {
	t.Helper()
	for _, tg := range p.Targets {
		expr := grafanaVars.Replace(tg.Expr)
		for _, s := range selectors(expr) {
			labels, ok := labelsOf(fams, s.metric)
			if ok && !slices.Contains(labels, label) {
				t.Errorf("%s: %s has no label %s", where, s.metric, label)
			}
		}
		if m := outerBy.FindStringSubmatch(expr); m != nil {
			var kept []string
			for _, l := range strings.Split(m[1], ",") {
				kept = append(kept, strings.TrimSpace(l))
			}
			if !slices.Contains(kept, label) {
				t.Errorf("%s: uses %s, which the query aggregates away (by %s)", where, label, m[1])
			}
		}
	}
}
