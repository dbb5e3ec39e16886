package config

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// measuredLoad loads doc and returns what Load returns and the bytes and
// allocations it took, on one P, as testing.AllocsPerRun measures (which
// counts allocations but not their bytes), after a warm-up with a small
// document of the format. Allocation is a deterministic measure of the
// work, where time is not.
func measuredLoad(format Format, doc string) (cfg *Config, err error, bytes, allocs uint64) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	Load(strings.NewReader(`{"name": "r", "children": [{"name": "a", "task": "t", "backoff": {"max": "1s"}}]}`), format)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cfg, err = Load(strings.NewReader(doc), format)
	runtime.ReadMemStats(&after)
	return cfg, err, after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
}

// TestLoadCostIsLinear loads each hostile shape at a size n and at 2n:
// the second may cost at most 2.3 times the first, in bytes and in
// allocations. Each of these shapes cost 4 times as much (or more) per
// doubling before the loader had bounds.
func TestLoadCostIsLinear(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format Format
		shape  func(n int) string
		n      int
		valid  bool // loads at both sizes
	}{
		{"alias", YAML, func(n int) string { return aliasShape(n, 2000) }, 64 << 10, false},
		{"alias_refs", YAML, func(n int) string { return aliasShape(512, n) }, 5000, false},
		{"deep", YAML, deepShape, 1650, false},
		{"deep_json", JSON, deepJSONShape, 100, false},
		{"unknown_keys", YAML, unknownKeysShape, 10_000, false},
		{"unknown_children", YAML, unknownChildrenShape, 5000, false},
		{"unknown_dependencies", YAML, func(n int) string { return unknownDepsShape(n, 4*n) }, 500, false},
		{"huge_names", YAML, hugeNamesShape, 128 << 10, false},
		{"valid_children", YAML, validChildrenShape, 2000, true},
		{"valid_children_json", JSON, validChildrenJSONShape, 2500, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err1, b1, a1 := measuredLoad(tc.format, tc.shape(tc.n))
			_, err2, b2, a2 := measuredLoad(tc.format, tc.shape(2*tc.n))
			if tc.valid && (err1 != nil || err2 != nil) {
				t.Fatalf("not loaded: %.500v; %.500v", err1, err2)
			}
			t.Logf("n=%d: %d B, %d allocs; 2n: %d B, %d allocs", tc.n, b1, a1, b2, a2)
			if float64(b2) > 2.3*float64(b1) {
				t.Errorf("bytes grew %.2f times for twice the input (%d, then %d)", float64(b2)/float64(b1), b1, b2)
			}
			if float64(a2) > 2.3*float64(a1) {
				t.Errorf("allocations grew %.2f times for twice the input (%d, then %d)", float64(a2)/float64(a1), a1, a2)
			}
		})
	}
}

// validChildrenShape is n valid children, each depending on the one
// before: the cost of a large configuration that loads.
func validChildrenShape(n int) string {
	var b strings.Builder
	b.WriteString("name: r\nchildren:\n  - {name: c0, task: t}\n")
	for i := 1; i < n; i++ {
		b.WriteString("  - {name: c" + strconv.Itoa(i) + ", task: t, depends_on: [c" + strconv.Itoa(i-1) + "], backoff: {initial: 1s, max: 5s}}\n")
	}
	return b.String()
}

// validChildrenJSONShape is validChildrenShape in JSON, one child a line:
// the JSON parser used to count lines from the start for every token.
func validChildrenJSONShape(n int) string {
	var b strings.Builder
	b.WriteString("{\"name\": \"r\", \"children\": [\n{\"name\": \"c0\", \"task\": \"t\"}")
	for i := 1; i < n; i++ {
		b.WriteString(",\n{\"name\": \"c" + strconv.Itoa(i) + "\", \"task\": \"t\", \"depends_on\": [\"c" + strconv.Itoa(i-1) + "\"]}")
	}
	b.WriteString("]}\n")
	return b.String()
}
