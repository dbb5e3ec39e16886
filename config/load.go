package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

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
// problems name the path of the field and its line (the first 50 found;
// the error counts the others).
//
// Loading costs time and memory linear in the document, whatever it
// holds: a document is at most MaxSize bytes, a value at most MaxValueLen
// bytes, supervisors nest at most MaxDepth levels, and the decoder visits
// at most 100,000 values and 8 MiB of keys and values, aliases charged
// what they expand to. Problems quote at most 64 bytes of a value.
func Load(r io.Reader, format Format) (*Config, error) { return load(r, format, "") }

func load(r io.Reader, format Format, file string) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	fs := newFields()
	ps := &problems{fields: fs}
	if len(data) > MaxSize {
		ps.add(fs.root, "the document is larger than %d bytes", MaxSize)
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
	cfg := &Config{source: file, fields: fs}
	d := newDecoder(ps)
	d.value(root, reflect.ValueOf(cfg).Elem(), fs.root)
	fs.seal()
	if !d.over { // else what was decoded is only a part: do not validate it
		check(cfg, nil, false, ps)
	}
	if err := ps.err(file); err != nil {
		return nil, err
	}
	return cfg, nil
}
