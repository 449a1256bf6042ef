package translator

import (
	"encoding/xml"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// The hand-written encoder (append.go) and decoder (fastdecode.go) mirror
// the wire structs field by field. These tests fill every xml-tagged field
// of every wire struct by reflection and require both to agree with
// encoding/xml, so a field added to a struct but not to the mirror fails
// here rather than vanishing from packets or answers.

// filler sets every field of a wire value to a distinct non-zero value.
type filler struct {
	n int
	t *testing.T
}

func (fl *filler) next() int { fl.n++; return fl.n }

// fill sets v (addressable) recursively. Types with their own MarshalXML
// and unexported state get a sample built the way their build function
// builds them; every other field must be exported and xml-tagged (or an
// XMLName).
func (fl *filler) fill(v reflect.Value, name string) {
	switch x := v.Addr().Interface().(type) {
	case *filterXML:
		*x = filterXML{kind: "login", values: []string{fmt.Sprintf("f%d", fl.next()), fmt.Sprintf("f%d", fl.next())}}
		return
	case *limitsXML:
		*x = limitsXML{limits: Limits{Overuse: "block", Values: []Limit{{Name: "max_dom", Value: int64(fl.next())}, {Name: "disk_space", Value: -1}}}}
		return
	case *permissionsXML:
		*x = permissionsXML{perms: []Permission{{Name: "create_domains", Value: true}, {Name: "manage_dns", Value: false}}}
		return
	case *xml.Name:
		if x.Local == "" {
			x.Local = name
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", fl.next()))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(fl.next()))
	case reflect.Uint64:
		v.SetUint(uint64(fl.next()))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fl.fill(v.Elem(), name)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fl.fill(v.Index(i), name)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			tag, _, _ := strings.Cut(sf.Tag.Get("xml"), ",")
			if sf.Name == "XMLName" {
				fl.fill(v.Field(i), name)
				continue
			}
			if !sf.IsExported() || tag == "" {
				fl.t.Fatalf("%s.%s: not an exported xml-tagged field; teach filler its type", v.Type(), sf.Name)
			}
			fl.fill(v.Field(i), tag)
		}
	default:
		fl.t.Fatalf("%s (%s): kind %s has no filler", name, v.Type(), v.Kind())
	}
}

// TestAppendOpCoversEveryField: every operation wire struct, every field
// set, is appended byte for byte as xml.Marshal writes it.
func TestAppendOpCoversEveryField(t *testing.T) {
	for _, c := range []struct {
		op   any
		name string // for an operation element named from data (XMLName untagged)
	}{
		{&getXML{}, ""}, {&addXML{}, ""}, {&setXML{}, ""}, {&delXML{}, ""},
		{&ipPoolOperateXML{}, "ippool_add_ip"}, {&convertXML{}, ""}, {&changeOwnerXML{}, ""},
		{&buttonsListXML{}, ""}, {&descriptorReqXML{}, "get-limit-descriptor"},
	} {
		fl := &filler{t: t}
		fl.fill(reflect.ValueOf(c.op).Elem(), c.name)
		want, err := xml.Marshal(c.op)
		if err != nil {
			t.Fatalf("%T: xml.Marshal: %v", c.op, err)
		}
		got, ok := appendOp(nil, c.op)
		if !ok {
			t.Fatalf("%T: appendOp does not handle it", c.op)
		}
		if string(got) != string(want) {
			t.Errorf("%T with every field set:\nappendOp    %s\nxml.Marshal %s", c.op, got, want)
		}
	}
}

// TestFastDecodeCoversEveryField: a <result> with every field of resultXML
// (and of everything under it) set, as xml.Marshal writes it, is read by
// the fast decoder into what xml.Unmarshal reads, and that is the value
// written.
func TestFastDecodeCoversEveryField(t *testing.T) {
	var in resultXML
	(&filler{t: t}).fill(reflect.ValueOf(&in).Elem(), "result")
	// The response spellings of limits and permissions are the pairs.
	body, err := xml.MarshalIndent(struct {
		resultXML
		XMLName xml.Name `xml:"result"`
	}{resultXML: in}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	var want resultXML
	if err := xml.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(want, in) {
		t.Fatalf("encoding/xml does not round-trip the filled result:\nin   %+v\nwant %+v", in, want)
	}
	f := fastDecoderOver(string(body))
	if f.sc.next() != tokStart || f.sc.name != "result" {
		t.Fatal("no <result> start tag")
	}
	var got resultXML
	if !f.result(&got) {
		t.Fatalf("fast decoder refused\n%s", body)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fast decoder and encoding/xml differ on\n%s\nfast   %+v\noracle %+v", body, got, want)
	}
}
