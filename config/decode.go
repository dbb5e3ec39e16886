package config

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder decodes a node tree into the model by the json tags of its
// fields, collecting every problem instead of stopping at the first.
type decoder struct {
	*problems
	lookupEnv func(string) (string, bool)
	known     map[reflect.Type]map[string]int // fieldsOf each struct type met

	// What is left of the budgets, aliases expanded: values, and bytes of
	// keys and values; over once either is spent, which stops decoding.
	nodes, bytes int
	over         bool
	depth        int // of the supervisor being decoded, 1 at the top
}

func newDecoder(ps *problems) *decoder {
	return &decoder{problems: ps, lookupEnv: os.LookupEnv, known: make(map[reflect.Type]map[string]int),
		nodes: maxNodes, bytes: maxBytes}
}

var (
	durationType = reflect.TypeFor[Duration]()
	configType   = reflect.TypeFor[Config]()
)

// bad records a decoding problem at path, on line, and marks path as failed
// so that validation does not pile up consequences of it.
func (d *decoder) bad(path *fieldPath, line int, format string, args ...any) {
	path.failed = true
	d.addAt(path, line, format, args...)
}

// spend charges values and bytes to the budgets. An alias costs what it
// expands to, so a small document that names a large value many times
// pays for every use. The first charge over a budget is reported, at
// path, and stops decoding: at most one problem more than maxProblems.
func (d *decoder) spend(path *fieldPath, line, values, bytes int) bool {
	if d.over {
		return false
	}
	d.nodes -= values
	d.bytes -= bytes
	var msg string
	switch {
	case d.nodes < 0:
		msg = fmt.Sprintf("the document is too large: more than %d values once aliases are expanded", maxNodes)
	case d.bytes < 0:
		msg = fmt.Sprintf("the document is too large: more than %d bytes of keys and values once aliases and environment variables are expanded", maxBytes)
	default:
		return true
	}
	// Listed even past maxProblems: it says why there are no more.
	path.failed = true
	d.list = append(d.list, Problem{Path: path.String(), Line: line, Message: msg})
	d.over = true
	return false
}

func (d *decoder) value(n *yaml.Node, v reflect.Value, path *fieldPath) {
	if !d.spend(path, n.Line, 1, 1) {
		return
	}
	use := n.Line // of the alias, when n is one: where its expansion is paid for
	for depth := 0; n.Kind == yaml.AliasNode; depth++ {
		if n.Alias == nil || depth > 100 {
			d.bad(path, n.Line, "unresolvable alias")
			return
		}
		n = n.Alias
	}
	if path.line == 0 { // an element of a list: the line of its value
		path.line = n.Line
	}
	if n.Tag != "" && !strings.HasPrefix(n.Tag, "!!") {
		d.bad(path, n.Line, "unsupported YAML tag %s", clip(n.Tag))
		return
	}
	if n.Kind == yaml.ScalarNode && !d.spend(path, use, 0, len(n.Value)) {
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // null is the same as leaving the field out
	}
	if v.Type() == durationType {
		d.duration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		d.value(n, e.Elem(), path)
		v.Set(e)
	case reflect.Struct:
		d.mapping(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.bad(path, n.Line, "must be a list, not %s", describe(n))
			return
		}
		if len(n.Content) > d.nodes { // would be over the budget: do not allocate it
			d.spend(path, n.Line, len(n.Content), 0)
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			d.value(e, s.Index(i), d.fields.add(path, "", i, 0))
		}
		v.Set(s)
	case reflect.String:
		if text, _, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(text)
		}
	case reflect.Bool:
		text, typed, ok := d.scalar(n, path, "true or false")
		if !ok {
			return
		}
		switch {
		case (typed == "" || typed == "!!bool") && (text == "true" || text == "True" || text == "TRUE"):
			v.SetBool(true)
		case (typed == "" || typed == "!!bool") && (text == "false" || text == "False" || text == "FALSE"):
			v.SetBool(false)
		default:
			d.bad(path, n.Line, "must be true or false, not %s", quoteScalar(n, text))
		}
	case reflect.Int:
		text, typed, ok := d.scalar(n, path, "an integer")
		if !ok {
			return
		}
		var i int
		if (typed != "" && typed != "!!int") || (&yaml.Node{Kind: yaml.ScalarNode, Value: text}).Decode(&i) != nil {
			d.bad(path, n.Line, "must be an integer, not %s", quoteScalar(n, text))
			return
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		text, typed, ok := d.scalar(n, path, "a number")
		if !ok {
			return
		}
		var f float64
		if (typed != "" && typed != "!!int" && typed != "!!float") || (&yaml.Node{Kind: yaml.ScalarNode, Value: text}).Decode(&f) != nil {
			d.bad(path, n.Line, "must be a number, not %s", quoteScalar(n, text))
			return
		}
		v.SetFloat(f)
	default:
		panic(fmt.Sprintf("config: the model has a field of unsupported type %s", v.Type()))
	}
}

// scalar returns a scalar's text, environment variables expanded, and its
// YAML tag; the tag is empty when the text came from a variable, so that
// its type is decided by the text ("${N}" may be an integer).
func (d *decoder) scalar(n *yaml.Node, path *fieldPath, want string) (text, tag string, ok bool) {
	if n.Kind != yaml.ScalarNode {
		d.bad(path, n.Line, "must be %s, not %s", want, describe(n))
		return "", "", false
	}
	if len(n.Value) > MaxValueLen {
		d.bad(path, n.Line, "the value is %d bytes long; the limit is %d", len(n.Value), MaxValueLen)
		return "", "", false
	}
	text, refs, err := expand(n.Value, d.lookupEnv)
	if err != nil {
		d.bad(path, n.Line, "%v", err)
		return "", "", false
	}
	if refs {
		if !d.spend(path, n.Line, 0, len(text)) {
			return "", "", false
		}
		return text, "", true
	}
	return text, n.Tag, true
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path *fieldPath) {
	text, typed, ok := d.scalar(n, path, "a duration such as \"250ms\" or \"5s\"")
	if !ok {
		return
	}
	if typed == "!!int" && text != "0" || typed == "!!float" {
		t := clip(text)
		d.bad(path, n.Line, "%s has no unit: write a duration such as \"%ss\" or \"%sms\"", t, t, t)
		return
	}
	t, err := time.ParseDuration(text)
	if err != nil {
		d.bad(path, n.Line, "invalid duration %s (write a duration such as \"250ms\", \"5s\" or \"1m30s\")", quote(text))
		return
	}
	v.SetInt(int64(t))
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path *fieldPath) {
	if n.Kind != yaml.MappingNode {
		d.bad(path, n.Line, "must be a mapping, not %s", describe(n))
		return
	}
	if v.Type() == configType {
		// Each level costs its checks and the length of its paths: the
		// depth has a bound, like the size.
		if d.depth == MaxDepth {
			d.bad(path, n.Line, "nested too deep: a tree has at most %d levels of supervisors", MaxDepth)
			return
		}
		d.depth++
		defer func() { d.depth-- }()
	}
	fields, ok := d.known[v.Type()]
	if !ok {
		fields = fieldsOf(v.Type())
		d.known[v.Type()] = fields
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !d.spend(path, k.Line, 0, len(k.Value)+1) {
			return
		}
		if k.Kind != yaml.ScalarNode {
			d.bad(path, k.Line, "keys must be strings, not %s", describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			// The mapping is incomplete without what it meant to merge:
			// mark all of it failed.
			d.bad(path, k.Line, "merge keys (<<) are not supported; use defaults to share settings")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.bad(d.fields.at(path, k.Value), k.Line, "duplicate key (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		f, ok := fields[k.Value]
		if !ok {
			d.bad(d.fields.at(path, k.Value), k.Line, "unknown field%s", d.suggestField(k.Value, v.Type()))
			continue
		}
		d.value(val, v.Field(f), d.fields.add(path, k.Value, 0, k.Line))
	}
}

// fieldsOf maps the json names of t's exported fields to their indexes.
func fieldsOf(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if name := fieldName(t.Field(i)); name != "" {
			m[name] = i
		}
	}
	return m
}

// fieldName returns the name of a field in the file format, or "" for a
// field that is not part of it.
func fieldName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// describe names a node's kind for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int", "!!float":
			return "the number " + clip(n.Value)
		case "!!bool":
			return "the boolean " + clip(n.Value)
		}
		return "the string " + quote(n.Value)
	}
	return "an alias"
}

// quoteScalar shows a scalar's value as written, or as expanded.
func quoteScalar(n *yaml.Node, text string) string {
	if text != n.Value {
		return quote(text) + " (from " + quote(n.Value) + ")"
	}
	if n.Tag == "!!str" {
		return "the string " + quote(text)
	}
	return clip(text)
}
