package plesksim

import (
	"fmt"
	"strings"
	"testing"
)

func TestStrictValidation(t *testing.T) {
	s := newSim(t, Config{})
	const gi = `<pname>P</pname><login>l</login><passwd>secret1</passwd>`
	cases := []struct {
		name, v, body, msg string
	}{
		{"order pname login", "1.6.9.1", `<add><gen_info><login>l</login><pname>P</pname><passwd>x</passwd></gen_info></add>`,
			"Element 'login': This element is not expected. Expected is one of ( cname, pname )."},
		{"cname after pname", "1.6.9.1", `<add><gen_info><pname>P</pname><cname>C</cname><login>l</login><passwd>x</passwd></gen_info></add>`,
			"Element 'cname': This element is not expected. Expected is ( login )."},
		{"status after phone", "1.6.3.0", `<add><gen_info>` + gi + `<phone>1</phone><status>0</status></gen_info></add>`,
			"Element 'status': This element is not expected."},
		{"unknown element", "1.6.9.1", `<add><gen_info>` + gi + `<nickname>x</nickname></gen_info></add>`,
			"Element 'nickname': This element is not expected."},
		{"missing passwd", "1.6.9.1", `<add><gen_info><pname>P</pname><login>l</login></gen_info></add>`,
			"Element 'gen_info': Missing child element(s). Expected is ( passwd )."},
		{"missing gen_info", "1.6.9.1", `<add/>`, "Element 'add': Missing child element(s). Expected is ( gen_info )."},
		{"two gen_info", "1.6.9.1", `<add><gen_info>` + gi + `</gen_info><gen_info>` + gi + `</gen_info></add>`,
			"Element 'gen_info': This element is not expected."},
		{"empty owner-id", "1.6.9.1", `<add><gen_info>` + gi + `<owner-id></owner-id></gen_info></add>`,
			"Element 'owner-id': '' is not a valid value of the atomic type 'int'."},
		{"two owners", "1.6.9.1", `<add><gen_info>` + gi + `<owner-id>1</owner-id><owner-login>admin</owner-login></gen_info></add>`,
			"Element 'owner-login': This element is not expected."},
		{"status not int", "1.6.9.1", `<add><gen_info>` + gi + `<status>active</status></gen_info></add>`,
			"Element 'status': 'active' is not a valid value of the atomic type 'objectStatus'."},
		{"description before external-id", "1.6.9.1", `<add><gen_info>` + gi + `<description>d</description><external-id>e</external-id></gen_info></add>`,
			"Element 'external-id': This element is not expected."},
		{"mixed filter", "1.6.9.1", `<del><filter><id>1</id><login>x</login></filter></del>`,
			"Element 'login': This element is not expected. Expected is ( id )."},
		{"mixed filter 2", "1.6.9.1", `<del><filter><guid>g</guid><external-id>x</external-id></filter></del>`,
			"Element 'external-id': This element is not expected. Expected is ( guid )."},
		{"empty id", "1.6.9.1", `<del><filter><id></id></filter></del>`, "Element 'id': '' is not a valid value of the atomic type 'id_type'."},
		{"zero id", "1.6.9.1", `<del><filter><id>0</id></filter></del>`, "Element 'id': '0' is not a valid value of the atomic type 'id_type'."},
		{"negative id", "1.6.9.1", `<del><filter><id>-3</id></filter></del>`, "Element 'id': '-3' is not a valid value"},
		{"non-integer id", "1.6.9.1", `<del><filter><id>1.5</id></filter></del>`, "Element 'id': '1.5' is not a valid value"},
		{"empty owner-id filter", "1.6.9.1", `<del><filter><owner-id/></filter></del>`, "Element 'owner-id': '' is not a valid value of the atomic type 'int'."},
		{"filter text", "1.6.9.1", `<del><filter>all</filter></del>`, "Element 'filter': Character content other than whitespace is not allowed because the content type is 'element-only'."},
		{"no filter", "1.6.9.1", `<del/>`, "Element 'del': Missing child element(s). Expected is ( filter )."},
		{"dataset order", "1.6.9.1", `<get><filter/><dataset><stat/><gen_info/></dataset></get>`, "Element 'gen_info': This element is not expected."},
		{"dataset unknown", "1.6.9.1", `<get><filter/><dataset><gen_info/><limits/></dataset></get>`, "Element 'limits': This element is not expected."},
		{"get without dataset", "1.6.9.1", `<get><filter/></get>`, "Element 'get': Missing child element(s). Expected is ( dataset )."},
		{"dataset before filter", "1.6.9.1", `<get><dataset/><filter/></get>`, "Element 'dataset': This element is not expected. Expected is ( filter )."},
		{"set without values", "1.6.9.1", `<set><filter/></set>`, "Element 'set': Missing child element(s). Expected is ( values )."},
		{"set guid with content", "1.6.9.1", `<set><filter/><values><gen_info><guid>x</guid></gen_info></values></set>`, "Element 'guid': Character content is not allowed, because the content type is empty."},
		{"set owner", "1.6.9.1", `<set><filter/><values><gen_info><owner-login>admin</owner-login></gen_info></values></set>`, "Element 'owner-login': This element is not expected."},
		{"element in simple", "1.6.9.1", `<add><gen_info><pname><b>P</b></pname><login>l</login><passwd>x</passwd></gen_info></add>`, "Element 'pname': Element content is not allowed, because the type definition is simple."},
		{"change-owner v6 before v4", "1.6.9.1", `<change-owner><filter/><new-owner-login>admin</new-owner-login><ipV6-address>::1</ipV6-address><ipV4-address>1.2.3.4</ipV4-address></change-owner>`, "Element 'ipV4-address': This element is not expected."},
		{"change-owner without login", "1.6.9.1", `<change-owner><filter/><ipV4-address>1.2.3.4</ipV4-address></change-owner>`, "Element 'ipV4-address': This element is not expected. Expected is ( new-owner-login )."},
		{"convert plan twice", "1.6.9.1", `<convert-to-reseller><filter/><reseller-plan-name>a</reseller-plan-name><reseller-plan-name>b</reseller-plan-name></convert-to-reseller>`, "Element 'reseller-plan-name': This element is not expected."},
		{"namespaced", "1.6.9.1", `<x:add xmlns:x="urn:x"/>`, "Element 'x:add': This element is not expected."},
		{"empty operator", "1.6.9.1", ``, "Element 'customer': Missing child element(s)."},
		// Legacy shapes.
		{"legacy gen_info order", "1.5.2.0", `<add><gen_info><pname>P</pname><login>l</login><passwd>x</passwd><country>US</country><city>X</city></gen_info></add>`, "Element 'city': This element is not expected."},
		{"legacy no external-id", "1.5.2.0", `<add><gen_info>` + gi + `<external-id>e</external-id></gen_info></add>`, "Element 'external-id': This element is not expected."},
		{"legacy template after gen_info", "1.5.2.0", `<add><template-name>t</template-name><gen_info>` + gi + `</gen_info></add>`, "Element 'template-name': This element is not expected. Expected is ( gen_info )."},
		{"legacy template both", "1.5.2.0", `<add><gen_info>` + gi + `</gen_info><template-name>t</template-name><template-id>1</template-id></add>`, "Element 'template-id': This element is not expected."},
		{"legacy dataset order", "1.6.0.0", `<get><filter/><dataset><gen_info/><limits/><permissions/></dataset></get>`, "Element 'permissions': This element is not expected."},
		{"legacy dataset ippool first", "1.6.0.0", `<get><filter/><dataset><ippool/><stat/></dataset></get>`, "Element 'stat': This element is not expected."},
		{"legacy set values order", "1.6.0.0", `<set><filter/><values><permissions><permission><name>manage_dns</name><value>true</value></permission></permissions><limits/></values></set>`, "Element 'limits': This element is not expected."},
		{"legacy set gen_info last", "1.6.0.0", `<set><filter/><values><limits/><gen_info/></values></set>`, "Element 'gen_info': This element is not expected."},
		{"legacy set guid", "1.6.0.0", `<set><filter/><values><gen_info><guid/></gen_info></values></set>`, "Element 'guid': This element is not expected."},
		{"legacy empty permissions", "1.6.0.0", `<set><filter/><values><permissions/></values></set>`, "Element 'permissions': Missing child element(s). Expected is ( permission )."},
		{"legacy permission order", "1.6.0.0", `<set><filter/><values><permissions><permission><value>true</value><name>manage_dns</name></permission></permissions></values></set>`, "Element 'value': This element is not expected. Expected is ( name )."},
		{"legacy client_id not int", "1.6.0.0", `<ippool_add_ip><client_id>abc</client_id><ip_address>1.2.3.4</ip_address></ippool_add_ip>`, "Element 'client_id': 'abc' is not a valid value of the atomic type 'id_type'."},
		{"legacy hyphen spelling", "1.6.0.0", `<ippool-add-ip><client_id>1</client_id><ip_address>1.2.3.4</ip_address></ippool-add-ip>`, "Element 'ippool-add-ip': This element is not expected."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := admin(t, s, pk(tc.v, tc.body))
			wantSystem(t, root, "1014", "Parser error: Request is invalid. Error in line 1: "+tc.msg)
		})
	}
}

func TestValidationLineNumbers(t *testing.T) {
	s := newSim(t, Config{})
	// The literal message of plesk/whmcs-plugin#48.
	root := admin(t, s, `<packet version="1.6.3.0">
<customer>
<add>
<gen_info>
<pname>P</pname><login>l</login><passwd>secret1</passwd>
<owner-id></owner-id>
</gen_info>
</add>
</customer>
</packet>`)
	wantSystem(t, root, "1014", "")
	if got := text1(t, root, "system/errtext"); got != "Parser error: Request is invalid. Error in line 6: Element 'owner-id': '' is not a valid value of the atomic type 'int'." {
		t.Fatalf("errtext %q", got)
	}
	root = admin(t, s, "<packet version=\"1.6.9.1\">\n<customer>\n<get>\n</customer>\n</packet>")
	wantSystem(t, root, "1014", "Error in line 4:")
}

// TestNoPanicOnOddInput throws odd bodies at the simulator: each must get a
// well-formed packet answer (HTTP 200) and never crash the server.
func TestNoPanicOnOddInput(t *testing.T) {
	s := newSim(t, Config{DemoClients: true})
	bodies := []string{
		"\x00\x01\x02", "<", "<packet", "<packet version=", `<packet version="1.6.9.1">`, "</packet>",
		`<?xml version="1.0" encoding="ISO-8859-1"?><packet/>`, "<packet>\xff\xfe</packet>",
		`<packet><customer><get><filter><id>` + strings.Repeat("9", 500) + `</id></filter><dataset/></get></customer></packet>`,
		strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000),
		`<packet version="1.6.9.1"><customer><get><filter><login>&bogus;</login></filter><dataset/></get></customer></packet>`,
		`<packet version="1.6.9.1"><customer><get><filter><login>&#0;</login></filter><dataset/></get></customer></packet>`,
		`<packet version="..."/>`, `<packet version="1.6.9.1.0"/>`, `<packet version=" 1.6 "/>`, `<packet version="-1"/>`,
		`<packet version="1.6.9.1"/><packet/>`, `text<packet/>`, `<!-- c --><packet version="1.6.9.1"><?pi x?><server><get_protos/></server></packet>`,
		`<packet xmlns="urn:x" version="1.6.9.1"><server><get_protos/></server></packet>`,
		`<packet version="1.6.0.0"><client><set><filter/><values><limits><limit><name>max_dom</name><value>99999999999999999999</value></limit></limits></values></set></client></packet>`,
	}
	for i, b := range bodies {
		code, out := post(t, s, asAdmin, b)
		if code != 200 {
			t.Errorf("body %d: HTTP %d", i, code)
			continue
		}
		if _, err := parseTree([]byte(out)); err != nil {
			t.Errorf("body %d: answer not XML: %v", i, err)
		}
	}
}

func FuzzPacket(f *testing.F) {
	f.Add(`<packet version="1.6.9.1"><customer><get><filter/><dataset><gen_info/></dataset></get></customer></packet>`)
	f.Add(`<packet version="1.6.0.0"><client><set><filter><login>jdoe</login></filter><values><limits><limit><name>max_dom</name><value>1</value></limit></limits></values></set></client></packet>`)
	f.Add(`<packet version="1.4.2.0"><client><ippool_add_ip><client_id>3</client_id><ip_address>192.0.2.10</ip_address></ippool_add_ip></client></packet>`)
	f.Add(`<packet><customer><add><gen_info><pname>a</pname><login>b</login><passwd>c</passwd></gen_info></add></customer></packet>`)
	s, err := New(Config{DemoClients: true, Resellers: []Account{{"res1", "rpass"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		code, out := post(t, s, asAdmin, body)
		if code != 200 {
			return
		}
		if _, err := parseTree([]byte(out)); err != nil {
			t.Fatalf("answer not XML: %v\n%s", err, out)
		}
		if strings.Contains(out, "Internal error") {
			t.Fatalf("recovered panic for %q: %s", body, out)
		}
	})
}

func TestSchemaCoversEveryVersion(t *testing.T) {
	s := newSim(t, Config{})
	for _, v := range s.Versions() {
		op := operatorFor(v)
		root := admin(t, s, fmt.Sprintf(`<packet version="%s"><%s><get><filter/><dataset/></get></%s></packet>`, v, op, op))
		if root.child(op) == nil {
			t.Errorf("%s: %v", v, texts(root, "system/errtext"))
		}
	}
}
