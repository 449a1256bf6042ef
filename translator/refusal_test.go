package translator

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
)

// rec2Text is REC-2's errtext (PROTOCOL.md §15), verbatim.
const rec2Text = "Parser error: Request is invalid. Error in line 2: Element 'client': This element is not expected. Expected is one of ( request-settings, server, customer, webspace, subdomain, dns, db_server, mail, certificate, site-alias )."

func TestLegacyRefusal(t *testing.T) {
	legacy, modern := MustParseVersion("1.6.0.2"), MustParseVersion("1.6.9.1")
	cases := []struct {
		name string
		v    Version
		err  error
		want bool
	}{
		{"REC-2 1014 naming client", legacy, &Error{Code: 1014, Text: rec2Text, System: true}, true},
		{"1014 with double quotes and a namespace", legacy, &Error{Code: 1014, Text: `Element "{urn:x}client": This element is not expected.`, System: true}, true},
		{"wrapped", legacy, fmt.Errorf("call: %w", &Error{Code: 1014, Text: rec2Text, System: true}), true},
		{"1005 for the legacy version", legacy, &Error{Code: 1005, Text: "XML API version not supported.", System: true}, true},
		{"system 1017", legacy, &Error{Code: 1017, Text: "This feature is not supported for protocol version 1.6.0.2.", System: true}, true},
		{"result 1017 not naming the version is the operation's answer", legacy, &Error{Code: 1017, Text: "not supported"}, false},
		{"1014 about a value (REC-3)", legacy, &Error{Code: 1014, Text: "Error in line 5: Element 'id': '' is not a valid value of the atomic type 'id_type'.", System: true}, false},
		{"1014 naming another element", legacy, &Error{Code: 1014, Text: "Element 'clients': This element is not expected.", System: true}, false},
		{"1014 naming client but another complaint", legacy, &Error{Code: 1014, Text: "Element 'client': Missing child element(s).", System: true}, false},
		{"modern packet", modern, &Error{Code: 1014, Text: rec2Text, System: true}, false},
		{"modern 1005", modern, &Error{Code: 1005, System: true}, false},
		{"other system error", legacy, &Error{Code: 1001, Text: "Authentication failed", System: true}, false},
		{"not a plesk error", legacy, fmt.Errorf("dial tcp: refused"), false},
		{"nil", legacy, nil, false},
	}
	for _, c := range cases {
		perr, got := LegacyRefusal(c.v, c.err)
		if got != c.want {
			t.Errorf("%s: LegacyRefusal = %v, want %v", c.name, got, c.want)
		}
		if got && perr == nil {
			t.Errorf("%s: refusal without the Plesk error", c.name)
		}
	}
}

// rec3Text is REC-3's errtext (PROTOCOL.md §15, Plesk 17.8.11), verbatim,
// for a packet at 1.6.3.0.
const rec3Text = "This feature is not supported for protocol version 1.6.3.0."

// TestLegacyRefusalResult1017: Plesk 17.8.11's result-level 1017 naming the
// packet's version (REC-3) is a refusal of that version, on a legacy packet
// only; any other 1017 in a result is that operation's own answer.
func TestLegacyRefusalResult1017(t *testing.T) {
	legacy := MustParseVersion("1.6.0.2")
	at := func(v string) string { return "This feature is not supported for protocol version " + v + "." }
	cases := []struct {
		name string
		v    Version
		err  error
		want bool
	}{
		{"REC-3 words for the packet's version", legacy, &Error{Code: 1017, Text: at("1.6.0.2")}, true},
		{"REC-3 verbatim at an old version", MustParseVersion("1.6.0.0"), &Error{Code: 1017, Text: at("1.6.0.0")}, true},
		{"wrapped", legacy, fmt.Errorf("get: %w", &Error{Code: 1017, Text: at("1.6.0.2")}), true},
		{"other case and spacing", legacy, &Error{Code: 1017, Text: "this feature is NOT supported for Protocol  Version 1.6.0.2"}, true},
		{"REC-3 verbatim on a modern packet", MustParseVersion("1.6.3.0"), &Error{Code: 1017, Text: rec3Text}, false},
		{"another version named", legacy, &Error{Code: 1017, Text: at("1.6.0.1")}, false},
		{"a longer version named", legacy, &Error{Code: 1017, Text: at("1.6.0.20")}, false},
		{"no version named", legacy, &Error{Code: 1017, Text: "Feature not supported by the current version of XML API."}, false},
		{"unrelated 1017", legacy, &Error{Code: 1017, Text: "The operation is not supported for this object."}, false},
		{"version text on another code", legacy, &Error{Code: 1023, Text: at("1.6.0.2")}, false},
	}
	for _, c := range cases {
		perr, got := LegacyRefusal(c.v, c.err)
		if got != c.want {
			t.Errorf("%s: LegacyRefusal = %v, want %v", c.name, got, c.want)
		}
		if got && (perr == nil || perr.Code != 1017 || perr.System) {
			t.Errorf("%s: refusal returned %+v, want the result's 1017", c.name, perr)
		}
	}
}

// TestLegacyRefusalInReplies: the answer to a legacy packet whose results
// carry REC-3's 1017 for its version is a refusal, read from any reply
// type; an answer where some operation succeeded is not (its result must
// reach the caller).
func TestLegacyRefusalInReplies(t *testing.T) {
	legacy := MustParseVersion("1.6.0.2")
	refused := Result{Status: "error", ErrCode: 1017, ErrText: "This feature is not supported for protocol version 1.6.0.2."}
	ok := Result{Status: "ok", ID: 7}
	cases := []struct {
		name    string
		v       Version
		replies []Reply
		want    bool
	}{
		{"get", legacy, []Reply{&GetReply{Results: []GetResult{{Result: refused}}}}, true},
		{"ippool add and get", legacy, []Reply{&IPPoolReply{Results: []IPPoolResult{{Result: refused}}}, &GetReply{Results: []GetResult{{Result: refused}}}}, true},
		{"buttons", legacy, []Reply{&ButtonsReply{Results: []ButtonsResult{{Result: refused}}}}, true},
		{"descriptor", legacy, []Reply{&DescriptorReply{Results: []DescriptorResult{{Result: refused}}}}, true},
		{"set", legacy, []Reply{&ResultsReply{Results: []Result{refused}}}, true},
		{"add", legacy, []Reply{&AddReply{Result: refused}}, true},
		{"a write went through", legacy, []Reply{&ResultsReply{Results: []Result{ok}}, &GetReply{Results: []GetResult{{Result: refused}}}}, false},
		{"unrelated 1017", legacy, []Reply{&GetReply{Results: []GetResult{{Result: Result{Status: "error", ErrCode: 1017, ErrText: "not supported"}}}}}, false},
		{"modern packet", MustParseVersion("1.6.9.1"), []Reply{&GetReply{Results: []GetResult{{Result: Result{Status: "error", ErrCode: 1017, ErrText: "This feature is not supported for protocol version 1.6.9.1."}}}}}, false},
		{"all ok", legacy, []Reply{&GetReply{Results: []GetResult{{Result: ok}}}}, false},
		{"no results", legacy, []Reply{&GetReply{}}, false},
	}
	for _, c := range cases {
		perr, got := LegacyRefusalIn(c.v, c.replies)
		if got != c.want {
			t.Errorf("%s: LegacyRefusalIn = %v, want %v", c.name, got, c.want)
		}
		if got && (perr == nil || perr.Code != 1017) {
			t.Errorf("%s: refusal returned %+v", c.name, perr)
		}
	}
}

// TestLegacyRefusalInEveryReply: every operation's reply, read from a
// <result> carrying REC-3's 1017, is seen by LegacyRefusalIn — each reply
// type yields its results itself, so a reply added later cannot be missed
// (get-domain-list's was).
func TestLegacyRefusalInEveryReply(t *testing.T) {
	legacy := MustParseVersion("1.6.0.2")
	const refused = `<result><status>error</status><errcode>1017</errcode><errtext>This feature is not supported for protocol version 1.6.0.2.</errtext></result>`
	for _, op := range Operations() {
		r := op.newReply()
		d := xml.NewDecoder(strings.NewReader(refused))
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		se := tok.(xml.StartElement)
		if err := r.read(d, &se); err != nil {
			t.Fatalf("%s: reading a refused result: %v", op.Name(), err)
		}
		if perr, ok := LegacyRefusalIn(legacy, []Reply{r}); !ok || perr == nil || perr.Code != 1017 {
			t.Errorf("%s (%T): LegacyRefusalIn = %v, %v; want the 1017 refusal", op.Name(), r, perr, ok)
		}
	}
}
