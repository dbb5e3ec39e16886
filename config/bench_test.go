package config

import (
	"strings"
	"testing"
)

// The benchmarks load each hostile shape at the size of the adversarial
// report, so that the time and memory of each are visible:
//
//	go test -run '^$' -bench '^BenchmarkLoad' ./config/
func benchmarkLoad(b *testing.B, format Format, doc string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		Load(strings.NewReader(doc), format)
	}
}

// One 1 MiB anchor named 2,000 times in depends_on.
func BenchmarkLoadAlias(b *testing.B) { benchmarkLoad(b, YAML, aliasShape(1<<20, 2000)) }

// 3,300 nested supervisors in 0.12 MiB of flow YAML.
func BenchmarkLoadDeepNesting(b *testing.B) { benchmarkLoad(b, YAML, deepShape(3300)) }

// 200,000 unknown keys at the top level, 2.67 MiB.
func BenchmarkLoadUnknownKeys(b *testing.B) { benchmarkLoad(b, YAML, unknownKeysShape(200_000)) }

// 40,000 children that have only an unknown key.
func BenchmarkLoadUnknownChildren(b *testing.B) {
	benchmarkLoad(b, YAML, unknownChildrenShape(40_000))
}

// 2,000 siblings and 30,000 unknown dependencies.
func BenchmarkLoadUnknownDependencies(b *testing.B) {
	benchmarkLoad(b, YAML, unknownDepsShape(2000, 30_000))
}

// A supervisor and a child named with 1 MiB each.
func BenchmarkLoadHugeNames(b *testing.B) { benchmarkLoad(b, YAML, hugeNamesShape(1<<20)) }

// 8,000 valid children, each depending on the one before: a large
// configuration that loads, for comparison.
func BenchmarkLoadValidChildren(b *testing.B) { benchmarkLoad(b, YAML, validChildrenShape(8000)) }

// The same in JSON.
func BenchmarkLoadValidChildrenJSON(b *testing.B) {
	benchmarkLoad(b, JSON, validChildrenJSONShape(8000))
}
