package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// Each test here loads one shape of the adversarial report at its size and
// checks that the result is a bounded, clear error (or a successful load),
// and what it allocated. Nothing here measures time: the benchmarks of
// bench_test.go show it.

// maxErrorText bounds the text of the errors below: 50 problems of a
// line each.
const maxErrorText = 16 << 10

// maxProblemText bounds the text of any problem: two paths at most
// MaxDepth levels deep and a few values of at most 64 bytes each. FuzzLoad
// checks it too.
const maxProblemText = 4 << 10

// hostileLoad loads doc and returns its error, failing the test when there
// is none, when its text exceeds maxErrorText, when a problem's text
// exceeds maxProblemText, or when loading allocated more than perByte
// bytes for each byte of doc (0: no ceiling).
func hostileLoad(t *testing.T, format Format, doc string, perByte uint64) *ValidationError {
	t.Helper()
	_, err, bytes, _ := measuredLoad(format, doc)
	if err == nil {
		t.Fatal("accepted")
	}
	ve, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("error is %T, not *ValidationError: %v", err, err)
	}
	if n := len(err.Error()); n > maxErrorText {
		t.Errorf("the error is %d bytes long; want at most %d", n, maxErrorText)
	}
	for _, p := range ve.Problems {
		if n := len(p.String()); n > maxProblemText {
			t.Errorf("a problem is %d bytes long; want at most %d: %.200s…", n, maxProblemText, p.String())
		}
	}
	if perByte > 0 && bytes > perByte*uint64(len(doc)) {
		t.Errorf("loading %d bytes allocated %d, more than %d a byte", len(doc), bytes, perByte)
	}
	return ve
}

// TestHostileAlias: one 1 MiB anchor named 2,000 times in depends_on took
// 25 s, 2.75 GB of heap and made a 2.1 GB error. Each use is now charged
// what it expands to: after 8 MiB the decoder stops, and each problem
// quotes nothing of the value.
func TestHostileAlias(t *testing.T) {
	doc := aliasShape(1<<20, 2000)
	ve := hostileLoad(t, YAML, doc, 16)
	want := []string{}
	for i := range 7 {
		want = append(want, fmt.Sprintf("line 6: children[0].depends_on[%d]: the value is 1048576 bytes long; the limit is 1024", i))
	}
	want = append(want, "line 13: children[0].depends_on[7]: the document is too large: more than 8388608 bytes of keys and values once aliases and environment variables are expanded")
	if got := ve.Messages(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	if n := len(ve.Error()); n > 1024 {
		t.Errorf("the error is %d bytes long", n)
	}
}

// TestHostileAliasOfLongKeys: a mapping of many long unknown keys named by
// many aliases is charged its keys' bytes at every use.
func TestHostileAliasOfLongKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: r\ndefaults: &d\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "  k%04d%s: 1\n", i, strings.Repeat("k", 1000))
	}
	b.WriteString("children:\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "  - {name: c%d, task: t, supervisor: {defaults: *d}}\n", i)
	}
	ve := hostileLoad(t, YAML, b.String(), 0)
	// The problem that stopped decoding is listed, after the 50 others.
	if len(ve.Problems) != maxProblems+1 || ve.Omitted == 0 ||
		!strings.Contains(ve.Error(), ": the document is too large: more than 8388608 bytes of keys and values") {
		t.Errorf("%d problems listed, %d omitted:\n%s", len(ve.Problems), ve.Omitted, ve.Error())
	}
}

// TestHostileEnvExpansion: a value that names a long variable many times
// is cut at MaxValueLen.
func TestHostileEnvExpansion(t *testing.T) {
	t.Setenv("CONFIG_TEST_BIG", strings.Repeat("v", 1000))
	ve := hostileLoad(t, YAML, "name: r\nchildren:\n  - name: a\n    task: ${CONFIG_TEST_BIG}${CONFIG_TEST_BIG}\n", 0)
	want := "line 4: children[0].task: the value is longer than 1024 bytes once ${CONFIG_TEST_BIG} is expanded"
	if got := ve.Messages(); len(got) != 1 || got[0] != want {
		t.Errorf("got %q", got)
	}
}

// TestHostileDeepNesting: 3,300 nested supervisors in 0.12 MiB of flow
// YAML took 1.49 GB, every level storing its full field path. Past
// MaxDepth levels the supervisor field is rejected, once.
func TestHostileDeepNesting(t *testing.T) {
	field := strings.Repeat("children[0].supervisor.", MaxDepth-1) + "children[0].supervisor"
	want := fmt.Sprintf("line 1: %s: nested too deep: a tree has at most %d levels of supervisors", field, MaxDepth)
	for format, doc := range map[Format]string{YAML: deepShape(3300), JSON: deepJSONShape(200)} {
		ve := hostileLoad(t, format, doc, 256)
		if got := ve.Messages(); len(got) != 1 || got[0] != want {
			t.Errorf("%s: got %q\nwant %q", format, got, want)
		}
	}
	// MaxDepth levels load, and build.
	cfg, err := loadString(t, YAML, deepShape(MaxDepth-1))
	if err != nil {
		t.Fatal(err)
	}
	reg := &Registry{}
	reg.Register("t", func(FactoryContext) (sdk.Service, error) { return sdk.ServiceFunc(idle), nil })
	if _, err := Build(cfg, reg); err != nil {
		t.Fatal(err)
	}
}

// TestHostileSelfContainingConfig: a Config built in Go may contain
// itself; validation stops at MaxDepth instead of recursing forever.
func TestHostileSelfContainingConfig(t *testing.T) {
	cfg := &Config{Name: "a"}
	cfg.Children = []Child{{Name: "a", Supervisor: cfg}}
	err := cfg.Validate(nil)
	if err == nil {
		t.Fatal("accepted")
	}
	got := messages(t, err)
	field := strings.Repeat("children[0].supervisor.", MaxDepth-1) + "children[0].supervisor"
	if want := field + ": nested too deep: a tree has at most 16 levels of supervisors"; len(got) != 1 || got[0] != want {
		t.Errorf("got %q", got)
	}
}

// TestHostileUnknownKeys: 200k unknown keys in 2.67 MiB. Each is a
// problem; 50 are listed, the others counted.
func TestHostileUnknownKeys(t *testing.T) {
	doc := unknownKeysShape(200_000)
	ve := hostileLoad(t, YAML, doc, 64)
	if len(ve.Problems) != maxProblems || ve.Omitted != 200_000-maxProblems {
		t.Errorf("%d problems listed, %d omitted", len(ve.Problems), ve.Omitted)
	}
	text := ve.Error()
	if !strings.HasPrefix(text, "config: 200000 problems:\n\tline 2: key_000000: unknown field\n") ||
		!strings.HasSuffix(text, "\n\tline 51: key_000049: unknown field\n\t... and 199950 more") {
		t.Errorf("error:\n%s", text)
	}
}

// TestHostileUnknownChildren: children that have only an unknown key,
// whose problems each scanned every failed path (quadratic). Each makes
// its three problems, none of them twice.
func TestHostileUnknownChildren(t *testing.T) {
	doc := unknownChildrenShape(40_000)
	ve := hostileLoad(t, YAML, doc, 128)
	if len(ve.Problems) != maxProblems || ve.Omitted != 120_000-maxProblems {
		t.Errorf("%d problems listed, %d omitted", len(ve.Problems), ve.Omitted)
	}
	// The first found are listed: the decoder's, before validation's.
	want := []string{
		"line 3: children[0].k0: unknown field",
		"line 4: children[1].k1: unknown field",
		"line 5: children[2].k2: unknown field",
	}
	if got := ve.Messages()[:3]; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q", got)
	}
}

// TestHostileUnknownDependencies: 2,000 siblings and 30,000 unknown
// dependencies, each of which was compared with every sibling (more than
// ten minutes). Too many siblings for a suggestion: each problem says
// only what is wrong.
func TestHostileUnknownDependencies(t *testing.T) {
	doc := unknownDepsShape(2000, 30_000)
	ve := hostileLoad(t, YAML, doc, 64)
	if len(ve.Problems) != maxProblems || ve.Omitted != 30_000-maxProblems {
		t.Errorf("%d problems listed, %d omitted", len(ve.Problems), ve.Omitted)
	}
	want := fmt.Sprintf(`line 6: children[0].depends_on[0]: "missing-000000-%s" is not a sibling`, strings.Repeat("b", 33))
	if got := ve.Messages()[0]; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestHostileDependencySuggestions: among few siblings, a dependency gets
// a suggestion; the search shares one budget, so that a document cannot
// make it cost more.
func TestHostileDependencySuggestions(t *testing.T) {
	ve := hostileLoad(t, YAML, unknownDepsShape(100, 3000), 0)
	want := fmt.Sprintf(`line 6: children[0].depends_on[0]: "missing-000000-%s" is not a sibling`, strings.Repeat("b", 33))
	if got := ve.Messages()[0]; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	_, err := loadString(t, YAML, "name: r\nchildren:\n  - {name: database, task: t}\n  - {name: api, task: t, depends_on: [databse]}\n")
	if got := messages(t, err); len(got) != 1 || got[0] != `line 4: children[1].depends_on[0]: "databse" is not a sibling (did you mean "database"?)` {
		t.Errorf("got %q", got)
	}
	ps := &problems{}
	long := strings.Repeat("x", maxSuggestLen)
	for range suggestBudget / ((maxSuggestLen + 1) * (maxSuggestLen + 1)) {
		if _, ok := ps.distance(long, long); !ok {
			t.Fatal("the budget ran out early")
		}
	}
	if _, ok := ps.distance(long, long); ok {
		t.Error("the budget does not run out")
	}
}

// TestHostileNames: 1 MiB names were accepted, and went into paths,
// events, metric and span attributes.
func TestHostileNames(t *testing.T) {
	ve := hostileLoad(t, YAML, hugeNamesShape(1<<20), 16)
	want := []string{
		"line 1: name: the value is 1048576 bytes long; the limit is 1024",
		"line 3: children[0].name: the value is 1048576 bytes long; the limit is 1024",
	}
	if got := ve.Messages(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q", got)
	}
	ve = hostileLoad(t, YAML, hugeNamesShape(sdk.MaxNameLen+1), 0)
	want = []string{
		"line 1: name: is 64 bytes long; the limit is 63",
		"line 3: children[0].name: is 64 bytes long; the limit is 63",
	}
	if got := ve.Messages(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q", got)
	}
	if _, err := loadString(t, YAML, hugeNamesShape(sdk.MaxNameLen)); err != nil {
		t.Errorf("names of sdk.MaxNameLen bytes: %v", err)
	}
}

// TestHostileQuoting: a problem quotes at most 64 bytes of a value, and a
// key in a path is cut the same way.
func TestHostileQuoting(t *testing.T) {
	long := strings.Repeat("z", 1000)
	ve := hostileLoad(t, YAML, "name: r\nstrategy: "+long+"\n"+long+": 1\nchildren:\n  - {name: a, task: t, stop_timeout: \""+long+"\"}\n", 0)
	z := strings.Repeat("z", 64)
	want := []string{
		`line 2: strategy: "` + z + `"… (1000 bytes) is not a strategy (want one_for_one, one_for_all or rest_for_one)`,
		`line 3: ` + z + `… (1000 bytes): unknown field`,
		`line 5: children[0].stop_timeout: invalid duration "` + z + `"… (1000 bytes) (write a duration such as "250ms", "5s" or "1m30s")`,
	}
	if got := ve.Messages(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// TestHostileLongList: a list longer than the values the budget has left
// is rejected before it is allocated. What is left is the YAML parser's
// node tree, some 240 bytes a node: two bytes of this document.
func TestHostileLongList(t *testing.T) {
	doc := "name: r\nchildren: [" + strings.Repeat("1,", maxNodes) + "1]\n"
	ve := hostileLoad(t, YAML, doc, 160)
	if got := ve.Messages(); len(got) != 1 || got[0] != "line 2: children: the document is too large: more than 100000 values once aliases are expanded" {
		t.Errorf("got %q", got)
	}
}

// TestHostileLongCycle: a dependency cycle through many children shows
// only its start.
func TestHostileLongCycle(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: r\nchildren:\n")
	const n = 1000
	for i := range n {
		fmt.Fprintf(&b, "  - {name: c%d, task: t, depends_on: [c%d]}\n", i, (i+1)%n)
	}
	ve := hostileLoad(t, YAML, b.String(), 0)
	want := "line 3: children[0].depends_on: dependency cycle: c0 → c1 → c2 → c3 → c4 → c5 → c6 → c7 → … → c0 (1000 children)"
	if got := ve.Messages(); len(got) != 1 || got[0] != want {
		t.Errorf("got %q", got)
	}
}
