package plesksim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// node is one element of a request packet, decoded by the simulator's own
// code (it must not share the gateway's encoding/xml structs).
type node struct {
	name     string // local name, or "{space}local" when a namespace was used
	attrs    []xml.Attr
	text     strings.Builder // concatenated character data directly inside
	children []*node
	line     int
}

const maxDepth = 64

// parseError is a well-formedness failure, reported as 1014.
type parseError struct {
	line int
	msg  string
}

func (e *parseError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// parseTree decodes body into an element tree. Comments, processing
// instructions and the XML declaration are ignored; DOCTYPE is refused.
func parseTree(body []byte) (*node, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &parseError{line: 1, msg: "Document is empty"}
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	var root *node
	var stack []*node
	for {
		line, _ := d.InputPos()
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &parseError{line: se.Line, msg: se.Msg}
			}
			return nil, &parseError{line: line, msg: err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, &parseError{line: line, msg: "Excessive depth in document"}
			}
			if len(stack) == 0 && root != nil {
				return nil, &parseError{line: line, msg: "Extra content at the end of the document"}
			}
			name := t.Name.Local
			if t.Name.Space != "" {
				name = t.Name.Space + ":" + t.Name.Local
			}
			n := &node{name: name, attrs: t.Attr, line: line}
			if len(stack) == 0 {
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			name := t.Name.Local
			if t.Name.Space != "" {
				name = t.Name.Space + ":" + t.Name.Local
			}
			if len(stack) == 0 || stack[len(stack)-1].name != name {
				return nil, &parseError{line: line, msg: fmt.Sprintf("Opening and ending tag mismatch: %s", name)}
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, &parseError{line: line, msg: "Start tag expected, '<' not found"}
				}
				continue
			}
			p := stack[len(stack)-1]
			if p.text.Len()+len(t) > MaxBodyBytes {
				return nil, &parseError{line: line, msg: "text too long"}
			}
			p.text.Write(t)
		case xml.Directive:
			return nil, &parseError{line: line, msg: "DOCTYPE is not allowed"}
		}
	}
	if root == nil {
		return nil, &parseError{line: 1, msg: "Start tag expected, '<' not found"}
	}
	if len(stack) != 0 {
		l, _ := d.InputPos()
		return nil, &parseError{line: l, msg: fmt.Sprintf("Premature end of data in tag %s", stack[len(stack)-1].name)}
	}
	return root, nil
}

// sniffVersion finds the root element's version attribute without a full
// parse (the version is checked before authentication and validity).
func sniffVersion(body []byte) (string, bool) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	for i := 0; i < 64; i++ {
		tok, err := d.RawToken()
		if err != nil {
			return "", false
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "packet" || se.Name.Space != "" {
				return "", false
			}
			for _, a := range se.Attr {
				if a.Name.Space == "" && a.Name.Local == "version" {
					return a.Value, true
				}
			}
			return "", false
		}
	}
	return "", false
}

// collapse applies XSD whiteSpace="collapse".
// Only the four XML whitespace characters count (not other Unicode spaces).
func collapse(s string) string {
	return strings.Join(strings.FieldsFunc(s, isXMLSpace), " ")
}

func isXMLSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// value is the collapsed text of n.
func (n *node) value() string { return collapse(n.text.String()) }

// child returns the first child named name, or nil.
func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// all returns the children named name.
func (n *node) all(name string) []*node {
	var out []*node
	for _, c := range n.children {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}
