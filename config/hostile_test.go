package config

import (
	"fmt"
	"strings"
)

// The hostile shapes below are the documents an adversarial run found to
// blow up the loader: small documents that cost it far more than their
// size. The tests of hostile_load_test.go load them at the sizes of the
// report; linear_test.go checks that their cost grows linearly; the
// benchmarks of bench_test.go show their time and memory; and
// testdata/fuzz/FuzzLoad holds small versions of them as seeds.

// aliasShape is one anchor of anchorLen bytes named refs times in a
// depends_on list: each use used to be decoded, checked and quoted in
// full.
func aliasShape(anchorLen, refs int) string {
	var b strings.Builder
	b.WriteString("name: r\nchildren:\n  - name: a\n    task: t\n    depends_on:\n      - &big \"")
	b.WriteString(strings.Repeat("x", anchorLen))
	b.WriteString("\"\n")
	for range refs {
		b.WriteString("      - *big\n")
	}
	return b.String()
}

// deepShape is levels supervisors nested in flow YAML, 38 bytes a level:
// every level used to store its full field path.
func deepShape(levels int) string {
	var b strings.Builder
	b.WriteString("{name: r, children: [")
	for range levels {
		b.WriteString("{name: a, supervisor: {children: [")
	}
	b.WriteString("{name: x, task: t}")
	for range levels {
		b.WriteString("]}}")
	}
	b.WriteString("]}\n")
	return b.String()
}

// deepJSONShape is deepShape in JSON.
func deepJSONShape(levels int) string {
	var b strings.Builder
	b.WriteString(`{"name": "r", "children": [`)
	for range levels {
		b.WriteString(`{"name": "a", "supervisor": {"children": [`)
	}
	b.WriteString(`{"name": "x", "task": "t"}`)
	for range levels {
		b.WriteString("]}}")
	}
	b.WriteString("]}\n")
	return b.String()
}

// unknownKeysShape is n unknown keys at the top level, 14 bytes each: 200k
// of them are the 2.67 MiB of the report.
func unknownKeysShape(n int) string {
	var b strings.Builder
	b.WriteString("name: r\n")
	for i := range n {
		fmt.Fprintf(&b, "key_%06d: 1\n", i)
	}
	return b.String()
}

// unknownChildrenShape is n children that have only an unknown key: each
// makes three problems, and each problem used to be checked against every
// failed path, which made the cost quadratic.
func unknownChildrenShape(n int) string {
	var b strings.Builder
	b.WriteString("name: r\nchildren:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {k%d: 1}\n", i)
	}
	return b.String()
}

// unknownDepsShape is siblings children with deps unknown dependencies
// spread over them, all names 48 bytes long: each unknown dependency used
// to be compared with every sibling.
func unknownDepsShape(siblings, deps int) string {
	var b strings.Builder
	b.WriteString("name: r\nchildren:\n")
	k := 0
	for i := range siblings {
		fmt.Fprintf(&b, "  - name: service-%05d-%s\n    task: t\n    depends_on:\n", i, strings.Repeat("a", 36))
		for ; k < deps*(i+1)/siblings; k++ {
			fmt.Fprintf(&b, "      - missing-%06d-%s\n", k, strings.Repeat("b", 33))
		}
	}
	return b.String()
}

// hugeNamesShape names the supervisor and its child with n bytes each.
func hugeNamesShape(n int) string {
	return "name: " + strings.Repeat("n", n) + "\nchildren:\n  - name: " + strings.Repeat("c", n) + "\n    task: t\n"
}
