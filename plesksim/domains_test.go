package plesksim

import (
	"reflect"
	"strings"
	"testing"
)

// domainList posts a customer/get-domain-list packet at v with filter
// content f and returns the parsed answer (not schema-validated: the
// saved schema predates get-domain-list; translator's TestDomainListSchema
// checks the shape).
func domainList(t *testing.T, s *Server, c creds, v, f string) *node {
	t.Helper()
	code, out := post(t, s, c, `<packet version="`+v+`"><customer><get-domain-list><filter>`+f+`</filter></get-domain-list></customer></packet>`)
	if code != 200 {
		t.Fatalf("HTTP %d: %s", code, out)
	}
	root, err := parseTree([]byte(out))
	if err != nil {
		t.Fatalf("answer is not XML: %v\n%s", err, out)
	}
	return root
}

type wireDomain struct{ ID, Name, ASCII, Type, Main, ExternalID, Parent string }

func domainsOf(t *testing.T, r *node) []wireDomain {
	t.Helper()
	var out []wireDomain
	for _, d := range find(r, "domains/domain") {
		if len(texts(d, "guid")) != 1 || text1(t, d, "guid") == "" {
			t.Errorf("domain %v without a guid", texts(d, "name"))
		}
		wd := wireDomain{ID: text1(t, d, "id"), Name: text1(t, d, "name"), ASCII: text1(t, d, "ascii-name"),
			Type: text1(t, d, "type"), Main: text1(t, d, "main"), ExternalID: text1(t, d, "external-id")}
		if p := texts(d, "parent-id"); len(p) == 1 {
			wd.Parent = p[0]
		}
		if names := names(d.children); !reflect.DeepEqual(names[:7], []string{"id", "name", "ascii-name", "type", "main", "guid", "external-id"}) {
			t.Errorf("domain elements in order %v", names)
		}
		out = append(out, wd)
	}
	return out
}

// TestDomainListDemo: the demo clients own a main domain, an alias and a
// subdomain (and more); get-domain-list answers them in §7.12's 1.6.8.0+
// shape, one result per filter value, 1013 for a value that matches none.
func TestDomainListDemo(t *testing.T) {
	s := newSim(t, WithDemo(Config{}))
	root := domainList(t, s, asAdmin, "1.6.9.1", `<id>3</id><id>5</id><id>999</id>`)
	rs := results(root, "customer", "get-domain-list")
	if len(rs) != 3 {
		t.Fatalf("%d results, want 3", len(rs))
	}
	wantOK(t, rs[0])
	if text1(t, rs[0], "filter-id") != "3" || text1(t, rs[0], "id") != "3" {
		t.Errorf("result head: filter-id %v id %v", texts(rs[0], "filter-id"), texts(rs[0], "id"))
	}
	want := []wireDomain{
		{"1", "jdoe.example", "jdoe.example", "domain", "true", "", ""},
		{"2", "www-jdoe.example", "www-jdoe.example", "alias", "false", "", "1"},
		{"3", "blog.jdoe.example", "blog.jdoe.example", "subdomain", "false", "", "1"},
		{"4", "johndoe.example", "johndoe.example", "domain", "false", "", ""},
	}
	if got := domainsOf(t, rs[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("jdoe's domains:\n got %+v\nwant %+v", got, want)
	}
	wantOK(t, rs[1]) // bmuller: no domains
	if d := find(rs[1], "domains"); len(d) != 1 || len(d[0].children) != 0 {
		t.Errorf("a client without domains: %v", names(rs[1].children))
	}
	wantErr(t, rs[2], "1013")
	// An IDN subdomain: its ASCII name is the IDNA form.
	root = domainList(t, s, asAdmin, "1.6.9.1", `<login>asmith</login>`)
	got := domainsOf(t, results(root, "customer", "get-domain-list")[0])
	if len(got) != 2 || got[1].Name != "bücher.smith-sons.example" || got[1].ASCII != "xn--bcher-kva.smith-sons.example" || got[1].Parent != got[0].ID {
		t.Errorf("asmith's domains: %+v", got)
	}
	if d := s.ClientDomains("jdoe"); len(d) != 4 || !d[0].Main || d[1].ParentID != d[0].ID {
		t.Errorf("ClientDomains(jdoe) = %+v", d)
	}
}

// TestDomainListVersions: the operation is in the customer schema from
// 1.6.7.0; below, it is an element the schema does not expect (1014), as
// every operation a version lacks; the legacy client operator never has it.
func TestDomainListVersions(t *testing.T) {
	s := newSim(t, WithDemo(Config{}))
	for _, v := range []string{"1.6.7.0", "1.6.8.0", "1.6.9.0", "1.6.9.1"} {
		root := domainList(t, s, asAdmin, v, `<id>3</id>`)
		rs := results(root, "customer", "get-domain-list")
		if len(rs) != 1 {
			t.Fatalf("%s: %d results", v, len(rs))
		}
		wantOK(t, rs[0])
		if len(find(rs[0], "domains/domain")) != 4 {
			t.Errorf("%s: %d domains", v, len(find(rs[0], "domains/domain")))
		}
	}
	for _, v := range []string{"1.6.3.0", "1.6.6.0"} {
		wantSystem(t, domainList(t, s, asAdmin, v, `<id>3</id>`), "1014", "Element 'get-domain-list': This element is not expected.")
	}
	_, out := post(t, s, asAdmin, `<packet version="1.6.0.0"><client><get-domain-list><filter><id>3</id></filter></get-domain-list></client></packet>`)
	root, err := parseTree([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	wantSystem(t, root, "1014", "Element 'get-domain-list': This element is not expected.")
	if n := s.Stats().Operations["customer/get-domain-list"]; n != 4 {
		t.Errorf("%d get-domain-list executed, want 4", n)
	}
}

// TestDomainListReseller: a reseller sees only its own clients' domains;
// asking for the administrator's client is the not-found a get gets
// (1013), and a blank filter lists only its clients. A client may not call
// the operator at all (1006).
func TestDomainListReseller(t *testing.T) {
	s := newSim(t, WithDemo(Config{}))
	r := as(DemoResellerLogin, defaultAdminPassword+DemoResellerSuffix)
	rs := results(domainList(t, s, r, "1.6.9.1", `<login>jdoe</login><login>rclient1</login>`), "customer", "get-domain-list")
	if len(rs) != 2 {
		t.Fatalf("%d results", len(rs))
	}
	wantErr(t, rs[0], "1013")
	if len(find(rs[0], "domains")) != 0 {
		t.Error("the administrator's client's domains shown to a reseller")
	}
	wantOK(t, rs[1])
	if got := domainsOf(t, rs[1]); len(got) != 2 || got[0].Name != "reseller-co.example" || got[1].Type != "alias" {
		t.Errorf("rclient1's domains: %+v", got)
	}
	// The same filter value answered as get answers it.
	g := results(call(t, s, r, `<packet version="1.6.9.1"><customer><get><filter><login>jdoe</login></filter><dataset/></get></customer></packet>`), "customer", "get")
	if text1(t, g[0], "errcode") != text1(t, rs[0], "errcode") || text1(t, g[0], "errtext") != text1(t, rs[0], "errtext") {
		t.Errorf("get answers %v %v, get-domain-list %v %v", texts(g[0], "errcode"), texts(g[0], "errtext"), texts(rs[0], "errcode"), texts(rs[0], "errtext"))
	}
	blank := results(domainList(t, s, r, "1.6.9.1", ``), "customer", "get-domain-list")
	var ids []string
	for _, b := range blank {
		ids = append(ids, text1(t, b, "id"))
	}
	if strings.Join(ids, ",") != "6,7" {
		t.Errorf("a reseller's blank filter answers clients %v, want its own 6,7", ids)
	}
	wantErr(t, results(domainList(t, s, as("jdoe", DemoClientPassword), "1.6.9.1", `<id>3</id>`), "customer", "get-domain-list")[0], "1006")
}

// TestConfigDomains: Config.Domains (plesksim --domain) gives a client its
// own domains; a spec that cannot be is an error from New, not a silent
// skip. A deleted client's domains go with it.
func TestConfigDomains(t *testing.T) {
	cfg := WithDemo(Config{})
	cfg.Domains = []DomainSpec{{Client: "bmuller", Name: "müller.example"}, {Client: "bmuller", Name: "shop.müller.example", Type: DomainTypeSubdomain},
		{Client: "bmuller", Name: "mueller.example", Type: DomainTypeAlias}}
	s := newSim(t, cfg)
	got := domainsOf(t, results(domainList(t, s, asAdmin, "1.6.9.1", `<login>bmuller</login>`), "customer", "get-domain-list")[0])
	want := []wireDomain{
		{"9", "müller.example", "xn--mller-kva.example", "domain", "true", "", ""},
		{"10", "shop.müller.example", "shop.xn--mller-kva.example", "subdomain", "false", "", "9"},
		{"11", "mueller.example", "mueller.example", "alias", "false", "", "9"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bmuller's domains:\n got %+v\nwant %+v", got, want)
	}
	for name, specs := range map[string][]DomainSpec{
		"no such client":         {{Client: "nobody", Name: "a.example"}},
		"taken name":             {{Client: "bmuller", Name: "jdoe.example"}},
		"alias without main":     {{Client: "bmuller", Name: "a.example", Type: DomainTypeAlias}},
		"subdomain of no domain": {{Client: "bmuller", Name: "www.jdoe.example", Type: DomainTypeSubdomain}},
		"not a domain name":      {{Client: "bmuller", Name: "a..example"}},
	} {
		cfg := WithDemo(Config{})
		cfg.Domains = specs
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, specs)
		}
	}
	admin(t, s, `<packet version="1.6.9.1"><customer><del><filter><login>bmuller</login></filter></del></customer></packet>`)
	if d := s.ClientDomains("bmuller"); d != nil {
		t.Errorf("a deleted client's domains: %+v", d)
	}
}

func TestParseDomainSpec(t *testing.T) {
	for in, want := range map[string]DomainSpec{
		"jdoe:a.example":             {Client: "jdoe", Name: "a.example"},
		"jdoe:a.example:alias":       {Client: "jdoe", Name: "a.example", Type: "alias"},
		"jdoe:b.a.example:subdomain": {Client: "jdoe", Name: "b.a.example", Type: "subdomain"},
	} {
		if got, err := ParseDomainSpec(in); err != nil || got != want {
			t.Errorf("ParseDomainSpec(%q) = %+v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "jdoe", ":a.example", "jdoe:", "jdoe:a.example:site", "jdoe:a:b:c"} {
		if _, err := ParseDomainSpec(in); err == nil {
			t.Errorf("ParseDomainSpec(%q) accepted", in)
		}
	}
}

// TestDemoDomains: every demo domain is created (the seed ignores
// addDomains' error, so an inconsistent DemoDomains would be a silent skip).
func TestDemoDomains(t *testing.T) {
	s := newSim(t, WithDemo(Config{}))
	n := 0
	for _, c := range DemoSeed {
		n += len(s.ClientDomains(c.Login))
	}
	if n != len(DemoDomains) {
		t.Errorf("%d demo domains created, want %d", n, len(DemoDomains))
	}
	types := map[string]bool{}
	for _, d := range s.ClientDomains("jdoe") {
		types[d.Type] = true
	}
	if !types[DomainTypeDomain] || !types[DomainTypeAlias] || !types[DomainTypeSubdomain] {
		t.Errorf("jdoe's domain types %v: want a main domain, an alias and a subdomain", types)
	}
}
