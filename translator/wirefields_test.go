package translator

import (
	"encoding/xml"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// These tests fill every xml-tagged field of every wire struct by
// reflection and require it to reach the packet (requests) or to be read
// back (answers), so a field whose tag loses it fails here rather than
// vanishing from packets or answers.

// filler sets every field of a wire value to a distinct non-zero value.
type filler struct {
	n    int
	t    *testing.T
	tags []string // the element of every tagged field filled
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
			if sf.Anonymous && sf.Type.Kind() == reflect.Struct && tag == "" {
				// An embedded struct (resultXML in each operation's
				// result): its fields are the outer element's.
				fl.fillFields(v.Field(i))
				continue
			}
			if sf.Name == "XMLName" {
				fl.fill(v.Field(i), name)
				continue
			}
			if !sf.IsExported() || tag == "" {
				fl.t.Fatalf("%s.%s: not an exported xml-tagged field; teach filler its type", v.Type(), sf.Name)
			}
			fl.tags = append(fl.tags, tag)
			fl.fill(v.Field(i), tag)
		}
	default:
		fl.t.Fatalf("%s (%s): kind %s has no filler", name, v.Type(), v.Kind())
	}
}

// fillFields fills the fields of an embedded struct, whose value itself
// reflection may not hand out.
func (fl *filler) fillFields(v reflect.Value) {
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		tag, _, _ := strings.Cut(sf.Tag.Get("xml"), ",")
		if !sf.IsExported() || tag == "" {
			fl.t.Fatalf("%s.%s: not an exported xml-tagged field; teach filler its type", v.Type(), sf.Name)
		}
		fl.tags = append(fl.tags, tag)
		fl.fill(v.Field(i), tag)
	}
}

// TestEveryRequestFieldReachesThePacket: every operation wire struct, every
// field set, is encoded with each field's element and value in the packet,
// so no field is lost to a tag (a typo, "-", a wrong omitempty).
func TestEveryRequestFieldReachesThePacket(t *testing.T) {
	for _, body := range []any{
		&getXML{}, &addXML{}, &setXML{}, &delXML{}, &ipPoolOperateXML{}, &convertXML{}, &changeOwnerXML{},
		&buttonsListXML{}, &descriptorReqXML{}, &domainListReqXML{},
	} {
		fl := &filler{t: t}
		fl.fill(reflect.ValueOf(body).Elem(), "")
		got, err := xml.Marshal(operationXML{element: "op", body: body})
		if err != nil {
			t.Fatalf("%T: %v", body, err)
		}
		for _, tag := range fl.tags {
			if !strings.Contains(string(got), "<"+tag+">") {
				t.Errorf("%T: no <%s> in %s", body, tag, got)
			}
		}
		for i := 1; i <= fl.n; i++ {
			if !strings.Contains(string(got), fmt.Sprintf(">s%d<", i)) && !strings.Contains(string(got), fmt.Sprintf(">%d<", i)) &&
				!strings.Contains(string(got), fmt.Sprintf(">f%d<", i)) {
				t.Errorf("%T: value %d is not in %s", body, i, got)
			}
		}
	}
}

// TestEveryResultFieldIsRead: a <result> with every field of resultXML and
// of each operation's result struct (and of everything under them) set, as
// xml.Marshal writes it, is read by DecodeResponse's reader (readAnswer and
// DecodeElement) into the value written.
func TestEveryResultFieldIsRead(t *testing.T) {
	for _, in := range []any{
		&resultXML{}, &addResultXML{}, &getResultXML{}, &ipPoolResultXML{}, &buttonsResultXML{},
		&descriptorResultXML{}, &domainListResultXML{},
	} {
		(&filler{t: t}).fill(reflect.ValueOf(in).Elem(), "result")
		// The response spellings of limits and permissions are the pairs.
		var result strings.Builder
		enc := xml.NewEncoder(&result)
		enc.Indent("", " ")
		if err := enc.EncodeElement(in, xml.StartElement{Name: xml.Name{Local: "result"}}); err != nil {
			t.Fatal(err)
		}
		body := `<packet><customer><get>` + result.String() + `</get></customer></packet>`
		var got []any
		err := readAnswer(v1691, []byte(body), []Request{&GetRequest{}}, func(_ int, d *xml.Decoder, se *xml.StartElement) error {
			r := reflect.New(reflect.TypeOf(in).Elem()).Interface()
			got = append(got, r)
			return d.DecodeElement(r, se)
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], in) {
			t.Errorf("%T: read from\n%s\ngot  %+v\nwant %+v", in, body, got, in)
		}
	}
}
