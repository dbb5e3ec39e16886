package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// FuzzLoad feeds arbitrary documents to Load. The loader must never panic,
// must return a configuration or an error, never both, and must report
// every problem with a message of bounded size, and a bounded number of
// them; and a configuration it accepts must build (Build calls sdk's own
// checks, so a spec sdk rejects is a gap in validation). The committed
// corpus (testdata/fuzz/FuzzLoad) has small versions of the hostile
// shapes of hostile_test.go.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*.yaml", "testdata/invalid/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b, false)
			}
		}
	}
	if b, err := os.ReadFile("testdata/valid/tree.json"); err == nil {
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		format := YAML
		if isJSON {
			format = JSON
		}
		cfg, err := Load(bytes.NewReader(data), format)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Load returned %v and %v", cfg, err)
		}
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error is %T, not *ValidationError: %v", err, err)
			}
			for _, p := range ve.Problems {
				if p.Message == "" {
					t.Fatalf("problem without a message: %+v", p)
				}
				if n := len(p.String()); n > maxProblemText {
					t.Fatalf("a problem is %d bytes long: %.300s…", n, p.String())
				}
			}
			// At most one problem past the cap: the one that stopped decoding.
			if len(ve.Problems) > maxProblems+1 {
				t.Fatalf("%d problems listed", len(ve.Problems))
			}
			return
		}
		// Accepted: it must build with a registry that has its tasks.
		reg := &Registry{}
		var register func(c *Config)
		register = func(c *Config) {
			for _, ch := range c.Children {
				if ch.Supervisor != nil {
					register(ch.Supervisor)
				} else if _, ok := reg.lookup(ch.Task); !ok {
					if err := reg.Register(ch.Task, func(FactoryContext) (sdk.Service, error) { return sdk.ServiceFunc(idle), nil }); err != nil {
						t.Skip("task key the registry does not accept:", err)
					}
				}
			}
		}
		register(cfg)
		if _, err := Build(cfg, reg); err != nil {
			t.Fatalf("Load accepted the configuration but Build rejected it: %v\n%s", err, data)
		}
	})
}
