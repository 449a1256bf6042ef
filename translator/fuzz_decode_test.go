package translator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for the parser of upstream answers and for the text carried
// by request packets. FuzzDecodeResponse (fuzz_test.go) only asks for no
// panic; these also check what comes back.

// fuzzSeedBodies returns every XML file under testdata plus the <system>
// error of every documented code, as answers to decode.
func fuzzSeedBodies(f *testing.F) [][]byte {
	var out [][]byte
	for _, dir := range []string{"responses", "protocol_md", "requests"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.xml"))
		for _, file := range files {
			out = append(out, readFile(f, file))
		}
	}
	for _, code := range []int{1001, 1003, 1005, 1006, 1010, 1011, 1014, 1017, 1029, 1030, 11003, 4242} {
		out = append(out, fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?><packet version="1.6.9.1"><system><status>error</status><errcode>%d</errcode><errtext>text &amp; &lt;more&gt;</errtext></system></packet>`, code))
	}
	out = append(out,
		[]byte(`<packet version="1.6.9.1"><server><get_protos><result><status>ok</status><protos><proto>1.6.9.1</proto><proto>1.6.3.0</proto><proto>1.6.0.2</proto><proto>1.6.9.1</proto></protos></result></get_protos></server></packet>`),
		[]byte(`<packet><server><get_protos><result><status>error</status><errcode>1006</errcode><errtext>no</errtext></result></get_protos></server></packet>`),
		[]byte(`<packet><server><get_protos><result><status>ok</status><protos><proto> 1.4.2.0 </proto></protos></result></get_protos></server></packet><!-- tail -->`),
		[]byte(`<packet><system><status>error</status><errcode>1014</errcode><errtext>x</errtext></system><output>junk<![CDATA[</packet>]]></output></packet>`),
		[]byte("\xef\xbb\xbf<packet><customer><get><result><status>ok</status><id>7</id><data><gen_info><login>\xf0\x9f\x98\x80</login></gen_info></data></result></get></customer></packet>"),
	)
	return out
}

// FuzzDecodeGetProtos checks the answer to server/get_protos: success gives a
// non-empty-part, strictly ascending list; failure is a Plesk error or a
// bounded ParseError, never anything else.
func FuzzDecodeGetProtos(f *testing.F) {
	for _, b := range fuzzSeedBodies(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		vs, err := DecodeGetProtos(body)
		if err != nil {
			checkDecodeError(t, err)
			if vs != nil {
				t.Fatalf("versions %v with error %v", vs, err)
			}
			return
		}
		for i, v := range vs {
			if v.Parts() < 1 || v.Parts() > 4 {
				t.Fatalf("version %q has %d parts", v, v.Parts())
			}
			if i > 0 && vs[i-1].Compare(v) >= 0 {
				t.Fatalf("versions not strictly ascending: %v", vs)
			}
		}
	})
}

// checkDecodeError fails unless err is a *Error (Plesk said so) or a
// *ParseError with a printable snippet of at most maxSnippet bytes.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	var perr *Error
	var pe *ParseError
	switch {
	case errors.As(err, &perr):
		if errors.Is(err, ErrMalformed) {
			t.Fatalf("Plesk error %v also claims to be malformed", err)
		}
	case errors.As(err, &pe):
		if len(pe.Snippet) > maxSnippet || !utf8.ValidString(pe.Snippet) {
			t.Fatalf("snippet %d bytes, valid UTF-8 %v", len(pe.Snippet), utf8.ValidString(pe.Snippet))
		}
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("ParseError %v is not ErrMalformed", err)
		}
	default:
		t.Fatalf("error %T %v is neither *Error nor *ParseError", err, err)
	}
}

// FuzzDecodeResponseTyped decodes any body against each request set and
// checks the shape of what comes back: one reply per request, of the type
// the request promises; errors typed.
func FuzzDecodeResponseTyped(f *testing.F) {
	for _, b := range fuzzSeedBodies(f) {
		f.Add(b, uint8(0))
		f.Add(b, uint8(1))
	}
	versions := []Version{v1691, MustParseVersion("1.6.0.0"), MustParseVersion("1.4.2.0"), v1630}
	f.Fuzz(func(t *testing.T, body []byte, vsel uint8) {
		v := versions[int(vsel)%len(versions)]
		for _, reqs := range fuzzReqSets {
			replies, err := DecodeResponse(v, body, reqs...)
			if err != nil {
				checkDecodeError(t, err)
				continue
			}
			if len(replies) != len(reqs) {
				t.Fatalf("%d replies for %d requests", len(replies), len(reqs))
			}
			for i, r := range reqs {
				if want, got := replyTypeFor(r), fmt.Sprintf("%T", replies[i]); want != got {
					t.Fatalf("reply %d to %T is %s, want %s", i, r, got, want)
				}
				if g, ok := replies[i].(*GetReply); ok {
					for _, res := range g.Results {
						if res.Result.Status != "ok" && res.Result.Status != "error" {
							t.Fatalf("result status %q", res.Result.Status)
						}
					}
				}
			}
		}
	})
}

func replyTypeFor(r Request) string {
	switch r.(type) {
	case *GetRequest:
		return "*translator.GetReply"
	case *AddRequest:
		return "*translator.AddReply"
	case *IPPoolAddRequest, *IPPoolDelRequest:
		return "*translator.IPPoolReply"
	case *ButtonsListRequest:
		return "*translator.ButtonsReply"
	case *LimitDescriptorRequest, *PermissionDescriptorRequest:
		return "*translator.DescriptorReply"
	default:
		return "*translator.ResultsReply"
	}
}

// FuzzEncodeAddText puts arbitrary text into every string field of an add
// (and of a set) and checks that the packet is well-formed XML with exactly
// the element skeleton benign text gives, and that each element's text
// decodes back to the input byte for byte. Text XML cannot carry must be
// refused with ErrInvalidInput, never silently changed.
func FuzzEncodeAddText(f *testing.F) {
	for _, s := range []string{"plain", "<>&'\"", "]]>", "<![CDATA[x]]>", "a\r\nb\tc", "Müller 😀", "\x00", "\xff\xfe", "\uFFFE", "  spaced  ", "</login><login>x", "&amp;", "\u2028"} {
		f.Add(s, s, uint8(0))
		f.Add("login", s, uint8(1))
		f.Add(s, "name", uint8(2))
	}
	versions := []Version{v1691, MustParseVersion("1.6.0.0"), MustParseVersion("1.4.2.0")}
	f.Fuzz(func(t *testing.T, a, b string, vsel uint8) {
		v := versions[int(vsel)%len(versions)]
		mk := func(a, b string) []Request {
			nc := NewClient{Name: a, Login: b, Password: a + b, Company: &a, Email: &b, City: &a, Address: &b, Phone: &a}
			up := ClientUpdate{Name: &b, Company: &a, Fax: &b, Locale: &a}
			return []Request{&AddRequest{Client: nc}, &SetRequest{Filter: ByLogin(b), Client: &up}}
		}
		packet, err := EncodeRequest(v, mk(a, b)...)
		carriable := checkText(a) == nil && checkText(b) == nil && strings.TrimSpace(a) != "" && strings.TrimSpace(b) != ""
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("error %v is not ErrInvalidInput", err)
			}
			if carriable {
				t.Fatalf("carriable text %q %q refused: %v", a, b, err)
			}
			return
		}
		if !carriable {
			t.Fatalf("text XML cannot carry was encoded: %q %q → %s", a, b, packet)
		}
		ref, err := EncodeRequest(v, mk("A", "B")...)
		if err != nil {
			t.Fatal(err)
		}
		gotSkel, gotTexts := xmlSkeleton(t, packet)
		refSkel, refTexts := xmlSkeleton(t, ref)
		if gotSkel != refSkel {
			t.Fatalf("text changed the packet structure:\n got %s\nwant %s", gotSkel, refSkel)
		}
		if len(gotTexts) != len(refTexts) {
			t.Fatalf("%d texts, want %d", len(gotTexts), len(refTexts))
		}
		for i := range refTexts {
			want := strings.NewReplacer("A", a, "B", b).Replace(refTexts[i])
			if refTexts[i] == "AB" {
				want = a + b
			}
			if gotTexts[i] != want {
				t.Fatalf("text %d: %q, want %q", i, gotTexts[i], want)
			}
		}
	})
}

// xmlSkeleton returns the element paths of a document (one per line) and the
// text of each leaf element, in document order.
func xmlSkeleton(t *testing.T, doc []byte) (string, []string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var (
		path  []string
		skel  strings.Builder
		texts []string
		text  strings.Builder
		leaf  bool
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("packet is not well-formed: %v\n%s", err, doc)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			path = append(path, tk.Name.Local)
			skel.WriteString(strings.Join(path, "/"))
			skel.WriteByte('\n')
			text.Reset()
			leaf = true
		case xml.CharData:
			text.Write(tk)
		case xml.EndElement:
			if leaf && text.Len() > 0 {
				texts = append(texts, text.String())
			}
			leaf = false
			text.Reset()
			path = path[:len(path)-1]
		case xml.Comment, xml.ProcInst, xml.Directive:
			t.Fatalf("unexpected %T in packet: %s", tok, doc)
		}
	}
	return skel.String(), texts
}

// FuzzEachGetResultMatchesDecode: the listing's way of reading a get answer
// (EachGetResult, one result at a time) gives exactly DecodeResponse's
// results, or exactly its error, in both dialects.
func FuzzEachGetResultMatchesDecode(f *testing.F) {
	for _, b := range fuzzSeedBodies(f) {
		f.Add(b, false)
	}
	f.Add(getListBody(3), false)
	f.Add(bytes.Replace(getListBody(2), []byte("customer"), []byte("client"), -1), true)
	f.Fuzz(func(t *testing.T, body []byte, legacy bool) {
		v := v1691
		if legacy {
			v = MustParseVersion("1.6.0.0")
		}
		req := &GetRequest{GenInfo: true}
		var got []GetResult
		err := EachGetResult(v, body, req, func(r GetResult) error {
			got = append(got, r)
			return nil
		})
		replies, wantErr := DecodeResponse(v, body, req)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("EachGetResult error %v, DecodeResponse error %v", err, wantErr)
		}
		if err != nil {
			return
		}
		want := replies[0].(*GetReply).Results
		if len(got) != len(want) || len(got) > 0 && !reflect.DeepEqual(got, want) {
			t.Fatalf("EachGetResult %+v\nDecodeResponse %+v", got, want)
		}
	})
}
