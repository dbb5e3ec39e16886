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
	// Problems are in the order of their lines: the first ones found, at
	// most 50 (51 when the last says that the document is too large to
	// decode), so that a hostile document cannot make an error of any size.
	Problems []Problem
	// Omitted is the number of further problems that were found but are
	// not listed.
	Omitted int
}

// Error renders one problem per line, each prefixed with its file and line
// when known, then how many more were found but not listed.
func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 && e.Omitted == 0 {
		return "config: " + e.Problems[0].format(e.File)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "config: %d problems:", len(e.Problems)+e.Omitted)
	for _, p := range e.Problems {
		b.WriteString("\n\t" + p.format(e.File))
	}
	if e.Omitted > 0 {
		fmt.Fprintf(&b, "\n\t... and %d more", e.Omitted)
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

// problems collects the problems of one load, validation or build: the
// first maxProblems of them, and a count of the others.
type problems struct {
	list         []Problem
	omitted      int
	fields       *fields // nil for a Config built in Go
	suggestSpent int     // of suggestBudget
}

// add records a problem at p, unless the value at p or above it failed to
// decode: checking what is missing because of a decoding problem would only
// repeat it.
func (ps *problems) add(p *fieldPath, format string, args ...any) {
	if p.failed {
		return
	}
	ps.addAt(p, p.line, format, args...)
}

// addAt records a problem at p, on line, whatever failed.
func (ps *problems) addAt(p *fieldPath, line int, format string, args ...any) {
	if !ps.room() {
		ps.omitted++
		return
	}
	ps.list = append(ps.list, Problem{Path: p.String(), Line: line, Message: fmt.Sprintf(format, args...)})
}

// push records a problem made by the caller.
func (ps *problems) push(p Problem) {
	if !ps.room() {
		ps.omitted++
		return
	}
	ps.list = append(ps.list, p)
}

// room reports whether another problem would be listed; callers check it
// before work that only a listed problem needs, such as a suggestion.
func (ps *problems) room() bool { return len(ps.list) < maxProblems }

// skip reports whether any of paths is, or is below, a value that failed
// to decode.
func (ps *problems) skip(paths ...*fieldPath) bool {
	for _, p := range paths {
		if p != nil && p.failed {
			return true
		}
	}
	return false
}

// at and elem extend a path, keeping the decoder's line and failure.
func (ps *problems) at(up *fieldPath, name string) *fieldPath { return ps.fields.at(up, name) }
func (ps *problems) elem(up *fieldPath, i int) *fieldPath     { return ps.fields.elem(up, i) }

// err returns the collected problems as a *ValidationError, sorted by line,
// or nil.
func (ps *problems) err(file string) error {
	if len(ps.list) == 0 {
		return nil
	}
	list := slices.Clone(ps.list)
	slices.SortStableFunc(list, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	return &ValidationError{File: file, Problems: list, Omitted: ps.omitted}
}
