package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Path is the path of the offending field, such as
	// "children[2].backoff.max"; empty for the document as a whole.
	Path string
	// Line is the 1-based line of the field in the source, 0 when unknown
	// (a Config built in Go, or a field that is missing).
	Line int
	// Message says what is wrong.
	Message string
	// Err is the underlying error, if any: a factory's error, or the
	// *sdk.SpecError sdk rejected the spec with.
	Err error
}

// String renders the problem as "line 12: children[2].backoff.max: message".
func (p Problem) String() string { return p.format("") }

func (p Problem) format(file string) string {
	var b strings.Builder
	switch {
	case file != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", file, p.Line)
	case file != "":
		b.WriteString(file + ": ")
	case p.Line > 0:
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in a configuration; nothing is
// built or started when there is one. Load, Validate and Build return it.
type ValidationError struct {
	// File is the file the configuration was loaded from, if any.
	File string
	// Problems are in the order of their lines.
	Problems []Problem
}

// Error renders one problem per line, each prefixed with its file and line
// when known.
func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "config: " + e.Problems[0].format(e.File)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "config: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t" + p.format(e.File))
	}
	return b.String()
}

// Unwrap returns the underlying errors of the problems, for errors.Is and
// errors.As.
func (e *ValidationError) Unwrap() []error {
	var errs []error
	for _, p := range e.Problems {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	return errs
}

// Messages returns the problems as strings, as Problem.String renders them.
func (e *ValidationError) Messages() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.String()
	}
	return out
}

// problems collects the problems of one load, validation or build.
type problems struct {
	list   []Problem
	failed []string       // paths whose value could not be decoded
	lines  map[string]int // line of each field path, from the source
}

// add records a problem at path, unless a value at path or above it failed
// to decode: checking what is missing because of a decoding problem would
// only repeat it.
func (ps *problems) add(path, format string, args ...any) {
	if ps.skip(path) {
		return
	}
	ps.list = append(ps.list, Problem{Path: path, Line: ps.line(path), Message: fmt.Sprintf(format, args...)})
}

// skip reports whether path is, or is below, a path that failed to decode.
func (ps *problems) skip(paths ...string) bool {
	for _, path := range paths {
		for _, f := range ps.failed {
			if under(path, f) {
				return true
			}
		}
	}
	return false
}

// under reports whether path is p or a field or element below it.
func under(path, p string) bool {
	if p == "" {
		return true
	}
	if !strings.HasPrefix(path, p) {
		return false
	}
	rest := path[len(p):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// line returns the line of path, or of its nearest ancestor that has one.
func (ps *problems) line(path string) int {
	for {
		if l, ok := ps.lines[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		path = parent(path)
	}
}

// parent strips the last field or index from a path.
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// err returns the collected problems as a *ValidationError, sorted by line,
// or nil.
func (ps *problems) err(file string) error {
	if len(ps.list) == 0 {
		return nil
	}
	list := slices.Clone(ps.list)
	slices.SortStableFunc(list, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	return &ValidationError{File: file, Problems: list}
}

// join appends a field name to a path.
func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// index appends an element index to a path.
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
