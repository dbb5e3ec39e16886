package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// invalidConfigs are the configurations of testdata/invalid and exactly the
// problems they must be reported with, all at once: by Load, or by
// Validate with the test registry when Load accepts the file (unknown
// tasks).
var invalidConfigs = []struct {
	file string
	want []string
}{
	{
		file: "aliases.yaml",
		want: []string{
			`line 6: children[1]: merge keys (<<) are not supported; use defaults to share settings`,
			`line 8: children[2]: unsupported YAML tag !custom`,
		},
	},
	{
		file: "backoff.yaml",
		want: []string{
			`line 7: children[0].backoff: the inherited initial 10s (defaults.backoff.initial) exceeds the inherited max 2s (the sidecar role's backoff.max); set backoff.max or backoff.initial`,
			`line 13: children[1].backoff.max: must be >= defaults.backoff.initial (10s)`,
			`line 17: children[2].backoff.max: must be >= children[2].backoff.initial (100ms)`,
			`line 22: children[3].backoff.initial: must be <= the worker role's backoff.max (5s)`,
		},
	},
	{
		file: "bad_values.yaml",
		want: []string{
			`line 2: strategy: "one_for_everyone" is not a strategy (want one_for_one, one_for_all or rest_for_one)`,
			`line 4: intensity.max_restarts: must be at most 10000 (20000); express a higher rate with a shorter period`,
			`line 5: intensity.period: 10 has no unit: write a duration such as "10s" or "10ms"`,
			`line 7: shutdown.order: "sideways" is not a shutdown order (want reverse or all_at_once)`,
			`line 8: shutdown.deadline: must not be negative (-5s)`,
			`line 9: auto_shutdown: "sometimes" is not an auto_shutdown mode (want never, any_significant or all_significant)`,
			`line 13: children[0].role: "servic" is not a role (want service, worker, job, sidecar or none)`,
			`line 14: children[0].restart: "always" is not a restart type (want permanent, transient or temporary)`,
			`line 15: children[0].stop_timeout: invalid duration "5 seconds" (write a duration such as "250ms", "5s" or "1m30s")`,
			`line 17: children[0].backoff.initial: must not be negative (-1s)`,
			`line 18: children[0].backoff.multiplier: must be a finite number >= 1 (0.5)`,
			`line 19: children[0].backoff.jitter: "some" is not a jitter mode (want none, full, equal or decorrelated)`,
			`line 23: children[1].readiness: must be true or false, not the string "yes"`,
			`line 24: children[1].stop_timeout: must be positive (leave it out to use the role's)`,
			`line 25: children[1].start_timeout: requires readiness: true`,
			`line 28: children[2].depends_on: must be a list, not the string "db"`,
			`line 29: children[2].stale_after: must be a duration such as "250ms" or "5s", not a list`,
		},
	},
	{
		file: "dependencies.yaml",
		want: []string{
			`line 5: children[0].depends_on: dependency cycle: a → b → c → a`,
			`line 8: children[1].depends_on[1]: "c" is listed twice`,
			`line 8: children[1].depends_on[2]: a child cannot depend on itself`,
			`line 11: children[2].depends_on[1]: "dbb" is not a sibling (did you mean "db"?)`,
			`line 14: children[3].depends_on[1]: a child cannot depend on itself`,
			`line 17: children[4].depends_on[1]: must not be empty`,
			`line 17: children[4].depends_on: dependency cycle: x → y → x`,
		},
	},
	{
		file: "duplicate_keys.yaml",
		want: []string{
			`line 2: name: duplicate key (first on line 1)`,
			`line 6: children[0].task: duplicate key (first on line 5)`,
		},
	},
	{
		file: "empty.yaml",
		want: []string{
			`the document is empty`,
		},
	},
	{
		file: "env.yaml",
		want: []string{
			`line 2: strategy: environment variable CONFIG_TEST_MISSING is not set (write ${CONFIG_TEST_MISSING:-default} to give a default)`,
			`line 5: children[0].task: invalid environment variable name "1BAD" in ${1BAD}`,
			`line 6: children[0].stop_timeout: unterminated ${ in "${CONFIG_TEST_MISSING:-5s" (write $$ for a literal $)`,
			`line 9: children[1].readiness: environment variable CONFIG_TEST_NOT_BOOL is not set (write ${CONFIG_TEST_NOT_BOOL:-default} to give a default)`,
			`line 11: children[1].backoff.multiplier: must be a number, not "x" (from "${CONFIG_TEST_NOT_BOOL:-x}")`,
		},
	},
	{
		file: "list.yaml",
		want: []string{
			`line 1: must be a mapping, not a list`,
		},
	},
	{
		// Names are sdk's (sdk.CheckName); a problem quotes at most 64
		// bytes of a value.
		file: "long_names.yaml",
		want: []string{
			`line 1: name: is 64 bytes long; the limit is 63`,
			`line 5: children[1].name: is 100 bytes long; the limit is 63`,
			`line 7: children[2].name: the value is 2000 bytes long; the limit is 1024`,
			`line 9: children[3].name: is 100 bytes long; the limit is 63`,
			`line 13: children[4].depends_on[1]: "` + strings.Repeat("f", 64) + `"… (200 bytes) is not a sibling (siblings: ` +
				strings.Repeat("e", 63) + `, ` + strings.Repeat("b", 64) + `… (100 bytes), ` + strings.Repeat("d/", 32) + `… (100 bytes))`,
		},
	},
	{
		file: "multi_document.yaml",
		want: []string{
			`line 3: only one YAML document is allowed`,
		},
	},
	{
		file: "names.yaml",
		want: []string{
			`line 1: name: "my root" may contain only letters, digits, '_', '-' and '.'`,
			`line 5: children[1].name: "api" is already used by children[0]`,
			`line 7: children[2].name: is required`,
			`line 8: children[3].name: "bad/name" may contain only letters, digits, '_', '-' and '.'`,
			`line 10: children[4]: set task or supervisor, not both`,
			`line 14: children[5]: set task (a registered service) or supervisor (a nested supervisor)`,
		},
	},
	{
		file: "nested.yaml",
		want: []string{
			`line 5: children[0].readiness: a nested supervisor always declares readiness (it is ready once its own start has completed): leave it out`,
			`line 6: children[0].stale_after: a nested supervisor sends no heartbeats`,
			`line 9: children[0].supervisor.$schema: only the top level may name a schema`,
			`line 10: children[0].supervisor.name: must be "sub", the name of the child, or be left out`,
			`line 12: children[0].supervisor.shutdown.deadline: only the top-level supervisor has a shutdown deadline`,
			`line 16: children[0].supervisor.children[0].significant: requires children[0].supervisor.auto_shutdown to be any_significant or all_significant`,
		},
	},
	{
		file: "no_name.yaml",
		want: []string{
			`line 2: name: is required`,
		},
	},
	{
		file: "significant.yaml",
		want: []string{
			`line 7: children[0].significant: a permanent child cannot be significant: it never ends on its own`,
			`line 11: children[1].significant: a permanent child cannot be significant: it never ends on its own (the service role's restart is permanent; set restart to transient or temporary)`,
			`line 22: children[2].supervisor.children[0].significant: a permanent child cannot be significant: it never ends on its own (permanent comes from children[2].supervisor.defaults.restart; set restart to transient or temporary)`,
			`line 30: children[3].supervisor.children[0].significant: requires children[3].supervisor.auto_shutdown to be any_significant or all_significant`,
		},
	},
	{
		file: "significant_never.yaml",
		want: []string{
			`line 6: children[0].significant: requires auto_shutdown to be any_significant or all_significant`,
		},
	},
	{
		file: "syntax.json",
		want: []string{
			`line 4: invalid JSON: invalid character '}' looking for beginning of object key string`,
		},
	},
	{
		file: "syntax.yaml",
		want: []string{
			`line 3: invalid YAML: did not find expected ',' or ']'`,
		},
	},
	{
		file: "types.yaml",
		want: []string{
			`line 1: name: must be a string, not a list`,
			`line 3: intensity.max_restarts: must be an integer, not the string "abc"`,
			`line 4: intensity.period: 1.5 has no unit: write a duration such as "1.5s" or "1.5ms"`,
			`line 6: children: must be a list, not a mapping`,
		},
	},
	{
		file: "unknown_fields.json",
		want: []string{
			`line 4: children[0].stop_timout: unknown field (did you mean "stop_timeout"?)`,
			`line 5: children[1].readiness: must be true or false, not the string "true"`,
			`line 7: name: duplicate key (first on line 2)`,
		},
	},
	{
		file: "unknown_fields.yaml",
		want: []string{
			`line 2: stratgy: unknown field (did you mean "strategy"?)`,
			`line 4: intensity.maxRestarts: unknown field (did you mean "max_restarts"?)`,
			`line 8: children[0].retsart: unknown field (did you mean "restart"?)`,
			`line 10: children[0].backoff.intial: unknown field (did you mean "initial"?)`,
			`line 13: children[1].supervisor_name: unknown field`,
		},
	},
	{
		file: "unknown_task.yaml",
		want: []string{
			`line 4: children[0].task: unknown task "htp" (did you mean "http"?)`,
			`line 9: children[1].supervisor.children[0].task: unknown task "backup"`,
		},
	},
}

func TestInvalidConfigs(t *testing.T) {
	t.Setenv("CONFIG_TEST_NOT_BOOL", "")
	os.Unsetenv("CONFIG_TEST_NOT_BOOL")
	os.Unsetenv("CONFIG_TEST_MISSING")
	listed := map[string]bool{}
	for _, tc := range invalidConfigs {
		listed[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata/invalid", tc.file)
			cfg, err := LoadFile(path)
			if err == nil {
				err = cfg.Validate(testRegistry(t))
			}
			if err == nil {
				t.Fatal("accepted")
			}
			got := messages(t, err)
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems of %s:\n got:\n\t%s\nwant:\n\t%s", tc.file, strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
			// The error names the file and every line.
			for _, p := range err.(*ValidationError).Problems {
				if want := path + ":"; !strings.Contains(err.Error(), want) {
					t.Errorf("error does not name %s: %v", path, err)
				}
				if p.Line == 0 && tc.file != "empty.yaml" {
					t.Errorf("problem without a line: %v", p)
				}
			}
		})
	}
	files, _ := filepath.Glob("testdata/invalid/*")
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s is not in invalidConfigs", f)
		}
	}
}
