package config

import (
	"fmt"
	"reflect"
	"strings"
)

// Suggestions ("did you mean") are made only for problems that are listed,
// and their search is bounded: the names compared are short, the names
// compared with are few, and the comparisons of one load or validation
// share a budget, so that no document can make the search cost more than
// a bounded amount, however many of its names are wrong.
const (
	// maxSuggestLen is the longest name compared; longer ones are no typo.
	maxSuggestLen = 64
	// maxCandidates is the most names a name is compared with; a
	// supervisor with more children gets no suggestion for a dependency.
	maxCandidates = 100
	// suggestBudget is the cells of edit-distance tables one load or
	// validation may fill: 256 comparisons of the longest names.
	suggestBudget = 1 << 20
)

// suggestField returns a hint naming the field of t that name was probably
// meant to be, or the empty string.
func (ps *problems) suggestField(name string, t reflect.Type) string {
	if !ps.room() || len(name) > maxSuggestLen {
		return ""
	}
	folded := fold(name)
	best, bestDist := "", 3
	for i := range t.NumField() {
		f := fieldName(t.Field(i))
		if f == "" {
			continue
		}
		if fold(f) == folded {
			return fmt.Sprintf(" (did you mean %q?)", f)
		}
		if dist, ok := ps.distance(name, f); ok && dist < bestDist {
			best, bestDist = f, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// fold drops '_' and '-' and lowers the case, so that maxRestarts and
// max-restarts both find max_restarts.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c == '-':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// hint suggests a close match for name among known, except any equal to
// exclude (the child itself), or lists them when they are few.
func (ps *problems) hint(name string, known []string, exclude, what string) string {
	if !ps.room() {
		return ""
	}
	n := 0
	for _, k := range known {
		if k != exclude {
			n++
		}
	}
	if n <= maxCandidates && len(name) <= maxSuggestLen {
		best, bestDist := "", 3
		for _, k := range known {
			if k == exclude {
				continue
			}
			if d, ok := ps.distance(name, k); ok && d < bestDist {
				best, bestDist = k, d
			}
		}
		if best != "" {
			return fmt.Sprintf(" (did you mean %q?)", best)
		}
	}
	switch {
	case n == 0:
		return fmt.Sprintf(" (there are no %s)", what)
	case n <= 10:
		ls := make([]string, 0, n)
		for _, k := range known {
			if k != exclude {
				ls = append(ls, clip(k))
			}
		}
		return fmt.Sprintf(" (%s: %s)", what, strings.Join(ls, ", "))
	}
	return ""
}

// distance returns the edit distance of a and b, if the budget allows
// computing it and both are at most maxSuggestLen bytes long. Names whose
// lengths differ by 3 or more are never suggested and cost nothing.
func (ps *problems) distance(a, b string) (int, bool) {
	if len(a) > maxSuggestLen || len(b) > maxSuggestLen {
		return 0, false
	}
	if len(a)-len(b) >= 3 || len(b)-len(a) >= 3 {
		return 3, true
	}
	cost := (len(a) + 1) * (len(b) + 1)
	if ps.suggestSpent+cost > suggestBudget {
		return 0, false
	}
	ps.suggestSpent += cost
	return levenshtein(a, b), true
}

// levenshtein returns the edit distance of a and b, at most maxSuggestLen
// bytes each.
func levenshtein(a, b string) int {
	var rows [2][maxSuggestLen + 1]int
	prev, cur := rows[0][:len(b)+1], rows[1][:len(b)+1]
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
