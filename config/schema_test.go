package config_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/supervisor-sdk/supervisor/config/internal/schemagen"
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
		"Child":     {"name", "task", "supervisor", "role", "restart", "backoff", "stop_timeout", "readiness", "start_timeout", "depends_on", "stale_after", "significant"},
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
