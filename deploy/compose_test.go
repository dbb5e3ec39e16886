package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The compose stack cannot run here (no Docker daemon); these tests check
// what can be checked without it: the files parse, the services reach each
// other by the names the configurations use, every port is published on
// loopback only, every image is pinned, and every mounted file exists.

const composeFile = "../docker-compose.otel.yml"

type composeService struct {
	Image       string
	Command     []string
	Ports       []string
	Volumes     []string
	Environment map[string]string
	DependsOn   []string `yaml:"depends_on"`
}

func compose(t *testing.T) map[string]composeService {
	t.Helper()
	var doc struct {
		Services map[string]composeService
	}
	readYAML(t, composeFile, &doc)
	return doc.Services
}

// mount returns the container path where svc mounts the repository path
// host (relative to the repository root, as compose resolves it).
func mount(t *testing.T, svc composeService, host string) string {
	t.Helper()
	for _, v := range svc.Volumes {
		parts := strings.Split(v, ":")
		if filepath.Clean(parts[0]) == filepath.Clean(host) {
			return parts[1]
		}
	}
	t.Fatalf("%s is not mounted (volumes %q)", host, svc.Volumes)
	return ""
}

func TestComposeServices(t *testing.T) {
	svcs := compose(t)
	var names []string
	for n := range svcs {
		names = append(names, n)
	}
	slices.Sort(names)
	if want := []string{"grafana", "jaeger", "otel-collector", "prometheus"}; !slices.Equal(names, want) {
		t.Fatalf("services %q, want %q", names, want)
	}
	for name, s := range svcs {
		_, tag, ok := strings.Cut(strings.SplitN(s.Image, "@", 2)[0], ":")
		if !ok || tag == "" || tag == "latest" {
			t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
		}
		if len(s.Ports) == 0 {
			t.Errorf("%s: publishes no port", name)
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s: port %q is not bound to 127.0.0.1", name, p)
			}
		}
		for _, v := range s.Volumes {
			host := strings.Split(v, ":")[0]
			if !strings.HasPrefix(host, "./") {
				t.Errorf("%s: volume %q is not a repository path", name, v)
				continue
			}
			if _, err := os.Stat(filepath.Join("..", host)); err != nil {
				t.Errorf("%s: volume %q: %v", name, v, err)
			}
		}
		for _, d := range s.DependsOn {
			if _, ok := svcs[d]; !ok {
				t.Errorf("%s: depends on unknown service %s", name, d)
			}
		}
	}
	for name, image := range map[string]string{
		"jaeger":     "jaegertracing/jaeger:2.13.0",
		"prometheus": "prom/prometheus:v3.6.0@",
	} {
		if !strings.HasPrefix(svcs[name].Image, image) {
			t.Errorf("%s: image %q, want %s", name, svcs[name].Image, image)
		}
	}
}

func TestCollectorConfig(t *testing.T) {
	svcs := compose(t)
	col := svcs["otel-collector"]
	target := mount(t, col, "./deploy/otel-collector.yaml")
	if !slices.Contains(col.Command, "--config="+target) {
		t.Errorf("collector command %q does not load %s", col.Command, target)
	}
	type component = map[string]any
	var cfg struct {
		Receivers, Processors, Exporters, Extensions map[string]component
		Service                                      struct {
			Extensions []string
			Pipelines  map[string]struct{ Receivers, Processors, Exporters []string }
		}
	}
	readYAML(t, "otel-collector.yaml", &cfg)
	for _, e := range cfg.Service.Extensions {
		if _, ok := cfg.Extensions[e]; !ok {
			t.Errorf("extension %s is not configured", e)
		}
	}
	for name, p := range map[string][]string{"traces": {"otlp/jaeger"}, "metrics": {"prometheus"}} {
		pl, ok := cfg.Service.Pipelines[name]
		if !ok {
			t.Errorf("no %s pipeline", name)
			continue
		}
		if !slices.Equal(pl.Exporters, p) || !slices.Contains(pl.Receivers, "otlp") {
			t.Errorf("%s pipeline: %+v", name, pl)
		}
		for _, r := range pl.Receivers {
			if _, ok := cfg.Receivers[r]; !ok {
				t.Errorf("%s pipeline: receiver %s is not configured", name, r)
			}
		}
		for _, r := range pl.Processors {
			if _, ok := cfg.Processors[r]; !ok {
				t.Errorf("%s pipeline: processor %s is not configured", name, r)
			}
		}
		for _, r := range pl.Exporters {
			if _, ok := cfg.Exporters[r]; !ok {
				t.Errorf("%s pipeline: exporter %s is not configured", name, r)
			}
		}
	}
	jaeger := cfg.Exporters["otlp/jaeger"]
	if jaeger["endpoint"] != "jaeger:4317" || jaeger["tls"].(map[string]any)["insecure"] != true {
		t.Errorf("otlp/jaeger exporter: %v, want endpoint jaeger:4317 without TLS", jaeger)
	}
	if ep := cfg.Exporters["prometheus"]["endpoint"]; ep != "0.0.0.0:8889" {
		t.Errorf("prometheus exporter endpoint %v, want 0.0.0.0:8889", ep)
	}
	protocols := cfg.Receivers["otlp"]["protocols"].(map[string]any)
	for proto, port := range map[string]string{"grpc": "4317", "http": "4318"} {
		ep := protocols[proto].(map[string]any)["endpoint"]
		if ep != "0.0.0.0:"+port {
			t.Errorf("otlp %s receiver on %v, want 0.0.0.0:%s (published on the host's loopback)", proto, ep, port)
		}
		if !slices.Contains(col.Ports, "127.0.0.1:"+port+":"+port) {
			t.Errorf("OTLP %s port %s is not published", proto, port)
		}
	}
}

func TestPrometheusConfig(t *testing.T) {
	prom := compose(t)["prometheus"]
	dir := filepath.Dir(mount(t, prom, "./deploy/prometheus/prometheus.yml"))
	if !slices.Contains(prom.Command, "--config.file="+dir+"/prometheus.yml") {
		t.Errorf("prometheus command %q does not load the mounted configuration", prom.Command)
	}
	var cfg struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName              string                           `yaml:"job_name"`
			HonorLabels          bool                             `yaml:"honor_labels"`
			StaticConfigs        []struct{ Targets []string }     `yaml:"static_configs"`
			MetricRelabelConfigs []struct{ Action, Regex string } `yaml:"metric_relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, promConfig, &cfg)
	for _, f := range cfg.RuleFiles {
		if got := mount(t, prom, "./deploy/prometheus/"+f); got != dir+"/"+f {
			t.Errorf("rule file %s is mounted at %s, want %s", f, got, dir+"/"+f)
		}
	}
	found := false
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			if slices.Contains(st.Targets, "otel-collector:8889") {
				found = true
				if !sc.HonorLabels {
					t.Errorf("job %s scrapes the collector without honor_labels: the applications' job and instance would be lost", sc.JobName)
				}
				drops := false
				for _, r := range sc.MetricRelabelConfigs {
					drops = drops || r.Action == "labeldrop" && r.Regex == "otel_scope_.+"
				}
				if !drops {
					t.Errorf("job %s keeps the otel_scope_* labels the collector adds, which the rules do not expect", sc.JobName)
				}
			}
		}
	}
	if !found {
		t.Error("nothing scrapes otel-collector:8889")
	}
}

func TestGrafanaProvisioning(t *testing.T) {
	svcs := compose(t)
	graf := svcs["grafana"]
	var ds struct {
		Datasources []struct{ Name, UID, Type, URL, Access string }
	}
	readYAML(t, "grafana/provisioning/datasources/datasources.yaml", &ds)
	urls := map[string]string{}
	for _, d := range ds.Datasources {
		urls[d.Type] = d.URL
		if d.Access != "proxy" {
			t.Errorf("datasource %s: access %q, want proxy (the browser cannot reach the compose network)", d.Name, d.Access)
		}
	}
	if urls["prometheus"] != "http://prometheus:9090" || urls["jaeger"] != "http://jaeger:16686" {
		t.Errorf("datasources %v, want prometheus at http://prometheus:9090 and jaeger at http://jaeger:16686", urls)
	}
	if mount(t, graf, "./deploy/grafana/provisioning/datasources") != "/etc/grafana/provisioning/datasources" ||
		mount(t, graf, "./deploy/grafana/provisioning/dashboards") != "/etc/grafana/provisioning/dashboards" {
		t.Error("provisioning is not mounted where Grafana reads it")
	}
	var prov struct {
		Providers []struct {
			Type    string
			Options struct{ Path string }
		}
	}
	readYAML(t, "grafana/provisioning/dashboards/dashboards.yaml", &prov)
	dashDir := mount(t, graf, "./deploy/grafana/dashboards")
	if len(prov.Providers) != 1 || prov.Providers[0].Type != "file" || prov.Providers[0].Options.Path != dashDir {
		t.Errorf("dashboard providers %+v, want one file provider reading %s", prov.Providers, dashDir)
	}
	if home := graf.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != dashDir+"/supervisor.json" {
		t.Errorf("home dashboard %q, want %s/supervisor.json", home, dashDir)
	}

	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string
		Panels []struct {
			ID         int
			Title      string
			Datasource struct{ Type, UID string }
			Targets    []struct {
				Expr       string
				Datasource struct{ UID string }
			}
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	if dash.UID == "" {
		t.Error("the dashboard has no uid")
	}
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %+v, want the $datasource variable", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
	}
}
