package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseYAML parses a single YAML document into its node tree.
func parseYAML(data []byte, ps *problems) (root *yaml.Node) {
	defer func() {
		// The parser is third-party code: never let a malformed document
		// crash the program that loads it.
		if r := recover(); r != nil {
			ps.add(&fieldPath{}, "invalid YAML: %s", clipTo(fmt.Sprint(r), parserMessageLen))
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			ps.add(&fieldPath{}, "the document is empty")
		} else {
			yamlError(err, ps)
		}
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		ps.push(Problem{Line: next.Line, Message: "only one YAML document is allowed"})
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		ps.add(&fieldPath{}, "the document is empty")
		return nil
	}
	return doc.Content[0]
}

// parserMessageLen bounds the parser's messages, which can quote the
// document (an unknown anchor's name).
const parserMessageLen = 4 * maxQuote

// yamlError turns the parser's "yaml: line 3: message" into a problem on
// line 3.
func yamlError(err error, ps *problems) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if n, err := fmt.Sscanf(msg, "line %d:", &line); n == 1 && err == nil {
		_, msg, _ = strings.Cut(msg, ": ")
	}
	ps.push(Problem{Line: line, Message: "invalid YAML: " + msg})
}

// parseJSON parses a JSON document into the node tree the YAML parser
// would give, so that both formats share the decoder; it uses the JSON
// parser rather than YAML's (JSON is not quite a subset of YAML: "\/" is
// not a YAML escape) and keeps the line of every value.
func parseJSON(data []byte, ps *problems) *yaml.Node {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	lines := lineCounter{data: data}
	lineAt := lines.at
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
			if se == nil { // too deep: where the parser is
				line = lineAt(dec.InputOffset())
			}
		}
		ps.push(Problem{Line: line, Message: msg})
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
		ps.push(Problem{Line: line, Message: "invalid JSON: unexpected data after the top-level value"})
		return nil
	}
	return root
}

// lineCounter gives the line of offsets into data. The parser asks for
// every token, in increasing order: counting on from the last offset
// keeps the cost linear in the document, where counting from the start
// each time was quadratic.
type lineCounter struct {
	data []byte
	off  int // counted up to here
	line int // newlines before off
}

func (c *lineCounter) at(off int64) int {
	o := min(int(max(off, 0)), len(c.data))
	if o < c.off {
		c.off, c.line = 0, 0
	}
	c.line += bytes.Count(c.data[c.off:o], []byte("\n"))
	c.off = o
	return c.line + 1
}
