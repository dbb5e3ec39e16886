package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Format is the syntax of a configuration.
type Format string

// Formats.
const (
	YAML Format = "yaml"
	JSON Format = "json"
)

// MaxSize is the largest configuration Load reads, in bytes.
const MaxSize = 4 << 20

// maxNodes bounds the nodes the decoder visits, aliases expanded, so that a
// small document whose aliases expand exponentially cannot exhaust memory
// or time.
const maxNodes = 100_000

// LoadFile reads the configuration at path, in the format its extension
// names (.yaml, .yml or .json); see Load. Problems are reported with the
// file name and line.
func LoadFile(path string) (*Config, error) {
	var format Format
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		format = YAML
	case ".json":
		format = JSON
	default:
		return nil, fmt.Errorf("config: %s: unknown extension %q (want .yaml, .yml or .json)", path, filepath.Ext(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return load(f, format, path)
}

// Load reads one configuration document in format. Decoding is strict:
// unknown fields, duplicate keys and values of the wrong type are errors.
// Environment variables are expanded in every value, before it is typed:
// ${VAR}, or ${VAR:-default} when VAR is unset or empty ($$ is a literal
// $); a variable that is not set and has no default is an error. The
// result is then validated, except for task keys, which need the registry
// and are checked by Validate and Build.
//
// Every problem found is reported at once, in a *ValidationError whose
// problems name the path of the field and its line.
func Load(r io.Reader, format Format) (*Config, error) { return load(r, format, "") }

func load(r io.Reader, format Format, file string) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	ps := &problems{lines: make(map[string]int)}
	if len(data) > MaxSize {
		ps.add("", "the document is larger than %d bytes", MaxSize)
		return nil, ps.err(file)
	}
	var root *yaml.Node
	switch format {
	case YAML:
		root = parseYAML(data, ps)
	case JSON:
		root = parseJSON(data, ps)
	default:
		return nil, fmt.Errorf("config: unknown format %q (want yaml or json)", format)
	}
	if root == nil {
		return nil, ps.err(file)
	}
	cfg := &Config{source: file, lines: ps.lines}
	d := &decoder{problems: ps, budget: maxNodes, lookupEnv: os.LookupEnv}
	d.value(root, reflect.ValueOf(cfg).Elem(), "")
	if d.budget >= 0 { // else what was decoded is only a part: do not validate it
		check(cfg, nil, false, ps)
	}
	if err := ps.err(file); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseYAML parses a single YAML document into its node tree.
func parseYAML(data []byte, ps *problems) (root *yaml.Node) {
	defer func() {
		// The parser is third-party code: never let a malformed document
		// crash the program that loads it.
		if r := recover(); r != nil {
			ps.add("", "invalid YAML: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			ps.add("", "the document is empty")
		} else {
			yamlError(err, ps)
		}
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		ps.list = append(ps.list, Problem{Line: next.Line, Message: "only one YAML document is allowed"})
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		ps.add("", "the document is empty")
		return nil
	}
	return doc.Content[0]
}

// yamlError turns the parser's "yaml: line 3: message" into a problem on
// line 3.
func yamlError(err error, ps *problems) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if n, err := fmt.Sscanf(msg, "line %d:", &line); n == 1 && err == nil {
		_, msg, _ = strings.Cut(msg, ": ")
	}
	ps.list = append(ps.list, Problem{Line: line, Message: "invalid YAML: " + msg})
}

// parseJSON parses a JSON document into the node tree the YAML parser
// would give, so that both formats share the decoder; it uses the JSON
// parser rather than YAML's (JSON is not quite a subset of YAML: "\/" is
// not a YAML escape) and keeps the line of every value.
func parseJSON(data []byte, ps *problems) *yaml.Node {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	lineAt := func(off int64) int { return bytes.Count(data[:min(int(off), len(data))], []byte("\n")) + 1 }
	fail := func(err error) *yaml.Node {
		var se *json.SyntaxError
		line := 0
		if errors.As(err, &se) {
			line = lineAt(se.Offset)
		}
		msg := err.Error()
		if errors.Is(err, io.EOF) {
			msg = "the document is empty"
			line = 0
		} else if errors.Is(err, io.ErrUnexpectedEOF) {
			msg, line = "invalid JSON: unexpected end of input", lineAt(int64(len(data)))
		} else {
			msg = "invalid JSON: " + msg
		}
		ps.list = append(ps.list, Problem{Line: line, Message: msg})
		return nil
	}
	var value func(depth int) (*yaml.Node, error)
	value = func(depth int) (*yaml.Node, error) {
		if depth > 1000 {
			return nil, fmt.Errorf("nested more than 1000 levels deep")
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		n := &yaml.Node{Line: lineAt(dec.InputOffset())}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' {
				n.Kind, n.Tag = yaml.MappingNode, "!!map"
			} else {
				n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
			}
			for dec.More() {
				if n.Kind == yaml.MappingNode {
					k, err := dec.Token()
					if err != nil {
						return nil, err
					}
					n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string), Line: lineAt(dec.InputOffset())})
				}
				v, err := value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
			if _, err := dec.Token(); err != nil { // the closing delimiter
				return nil, err
			}
			return n, nil
		case string:
			n.Kind, n.Tag, n.Value, n.Style = yaml.ScalarNode, "!!str", t, yaml.DoubleQuotedStyle
		case json.Number:
			n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!int", t.String()
			if strings.ContainsAny(t.String(), ".eE") {
				n.Tag = "!!float"
			}
		case bool:
			n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!bool", fmt.Sprint(t)
		case nil:
			n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!null", "null"
		}
		return n, nil
	}
	root, err := value(0)
	if err != nil {
		return fail(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line := lineAt(dec.InputOffset())
		ps.list = append(ps.list, Problem{Line: line, Message: "invalid JSON: unexpected data after the top-level value"})
		return nil
	}
	return root
}

// decoder decodes a node tree into the model by the json tags of its
// fields, collecting every problem instead of stopping at the first.
type decoder struct {
	*problems
	budget    int
	lookupEnv func(string) (string, bool)
}

var durationType = reflect.TypeFor[Duration]()

// bad records a decoding problem at path, on line, and marks path as failed
// so that validation does not pile up consequences of it.
func (d *decoder) bad(path string, line int, format string, args ...any) {
	d.failed = append(d.failed, path)
	d.list = append(d.list, Problem{Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
}

func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.bad(path, n.Line, "the document is too large: more than %d values once aliases are expanded", maxNodes)
		}
		return
	}
	for depth := 0; n.Kind == yaml.AliasNode; depth++ {
		if n.Alias == nil || depth > 100 {
			d.bad(path, n.Line, "unresolvable alias")
			return
		}
		n = n.Alias
	}
	if _, ok := d.lines[path]; !ok {
		d.lines[path] = n.Line
	}
	if n.Tag != "" && !strings.HasPrefix(n.Tag, "!!") {
		d.bad(path, n.Line, "unsupported YAML tag %s", n.Tag)
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
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			d.value(e, s.Index(i), index(path, i))
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
func (d *decoder) scalar(n *yaml.Node, path, want string) (text, tag string, ok bool) {
	if n.Kind != yaml.ScalarNode {
		d.bad(path, n.Line, "must be %s, not %s", want, describe(n))
		return "", "", false
	}
	text, refs, err := expand(n.Value, d.lookupEnv)
	if err != nil {
		d.bad(path, n.Line, "%v", err)
		return "", "", false
	}
	if refs {
		return text, "", true
	}
	return text, n.Tag, true
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	text, typed, ok := d.scalar(n, path, "a duration such as \"250ms\" or \"5s\"")
	if !ok {
		return
	}
	if typed == "!!int" && text != "0" || typed == "!!float" {
		d.bad(path, n.Line, "%s has no unit: write a duration such as \"%ss\" or \"%sms\"", text, text, text)
		return
	}
	t, err := time.ParseDuration(text)
	if err != nil {
		d.bad(path, n.Line, "invalid duration %q (write a duration such as \"250ms\", \"5s\" or \"1m30s\")", text)
		return
	}
	v.SetInt(int64(t))
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.bad(path, n.Line, "must be a mapping, not %s", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
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
		fpath := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.bad(fpath, k.Line, "duplicate key (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		f, ok := fields[k.Value]
		if !ok {
			d.bad(fpath, k.Line, "unknown field%s", suggest(k.Value, v.Type()))
			continue
		}
		d.lines[fpath] = k.Line
		d.value(val, v.Field(f), fpath)
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
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "an alias"
}

// quoteScalar shows a scalar's value as written, or as expanded.
func quoteScalar(n *yaml.Node, text string) string {
	if text != n.Value {
		return fmt.Sprintf("%q (from %q)", text, n.Value)
	}
	if n.Tag == "!!str" {
		return fmt.Sprintf("the string %q", text)
	}
	return text
}
