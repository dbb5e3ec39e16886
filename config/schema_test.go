package config_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/supervisor-sdk/supervisor/config/internal/schemagen"
	"github.com/supervisor-sdk/supervisor/sdk"
)

// TestSchemaUpToDate regenerates the JSON Schema from the model and fails
// when the committed supervisor.schema.json differs.
func TestSchemaUpToDate(t *testing.T) {
	got, err := schemagen.Generate(".")
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("supervisor.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		t.Fatal("config/supervisor.schema.json is stale: the model changed. Regenerate it with\n\tgo generate ./config/\n(or: cd config && go run ./cmd/schemagen -o supervisor.schema.json) and commit the result.")
	}
}

// TestSchemaCoversModel checks the schema's shape: every definition the
// model needs, closed objects, the root's required name, and the enums.
func TestSchemaCoversModel(t *testing.T) {
	b, err := os.ReadFile("supervisor.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Schema   string `json:"$schema"`
		Required []string
		Defs     map[string]struct {
			Type                 string
			AdditionalProperties *bool
			Properties           map[string]json.RawMessage
			Required             []string
			OneOf                []map[string][]string
			AnyOf                []map[string]any
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %q", s.Schema)
	}
	if len(s.Required) != 1 || s.Required[0] != "name" {
		t.Errorf("root required = %v", s.Required)
	}
	wantProps := map[string][]string{
		"Config":    {"$schema", "name", "strategy", "intensity", "shutdown", "auto_shutdown", "defaults", "children"},
		"Child":     {"name", "task", "supervisor", "role", "restart", "backoff", "stop_timeout", "readiness", "start_timeout", "depends_on", "stale_after", "significant", "failure_limit"},
		"Defaults":  {"role", "restart", "backoff", "stop_timeout", "start_timeout", "stale_after"},
		"Backoff":   {"initial", "max", "multiplier", "jitter", "reset_after"},
		"Intensity": {"max_restarts", "period"},
		"Shutdown":  {"order", "deadline"},
	}
	for def, props := range wantProps {
		d, ok := s.Defs[def]
		if !ok {
			t.Errorf("no $defs/%s", def)
			continue
		}
		if d.AdditionalProperties == nil || *d.AdditionalProperties {
			t.Errorf("%s allows additional properties", def)
		}
		if len(d.Properties) != len(props) {
			t.Errorf("%s has %d properties, want %d", def, len(d.Properties), len(props))
		}
		for _, p := range props {
			if _, ok := d.Properties[p]; !ok {
				t.Errorf("%s has no property %s", def, p)
			}
		}
	}
	if c := s.Defs["Child"]; len(c.OneOf) != 2 || c.OneOf[0]["required"][0] != "task" || c.OneOf[1]["required"][0] != "supervisor" {
		t.Errorf("Child.oneOf = %v", c.OneOf)
	}
	enums := map[string][]string{
		"Strategy":      {"one_for_one", "one_for_all", "rest_for_one"},
		"ShutdownOrder": {"reverse", "all_at_once"},
		"AutoShutdown":  {"never", "any_significant", "all_significant"},
		"Role":          {"none", "service", "worker", "job", "sidecar"},
		"Restart":       {"permanent", "transient", "temporary"},
		"Jitter":        {"none", "full", "equal", "decorrelated"},
	}
	for def, values := range enums {
		var got []string
		for _, alt := range s.Defs[def].AnyOf {
			if c, ok := alt["const"].(string); ok {
				got = append(got, c)
			}
		}
		if len(got) != len(values) {
			t.Errorf("%s: consts %v, want %v", def, got, values)
		}
	}
}

// TestSchemaNamesFollowSDK: the schema's rule for names (Config.name,
// Child.name and the items of depends_on) is sdk's: its pattern and
// sdk.MaxNameLen as maxLength. The struct tags cannot name the constant,
// so this test ties them.
func TestSchemaNamesFollowSDK(t *testing.T) {
	b, err := os.ReadFile("supervisor.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	type rule struct {
		Pattern   string
		MaxLength int
	}
	type alts struct{ AnyOf []rule }
	var s struct {
		Defs struct {
			Config struct{ Properties struct{ Name alts } }
			Child  struct {
				Properties struct {
					Name      alts
					DependsOn struct{ Items alts } `json:"depends_on"`
				}
			}
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	for field, a := range map[string]alts{
		"Config.name":        s.Defs.Config.Properties.Name,
		"Child.name":         s.Defs.Child.Properties.Name,
		"Child.depends_on[]": s.Defs.Child.Properties.DependsOn.Items,
	} {
		if len(a.AnyOf) == 0 {
			t.Errorf("%s: no anyOf", field)
			continue
		}
		r := a.AnyOf[0]
		if r.MaxLength != sdk.MaxNameLen || r.Pattern != "^[A-Za-z0-9_.-]+$" {
			t.Errorf("%s: maxLength %d, pattern %q; want %d and sdk's characters", field, r.MaxLength, r.Pattern, sdk.MaxNameLen)
		}
	}
	long := strings.Repeat("a", sdk.MaxNameLen+1)
	if sdk.CheckName(long) == nil || sdk.CheckName(long[1:]) != nil {
		t.Errorf("sdk.CheckName does not cut at sdk.MaxNameLen")
	}
}
