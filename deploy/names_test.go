package deploy_test

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// scrapeGenerated are series Prometheus makes itself when it scrapes, with
// the labels they have.
var scrapeGenerated = map[string][]string{
	"up": {"job", "instance"},
}

// targetLabels are the labels a scrape adds to every series.
var targetLabels = []string{"job", "instance"}

// TestMetricNamesExported checks that every metric the alert rules and the
// dashboard select is one the SDK exports through otelexport.WithPrometheus
// (as the registry gathers it, so with the pinned translation strategy),
// and that every label their matchers use is one that metric has.
func TestMetricNamesExported(t *testing.T) {
	fams, text := exported(t)
	if testing.Verbose() {
		t.Logf("exposition while the tree runs:\n%s", text)
	}
	var names []string
	for n := range fams {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Logf("exported families: %s", strings.Join(names, " "))

	used := make(map[string][]string) // metric → where
	for _, q := range append(ruleQueries(t), dashboardQueries(t)...) {
		sels := selectors(q.expr)
		if len(sels) == 0 {
			t.Errorf("%s: no metric found in %q", q.where, q.expr)
		}
		for _, s := range sels {
			used[s.metric] = append(used[s.metric], q.where)
			labels, ok := labelsOf(fams, s.metric)
			if !ok {
				t.Errorf("%s: %s is not exported (exported: %s)", q.where, s.metric, strings.Join(names, " "))
				continue
			}
			for _, l := range s.labels {
				if !slices.Contains(labels, l) {
					t.Errorf("%s: %s has no label %s (its labels: %s)", q.where, s.metric, l, strings.Join(labels, " "))
				}
			}
		}
	}
	var report []string
	for m, where := range used {
		report = append(report, m+" ("+strconv.Itoa(len(slices.Compact(where)))+" queries)")
	}
	sort.Strings(report)
	t.Logf("metrics the rules and the dashboard use: %s", strings.Join(report, ", "))

	// The instruments the rules and the dashboard should use, so that a
	// panel or an alert is not dropped unnoticed.
	for _, want := range []string{
		"supervisor_child_status", "supervisor_status", "supervisor_child_restarts_total",
		"supervisor_child_attempt_duration_seconds_bucket", "supervisor_meltdowns_total",
		"supervisor_child_abandoned_total", "supervisor_child_exits_total",
		"supervisor_shutdown_duration_seconds_count", "supervisor_shutdown_duration_seconds_bucket",
		"supervisor_events_dropped_total", "supervisor_child_backoff_delay_seconds_bucket",
	} {
		if used[want] == nil {
			t.Errorf("%s: not used by any rule or panel", want)
		}
	}
}

// labelsOf returns the label names of the series of metric, as Prometheus
// stores them after a scrape: a histogram family's _bucket, _sum and
// _count series (with le on _bucket), and the target labels.
func labelsOf(fams map[string]*dto.MetricFamily, metric string) ([]string, bool) {
	if l, ok := scrapeGenerated[metric]; ok {
		return l, true
	}
	family, le := metric, false
	if fams[metric] == nil {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base, ok := strings.CutSuffix(metric, suffix)
			if f := fams[base]; ok && f != nil && f.GetType() == dto.MetricType_HISTOGRAM {
				family, le = base, suffix == "_bucket"
				break
			}
		}
	}
	f := fams[family]
	if f == nil {
		return nil, false
	}
	labels := slices.Clone(targetLabels)
	if le {
		labels = append(labels, "le")
	}
	for _, m := range f.GetMetric() {
		for _, lp := range m.GetLabel() {
			if !slices.Contains(labels, lp.GetName()) {
				labels = append(labels, lp.GetName())
			}
		}
	}
	return labels, true
}

// TestNoScopeLabels: the exposition has no otel_scope_* labels
// (otelexport leaves them out), so no rule or panel aggregates them away.
func TestNoScopeLabels(t *testing.T) {
	fams, _ := exported(t)
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.HasPrefix(l.GetName(), "otel_scope_") {
					t.Errorf("%s has the label %s", name, l.GetName())
				}
			}
		}
	}
	for _, q := range append(ruleQueries(t), dashboardQueries(t)...) {
		if strings.Contains(q.expr, "otel_scope_") {
			t.Errorf("%s: %q names an otel_scope_* label, which no series has", q.where, q.expr)
		}
	}
}
