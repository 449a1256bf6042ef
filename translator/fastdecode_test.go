package translator

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The fast decoding path (fastdecode.go) must decode whatever it accepts
// exactly as encoding/xml (decodeResponseXML) does, and must really be taken
// for the answers Plesk sends.

// mdResponseCases: version and requests of each response printed in
// PROTOCOL.md (testdata/protocol_md). System errors are nil: they always
// go to encoding/xml.
var mdResponseCases = map[string]struct {
	version string
	reqs    []Request
}{
	"s1.3_system_1005.response.xml":                       {"1.6.9.1", nil},
	"s1.3_system_1029.response.xml":                       {"1.6.9.1", nil},
	"s2_result_1013.response.wrapped.xml":                 {"1.6.9.1", []Request{&DelRequest{}}},
	"s6.5_limit_property_max_subdom.response.wrapped.xml": {"1.5.0.0", []Request{&LimitDescriptorRequest{}}},
	"s7.10_convert.response.xml":                          {"1.6.7.0", []Request{&ConvertToResellerRequest{}}},
	"s7.11_change_owner.response.xml":                     {"1.6.7.0", []Request{&ChangeOwnerRequest{}}},
	"s7.1_add_error_1007.response.xml":                    {"1.6.9.1", []Request{&AddRequest{}}},
	"s7.1_add_legacy.response.wrapped.xml":                {"1.4.1.0", []Request{&AddRequest{}}},
	"s7.1_add_modern.response.xml":                        {"1.6.7.0", []Request{&AddRequest{}}},
	"s7.2_get_error_1013.response.wrapped.xml":            {"1.6.9.1", []Request{&GetRequest{}}},
	"s7.2_get_legacy.response.xml":                        {"1.6.0.0", []Request{&GetRequest{}}},
	"s7.2_get_modern.response.xml":                        {"1.6.7.0", []Request{&GetRequest{}}},
	"s7.3_del.response.xml":                               {"1.6.9.1", []Request{&DelRequest{}}},
	"s7.4_set_modern.response.xml":                        {"1.6.9.1", []Request{&SetRequest{}}},
	"s7.5_ippool_add.response.wrapped.xml":                {"1.4.2.0", []Request{&IPPoolAddRequest{}}},
	"s7.5_ippool_add_error_1018.response.wrapped.xml":     {"1.4.2.0", []Request{&IPPoolAddRequest{}}},
	"s7.7_buttons.response.wrapped.xml":                   {"1.6.0.0", []Request{&ButtonsListRequest{}}},
	"s7.8_limit_descriptor.response.xml":                  {"1.6.0.0", []Request{&LimitDescriptorRequest{}}},
	"s7.9_permission_descriptor.response.wrapped.xml":     {"1.5.0.0", []Request{&PermissionDescriptorRequest{}}},
}

// fastCase is one answer the fast path must take.
type fastCase struct {
	name string
	v    Version
	body []byte
	reqs []Request
}

// fastCases returns every valid answer among the fixtures, the benchmark
// answers, and hand-written answers exercising the fast path's corners; and
// separately the fixtures that must fall back (system errors).
func fastCases(t testing.TB) (take, fallback []fastCase) {
	files, _ := filepath.Glob(filepath.Join("testdata", "responses", "*.xml"))
	if len(files) < 30 {
		t.Fatalf("only %d response fixtures", len(files))
	}
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".xml")
		i := strings.Index(base, ".v")
		reqs, ok := responseCases[base]
		if !ok {
			reqs = responseCases[base[:i]]
		}
		c := fastCase{"responses/" + base, MustParseVersion(base[i+2:]), readFile(t, f), reqs}
		if strings.HasPrefix(base, "system_") {
			fallback = append(fallback, c)
		} else {
			take = append(take, c)
		}
	}
	files, _ = filepath.Glob(filepath.Join("testdata", "protocol_md", "*.response*.xml"))
	if len(files) != len(mdResponseCases) {
		t.Fatalf("%d protocol_md responses, %d cases", len(files), len(mdResponseCases))
	}
	for _, f := range files {
		name := filepath.Base(f)
		mc, ok := mdResponseCases[name]
		if !ok {
			t.Fatalf("%s: no case in mdResponseCases", name)
		}
		c := fastCase{"protocol_md/" + name, MustParseVersion(mc.version), readFile(t, f), mc.reqs}
		if mc.reqs == nil {
			c.reqs = []Request{&GetRequest{}}
			fallback = append(fallback, c)
		} else {
			take = append(take, c)
		}
	}
	take = append(take,
		fastCase{"bench/modern", v1691, []byte(simGetModern), []Request{&GetRequest{}}},
		fastCase{"bench/modern+stat", v1691, []byte(simGetModernStat), []Request{&GetRequest{}}},
		fastCase{"bench/legacy", MustParseVersion("1.6.0.0"), []byte(simGetLegacy), []Request{&GetRequest{}}},
		fastCase{"bench/list", v1691, getListBody(3), []Request{&GetRequest{}}},
	)
	for i, b := range fastCornerBodies {
		take = append(take, fastCase{fmt.Sprintf("corner/%d", i), v1691, []byte(b), []Request{&GetRequest{}}})
	}
	return take, fallback
}

// fastCornerBodies are customer/get answers the fast path must take, each
// exercising one rule it copies from encoding/xml.
var fastCornerBodies = []string{
	// References, whitespace kept, text split by comments and child elements.
	`<packet><customer><get><result><status> ok </status><id>&#55;</id><data><gen_info><cname>A &amp; B &lt;&gt; &quot;&apos; &#x1F600;&#233;</cname><pname>x<!-- c -->y<b>ignored</b>z</pname><login>  spaced  </login><city>Zürich</city></gen_info></data></result></get></customer></packet>`,
	// Last occurrence wins; a repeated <data> fills the same value again.
	`<packet version='1.6.9.1' xmlns="urn:x"><customer><get><result><status>error</status><status>ok</status><filter-id>a</filter-id><filter-id/><data><gen_info><login>a</login><owner-id>1</owner-id></gen_info></data><data><gen_info><pname>b</pname><owner-id> 2 </owner-id></gen_info><stat><webapps>3</webapps><traffic></traffic></stat></data><unknown><deep><er/></deep></unknown></result></get></customer></packet>` + "\n<!-- trailer -->\n",
	// Both limits and permissions formats, repeated blocks, and ippool spellings.
	`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<packet><customer><get><result><status>ok</status><data><limits><resource-policy><overuse> block </overuse></resource-policy><max_dom> 5 </max_dom><limit><name>disk</name><value>-1</value></limit></limits><limits><other>1</other></limits><permissions><a>true</a><permission><value>0</value><name>b</name></permission></permissions><ippool><ip><ip_address>1.2.3.4</ip_address><ip-type>shared</ip-type></ip><ip/></ippool><ippool><ip><ip-address> 5.6.7.8 </ip-address><ip_type>exclusive</ip_type></ip></ippool></data></result><result><status>ok</status></result></get></customer></packet>`,
	// Empty answer (a blank filter matching nothing), attributes everywhere.
	`<packet version="1.6.9.1" ><customer a="1"><get b = "2"/></customer></packet>`,
	// An <output> element before the operator, tabs and newlines around tags.
	"<packet>\n\t<output>anything <x/> here</output>\n\t<customer>\n\t\t<get>\n\t\t\t<result>\n\t\t\t\t<status>ok</status>\n\t\t\t</result>\n\t\t</get>\n\t</customer>\n</packet>\n",
}

// fastReqSets are the request lists fuzzed bodies are decoded against: each
// operation alone, the fixtures' batches and the other fuzz targets' sets.
var fastReqSets = append([][]Request{
	{&GetRequest{}}, {&AddRequest{}}, {&DelRequest{}}, {&SetRequest{}}, {&ConvertToResellerRequest{}},
	{&ChangeOwnerRequest{}}, {&IPPoolAddRequest{}}, {&IPPoolDelRequest{}}, {&ButtonsListRequest{}},
	{&LimitDescriptorRequest{}}, {&PermissionDescriptorRequest{}},
	{&AddRequest{}, &IPPoolAddRequest{}, &SetRequest{}, &LimitDescriptorRequest{}},
	{&GetRequest{}, &GetRequest{}},
}, fuzzReqSets...)

var fastVersions = []Version{v1691, MustParseVersion("1.6.0.0"), MustParseVersion("1.4.2.0"), v1630, MustParseVersion("1.5.2.0")}

// checkFastMatchesOracle fails if the fast path accepts body but encoding/xml
// fails on it or decodes it differently. It reports whether the fast path
// accepted it.
func checkFastMatchesOracle(t *testing.T, v Version, body []byte, reqs []Request) bool {
	t.Helper()
	fast, ok := fastDecodeResponse(v, body, reqs)
	if !ok {
		if fast != nil {
			t.Fatalf("fast path returned replies with ok = false")
		}
		return false
	}
	want, err := decodeResponseXML(v, body, reqs)
	if err != nil {
		t.Fatalf("fast path accepted what encoding/xml rejects (%v):\n%q", err, body)
	}
	if !reflect.DeepEqual(fast, want) {
		t.Fatalf("fast path and encoding/xml differ on\n%q\nfast:  %s\noracle: %s", body, dumpReplies(fast), dumpReplies(want))
	}
	return true
}

func dumpReplies(rs []Reply) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%#v; ", r)
		switch r := r.(type) {
		case *GetReply:
			for _, g := range r.Results {
				fmt.Fprintf(&b, "%+v %+v %+v %+v %+v; ", g.Result, g.Client, g.Stat, g.Limits, g.IPPool)
			}
		case *DescriptorReply:
			for _, d := range r.Results {
				fmt.Fprintf(&b, "%+v %+v; ", d.Result, d.Descriptor)
			}
		}
	}
	return b.String()
}

// TestFastDecodeTaken: every valid answer takes the fast path and decodes as
// encoding/xml decodes it; system errors fall back (encoding/xml reports
// them). Without this a fast path that always fell back would pass.
func TestFastDecodeTaken(t *testing.T) {
	take, fallback := fastCases(t)
	for _, c := range take {
		t.Run(c.name, func(t *testing.T) {
			if !checkFastMatchesOracle(t, c.v, c.body, c.reqs) {
				t.Fatalf("fast path not taken")
			}
		})
	}
	for _, c := range fallback {
		t.Run(c.name, func(t *testing.T) {
			if checkFastMatchesOracle(t, c.v, c.body, c.reqs) {
				t.Fatalf("fast path taken for a system error")
			}
		})
	}
}

// TestFastDecodeFallsBack: answers outside the fast path's subset, or
// wrong, go to encoding/xml (which may accept them or report the error).
func TestFastDecodeFallsBack(t *testing.T) {
	const ok = `<status>ok</status>`
	wrap := func(inner string) string {
		return `<packet><customer><get><result>` + inner + `</result></get></customer></packet>`
	}
	for _, body := range []string{
		wrap(`<status>o` + "\r\n" + `k</status>`),                   // encoding/xml rewrites CR
		wrap(`<status><![CDATA[ok]]></status>`),                     // CDATA
		wrap(ok + `<id>&#xD800;</id>`),                              // surrogate: U+FFFD in encoding/xml
		wrap(ok + `<id>&nbsp;</id>`),                                // unknown entity
		wrap(ok + `<id>a]]>b</id>`),                                 // ]]> in text
		wrap(ok + `<x:id>1</x:id>`),                                 // namespace prefix
		wrap(ok + `<idé>1</idé>`),                                   // non-ASCII name
		wrap(ok + "<id>\x01</id>"),                                  // control character
		wrap(ok + "<id>\xff</id>"),                                  // invalid UTF-8
		wrap(ok + `<id>1</ID>`),                                     // mismatched tags
		wrap(ok + `<data><stat><traffic>x</traffic></stat></data>`), // number
		wrap(`<status>maybe</status>`),                              // reply error
		wrap(ok + `<data><limits><max_dom>many</max_dom></limits></data>`),
		wrap(ok + `<a b=c/>`),        // unquoted attribute
		wrap(ok + `<a b="&amp;"/>`),  // attribute reference (not handled)
		wrap(ok + `<!-- a -- b -->`), // "--" in a comment
		`<?xml version="1.1"?>` + wrap(ok),
		`<?xml version="1.0" encoding="ISO-8859-1"?>` + wrap(ok),
		"\ufeff" + wrap(ok), // BOM
		`<!DOCTYPE packet>` + wrap(ok),
		wrap(ok) + `<packet/>`,
		wrap(ok) + `x`,
		`<packet><client><get><result>` + ok + `</result></get></client></packet>`, // other operator
		`<packet><customer><add><result>` + ok + `</result></add></customer></packet>`,
		`<packet><customer><get/><get/></customer></packet>`, // too many operations
		`<packet><system><status>error</status><errcode>1001</errcode></system></packet>`,
		`<packet><customer><get>`,
		strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100),
	} {
		if checkFastMatchesOracle(t, v1691, []byte(body), []Request{&GetRequest{}}) {
			t.Errorf("fast path taken for %q", body)
		}
	}
}

// FuzzDecodeFastMatchesOracle: whenever the fast path accepts a body, for
// any request list and dialect, encoding/xml accepts it too and returns
// deeply equal replies.
func FuzzDecodeFastMatchesOracle(f *testing.F) {
	take, fallback := fastCases(f)
	for _, c := range append(take, fallback...) {
		for vi, v := range fastVersions {
			if v.Dialect() == c.v.Dialect() {
				f.Add(c.body, uint8(vi))
				break
			}
		}
	}
	for _, b := range fuzzSeedBodies(f) {
		f.Add(b, uint8(0))
		f.Add(b, uint8(1))
	}
	for _, b := range fastProtosBodies {
		f.Add([]byte(b), uint8(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, vsel uint8) {
		v := fastVersions[int(vsel)%len(fastVersions)]
		for _, reqs := range fastReqSets {
			checkFastMatchesOracle(t, v, body, reqs)
		}
		checkFastProtosMatchesOracle(t, body)
	})
}

// fastProtosBodies are server/get_protos answers the fast path must take.
var fastProtosBodies = []string{
	simProtos,
	`<packet version="1.6.9.1"><server><get_protos><result><status>ok</status><protos><proto>1.6.9.1</proto><proto>1.6.3.0</proto><proto>1.6.0.2</proto><proto>1.6.9.1</proto></protos></result></get_protos></server></packet>`,
	`<packet><server><get_protos><result><status>ok</status><protos><proto> 1.4.2.0 </proto></protos></result></get_protos></server></packet><!-- tail -->`,
	`<packet><server><get_protos><result><status>ok</status><protos><proto>1.6</proto><x/><proto>1.6.0.0</proto></protos><protos><proto>1.5</proto></protos></result><result><status>ok</status></result></get_protos><get_protos/></server><server/></packet>`,
	`<packet><server><get_protos><result><status>ok</status><protos><proto>1.x</proto></protos></result></get_protos></server></packet>`, // bad proto: same error
}

// checkFastProtosMatchesOracle is checkFastMatchesOracle for DecodeGetProtos.
func checkFastProtosMatchesOracle(t *testing.T, body []byte) bool {
	t.Helper()
	protos, ok := fastGetProtos(body)
	if !ok {
		return false
	}
	got, gerr := protoVersions(body, protos)
	want, werr := decodeGetProtosXML(body)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("get_protos: fast path %v %v, encoding/xml %v %v on\n%q", got, gerr, want, werr, body)
	}
	return true
}

// TestFastGetProtosTaken: get_protos answers take the fast path; errors
// and odd shapes fall back.
func TestFastGetProtosTaken(t *testing.T) {
	for _, b := range fastProtosBodies {
		if !checkFastProtosMatchesOracle(t, []byte(b)) {
			t.Errorf("fast path not taken for %q", b)
		}
	}
	for _, b := range []string{
		`<packet><server><get_protos><result><status>error</status><errcode>1</errcode></result></get_protos></server></packet>`,
		`<packet><server><get_protos/></server></packet>`, // no result
		`<packet><system><status>error</status><errcode>1001</errcode></system></packet>`,
		`<packet><customer><get_protos/></customer></packet>`,
	} {
		if checkFastProtosMatchesOracle(t, []byte(b)) {
			t.Errorf("fast path taken for %q", b)
		}
	}
}

// TestFastDecodeAllocs guards the point of the fast path: a one-client GET
// answer decodes in about ten allocations (encoding/xml: ~260). The bounds
// leave room for -race, which costs one more.
func TestFastDecodeAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	for _, c := range []struct {
		name string
		v    Version
		body string
		max  float64
	}{
		{"modern", v1691, simGetModern, 12},
		{"modern+stat", v1691, simGetModernStat, 14},
		{"legacy", MustParseVersion("1.6.0.0"), simGetLegacy, 12},
	} {
		body := []byte(c.body)
		req := &GetRequest{}
		n := testing.AllocsPerRun(50, func() {
			if _, err := DecodeResponse(c.v, body, req); err != nil {
				t.Fatal(err)
			}
		})
		if n > c.max {
			t.Errorf("%s: %v allocations, want ≤ %v", c.name, n, c.max)
		}
	}
}

// TestFastDecodeMutations: systematic edits of answers (each snippet
// inserted at every byte, each byte deleted), decoded by both paths. The
// fuzz target explores further; this keeps the usual suspects in every
// `go test` run.
func TestFastDecodeMutations(t *testing.T) {
	snippets := []string{"&amp;", "&#0;", "&#x41;", "&bogus;", "<!---->", "<x/>", "</x>", "<a:b/>", "\r", " ", "]]>", "é", "\xff", "<", ">", `"`, "/"}
	bodies := []fastCase{
		{"get_all", MustParseVersion("1.5.2.0"), readFile(t, filepath.Join("testdata", "responses", "get_all.v1.5.2.0.xml")), []Request{&GetRequest{}}},
		{"buttons", MustParseVersion("1.6.0.0"), readFile(t, filepath.Join("testdata", "responses", "buttons.v1.6.0.0.xml")), []Request{&ButtonsListRequest{}}},
		{"descriptor", MustParseVersion("1.6.0.0"), readFile(t, filepath.Join("testdata", "responses", "permission_descriptor.v1.6.0.0.xml")), []Request{&PermissionDescriptorRequest{}}},
		{"modern", v1691, []byte(simGetModern), []Request{&GetRequest{}}},
	}
	if testing.Short() {
		bodies = bodies[3:]
	}
	taken := 0
	for _, c := range bodies {
		for i := 0; i <= len(c.body); i++ {
			for _, sn := range snippets {
				b := append(append(append([]byte{}, c.body[:i]...), sn...), c.body[i:]...)
				if checkFastMatchesOracle(t, c.v, b, c.reqs) {
					taken++
				}
			}
			if i < len(c.body) {
				b := append(append([]byte{}, c.body[:i]...), c.body[i+1:]...)
				if checkFastMatchesOracle(t, c.v, b, c.reqs) {
					taken++
				}
			}
		}
	}
	if taken == 0 {
		t.Fatal("no mutation took the fast path")
	}
}
