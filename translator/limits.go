package translator

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// Limit is one client limit (PleskLimitType, §3.3): sizes in bytes,
// expiration in seconds; -1 conventionally means unlimited.
type Limit struct {
	Name  string
	Value int64
}

// Limits is the legacy client limits block (clientLimits, §6.2).
type Limits struct {
	Overuse string // resource-policy/overuse: "" (absent), "block", "notify" or "normal"
	Values  []Limit
}

// Permission is one client permission (PleskPermissionType, §3.3).
type Permission struct {
	Name  string
	Value bool
}

// limitsXML writes <limits> in the format of its protocol version: named
// child elements up to 1.4.2.0, <limit><name/><value/></limit> pairs (after
// an optional <resource-policy>) from 1.5.0.0 (§6.2).
type limitsXML struct {
	named  bool
	limits Limits
}

func buildLimits(v Version, op Operation, l *Limits) (*limitsXML, error) {
	out := &limitsXML{named: namedLegacyElements(v), limits: *l}
	switch l.Overuse {
	case "":
	case "block", "notify", "normal":
		if !overuseSupported(v) {
			return nil, &UnsupportedError{Operation: op, Feature: "limits overuse policy", Version: v}
		}
	default:
		return nil, fmt.Errorf("%w: %s: overuse %q is not block, notify or normal", ErrInvalidInput, op, l.Overuse)
	}
	for _, lim := range l.Values {
		if err := checkLegacyName(op, "limit", lim.Name, out.named); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkLegacyName validates a limit or permission name: non-blank, XML-safe,
// and, in the named-element format, a valid XML element name.
func checkLegacyName(op Operation, what, name string, named bool) error {
	if err := requiredText(op, what+" name", name); err != nil {
		return err
	}
	if named && !isXMLName(name) {
		return fmt.Errorf("%w: %s: %s name %q is not a valid XML element name (protocol < 1.5.0.0 sends names as elements)", ErrInvalidInput, op, what, name)
	}
	if named && (name == "limit" || name == "permission" || name == "resource-policy") {
		// These would read back as the pair format or the overuse wrapper.
		return fmt.Errorf("%w: %s: %s name %q is reserved", ErrInvalidInput, op, what, name)
	}
	return nil
}

func (l *limitsXML) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	start := xml.StartElement{Name: xml.Name{Local: "limits"}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if l.limits.Overuse != "" {
		rp := struct {
			Overuse string `xml:"overuse"`
		}{l.limits.Overuse}
		if err := e.EncodeElement(rp, xml.StartElement{Name: xml.Name{Local: "resource-policy"}}); err != nil {
			return err
		}
	}
	for _, lim := range l.limits.Values {
		var err error
		if l.named {
			err = e.EncodeElement(lim.Value, xml.StartElement{Name: xml.Name{Local: lim.Name}})
		} else {
			err = e.EncodeElement(nameValueXML{Name: lim.Name, Value: strconv.FormatInt(lim.Value, 10)},
				xml.StartElement{Name: xml.Name{Local: "limit"}})
		}
		if err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

type nameValueXML struct {
	Name  string `xml:"name"`
	Value string `xml:"value"`
}

// UnmarshalXML reads <limits> in either format, whatever the version:
// <resource-policy>, <limit> pairs, and any other child as a named limit.
func (l *limitsXML) UnmarshalXML(d *xml.Decoder, _ xml.StartElement) error {
	l.limits.Values = []Limit{}
	return eachChild(d, func(se xml.StartElement) error {
		switch se.Name.Local {
		case "resource-policy":
			var rp struct {
				Overuse string `xml:"overuse"`
			}
			if err := d.DecodeElement(&rp, &se); err != nil {
				return err
			}
			l.limits.Overuse = strings.TrimSpace(rp.Overuse)
			return nil
		case "limit":
			var nv nameValueXML
			if err := d.DecodeElement(&nv, &se); err != nil {
				return err
			}
			return l.add(nv.Name, nv.Value)
		default:
			var s string
			if err := d.DecodeElement(&s, &se); err != nil {
				return err
			}
			return l.add(se.Name.Local, s)
		}
	})
}

func (l *limitsXML) add(name, value string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil {
		return fmt.Errorf("limit %q value %q is not an integer", name, value)
	}
	l.limits.Values = append(l.limits.Values, Limit{Name: name, Value: n})
	return nil
}

// permissionsXML writes <permissions>: named boolean elements before 1.5.0.0
// [INF], <permission><name/><value/></permission> from 1.5.0.0 (§6.3).
type permissionsXML struct {
	named bool
	perms []Permission
}

func buildPermissions(v Version, op Operation, perms []Permission) (*permissionsXML, error) {
	out := &permissionsXML{named: namedLegacyElements(v), perms: perms}
	for _, p := range perms {
		if err := checkLegacyName(op, "permission", p.Name, out.named); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *permissionsXML) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	start := xml.StartElement{Name: xml.Name{Local: "permissions"}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, perm := range p.perms {
		val := strconv.FormatBool(perm.Value)
		var err error
		if p.named {
			err = e.EncodeElement(val, xml.StartElement{Name: xml.Name{Local: perm.Name}})
		} else {
			err = e.EncodeElement(nameValueXML{Name: perm.Name, Value: val},
				xml.StartElement{Name: xml.Name{Local: "permission"}})
		}
		if err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// UnmarshalXML reads <permissions> in either format.
func (p *permissionsXML) UnmarshalXML(d *xml.Decoder, _ xml.StartElement) error {
	p.perms = []Permission{}
	return eachChild(d, func(se xml.StartElement) error {
		var name, value string
		if se.Name.Local == "permission" {
			var nv nameValueXML
			if err := d.DecodeElement(&nv, &se); err != nil {
				return err
			}
			name, value = nv.Name, nv.Value
		} else {
			if err := d.DecodeElement(&value, &se); err != nil {
				return err
			}
			name = se.Name.Local
		}
		b, err := parseBool(value)
		if err != nil {
			return fmt.Errorf("permission %q: %w", name, err)
		}
		p.perms = append(p.perms, Permission{Name: name, Value: b})
		return nil
	})
}

// parseBool reads xs:boolean: true, false, 1, 0 (surrounding space ignored).
func parseBool(s string) (bool, error) {
	switch strings.TrimSpace(s) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}

// eachChild calls fn for every child element of the element being decoded
// (fn must consume it) and returns at its end tag.
func eachChild(d *xml.Decoder, fn func(xml.StartElement) error) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// isXMLName reports whether s is an XML 1.0 Name without a colon (NCName),
// so it can be an element name without namespace surprises.
func isXMLName(s string) bool {
	if s == "" || strings.HasPrefix(strings.ToLower(s), "xml") {
		return false
	}
	for i, r := range s {
		if isNameStart(r) {
			continue
		}
		if i > 0 && (r == '-' || r == '.' || r >= '0' && r <= '9' || r == 0xB7 ||
			r >= 0x0300 && r <= 0x036F || r >= 0x203F && r <= 0x2040) {
			continue
		}
		return false
	}
	return true
}

func isNameStart(r rune) bool {
	return r >= 'A' && r <= 'Z' || r == '_' || r >= 'a' && r <= 'z' ||
		r >= 0xC0 && r <= 0xD6 || r >= 0xD8 && r <= 0xF6 || r >= 0xF8 && r <= 0x2FF ||
		r >= 0x370 && r <= 0x37D || r >= 0x37F && r <= 0x1FFF || r >= 0x200C && r <= 0x200D ||
		r >= 0x2070 && r <= 0x218F || r >= 0x2C00 && r <= 0x2FEF || r >= 0x3001 && r <= 0xD7FF ||
		r >= 0xF900 && r <= 0xFDCF || r >= 0xFDF0 && r <= 0xFFFD || r >= 0x10000 && r <= 0xEFFFF
}
