package translator

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeRobustness(t *testing.T) {
	get := []Request{&GetRequest{}}
	for _, c := range []struct {
		name string
		v    string
		body string
		reqs []Request
	}{
		{"empty", "1.6.9.1", "", get},
		{"whitespace", "1.6.9.1", "  \n ", get},
		{"garbage", "1.6.9.1", "<<<not xml>>>", get},
		{"html", "1.6.9.1", "<html><body>502 Bad Gateway</body></html>", get},
		{"text before", "1.6.9.1", "oops<packet><customer><get/></customer></packet>", get},
		{"truncated", "1.6.9.1", `<packet version="1.6.9.1"><customer><get><result><status>ok</sta`, get},
		{"unclosed packet", "1.6.9.1", `<packet version="1.6.9.1"><customer><get/></customer>`, get},
		{"trailing element", "1.6.9.1", `<packet><customer><get/></customer></packet><packet/>`, get},
		{"trailing text", "1.6.9.1", `<packet><customer><get/></customer></packet>junk`, get},
		{"wrong operator legacy", "1.6.0.0", `<packet><customer><get/></customer></packet>`, get},
		{"wrong operator modern", "1.6.9.1", `<packet><client><get/></client></packet>`, get},
		{"other operator", "1.6.9.1", `<packet><webspace><get/></webspace></packet>`, get},
		{"wrong op element", "1.6.9.1", `<packet><customer><del/></customer></packet>`, get},
		{"wrong op order", "1.6.9.1", `<packet><customer><del/><get/></customer></packet>`, []Request{&GetRequest{}, &DelRequest{}}},
		{"too few ops", "1.6.9.1", `<packet><customer><get/></customer></packet>`, []Request{&GetRequest{}, &DelRequest{}}},
		{"no operator", "1.6.9.1", `<packet version="1.6.9.1"></packet>`, get},
		{"empty operator", "1.6.9.1", `<packet><customer/></packet>`, get},
		{"too many ops", "1.6.9.1", `<packet><customer><get/><get/></customer></packet>`, get},
		{"wrong root", "1.6.9.1", `<response><customer><get/></customer></response>`, get},
		{"bad status", "1.6.9.1", `<packet><customer><get><result><status>maybe</status></result></get></customer></packet>`, get},
		{"no status", "1.6.9.1", `<packet><customer><get><result><id>1</id></result></get></customer></packet>`, get},
		{"bad id", "1.6.9.1", `<packet><customer><del><result><status>ok</status><id>x</id></result></del></customer></packet>`, []Request{&DelRequest{}}},
		{"bad errcode", "1.6.9.1", `<packet><customer><del><result><status>error</status><errcode>E</errcode></result></del></customer></packet>`, []Request{&DelRequest{}}},
		{"bad stat", "1.6.9.1", `<packet><customer><get><result><status>ok</status><data><stat><traffic>-1</traffic></stat></data></result></get></customer></packet>`, get},
		{"bad gen_info status", "1.6.9.1", `<packet><customer><get><result><status>ok</status><data><gen_info><status>x</status></gen_info></data></result></get></customer></packet>`, get},
		{"bad limit", "1.5.2.0", `<packet><client><get><result><status>ok</status><data><limits><limit><name>a</name><value>many</value></limit></limits></data></result></get></client></packet>`, get},
		{"bad named limit", "1.4.2.0", `<packet><client><get><result><status>ok</status><data><limits><max_dom>ten</max_dom></limits></data></result></get></client></packet>`, get},
		{"bad permission", "1.5.2.0", `<packet><client><get><result><status>ok</status><data><permissions><permission><name>a</name><value>yes</value></permission></permissions></data></result></get></client></packet>`, get},
		{"bad button", "1.6.0.0", `<packet><client><cform_buttons_list><result><status>ok</status><button><enabled>perhaps</enabled></button></result></cform_buttons_list></client></packet>`, []Request{&ButtonsListRequest{}}},
		{"bad shared", "1.6.0.0", `<packet><client><get-limit-descriptor><result><status>ok</status><descriptor><property><name>a</name><type>int</type><extension><shared>2</shared></extension></property></descriptor></result></get-limit-descriptor></client></packet>`, []Request{&LimitDescriptorRequest{}}},
		{"add without result", "1.6.9.1", `<packet><customer><add/></customer></packet>`, []Request{&AddRequest{}}},
		{"add two results", "1.6.9.1", `<packet><customer><add><result><status>ok</status></result><result><status>ok</status></result></add></customer></packet>`, []Request{&AddRequest{}}},
		{"system ok", "1.6.9.1", `<packet><system><status>ok</status></system></packet>`, get},
		{"system bad code", "1.6.9.1", `<packet><system><status>error</status><errcode>abc</errcode></system></packet>`, get},
		{"mismatched tags", "1.6.9.1", `<packet><customer><get></customer></get></packet>`, get},
		{"non-utf8 charset", "1.6.9.1", `<?xml version="1.0" encoding="ISO-8859-1"?><packet><customer><get/></customer></packet>`, get},
		{"undefined entity", "1.6.9.1", `<packet><customer><get><result><status>ok&nbsp;</status></result></get></customer></packet>`, get},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := DecodeResponse(MustParseVersion(c.v), []byte(c.body), c.reqs...)
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) || r != nil {
				t.Fatalf("want *ParseError, got %v, %v", r, err)
			}
			if len(pe.Snippet) > maxSnippet {
				t.Errorf("snippet %d bytes", len(pe.Snippet))
			}
			if c.body != "" && strings.TrimSpace(c.body) != "" && pe.Snippet == "" {
				t.Errorf("no snippet for %q", c.body)
			}
		})
	}
}

func TestDecodeTolerance(t *testing.T) {
	// Indentation, XML declaration, comments, unknown elements, numbers with
	// spaces, a trailing <output>, attributes and namespaces we do not use.
	body := `<?xml version="1.0" encoding="UTF-8"?>
<!-- pretty printed -->
<packet version="1.6.9.1" xmlns:x="urn:x">
  <customer>
    <get>
      <result x:extra="1">
        <status> ok </status>
        <filter-id>jdoe</filter-id>
        <id>
          42
        </id>
        <unknown><nested>1</nested></unknown>
        <data>
          <future-block>…</future-block>
          <stat><active_domains> 3 </active_domains><webapps>1</webapps><traffic>
            7
          </traffic></stat>
          <gen_info><login>jdoe</login><status> 16 </status><owner-id> 5 </owner-id><new-field>x</new-field></gen_info>
        </data>
      </result>
    </get>
    <del>
      <result><status>error</status><errcode> 1013 </errcode><errtext>Object not found.</errtext><filter-id>x</filter-id></result>
    </del>
  </customer>
  <output/>
</packet>
`
	r, err := DecodeResponse(v1691t, []byte(body), &GetRequest{}, &DelRequest{})
	if err != nil {
		t.Fatal(err)
	}
	g := r[0].(*GetReply).Results[0]
	if g.Result.ID != 42 || !g.Result.OK() || g.Stat.ActiveDomains != 3 || g.Stat.Traffic != 7 || *g.Stat.Webapps != 1 ||
		g.Client.Login != "jdoe" || g.Client.Status != StatusDisabledByAdmin || *g.Client.OwnerID != 5 {
		t.Errorf("got %+v %+v %+v", g.Result, g.Stat, g.Client)
	}
	if d := r[1].(*ResultsReply).Results[0]; d.ErrCode != 1013 || !errors.Is(d.Err(), ErrNotFound) {
		t.Errorf("del %+v", d)
	}
}

func TestDecodeEmptyOperator(t *testing.T) {
	for _, body := range []string{
		`<packet version="1.6.9.1"><customer><get/></customer></packet>`,
		`<packet version="1.6.9.1"><customer><get></get></customer></packet>`,
		"<packet>\n<customer>\n<get>\n</get>\n</customer>\n</packet>",
	} {
		r, err := DecodeResponse(v1691t, []byte(body), &GetRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if g := r[0].(*GetReply); g.Results == nil || len(g.Results) != 0 {
			t.Errorf("%s: %+v", body, g)
		}
	}
}

func TestDecodeSystemErrors(t *testing.T) {
	for _, c := range []struct {
		body     string
		code     int
		sentinel error
	}{
		{`<packet version="1.6.9.1"><system><status>error</status><errcode>1001</errcode><errtext>Authentication failed - wrong password.</errtext></system></packet>`, 1001, ErrAuthentication},
		{`<packet><system><status>error</status><errcode>1014</errcode></system><output>trace</output></packet>`, 1014, ErrPacketRefused},
		{`<packet><system><status>error</status><errcode>11003</errcode></system></packet>`, 11003, ErrAuthentication},
		// system wins even when something odd follows
		{`<packet><system><status>error</status><errcode>1005</errcode></system><customer><get/></customer></packet>`, 1005, ErrVersion},
		{`<packet><system><status>error</status><errcode>1005</errcode></system>`, 1005, ErrVersion},
	} {
		r, err := DecodeResponse(v1691t, []byte(c.body), &GetRequest{}, &DelRequest{})
		var pe *Error
		if !errors.As(err, &pe) || !pe.System || pe.Code != c.code || !errors.Is(err, c.sentinel) || r != nil {
			t.Errorf("%s: got %v %v", c.body, r, err)
		}
	}
}

func TestDecodeNeedsRequests(t *testing.T) {
	if _, err := DecodeResponse(v1691t, []byte(`<packet/>`)); !errors.Is(err, ErrInvalidInput) {
		t.Error(err)
	}
	if _, err := DecodeResponse(v1691t, []byte(`<packet/>`), nil); !errors.Is(err, ErrInvalidInput) {
		t.Error(err)
	}
}

// A packet we encode, answered by a response with one result per op, decodes
// into the matching reply types.
func TestDecodeReplyTypes(t *testing.T) {
	v := MustParseVersion("1.6.0.0")
	reqs := []Request{&AddRequest{}, &GetRequest{}, &SetRequest{}, &DelRequest{}, &IPPoolAddRequest{}, &IPPoolDelRequest{},
		&ButtonsListRequest{}, &LimitDescriptorRequest{}, &PermissionDescriptorRequest{}, &ConvertToResellerRequest{}, &ChangeOwnerRequest{}}
	var b strings.Builder
	b.WriteString(`<packet version="1.6.0.0"><client>`)
	for _, r := range reqs {
		b.WriteString("<" + r.Op().Element() + "><result><status>ok</status><id>1</id></result></" + r.Op().Element() + ">")
	}
	b.WriteString(`</client></packet>`)
	got, err := DecodeResponse(v, []byte(b.String()), reqs...)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"*translator.AddReply", "*translator.GetReply", "*translator.ResultsReply", "*translator.ResultsReply",
		"*translator.IPPoolReply", "*translator.IPPoolReply", "*translator.ButtonsReply", "*translator.DescriptorReply",
		"*translator.DescriptorReply", "*translator.ResultsReply", "*translator.ResultsReply"}
	for i, r := range got {
		if typeName(r) != want[i] {
			t.Errorf("reply %d is %s, want %s", i, typeName(r), want[i])
		}
	}
}

// TestDecodeRefusesDeepNesting: an answer whose elements nest deeper than
// maxAnswerDepth (a hostile panel sent 2 million levels; 5,000 here keeps
// the suite small) is a malformed answer as a whole, wherever the nesting
// sits: never a reply without what was nested. An answer exactly
// maxAnswerDepth deep still decodes.
func TestDecodeRefusesDeepNesting(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("<x>", n) + strings.Repeat("</x>", n) }
	const ok = `<result><status>ok</status><id>1</id></result>`
	// packet, customer, get and result are 4 levels.
	deep := nest(5000)
	for name, body := range map[string]string{
		"in a result":         `<packet><customer><get><result><status>ok</status><id>1</id>` + deep + `</result></get></customer></packet>`,
		"in gen_info":         `<packet><customer><get><result><status>ok</status><id>1</id><data><gen_info><login>a</login>` + deep + `</gen_info></data></result></get></customer></packet>`,
		"between results":     `<packet><customer><get>` + ok + deep + ok + `</get></customer></packet>`,
		"after the operation": `<packet><customer><get>` + ok + `</get>` + `</customer><output>` + deep + `</output></packet>`,
		"one level too deep":  `<packet><customer><get><result><status>ok</status><id>1</id>` + nest(maxAnswerDepth-3) + `</result></get></customer></packet>`,
	} {
		replies, err := DecodeResponse(v1691, []byte(body), &GetRequest{})
		if !errors.Is(err, ErrMalformed) || !errors.Is(err, errTooDeep) || replies != nil {
			t.Errorf("%s: DecodeResponse = %v, %v; want a malformed answer (too deep)", name, replies, err)
		}
		n := 0
		err = EachGetResult(v1691, []byte(body), &GetRequest{}, func(GetResult) error { n++; return nil })
		if !errors.Is(err, errTooDeep) {
			t.Errorf("%s: EachGetResult = %v after %d results; want a malformed answer (too deep)", name, err, n)
		}
	}
	protos := `<packet><server><get_protos><result><status>ok</status><protos><proto>1.6.9.1</proto>` + deep + `</protos></result></get_protos></server></packet>`
	if vs, err := DecodeGetProtos([]byte(protos)); !errors.Is(err, errTooDeep) {
		t.Errorf("DecodeGetProtos = %v, %v; want a malformed answer (too deep)", vs, err)
	}
	deepest := `<packet><customer><get><result><status>ok</status><id>1</id>` + nest(maxAnswerDepth-4) + `</result></get></customer></packet>`
	if _, err := DecodeResponse(v1691, []byte(deepest), &GetRequest{}); err != nil {
		t.Errorf("an answer %d deep: %v", maxAnswerDepth, err)
	}
}
