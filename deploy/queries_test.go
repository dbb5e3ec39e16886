// Package deploy_test checks the files under deploy/ and
// docker-compose.otel.yml against the code: the metric and label names the
// alert rules and the dashboard query are the ones otelsup exports, the
// rules pass promtool, and the compose stack is wired as documented.
package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const (
	rulesFile     = "prometheus/supervisor-rules.yml"
	rulesTestFile = "prometheus/supervisor-rules_test.yml"
	promConfig    = "prometheus/prometheus.yml"
	dashboardFile = "grafana/dashboards/supervisor.json"
)

// query is a PromQL expression and where it comes from.
type query struct {
	where string
	expr  string
}

// ruleQueries returns the expr of every rule in the rules file.
func ruleQueries(t *testing.T) []query {
	t.Helper()
	var doc struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Record, Expr string
			}
		}
	}
	readYAML(t, rulesFile, &doc)
	var out []query
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			out = append(out, query{where: rulesFile + ": " + r.Alert + r.Record, expr: r.Expr})
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no rules", rulesFile)
	}
	return out
}

// dashboardQueries returns the expr of every target of every panel (rows'
// nested panels included), with Grafana's variables replaced by values
// that make plain PromQL.
func dashboardQueries(t *testing.T) []query {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string
		Targets []struct {
			Expr string
		}
		Panels []json.RawMessage
	}
	var dash struct {
		Panels []json.RawMessage
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var out []query
	var walk func([]json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatalf("%s: %v", dashboardFile, err)
			}
			for _, tg := range p.Targets {
				if tg.Expr != "" {
					out = append(out, query{where: dashboardFile + ": " + p.Title, expr: grafanaVars.Replace(tg.Expr)})
				}
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	if len(out) == 0 {
		t.Fatalf("%s: no queries", dashboardFile)
	}
	return out
}

// grafanaVars replaces the dashboard's variables. $job and $instance only
// appear in regex matchers, where .* stands for "All".
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "1m", "$__range", "1h", "$__interval", "1m",
	"$job", ".*", "$instance", ".*",
)

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// selector is one metric a PromQL expression selects, with the label
// names its matchers use.
type selector struct {
	metric string
	labels []string
}

var (
	// stringLit matches PromQL string literals.
	stringLit = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	// grouping matches the label lists of aggregations and vector matching.
	grouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	// braces matches a metric name (possibly absent) and its matchers.
	braces = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}`)
	// matcherName matches the label name of one matcher.
	matcherName = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	// brackets matches range and subquery durations.
	brackets = regexp.MustCompile(`\[[^\]]*\]`)
	// ident matches identifiers; what follows and precedes them decides
	// whether they are metric names.
	ident = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	// nameMatcher matches {__name__="x"}.
	nameMatcher = regexp.MustCompile(`__name__\s*=\s*"([^"]+)"`)
)

// keywords are PromQL words that are neither functions (those are followed
// by an opening parenthesis) nor metric names.
var keywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true,
	"on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true, "atan2": true,
}

// selectors returns the metrics an expression selects: the identifiers
// followed by a matcher block or a range, or standing alone as an operand,
// but not the function and aggregation names (followed by an opening
// parenthesis), the keywords, the label names (in matchers and in by,
// without, on, ignoring and group_* lists), the strings and the durations.
func selectors(expr string) []selector {
	var out []selector
	add := func(metric string, labels []string) {
		for i, s := range out {
			if s.metric == metric {
				out[i].labels = append(out[i].labels, labels...)
				return
			}
		}
		out = append(out, selector{metric, labels})
	}
	// Matcher blocks first, while their strings are still there for
	// __name__; then blank them so that their label names are not taken
	// for metrics.
	e := grouping.ReplaceAllString(expr, " ")
	e = braces.ReplaceAllStringFunc(e, func(m string) string {
		sub := braces.FindStringSubmatch(m)
		body := stringLit.ReplaceAllString(sub[2], `""`)
		var labels []string
		for _, l := range matcherName.FindAllStringSubmatch(body, -1) {
			if l[1] != "__name__" {
				labels = append(labels, l[1])
			}
		}
		switch {
		case sub[1] != "" && !keywords[sub[1]]:
			add(sub[1], labels)
		default:
			if n := nameMatcher.FindStringSubmatch(sub[2]); n != nil {
				add(n[1], labels)
			}
		}
		return " "
	})
	e = stringLit.ReplaceAllString(e, " ")
	e = brackets.ReplaceAllString(e, " ")
	for _, loc := range ident.FindAllStringIndex(e, -1) {
		name := e[loc[0]:loc[1]]
		if loc[0] > 0 {
			if c := e[loc[0]-1]; c >= '0' && c <= '9' || c == '.' || c == '$' {
				continue // a number (1e3), a duration (5m) or a variable
			}
		}
		rest := strings.TrimLeft(e[loc[1]:], " \t\n")
		if strings.HasPrefix(rest, "(") || keywords[strings.ToLower(name)] {
			continue
		}
		add(name, nil)
	}
	return out
}

func TestSelectors(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string // metric:label,label
	}{
		{`up{job="supervisor"} == 0`, []string{"up:job"}},
		{`max without (otel_scope_name, otel_scope_version) (x_status{a="failed", b=~"y|z"}) == 1`, []string{"x_status:a,b"}},
		{`histogram_quantile(0.99, sum by (le, p) (rate(d_seconds_bucket{job=~".*"}[5m])))`, []string{"d_seconds_bucket:job"}},
		{`count(s == 1) or vector(0)`, []string{"s:"}},
		{`sum(rate(a_total[1m])) / ignoring(le) group_left sum(rate(b_total[1m] offset 5m))`, []string{"a_total:", "b_total:"}},
		{`topk(5, c) and on(job) d unless e @ start()`, []string{"c:", "d:", "e:"}},
		{`label_replace(f, "dst", "$1", "src", "(.*)")`, []string{"f:"}},
		{`{__name__="g", h="i"} > 1e3`, []string{"g:h"}},
		{`rate(j_total{k!="l"}[5m:1m])`, []string{"j_total:k"}},
		{`sum without (otel_scope_name) (increase(m_total[10m])) > 5`, []string{"m_total:"}},
	} {
		var got []string
		for _, s := range selectors(tc.expr) {
			got = append(got, s.metric+":"+strings.Join(s.labels, ","))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("selectors(%s) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}
