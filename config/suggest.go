package config

import (
	"fmt"
	"math"
	"reflect"
	"strings"
)

// suggest returns a hint naming the field of t that name was probably meant
// to be, or the empty string.
func suggest(name string, t reflect.Type) string {
	folded := strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(name))
	best, bestDist := "", 3
	for i := range t.NumField() {
		f := fieldName(t.Field(i))
		if f == "" {
			continue
		}
		if strings.ToLower(strings.ReplaceAll(f, "_", "")) == folded {
			return fmt.Sprintf(" (did you mean %q?)", f)
		}
		if dist := levenshtein(name, f); dist < bestDist {
			best, bestDist = f, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

func levenshtein(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// hint suggests a close match for name among known, or lists them.
func hint(name string, known []string, what string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := levenshtein(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	switch {
	case best != "":
		return fmt.Sprintf(" (did you mean %q?)", best)
	case len(known) == 0:
		return fmt.Sprintf(" (there are no %s)", what)
	case len(known) <= 10:
		return fmt.Sprintf(" (%s: %s)", what, strings.Join(known, ", "))
	}
	return ""
}
