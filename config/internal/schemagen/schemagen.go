// Package schemagen generates the JSON Schema (draft 2020-12) of the
// configuration format from the Go model in package config: the structure
// and names from the types and their json tags, constraints from their
// schema tags, descriptions from their doc comments, and the allowed values
// of each enumeration from its typed constants. It reads the doc comments
// from the package's source, so it runs at generation time (go generate)
// and in tests, not in programs.
package schemagen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/supervisor-sdk/supervisor/config"
)

// ID is the schema's $id.
const ID = "https://github.com/supervisor-sdk/supervisor/config/supervisor.schema.json"

// Generate returns the schema, formatted, of config.Config, reading the doc
// comments of the Go files in dir (the config package's directory).
func Generate(dir string) ([]byte, error) {
	src, err := readSource(dir)
	if err != nil {
		return nil, err
	}
	g := &generator{src: src, defs: map[string]*object{}}
	root := reflect.TypeFor[config.Config]()
	g.def(root)
	defs := &object{}
	for _, name := range g.order {
		defs.set(name, g.defs[name])
	}
	defs.set("EnvRef", obj(
		"description", "An environment variable reference, ${VAR} or ${VAR:-default}, expanded when the file is loaded; the expanded text must then be valid for the field.",
		"type", "string",
		"pattern", `\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}`,
	))
	s := obj(
		"$schema", "https://json-schema.org/draft/2020-12/schema",
		"$id", ID,
		"title", "Supervision tree",
		"description", src.typeDoc[root.Name()],
		"$ref", "#/$defs/"+root.Name(),
		"required", []string{"name"},
		"$defs", defs,
	)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// source is what the schema needs from the package's Go source.
type source struct {
	typeDoc  map[string]string            // type name → doc
	fieldDoc map[string]map[string]string // type name → field name → doc
	consts   map[string][]enumValue       // type name → its constants, in order
}

type enumValue struct{ value, doc string }

func readSource(dir string) (*source, error) {
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, p, b, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		if f.Name.Name == "config" {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("schemagen: no Go files of package config in %s", dir)
	}
	pkg, err := doc.NewFromFiles(fset, files, "github.com/supervisor-sdk/supervisor/config", doc.PreserveAST)
	if err != nil {
		return nil, err
	}
	src := &source{typeDoc: map[string]string{}, fieldDoc: map[string]map[string]string{}, consts: map[string][]enumValue{}}
	for _, t := range pkg.Types {
		src.typeDoc[t.Name] = clean(t.Doc)
		for _, spec := range t.Decl.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if !ok {
				continue
			}
			if st, ok := ts.Type.(*ast.StructType); ok {
				docs := map[string]string{}
				for _, f := range st.Fields.List {
					for _, n := range f.Names {
						docs[n.Name] = renameSubject(clean(f.Doc.Text()), n.Name, jsonName(f))
					}
				}
				src.fieldDoc[t.Name] = docs
			}
		}
		for _, c := range t.Consts {
			for _, spec := range c.Decl.Specs {
				vs := spec.(*ast.ValueSpec)
				if len(vs.Values) != 1 {
					continue
				}
				lit, ok := vs.Values[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					return nil, err
				}
				doc := clean(vs.Doc.Text() + vs.Comment.Text())
				src.consts[t.Name] = append(src.consts[t.Name], enumValue{v, renameSubject(doc, vs.Names[0].Name, "")})
			}
		}
	}
	return src, nil
}

// renameSubject rewrites a doc comment that starts with the Go name of
// what it documents, as Go doc comments do, to start with its name in the
// file format, or with the rest of the sentence when name is empty:
// "MaxRestarts is ..." becomes "max_restarts is ...", and
// "StrategyOneForOne restarts ..." becomes "Restarts ...".
func renameSubject(doc, goName, name string) string {
	rest, ok := strings.CutPrefix(doc, goName)
	if !ok || rest != "" && rest[0] != ' ' && rest[0] != ':' {
		return doc
	}
	if name != "" {
		return name + rest
	}
	rest = strings.TrimLeft(rest, ": ")
	if rest == "" {
		return ""
	}
	return strings.ToUpper(rest[:1]) + rest[1:]
}

// jsonName returns a struct field's name in the file format.
func jsonName(f *ast.Field) string {
	if f.Tag == nil {
		return ""
	}
	tag, err := strconv.Unquote(f.Tag.Value)
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
	return name
}

// clean joins a doc comment's lines into paragraphs.
func clean(s string) string {
	paras := strings.Split(strings.TrimSpace(s), "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(paras, "\n\n")
}

type generator struct {
	src   *source
	defs  map[string]*object
	order []string
}

var durationType = reflect.TypeFor[config.Duration]()

// def adds the definition of a named type to $defs, once, and returns a
// reference to it.
func (g *generator) def(t reflect.Type) *object {
	ref := obj("$ref", "#/$defs/"+t.Name())
	if _, done := g.defs[t.Name()]; done {
		return ref
	}
	d := &object{}
	g.defs[t.Name()] = d
	g.order = append(g.order, t.Name())
	if desc := g.src.typeDoc[t.Name()]; desc != "" {
		d.set("description", desc)
	}
	switch {
	case t == durationType:
		d.set("anyOf", []any{
			obj("type", "string", "pattern", `^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`, "examples", []string{"250ms", "5s", "1m30s"}),
			envRef(),
		})
	case t.Kind() == reflect.String:
		var alts []any
		for _, c := range g.src.consts[t.Name()] {
			alt := obj("const", c.value)
			if c.doc != "" {
				alt.set("description", c.doc)
			}
			alts = append(alts, alt)
		}
		if len(alts) == 0 {
			panic(fmt.Sprintf("schemagen: string type %s has no constants", t))
		}
		d.set("type", "string")
		d.set("anyOf", append(alts, envRef()))
	case t.Kind() == reflect.Struct:
		g.object(t, d)
	default:
		panic(fmt.Sprintf("schemagen: unsupported named type %s", t))
	}
	return ref
}

// object fills d with the schema of struct type t.
func (g *generator) object(t reflect.Type, d *object) {
	props := &object{}
	var required []string
	oneOf := map[string][]string{}
	var groups []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		opts := tagOptions(f.Tag.Get("schema"))
		p := g.field(f.Type, opts)
		if desc := g.src.fieldDoc[t.Name()][f.Name]; desc != "" {
			p = with(p, "description", desc)
		}
		props.set(name, p)
		if _, ok := opts["required"]; ok {
			required = append(required, name)
		}
		if grp, ok := opts["oneof"]; ok {
			if _, seen := oneOf[grp]; !seen {
				groups = append(groups, grp)
			}
			oneOf[grp] = append(oneOf[grp], name)
		}
	}
	d.set("type", "object")
	d.set("additionalProperties", false)
	d.set("properties", props)
	if len(required) > 0 {
		d.set("required", required)
	}
	for _, grp := range groups {
		var alts []any
		for _, name := range oneOf[grp] {
			alts = append(alts, obj("required", []string{name}))
		}
		d.set("oneOf", alts)
	}
}

// field returns the schema of a field of type t.
func (g *generator) field(t reflect.Type, opts map[string]string) *object {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() != "" && t.PkgPath() == durationType.PkgPath() {
		return g.def(t)
	}
	switch t.Kind() {
	case reflect.String:
		s := obj("type", "string")
		p, hasPattern := opts["pattern"]
		l, hasMax := opts["maxLength"]
		if !hasPattern && !hasMax {
			return s
		}
		if hasPattern {
			s = with(s, "pattern", p)
		}
		if hasMax {
			n, err := strconv.Atoi(l)
			if err != nil {
				panic(fmt.Sprintf("schemagen: maxLength=%q: %v", l, err))
			}
			s = with(s, "maxLength", n)
		}
		return obj("anyOf", []any{s, envRef()})
	case reflect.Bool:
		return obj("anyOf", []any{obj("type", "boolean"), envRef()})
	case reflect.Int, reflect.Float64:
		s := obj("type", "integer")
		if t.Kind() == reflect.Float64 {
			s = obj("type", "number")
		}
		for _, k := range []string{"minimum", "maximum"} {
			if v, ok := opts[k]; ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					panic(fmt.Sprintf("schemagen: %s=%q: %v", k, v, err))
				}
				s.set(k, n)
			}
		}
		return obj("anyOf", []any{s, envRef()})
	case reflect.Slice:
		s := obj("type", "array", "items", g.field(t.Elem(), opts))
		if _, ok := opts["unique"]; ok {
			s.set("uniqueItems", true)
		}
		return s
	}
	panic(fmt.Sprintf("schemagen: unsupported field type %s", t))
}

func envRef() *object { return obj("$ref", "#/$defs/EnvRef") }

// tagOptions parses a schema tag: "required,pattern=^x$,maxLength=63,minimum=0".
func tagOptions(tag string) map[string]string {
	opts := map[string]string{}
	if tag == "" {
		return opts
	}
	for _, o := range strings.Split(tag, ",") {
		k, v, _ := strings.Cut(o, "=")
		opts[k] = v
	}
	return opts
}

// object is a JSON object that keeps its keys in insertion order, so that
// the schema lists properties in the model's order.
type object struct {
	keys []string
	vals []any
}

func obj(kv ...any) *object {
	o := &object{}
	for i := 0; i+1 < len(kv); i += 2 {
		o.set(kv[i].(string), kv[i+1])
	}
	return o
}

func (o *object) set(k string, v any) {
	for i, key := range o.keys {
		if key == k {
			o.vals[i] = v
			return
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

// with returns a copy of o with k set: references are shared between
// fields, and each field gets its own description.
func with(o *object, k string, v any) *object {
	c := &object{keys: append([]string(nil), o.keys...), vals: append([]any(nil), o.vals...)}
	c.set(k, v)
	return c
}

func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(o.vals[i]); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode's newline
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
