package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/valid")

// setGoldenEnv sets the environment testdata/valid/env.yaml expects.
func setGoldenEnv(t *testing.T) {
	t.Setenv("CONFIG_TEST_STRATEGY", "one_for_all")
	t.Setenv("CONFIG_TEST_RESTARTS", "7")
	t.Setenv("CONFIG_TEST_EMPTY", "")
	os.Unsetenv("CONFIG_TEST_UNSET")
	os.Unsetenv("CONFIG_TEST_NAME")
}

// TestGolden loads every valid configuration and compares its effective
// tree (what Build gives sdk) with NAME.golden.json. Run with -update to
// rewrite the golden files after an intended change.
func TestGolden(t *testing.T) {
	setGoldenEnv(t)
	files, err := filepath.Glob("testdata/valid/*.*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, file := range files {
		if strings.HasSuffix(file, ".golden.json") {
			continue
		}
		n++
		t.Run(filepath.Base(file), func(t *testing.T) {
			cfg, err := LoadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := goldenJSON(t, plan(t, cfg))
			want := strings.TrimSuffix(file, filepath.Ext(file)) + ".golden.json"
			if *update {
				if err := os.WriteFile(want, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			exp, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run go test ./config/ -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(got, exp) {
				t.Errorf("effective tree of %s differs from %s (run with -update if intended):\n%s", file, want, got)
			}
			if _, err := Build(cfg, testRegistry(t)); err != nil {
				t.Fatalf("Build: %v", err)
			}
		})
	}
	if n < 4 {
		t.Fatalf("only %d valid configurations found", n)
	}
}

// TestYAMLAndJSONAgree converts each valid YAML configuration to JSON and
// checks that both load to the same effective tree.
func TestYAMLAndJSONAgree(t *testing.T) {
	setGoldenEnv(t)
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var doc any
			if err := yaml.Unmarshal(src, &doc); err != nil {
				t.Fatal(err)
			}
			js, err := json.MarshalIndent(doc, "", "\t")
			if err != nil {
				t.Fatal(err)
			}
			fromYAML, err := Load(bytes.NewReader(src), YAML)
			if err != nil {
				t.Fatal(err)
			}
			fromJSON, err := Load(bytes.NewReader(js), JSON)
			if err != nil {
				t.Fatalf("%v\n%s", err, js)
			}
			if a, b := goldenJSON(t, plan(t, fromYAML)), goldenJSON(t, plan(t, fromJSON)); !bytes.Equal(a, b) {
				t.Errorf("YAML and JSON differ:\n%s\n%s", a, b)
			}
		})
	}
}

// TestConfigRoundTrip marshals each loaded configuration back to JSON and
// YAML with the model's tags and loads it again: the effective tree must
// not change.
func TestConfigRoundTrip(t *testing.T) {
	setGoldenEnv(t)
	files, _ := filepath.Glob("testdata/valid/*.*")
	for _, file := range files {
		if strings.HasSuffix(file, ".golden.json") {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			cfg, err := LoadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := goldenJSON(t, plan(t, cfg))
			js, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ym, err := yaml.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for format, src := range map[Format][]byte{JSON: js, YAML: ym} {
				again, err := Load(bytes.NewReader(src), format)
				if err != nil {
					t.Fatalf("%s: %v\n%s", format, err, src)
				}
				if got := goldenJSON(t, plan(t, again)); !bytes.Equal(got, want) {
					t.Errorf("%s round trip changed the tree:\n%s", format, src)
				}
			}
		})
	}
}
