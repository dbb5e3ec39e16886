package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "alpha", "EMPTY": "", "N": "3"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tc := range []struct {
		in, want, err string
		refs          bool
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha", refs: true},
		{in: "x-${A}-${N}s", want: "x-alpha-3s", refs: true},
		{in: "${MISSING:-dflt}", want: "dflt", refs: true},
		{in: "${EMPTY:-dflt}", want: "dflt", refs: true},
		{in: "${EMPTY}", want: "", refs: true},
		{in: "${A:-dflt}", want: "alpha", refs: true},
		{in: "${MISSING:-}", want: "", refs: true},
		{in: "${MISSING:-a:-b}", want: "a:-b", refs: true},
		{in: "$$", want: "$"},
		{in: "$${A}", want: "${A}"},
		{in: "cost $5", want: "cost $5"},
		{in: "end$", want: "end$"},
		{in: "${MISSING}", err: "environment variable MISSING is not set (write ${MISSING:-default} to give a default)"},
		{in: "${A", err: `unterminated ${ in "${A" (write $$ for a literal $)`},
		{in: "${}", err: `invalid environment variable name "" in ${}`},
		{in: "${A-B}", err: `invalid environment variable name "A-B" in ${A-B}`},
	} {
		got, refs, err := expand(tc.in, lookup)
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err {
				t.Errorf("expand(%q): error %v, want %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("expand(%q): %v", tc.in, err)
		case got != tc.want || refs != tc.refs:
			t.Errorf("expand(%q) = %q, %v; want %q, %v", tc.in, got, refs, tc.want, tc.refs)
		}
	}
}

// loadString loads YAML from a string.
func loadString(t *testing.T, format Format, src string) (*Config, error) {
	t.Helper()
	return Load(strings.NewReader(src), format)
}

func TestLoadTypesFromEnvironment(t *testing.T) {
	// In JSON, a reference has to be in a string; the expanded text then
	// decides the type.
	t.Setenv("CFG_N", "4")
	t.Setenv("CFG_B", "true")
	t.Setenv("CFG_F", "1.5")
	cfg, err := loadString(t, JSON, `{"name": "r", "intensity": {"max_restarts": "${CFG_N}"},
		"children": [{"name": "a", "task": "t", "readiness": "${CFG_B}", "backoff": {"multiplier": "${CFG_F}"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if *cfg.Intensity.MaxRestarts != 4 || !cfg.Children[0].Readiness || *cfg.Children[0].Backoff.Multiplier != 1.5 {
		t.Errorf("got %+v", cfg)
	}
	// Without a reference, a quoted number is a string and is rejected.
	_, err = loadString(t, JSON, `{"name": "r", "intensity": {"max_restarts": "4"}}`)
	if got := messages(t, err); !slices.Equal(got, []string{`line 1: intensity.max_restarts: must be an integer, not the string "4"`}) {
		t.Errorf("got %q", got)
	}
}

func TestLoadNullMeansUnset(t *testing.T) {
	cfg, err := loadString(t, YAML, "name: r\ndefaults:\nintensity: ~\nchildren:\n  - name: a\n    task: t\n    backoff:\n    stop_timeout: null\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Defaults != nil || cfg.Intensity != nil || cfg.Children[0].Backoff != nil || cfg.Children[0].StopTimeout != nil {
		t.Errorf("null fields were set: %+v", cfg)
	}
}

func TestLoadAliases(t *testing.T) {
	cfg, err := loadString(t, YAML, `
name: r
defaults:
  backoff: &fast {initial: 10ms, max: 100ms}
children:
  - name: a
    task: t
    backoff: *fast
`)
	if err != nil {
		t.Fatal(err)
	}
	if b := cfg.Children[0].Backoff; b == nil || time.Duration(*b.Max) != 100*time.Millisecond {
		t.Errorf("alias not followed: %+v", b)
	}
}

// TestLoadAliasBomb: aliases that expand exponentially are cut off after a
// bounded amount of work, with one problem.
func TestLoadAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: r\nchildren:\n  - name: l0\n    supervisor: &l0\n      children: [{name: x, task: t}]\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, "  - name: l%d\n    supervisor: &l%d\n      children: [", i, i)
		for j := range 8 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "{name: c%d, supervisor: *l%d}", j, i-1)
		}
		b.WriteString("]\n")
	}
	// The work is bounded by what it allocates, not by a clock.
	_, err, n, _ := measuredLoad(YAML, b.String())
	got := messages(t, err)
	if len(got) != 1 || !strings.Contains(got[0], "the document is too large: more than 100000 values once aliases are expanded") {
		t.Errorf("got %q", got)
	}
	if n > 64<<20 {
		t.Errorf("allocated %d bytes", n)
	}
}

func TestLoadDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	for _, f := range []Format{YAML, JSON} {
		if _, err := loadString(t, f, `{"name": "r", "children": `+deep+`}`); err == nil {
			t.Errorf("%s: accepted", f)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	src := "name: r\nchildren:\n  - name: a\n    task: t\n    stop_timeout: 1x\n"
	for _, name := range []string{"c.yaml", "c.yml", "C.YAML"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadFile(p)
		want := fmt.Sprintf(`config: %s:5: children[0].stop_timeout: invalid duration "1x" (write a duration such as "250ms", "5s" or "1m30s")`, p)
		if err == nil || err.Error() != want {
			t.Errorf("LoadFile(%s): %v\nwant %s", name, err, want)
		}
	}
	if _, err := LoadFile(filepath.Join(dir, "c.toml")); err == nil || !strings.Contains(err.Error(), `unknown extension ".toml" (want .yaml, .yml or .json)`) {
		t.Errorf("toml: %v", err)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(strings.NewReader("name: r"), "toml"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestValidationErrorFormat(t *testing.T) {
	_, err := loadString(t, YAML, "name: r\nstrategy: x\nchildren:\n  - task: t\n")
	want := `config: 2 problems:
	line 2: strategy: "x" is not a strategy (want one_for_one, one_for_all or rest_for_one)
	line 4: children[0].name: is required`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestLoadTooLarge(t *testing.T) {
	_, err := Load(strings.NewReader("name: r\n"+strings.Repeat("#", MaxSize)), YAML)
	if got := messages(t, err); len(got) != 1 || got[0] != fmt.Sprintf("the document is larger than %d bytes", MaxSize) {
		t.Errorf("got %q", got)
	}
}

// TestValidateGoConfig: a Config written in Go is validated the same way,
// without lines.
func TestValidateGoConfig(t *testing.T) {
	d := func(s string) *Duration {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return (*Duration)(&v)
	}
	cfg := &Config{Name: "r", Children: []Child{
		{Name: "a", Task: "http", Backoff: &Backoff{Initial: d("2s"), Max: d("1s")}},
		{Name: "b", Task: "nope", DependsOn: []string{"a"}},
	}}
	err := cfg.Validate(testRegistry(t))
	want := []string{
		"children[0].backoff.max: must be >= children[0].backoff.initial (2s)",
		`children[1].task: unknown task "nope"`,
	}
	if got := messages(t, err); !slices.Equal(got, want) {
		t.Errorf("got %q", got)
	}
	if err := cfg.Validate(nil); err == nil || strings.Contains(err.Error(), "unknown task") {
		t.Errorf("Validate(nil) checks tasks: %v", err)
	}
}
