package translator

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

var v1691t = MustParseVersion("1.6.9.1")

// Every legacy-only operation is refused at 1.6.9.1 with an UnsupportedError
// naming it, and no packet.
func TestUnsupportedLegacyOpsModern(t *testing.T) {
	for _, c := range []struct {
		req Request
		op  Operation
	}{
		{&GetRequest{Limits: true}, OpGetLimits},
		{&GetRequest{GenInfo: true, Permissions: true}, OpGetPermissions},
		{&GetRequest{IPPool: true}, OpGetIPPool},
		{&SetRequest{Limits: &Limits{}}, OpSetLimits},
		{&SetRequest{Permissions: []Permission{{"x", true}}}, OpSetPermissions},
		{&SetRequest{Client: &ClientUpdate{Name: ptr("n")}, Permissions: []Permission{{"x", true}}}, OpSetPermissions},
		{&IPPoolAddRequest{ClientID: 1, IPs: []string{"192.0.2.1"}}, OpIPPoolAddIP},
		{&IPPoolDelRequest{ClientID: 1, IPs: []string{"192.0.2.1"}}, OpIPPoolDelIP},
		{&ButtonsListRequest{}, OpButtonsList},
		{&LimitDescriptorRequest{}, OpGetLimitDescriptor},
		{&PermissionDescriptorRequest{}, OpGetPermissionDescriptor},
	} {
		b, err := EncodeRequest(v1691t, &DelRequest{}, c.req)
		var ue *UnsupportedError
		if !errors.As(err, &ue) || ue.Operation != c.op || ue.Version != v1691t || b != nil {
			t.Errorf("%T: got %v %s", c.req, err, b)
			continue
		}
		if !strings.HasSuffix(err.Error(), "unsupported by protocol 1.6.9.1") || !errors.Is(err, ErrUnsupported) {
			t.Errorf("error text %q", err)
		}
	}
	// Older versions lacking newer operations.
	for _, c := range []struct {
		v   string
		req Request
	}{
		{"1.5.2.0", &ConvertToResellerRequest{}},
		{"1.5.2.0", &ChangeOwnerRequest{NewOwnerLogin: "admin"}},
		{"1.4.2.0", &LimitDescriptorRequest{}},
		{"1.4.2.0", &PermissionDescriptorRequest{}},
	} {
		if _, err := EncodeRequest(MustParseVersion(c.v), c.req); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s %T: %v", c.v, c.req, err)
		}
	}
}

func TestUnsupportedFields(t *testing.T) {
	nc := func(mod func(*NewClient)) Request {
		c := NewClient{Name: "n", Login: "l", Password: "secret1"}
		mod(&c)
		return &AddRequest{Client: c}
	}
	for _, c := range []struct {
		v       string
		req     Request
		feature string
	}{
		{"1.5.2.0", nc(func(c *NewClient) { c.OwnerID = ptr(1) }), "field owner-id"},
		{"1.5.2.0", nc(func(c *NewClient) { c.OwnerLogin = ptr("a") }), "field owner-login"},
		{"1.6.3.0", nc(func(c *NewClient) { c.OwnerExternalID = ptr("a") }), "field owner-external-id"},
		{"1.6.0.0", nc(func(c *NewClient) { c.ExternalID = ptr("a") }), "field external-id"},
		{"1.6.5.0", nc(func(c *NewClient) { c.Description = ptr("a") }), "field description"},
		{"1.6.3.0", nc(func(c *NewClient) { c.TemplateName = ptr("a") }), "field template-name"},
		{"1.6.9.1", nc(func(c *NewClient) { c.TemplateID = ptr(1) }), "field template-id"},
		{"1.3.5.0", nc(func(c *NewClient) { c.TemplateName = ptr("a") }), "field template-name"},
		{"1.6.0.0", &SetRequest{Client: &ClientUpdate{RegenerateGUID: true}}, "field guid"},
		{"1.6.0.0", &SetRequest{Client: &ClientUpdate{ExternalID: ptr("e")}}, "field external-id"},
		{"1.6.3.0", &SetRequest{Client: &ClientUpdate{Description: ptr("d")}}, "field description"},
		{"1.4.2.0", &SetRequest{Limits: &Limits{Overuse: "block"}}, "limits overuse policy"},
		{"1.6.0.0", &ConvertToResellerRequest{ResellerPlanName: ptr("p")}, "field reseller-plan-name"},
		{"1.6.0.0", &ChangeOwnerRequest{NewOwnerLogin: "a", IPv4: []string{"10.0.0.1"}}, "field ipV4-address"},
		{"1.6.0.0", &ChangeOwnerRequest{NewOwnerLogin: "a", IPv6: []string{"::1"}}, "field ipV6-address"},
		{"1.6.0.0", &ChangeOwnerRequest{NewOwnerLogin: "a", PlanName: ptr("p")}, "field plan-name"},
	} {
		b, err := EncodeRequest(MustParseVersion(c.v), c.req)
		var ue *UnsupportedError
		if !errors.As(err, &ue) || ue.Feature != c.feature || b != nil {
			t.Errorf("%s %T: got %v, want feature %q", c.v, c.req, err, c.feature)
		}
	}
}

func TestInvalidInput(t *testing.T) {
	nc := func(mod func(*NewClient)) Request {
		c := NewClient{Name: "n", Login: "l", Password: "secret1"}
		mod(&c)
		return &AddRequest{Client: c}
	}
	for i, c := range []struct {
		v   string
		req Request
	}{
		{"1.6.9.1", nc(func(c *NewClient) { c.Login = "" })},
		{"1.6.9.1", nc(func(c *NewClient) { c.Name = "  " })},
		{"1.6.9.1", nc(func(c *NewClient) { c.Password = "" })},
		{"1.6.9.1", nc(func(c *NewClient) { c.OwnerID, c.OwnerLogin = ptr(1), ptr("a") })},
		{"1.6.9.1", nc(func(c *NewClient) { c.OwnerLogin, c.OwnerExternalID = ptr("a"), ptr("b") })},
		{"1.6.9.1", nc(func(c *NewClient) { c.OwnerID = ptr(0) })},
		{"1.5.2.0", nc(func(c *NewClient) { c.TemplateName, c.TemplateID = ptr("a"), ptr(1) })},
		{"1.5.2.0", nc(func(c *NewClient) { c.TemplateID = ptr(-1) })},
		{"1.6.9.1", nc(func(c *NewClient) { c.Company = ptr("bell\x07") })},
		{"1.6.9.1", nc(func(c *NewClient) { c.Description = ptr("nul\x00") })},
		{"1.6.9.1", nc(func(c *NewClient) { c.City = ptr("bad\xffutf8") })},
		{"1.6.9.1", nc(func(c *NewClient) { c.Login = "\uFFFE" })},
		{"1.6.9.1", &SetRequest{Filter: ByID(1)}},
		{"1.6.9.1", &SetRequest{Filter: ByID(1), Client: &ClientUpdate{Login: ptr("")}}},
		{"1.6.9.1", &SetRequest{Filter: ByID(1), Client: &ClientUpdate{Email: ptr("\x1b[0m")}}},
		{"1.4.2.0", &SetRequest{Limits: &Limits{Values: []Limit{{"not a name", 1}}}}},
		{"1.4.2.0", &SetRequest{Limits: &Limits{Values: []Limit{{"1abc", 1}}}}},
		{"1.4.2.0", &SetRequest{Limits: &Limits{Values: []Limit{{"a:b", 1}}}}},
		{"1.4.2.0", &SetRequest{Limits: &Limits{Values: []Limit{{"limit", 1}}}}},
		{"1.4.2.0", &SetRequest{Permissions: []Permission{{"<x>", true}}}},
		{"1.5.2.0", &SetRequest{Limits: &Limits{Values: []Limit{{"", 1}}}}},
		{"1.5.2.0", &SetRequest{Limits: &Limits{Overuse: "explode"}}},
		{"1.4.2.0", &IPPoolAddRequest{ClientID: 0, IPs: []string{"192.0.2.1"}}},
		{"1.4.2.0", &IPPoolAddRequest{ClientID: 1}},
		{"1.4.2.0", &IPPoolDelRequest{ClientID: 1, IPs: []string{""}}},
		{"1.6.9.1", &ChangeOwnerRequest{}},
		{"1.6.9.1", &ChangeOwnerRequest{NewOwnerLogin: "a", IPv4: []string{""}}},
		{"1.6.9.1", &ConvertToResellerRequest{ResellerPlanName: ptr("")}},
	} {
		b, err := EncodeRequest(MustParseVersion(c.v), c.req)
		if !errors.Is(err, ErrInvalidInput) || b != nil {
			t.Errorf("case %d (%s %T): got %v", i, c.v, c.req, err)
		}
	}
	if _, err := EncodeRequest(v1691t); !errors.Is(err, ErrInvalidInput) {
		t.Error("no requests")
	}
	if _, err := EncodeRequest(Version{}, &DelRequest{}); !errors.Is(err, ErrInvalidInput) {
		t.Error("zero version")
	}
	if _, err := EncodeRequest(v1691t, nil); !errors.Is(err, ErrInvalidInput) {
		t.Error("nil request")
	}
}

// Values with XML metacharacters and non-ASCII survive encoding exactly.
func TestEscapingRoundTrip(t *testing.T) {
	nasty := []string{
		`<tag attr="v">&amp; & ' "`, "]]>", "<![CDATA[x]]>", "Jöhn Dœ 日本 🙂", "tab\there\nnew\r\nline",
		"  leading and trailing  ", "\u00a0nbsp", "\U0010FFFD", "&#x41;", "<!-- c -->", "<?pi x?>",
	}
	for _, s := range nasty {
		b, err := EncodeRequest(v1691t, &AddRequest{Client: NewClient{
			Name: s, Login: s, Password: s, Company: &s, Description: &s,
		}}, &DelRequest{Filter: ByLogin(s)})
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		p2 := struct {
			Cname       string   `xml:"customer>add>gen_info>cname"`
			Pname       string   `xml:"customer>add>gen_info>pname"`
			Login       string   `xml:"customer>add>gen_info>login"`
			Passwd      string   `xml:"customer>add>gen_info>passwd"`
			Description string   `xml:"customer>add>gen_info>description"`
			Del         []string `xml:"customer>del>filter>login"`
		}{}
		if err := xml.Unmarshal(b, &p2); err != nil {
			t.Fatalf("%q: packet does not parse: %v\n%s", s, err, b)
		}
		for _, got := range []string{p2.Cname, p2.Pname, p2.Login, p2.Passwd, p2.Description} {
			if got != s {
				t.Errorf("round trip %q → %q\n%s", s, got, b)
			}
		}
		if len(p2.Del) != 1 || p2.Del[0] != s {
			t.Errorf("filter round trip %q → %q", s, p2.Del)
		}
	}
}

// A request type's Operation reflects its most demanding part.
func TestRequestOperation(t *testing.T) {
	for _, c := range []struct {
		r  Request
		op Operation
	}{
		{&AddRequest{}, OpAdd}, {&GetRequest{GenInfo: true, Stat: true}, OpGet}, {&GetRequest{Limits: true, Permissions: true}, OpGetLimits},
		{&GetRequest{Permissions: true, IPPool: true}, OpGetPermissions}, {&GetRequest{IPPool: true}, OpGetIPPool},
		{&SetRequest{Client: &ClientUpdate{}}, OpSet}, {&SetRequest{Limits: &Limits{}}, OpSetLimits},
		{&SetRequest{Permissions: []Permission{{}}}, OpSetPermissions}, {&SetRequest{Permissions: []Permission{}}, OpSet},
		{&DelRequest{}, OpDel}, {&IPPoolAddRequest{}, OpIPPoolAddIP}, {&IPPoolDelRequest{}, OpIPPoolDelIP},
		{&ButtonsListRequest{}, OpButtonsList}, {&LimitDescriptorRequest{}, OpGetLimitDescriptor},
		{&PermissionDescriptorRequest{}, OpGetPermissionDescriptor}, {&ConvertToResellerRequest{}, OpConvertToReseller},
		{&ChangeOwnerRequest{}, OpChangeOwner}, {&DomainListRequest{}, OpGetDomainList},
	} {
		if got := c.r.Op().Name(); got != c.op {
			t.Errorf("%T.Op().Name() = %s, want %s", c.r, got, c.op)
		}
	}
}
