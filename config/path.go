package config

import (
	"strconv"
	"strings"
)

// fieldPath is the path of a field in a configuration, such as
// "children[2].backoff.max", held as a list from the field up to the root.
// Extending a path costs the same at any depth and shares the parent, so
// the paths of a whole tree take memory linear in the tree however deep it
// nests; the text is made only for a problem that is reported.
type fieldPath struct {
	up    *fieldPath // nil for the root, the document as a whole
	name  string     // the field's name; "" for an element of a list
	index int
	// line is the line of the field in the source, or of the nearest field
	// above it that has one; 0 when unknown.
	line int
	// failed says that the value here or above could not be decoded:
	// problems found below it would only repeat that one.
	failed bool
}

// pathKey identifies a path by its parent and last segment.
type pathKey struct {
	up    *fieldPath
	name  string
	index int
}

// fields are the paths the decoder visited in a loaded configuration, with
// their lines and decoding failures, so that validation, then or later in
// Build, can point into the file. They are written while decoding only and
// then only read, so Validate and Build may run concurrently.
type fields struct {
	root  *fieldPath
	paths map[pathKey]*fieldPath
	order []*fieldPath // every path after its parent
}

func newFields() *fields {
	return &fields{root: &fieldPath{}, paths: make(map[pathKey]*fieldPath)}
}

// add records the path of a field the decoder visits, on line (0: the line
// of its value, which decoding sets).
func (fs *fields) add(up *fieldPath, name string, index, line int) *fieldPath {
	p := &fieldPath{up: up, name: name, index: index, line: line}
	fs.paths[pathKey{up, name, index}] = p
	fs.order = append(fs.order, p)
	return p
}

// seal passes failures down to the paths below, once decoding is done: a
// value can fail after what is below it was decoded (a duplicate key, a
// merge key), and validation then asks each path in constant time.
func (fs *fields) seal() {
	for _, p := range fs.order {
		if p.up != nil && p.up.failed {
			p.failed = true
		}
	}
}

// top returns the root path of a validation: the decoder's when the
// configuration was loaded, else a fresh one without lines.
func (fs *fields) top() *fieldPath {
	if fs == nil {
		return &fieldPath{}
	}
	return fs.root
}

// at returns the path of field name below up: the decoder's, with its line
// and failure, or a new one that inherits them from up.
func (fs *fields) at(up *fieldPath, name string) *fieldPath { return fs.child(up, name, 0) }

// elem returns the path of element i of the list at up, as at does.
func (fs *fields) elem(up *fieldPath, i int) *fieldPath { return fs.child(up, "", i) }

func (fs *fields) child(up *fieldPath, name string, index int) *fieldPath {
	if fs != nil {
		if p, ok := fs.paths[pathKey{up, name, index}]; ok {
			return p
		}
	}
	return &fieldPath{up: up, name: name, index: index, line: up.line, failed: up.failed}
}

// String renders the path as problems show it: "children[2].backoff.max",
// "" for the root.
func (p *fieldPath) String() string {
	var segs []*fieldPath
	for q := p; q != nil && q.up != nil; q = q.up {
		segs = append(segs, q)
	}
	var b strings.Builder
	for i := len(segs) - 1; i >= 0; i-- {
		q := segs[i]
		if q.name == "" {
			b.WriteString("[" + strconv.Itoa(q.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(clip(q.name)) // an unknown key is any length
	}
	return b.String()
}

// parentOf returns the path above p, or nil for the root or nil.
func parentOf(p *fieldPath) *fieldPath {
	if p == nil {
		return nil
	}
	return p.up
}

// within reports whether p is anc or below it.
func within(p, anc *fieldPath) bool {
	for ; p != nil; p = p.up {
		if p == anc {
			return true
		}
	}
	return false
}
