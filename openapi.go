// Package pleskgate holds the public contract, openapi.yaml, so the binary can
// serve it byte for byte. The gateway itself lives in gateway/.
package pleskgate

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v4"
)

// OpenAPIYAML is openapi.yaml as written.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// OpenAPIJSON is openapi.yaml as JSON, every mapping in the order the YAML
// writes it. Swagger UI shows what it reads in document order: the first
// request example is the one it pre-fills and the first security scheme
// is the first one Authorize offers, so a JSON with sorted keys (what a
// round trip through Go maps gives) would change the defaults.
func OpenAPIJSON() ([]byte, error) { return YAMLToJSON(OpenAPIYAML) }

// YAMLToJSON converts one YAML document into compact JSON, keeping the
// order of mapping keys. Scalars are typed as YAML types them (a plain 42
// is a number, '42' a string); a timestamp stays the string it was
// written as. Anchors and aliases are expanded; merge keys (<<), non-string
// keys and values with no JSON form (.inf, .nan) are errors.
func YAMLToJSON(src []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	n := &doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) != 1 {
			return nil, fmt.Errorf("yaml: want one document, got %d nodes", len(n.Content))
		}
		n = n.Content[0]
	}
	if err := writeJSON(&buf, n, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, n *yaml.Node, depth int) error {
	if depth > 200 {
		return fmt.Errorf("yaml: nested deeper than 200 levels (line %d)", n.Line)
	}
	switch n.Kind {
	case yaml.AliasNode:
		return writeJSON(buf, n.Alias, depth+1)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				return fmt.Errorf("yaml: line %d: merge keys are not supported", k.Line)
			}
			if k.Kind != yaml.ScalarNode || (k.ShortTag() != "!!str" && k.ShortTag() != "!!int") {
				return fmt.Errorf("yaml: line %d: only string and integer keys have a JSON form (got %s)", k.Line, k.ShortTag())
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeString(buf, k.Value); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := writeJSON(buf, v, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, v := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, v, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str", "!!timestamp", "!!binary":
			return writeString(buf, n.Value)
		case "!!null":
			buf.WriteString("null")
		case "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err != nil {
				return fmt.Errorf("yaml: line %d: %w", n.Line, err)
			}
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("yaml: line %d: %q has no JSON form: %w", n.Line, n.Value, err)
			}
			buf.Write(b)
		default:
			return fmt.Errorf("yaml: line %d: unsupported tag %s", n.Line, n.ShortTag())
		}
	default:
		return fmt.Errorf("yaml: line %d: unexpected node kind %v", n.Line, n.Kind)
	}
	return nil
}

// writeString writes s as a JSON string without HTML escaping (the spec
// has `<`, `>` and `&` in its prose).
func writeString(buf *bytes.Buffer, s string) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}
