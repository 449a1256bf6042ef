package translator

import (
	"encoding/xml"
	"strings"
)

// LimitDescriptorRequest reads the limits descriptor: legacy
// client/get-limit-descriptor, protocol 1.5.0.0 up to 1.6.3.0 (§7.8). A blank
// filter asks for the server-level descriptor; otherwise filter by id or login.
type LimitDescriptorRequest struct{ Filter Filter }

// PermissionDescriptorRequest reads the permissions descriptor: legacy
// client/get-permission-descriptor, protocol 1.5.0.0 up to 1.6.3.0 (§7.9).
type PermissionDescriptorRequest struct{ Filter Filter }

// The descriptors: legacy client operator, 1.5.0.0 up to 1.6.3.0.
var (
	opGetLimitDescriptor = register(&Op{name: OpGetLimitDescriptor, element: "get-limit-descriptor", operators: legacyOperators,
		since: v1500, readOnly: true, newReply: newDescriptorReply})
	opGetPermissionDescriptor = register(&Op{name: OpGetPermissionDescriptor, element: "get-permission-descriptor", operators: legacyOperators,
		since: v1500, readOnly: true, newReply: newDescriptorReply})
)

func newDescriptorReply() replyReader { return &DescriptorReply{Results: []DescriptorResult{}} }

// Op returns the get-limit-descriptor operation.
func (*LimitDescriptorRequest) Op() *Op { return opGetLimitDescriptor }

// Op returns the get-permission-descriptor operation.
func (*PermissionDescriptorRequest) Op() *Op { return opGetPermissionDescriptor }

type descriptorReqXML struct {
	Filter filterXML `xml:"filter"`
}

func buildDescriptorReq(v Version, op Operation, f Filter) (any, error) {
	if !f.IsBlank() && !descriptorFilterKindSupported(f.Kind) {
		return nil, &UnsupportedError{Operation: op, Feature: "filter " + string(f.Kind), Version: v}
	}
	fx, err := buildFilter(v, op, f)
	if err != nil {
		return nil, err
	}
	return &descriptorReqXML{Filter: fx}, nil
}

// build builds client/get-limit-descriptor (1.5.0.0 … 1.6.0.x).
func (r *LimitDescriptorRequest) build(v Version) (any, error) {
	return buildDescriptorReq(v, OpGetLimitDescriptor, r.Filter)
}

// build builds client/get-permission-descriptor (1.5.0.0 … 1.6.0.x).
func (r *PermissionDescriptorRequest) build(v Version) (any, error) {
	return buildDescriptorReq(v, OpGetPermissionDescriptor, r.Filter)
}

// Descriptor is an ObjectDescriptor (§6.5): the properties a client's limits
// or permissions may have. bind elements are not read.
type Descriptor struct{ Properties []Property }

// Property is a PropertyDescriptor (§6.5) with the limits (shared) and
// permissions (level) extensions.
type Property struct {
	Name, Type   string
	Enum         []EnumValue
	DefaultValue *string
	WritableBy   []string
	Label, Hint  string
	Shared       *bool    // limits extension
	Levels       []string // permissions extension
}

// EnumValue is one allowed value of an enumerated property.
type EnumValue struct {
	Value       string
	Label, Hint string
}

// DescriptorResult is one descriptor; a blank filter yields a result without
// filter-id and id (§4.3).
type DescriptorResult struct {
	Result     Result
	Descriptor *Descriptor
}

// Outcome is r's Result.
func (r DescriptorResult) Outcome() Result { return r.Result }

// DescriptorReply answers get-limit-descriptor and get-permission-descriptor.
type DescriptorReply struct{ Results []DescriptorResult }

func (*DescriptorReply) isReply() {}

// descriptorResultXML is a descriptor operation's result.
type descriptorResultXML struct {
	resultXML
	Descriptor *descriptorXML `xml:"descriptor"`
}

type descriptorXML struct {
	Properties []struct {
		Name string `xml:"name"`
		Type string `xml:"type"`
		Enum []struct {
			Value string `xml:"value"`
			Label string `xml:"label"`
			Hint  string `xml:"hint"`
		} `xml:"enum"`
		DefaultValue *string  `xml:"default-value"`
		WritableBy   []string `xml:"writable-by"`
		Label        string   `xml:"label"`
		Hint         string   `xml:"hint"`
		Extension    *struct {
			Shared *string  `xml:"shared"`
			Levels []string `xml:"level"`
		} `xml:"extension"`
	} `xml:"property"`
}

func (out *DescriptorReply) eachResult(see func(Result)) {
	for i := range out.Results {
		see(out.Results[i].Result)
	}
}

// read reads one result of client/get-limit-descriptor or
// get-permission-descriptor (1.5.0.0 … 1.6.0.x).
func (out *DescriptorReply) read(d *xml.Decoder, se *xml.StartElement) error {
	var r descriptorResultXML
	if err := d.DecodeElement(&r, se); err != nil {
		return err
	}
	res, err := r.result()
	if err != nil {
		return err
	}
	dr := DescriptorResult{Result: res}
	if d := r.Descriptor; d != nil {
		dr.Descriptor = &Descriptor{Properties: make([]Property, 0, len(d.Properties))}
		for _, p := range d.Properties {
			prop := Property{
				Name: p.Name, Type: strings.TrimSpace(p.Type), DefaultValue: p.DefaultValue,
				WritableBy: trimAll(p.WritableBy), Label: p.Label, Hint: p.Hint,
			}
			for _, e := range p.Enum {
				prop.Enum = append(prop.Enum, EnumValue{Value: e.Value, Label: e.Label, Hint: e.Hint})
			}
			if x := p.Extension; x != nil {
				if x.Shared != nil {
					b, err := parseBool(*x.Shared)
					if err != nil {
						return err
					}
					prop.Shared = &b
				}
				prop.Levels = trimAll(x.Levels)
			}
			dr.Descriptor.Properties = append(dr.Descriptor.Properties, prop)
		}
	}
	out.Results = append(out.Results, dr)
	return nil
}

func trimAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.TrimSpace(s)
	}
	return out
}
