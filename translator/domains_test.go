package translator

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
)

// TestDomainListDecode reads the get-domain-list answer of §7.12's 1.6.8.0+
// shape by hand: a main domain, an alias and a subdomain; a customer with
// no domains; a filter value that matched nobody.
func TestDomainListDecode(t *testing.T) {
	f := filepath.Join("testdata", "responses", "domain_list.v1.6.9.1.xml")
	replies, err := DecodeResponse(v1691, readFile(t, f), &DomainListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ReplyAs[*DomainListReply](replies[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 3 {
		t.Fatalf("%d results, want 3", len(rep.Results))
	}
	want := []Domain{
		{ID: 11, Name: "bücher.example", ASCIIName: "xn--bcher-kva.example", Type: "domain", Main: true,
			GUID: "5d0e1b2a-0000-4000-8000-000000000011", ExternalID: "shop-11"},
		{ID: 12, Name: "books.example", ASCIIName: "books.example", Type: "alias",
			GUID: "5d0e1b2a-0000-4000-8000-000000000012", ParentID: ptr(11)},
		{ID: 13, Name: "blog.bücher.example", ASCIIName: "blog.xn--bcher-kva.example", Type: "subdomain",
			GUID: "5d0e1b2a-0000-4000-8000-000000000013", ParentID: ptr(11)},
	}
	if got := rep.Results[0]; got.Result != (Result{Status: "ok", FilterID: "3", HasFilterID: true, ID: 3}) || !reflect.DeepEqual(got.Domains, want) {
		t.Errorf("result 0:\n got %+v %+v\nwant %+v", got.Result, got.Domains, want)
	}
	if got := rep.Results[1]; !got.Result.OK() || got.Result.ID != 4 || got.Domains == nil || len(got.Domains) != 0 {
		t.Errorf("a customer without domains: %+v", got)
	}
	if got := rep.Results[2]; !errors.Is(got.Result.Err(), ErrNotFound) || got.Result.FilterID != "99" || len(got.Domains) != 0 {
		t.Errorf("an unknown customer: %+v", got)
	}
}

// TestDomainListDecodeRefusesBadDomains: a domain whose required id or
// main is not what the schema says is a malformed answer, never a domain
// with a made-up value.
func TestDomainListDecodeRefusesBadDomains(t *testing.T) {
	const head = `<packet version="1.6.9.1"><customer><get-domain-list><result><status>ok</status><id>3</id><domains><domain>`
	const tail = `</domain></domains></result></get-domain-list></customer></packet>`
	for name, dom := range map[string]string{
		"no id":          `<name>a.example</name><ascii-name>a.example</ascii-name><type>domain</type><main>true</main><guid>g</guid><external-id/>`,
		"id zero":        `<id>0</id><name>a.example</name><ascii-name>a.example</ascii-name><type>domain</type><main>true</main><guid>g</guid><external-id/>`,
		"main not bool":  `<id>1</id><name>a.example</name><ascii-name>a.example</ascii-name><type>domain</type><main>yes</main><guid>g</guid><external-id/>`,
		"parent not int": `<id>1</id><name>a.example</name><ascii-name>a.example</ascii-name><type>domain</type><main>true</main><guid>g</guid><external-id/><parent-id>x</parent-id>`,
	} {
		replies, err := DecodeResponse(v1691, []byte(head+dom+tail), &DomainListRequest{})
		if !errors.Is(err, ErrMalformed) || replies != nil {
			t.Errorf("%s: DecodeResponse = %v, %v; want a malformed answer", name, replies, err)
		}
	}
	// The answer of another operation is not a domain list.
	if _, err := DecodeResponse(v1691, []byte(`<packet><customer><get><result><status>ok</status><id>3</id></result></get></customer></packet>`), &DomainListRequest{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("a get answer read as get-domain-list: %v", err)
	}
}

// TestDomainListDecodeIgnoresDomainID: domain-id, which the gateway never
// returns, is not read, so an odd value from a real panel cannot make the
// whole listing a malformed answer.
func TestDomainListDecodeIgnoresDomainID(t *testing.T) {
	const packet = `<packet version="1.6.9.1"><customer><get-domain-list><result><status>ok</status><id>3</id><domains><domain>` +
		`<id>1</id><name>a.example</name><ascii-name>a.example</ascii-name><type>alias</type><main>false</main><guid>g</guid><external-id/><parent-id>2</parent-id><domain-id>none</domain-id>` +
		`</domain></domains></result></get-domain-list></customer></packet>`
	replies, err := DecodeResponse(v1691, []byte(packet), &DomainListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ReplyAs[*DomainListReply](replies[0])
	if err != nil || len(rep.Results) != 1 || len(rep.Results[0].Domains) != 1 || rep.Results[0].Domains[0].ID != 1 || *rep.Results[0].Domains[0].ParentID != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
}
