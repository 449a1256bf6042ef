package translator

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// mdRequests: the request packets printed in PROTOCOL.md, with the version
// and values that must encode to them. Packets printed without a version are
// encoded at versionless (compared without the attribute).
var mdRequests = map[string]struct {
	version string
	reqs    []Request
}{
	"s7.1_add_modern.request.xml": {"1.6.7.0", []Request{&AddRequest{Client: NewClient{
		Company: ptr("LogicSoft Ltd."), Name: "Stephen Lowell", Login: "stevelow", Password: "Jhtr66fBB",
		Status: ptr(StatusActive), Phone: ptr("416 907 9944"), Fax: ptr("928 752 3905"), Email: ptr("host@logicsoft.net"),
		Address: ptr("105 Brisbane Road, Unit 2"), City: ptr("Toronto"), State: ptr(""), PostalCode: ptr(""), Country: ptr("CA"),
	}}}},
	"s7.1_add_legacy.request.xml": {"1.4.1.0", []Request{&AddRequest{Client: NewClient{
		Company: ptr("Acme"), Name: "John Doe 17", Login: "jdoe", Password: "secret1", Status: ptr(StatusActive),
		Phone: ptr("555"), Fax: ptr(""), Email: ptr("j@example.com"), Address: ptr("1 Main"), City: ptr("X"),
		State: ptr("CA"), PostalCode: ptr("90000"), Country: ptr("US"), TemplateName: ptr("Default"),
	}}}},
	"s7.2_get_modern.request.xml":               {"1.6.7.0", []Request{&GetRequest{Filter: ByID(3), GenInfo: true, Stat: true}}},
	"s7.2_get_legacy.request.xml":               {"1.6.0.0", []Request{&GetRequest{Filter: ByLogin("jdoe"), GenInfo: true, Permissions: true, Limits: true, IPPool: true}}},
	"s4.2_get_legacy_login.request.wrapped.xml": {"1.5.0.0", []Request{&GetRequest{Filter: ByLogin("nrg"), GenInfo: true}}},
	"s4.2_del_legacy_all.request.wrapped.xml":   {"1.5.0.0", []Request{&DelRequest{}}},
	"s7.3_del.request.xml":                      {"1.6.9.1", []Request{&DelRequest{Filter: ByID(124, 125, 127)}}},
	"s7.4_set_modern.request.xml":               {"1.6.9.1", []Request{&SetRequest{Filter: ByID(3), Client: &ClientUpdate{Name: ptr("Mike Black"), Email: ptr("mike@black.com")}}}},
	"s7.4_set_legacy_s9.request.xml": {"1.5.2.0", []Request{&SetRequest{Filter: ByLogin("jdoe"),
		Limits: &Limits{Values: []Limit{{"disk_space", 1048576000}, {"max_dom", 5}}}}}},
	"s6.2_limits_1.5.0.0.request.wrapped.xml": {"1.5.0.0", []Request{&SetRequest{Filter: ByLogin("jdoe"), Limits: &Limits{Values: []Limit{
		{"disk_space", 209715200}, {"mysql_dbase_space", 52428800}, {"max_db", 50}, {"max_traffic", 52428800}, {"max_dom", 100},
		{"max_dom_aliases", 5}, {"max_subdom", 400}, {"total_mboxes_quota", 1000}, {"expiration", 63072000}}}}}},
	"s7.5_ippool_add.request.xml":       {"1.4.2.0", []Request{&IPPoolAddRequest{ClientID: 42, IPs: []string{"192.0.2.10"}}}},
	"s7.7_buttons.request.xml":          {"1.6.0.0", []Request{&ButtonsListRequest{Filter: ByID(42)}}},
	"s7.8_limit_descriptor.request.xml": {"1.5.0.0", []Request{&LimitDescriptorRequest{}}},
	"s7.10_convert.request.xml":         {"1.6.9.1", []Request{&ConvertToResellerRequest{Filter: ByLogin("JDoe")}}},
	"s7.11_change_owner.request.xml": {"1.6.9.1", []Request{&ChangeOwnerRequest{Filter: ByLogin("customer1"), NewOwnerLogin: "admin",
		IPv4: []string{"10.52.47.125"}, PlanName: ptr("Admin Simple")}}},
}

func TestProtocolMDRequests(t *testing.T) {
	for name, c := range mdRequests {
		t.Run(name, func(t *testing.T) {
			doc := readFile(t, filepath.Join("testdata", "protocol_md", name))
			docVersion, _ := packetInfo(t, doc)
			if docVersion != "" && docVersion != c.version {
				t.Fatalf("case version %s, document %s", c.version, docVersion)
			}
			got, err := EncodeRequest(MustParseVersion(c.version), c.reqs...)
			if err != nil {
				t.Fatal(err)
			}
			drop := docVersion == ""
			if g, w := canonicalXML(t, got, drop), canonicalXML(t, doc, drop); g != w {
				t.Errorf("encoding differs from PROTOCOL.md:\n got: %s\nwant: %s", g, w)
			}
		})
	}
}

func TestProtocolMDResponses(t *testing.T) {
	type check func(t *testing.T, r []Reply, err error)
	sys := func(code int, sentinel error) check {
		return func(t *testing.T, r []Reply, err error) {
			var pe *Error
			if !errors.As(err, &pe) || !pe.System || pe.Code != code || !errors.Is(err, sentinel) || r != nil {
				t.Errorf("want system error %d, got %v %v", code, r, err)
			}
		}
	}
	results := func(want ...Result) check {
		return func(t *testing.T, r []Reply, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if got := r[0].(*ResultsReply).Results; !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		}
	}
	okRes := func(fid string, id int) Result { return Result{Status: "ok", FilterID: fid, HasFilterID: true, ID: id} }
	cases := map[string]struct {
		version string
		reqs    []Request
		check   check
	}{
		"s1.3_system_1005.response.xml": {"1.6.9.1", []Request{&GetRequest{}}, sys(1005, ErrVersion)},
		"s1.3_system_1029.response.xml": {"1.6.9.1", []Request{&GetRequest{}}, sys(1029, ErrAuthentication)},
		"s7.1_add_modern.response.xml": {"1.6.7.0", []Request{&AddRequest{}}, func(t *testing.T, r []Reply, err error) {
			want := &AddReply{Result: Result{Status: "ok", ID: 3}, GUID: "d7914f79-d089-4db1-b506-4fac617ebd60"}
			if err != nil || !reflect.DeepEqual(r[0], want) {
				t.Errorf("got %+v %v", r, err)
			}
		}},
		"s7.1_add_error_1007.response.xml": {"1.6.9.1", []Request{&AddRequest{}}, func(t *testing.T, r []Reply, err error) {
			a := r[0].(*AddReply)
			if e := a.Result.Err(); !errors.Is(e, ErrExists) || e.(*Error).Text != "User account stevelow already exists." || e.(*Error).System {
				t.Errorf("got %+v", a)
			}
		}},
		"s7.1_add_legacy.response.wrapped.xml": {"1.4.1.0", []Request{&AddRequest{}}, func(t *testing.T, r []Reply, err error) {
			if a := r[0].(*AddReply); a.Result.ID != 42 || !a.Result.OK() {
				t.Errorf("got %+v", a)
			}
		}},
		"s7.2_get_modern.response.xml": {"1.6.7.0", []Request{&GetRequest{}}, func(t *testing.T, r []Reply, err error) {
			g := r[0].(*GetReply).Results[0]
			want := &ClientInfo{CreatedDate: "2015-12-02", Company: "LogicSoft Ltd.", Name: "Stephen Lowell", Login: "stevelow",
				Phone: "416 907 9944", Fax: "928 752 3905", Email: "host@logicsoft.net", Address: "105 Brisbane Road, Unit 2",
				City: "Toronto", Country: "CA", Locale: "en-US", GUID: "d7914f79-d089-4db1-b506-4fac617ebd60",
				OwnerLogin: "admin", VendorGUID: "…admin-guid…"}
			if g.Result != okRes("3", 3) || !reflect.DeepEqual(g.Client, want) || !reflect.DeepEqual(g.Stat, &Stat{}) {
				t.Errorf("got %+v\n%+v\n%+v", g.Result, g.Client, g.Stat)
			}
		}},
		"s7.2_get_error_1013.response.wrapped.xml": {"1.6.9.1", []Request{&GetRequest{}}, func(t *testing.T, r []Reply, err error) {
			g := r[0].(*GetReply).Results[0]
			if !errors.Is(g.Result.Err(), ErrNotFound) || g.Result.FilterID != "nosuchuser" || g.Client != nil {
				t.Errorf("got %+v", g)
			}
		}},
		"s7.2_get_legacy.response.xml": {"1.6.0.0", []Request{&GetRequest{}}, func(t *testing.T, r []Reply, err error) {
			g := r[0].(*GetReply).Results[0]
			if g.Result != okRes("jdoe", 42) ||
				!reflect.DeepEqual(g.Permissions, []Permission{{"create_domains", true}}) ||
				!reflect.DeepEqual(g.Limits, &Limits{Values: []Limit{{"max_dom", 10}}}) ||
				!reflect.DeepEqual(g.IPPool, []PoolIP{{"192.0.2.10", "shared"}}) {
				t.Errorf("got %+v", g)
			}
		}},
		"s7.3_del.response.xml": {"1.6.9.1", []Request{&DelRequest{}}, results(okRes("124", 124), okRes("125", 125),
			Result{Status: "error", ErrCode: 1013, ErrText: "Object not found.", FilterID: "127", HasFilterID: true})},
		"s2_result_1013.response.wrapped.xml": {"1.6.9.1", []Request{&DelRequest{}}, results(
			Result{Status: "error", ErrCode: 1013, ErrText: "Object not found.", ID: 1234})},
		"s7.4_set_modern.response.xml": {"1.6.9.1", []Request{&SetRequest{}}, results(okRes("3", 3))},
		"s7.5_ippool_add.response.wrapped.xml": {"1.4.2.0", []Request{&IPPoolAddRequest{}}, func(t *testing.T, r []Reply, err error) {
			if got := r[0].(*IPPoolReply).Results; !reflect.DeepEqual(got, []IPPoolResult{{Result: Result{Status: "ok"}, IP: "192.0.2.10"}}) {
				t.Errorf("got %+v", got)
			}
		}},
		"s7.5_ippool_add_error_1018.response.wrapped.xml": {"1.4.2.0", []Request{&IPPoolAddRequest{}}, func(t *testing.T, r []Reply, err error) {
			got := r[0].(*IPPoolReply).Results[0]
			if !errors.Is(got.Result.Err(), ErrIPNotFound) || got.IP != "192.0.2.99" {
				t.Errorf("got %+v", got)
			}
		}},
		"s7.7_buttons.response.wrapped.xml": {"1.6.0.0", []Request{&ButtonsListRequest{}}, func(t *testing.T, r []Reply, err error) {
			got := r[0].(*ButtonsReply).Results[0]
			want := []Button{{Code: "NEW_DOMAIN_BUTTON", Type: "link_button", Name: "Add New Domain", NameID: "button__new_domain",
				GroupName: "Domains", GroupNameID: "grp__domains", Href: "/domains/create.php?cl_id=42", Enabled: true}}
			if got.Result != okRes("42", 42) || !reflect.DeepEqual(got.Buttons, want) {
				t.Errorf("got %+v", got)
			}
		}},
		"s7.8_limit_descriptor.response.xml": {"1.6.0.0", []Request{&LimitDescriptorRequest{}}, func(t *testing.T, r []Reply, err error) {
			got := r[0].(*DescriptorReply).Results[0]
			want := &Descriptor{Properties: []Property{
				{Name: "max_dom", Type: "int", WritableBy: []string{"admin"}, Label: "limit__max_dom", Shared: ptr(false)},
				{Name: "disk_space", Type: "int", WritableBy: []string{"admin"}, Label: "limit__disk_space", Shared: ptr(false)},
			}}
			if got.Result != okRes("jdoe", 42) || !reflect.DeepEqual(got.Descriptor, want) {
				t.Errorf("got %+v %+v", got.Result, got.Descriptor)
			}
		}},
		"s7.9_permission_descriptor.response.wrapped.xml": {"1.5.0.0", []Request{&PermissionDescriptorRequest{}}, func(t *testing.T, r []Reply, err error) {
			got := r[0].(*DescriptorReply).Results[0]
			want := &Descriptor{Properties: []Property{{Name: "manage_virusfilter", Type: "boolean", DefaultValue: ptr("false"),
				WritableBy: []string{"admin"}, Label: "cl_perm__manage_virusfilter", Levels: []string{"client", "domain", "mail"}}}}
			if got.Result.HasFilterID || got.Result.ID != 0 || !reflect.DeepEqual(got.Descriptor, want) {
				t.Errorf("got %+v %+v", got.Result, got.Descriptor)
			}
		}},
		"s6.5_limit_property_max_subdom.response.wrapped.xml": {"1.5.0.0", []Request{&LimitDescriptorRequest{}}, func(t *testing.T, r []Reply, err error) {
			p := r[0].(*DescriptorReply).Results[0].Descriptor.Properties[0]
			if p.Name != "max_subdom" || p.Shared == nil || *p.Shared || p.Label != "limit__max_subdom" {
				t.Errorf("got %+v", p)
			}
		}},
		"s7.10_convert.response.xml":      {"1.6.7.0", []Request{&ConvertToResellerRequest{}}, results(okRes("JDoe", 192))},
		"s7.11_change_owner.response.xml": {"1.6.7.0", []Request{&ChangeOwnerRequest{}}, results(okRes("customer1", 5))},
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "protocol_md", "*.xml"))
	for _, f := range files {
		name := filepath.Base(f)
		if strings.Contains(name, ".request.") {
			if _, ok := mdRequests[name]; !ok {
				t.Errorf("%s: no request case", name)
			}
			continue
		}
		c, ok := cases[name]
		if !ok {
			t.Errorf("%s: no response case", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			r, err := DecodeResponse(MustParseVersion(c.version), readFile(t, f), c.reqs...)
			if err != nil && !errors.As(err, new(*Error)) {
				t.Fatalf("decode: %v", err)
			}
			c.check(t, r, err)
		})
	}
	if len(files) != len(cases)+len(mdRequests) {
		t.Errorf("%d files, %d cases", len(files), len(cases)+len(mdRequests))
	}
}
