package translator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// schemaDeviations: fixtures that are right for their protocol version (or
// are literal PROTOCOL.md text) but do not validate against the schema we
// have. The test asserts each fails, with the given message, so the list
// cannot go stale.
var schemaDeviations = map[string]string{
	// 1.6.9.1 removed stat/webapps (§6.1); the only modern XSD is ≈1.6.6.
	"get_stat.v1.6.9.1.xml": "Expected is ( webapps )",
	// §2: an empty filter matching nothing returns <get/>; XSD says result 1..∞.
	"get_empty.v1.6.9.1.xml": "Missing child element(s). Expected is ( result )",
	// REC-3: a real 1.6.9.0 answered an empty <get/> for no match.
	"rec3_get_empty.v1.6.9.0.xml": "Missing child element(s). Expected is ( result )",
	// PROTOCOL.md's completed sample omits stat/webapps although 1.6.7.0 has it.
	"s7.2_get_modern.response.xml": "Expected is ( webapps )",
	// PROTOCOL.md's legacy sample elides gen_info with prose.
	"s7.2_get_legacy.response.xml": "Character content other than whitespace is not allowed",
	// get-domain-list is 1.6.7.0+ (input) / 1.6.8.0+ (output); the saved
	// schema is ≈1.6.6. TestDomainListSchema validates these against
	// Plesk's own types with the operation element of the 1.6.8.0+ trees.
	"get_domain_list.v1.6.8.0.xml":        domainListNotInXSD,
	"get_domain_list.v1.6.9.1.xml":        domainListNotInXSD,
	"get_domain_list_logins.v1.6.9.1.xml": domainListNotInXSD,
	"domain_list.v1.6.9.1.xml":            domainListNotInXSD,
}

const domainListNotInXSD = "Element 'get-domain-list': This element is not expected"

type fixture struct {
	path     string
	response bool
	modern   bool
	v14      bool // legacy ≤ 1.4.2.0: named limits/permissions
}

func fixtures(t *testing.T) []fixture {
	var out []fixture
	for _, dir := range []string{"requests", "responses", "protocol_md"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.xml"))
		for _, f := range files {
			name := filepath.Base(f)
			fx := fixture{path: f, response: dir == "responses" || strings.Contains(name, ".response.")}
			var v Version
			if strings.Contains(name, ".v1.") {
				v = versionFromName(t, f)
			} else {
				vs, op := packetInfo(t, readFile(t, f))
				switch {
				case vs != "":
					v = MustParseVersion(vs)
				case op == "customer":
					v = v1630
				default:
					v = v1600
				}
			}
			fx.modern = v.Dialect() == DialectCustomer
			fx.v14 = v.Less(v1500)
			out = append(out, fx)
		}
	}
	if len(out) < 100 {
		t.Fatalf("only %d fixtures found", len(out))
	}
	return out
}

func checkSchema(t *testing.T, schema string, fx fixture) {
	t.Helper()
	out, ok := xmllint(t, schema, fx.path)
	if want, dev := schemaDeviations[filepath.Base(fx.path)]; dev {
		if ok || !strings.Contains(out, want) {
			t.Errorf("%s: known deviation %q no longer reproduces:\n%s", fx.path, want, out)
		}
		return
	}
	if !ok {
		t.Errorf("%s does not validate against %s:\n%s", fx.path, schema, out)
	}
}

// TestModernSchema validates every modern (customer) fixture against Plesk's
// schema in $PLESK_XSD_DIR. Those files are copyrighted and not in the repo,
// so the test skips without the variable; with it, a missing xmllint fails.
func TestModernSchema(t *testing.T) {
	dir := os.Getenv("PLESK_XSD_DIR")
	if dir == "" {
		t.Skip("PLESK_XSD_DIR not set")
	}
	reqXSD, respXSD := filepath.Join(dir, "customer-request.xsd"), filepath.Join(dir, "customer-response.xsd")
	n := 0
	for _, fx := range fixtures(t) {
		if !fx.modern {
			continue
		}
		n++
		if fx.response {
			checkSchema(t, respXSD, fx)
		} else {
			checkSchema(t, reqXSD, fx)
		}
	}
	if n < 40 {
		t.Errorf("only %d modern fixtures validated", n)
	}

	// The check can fail: cname after pname breaks clientAddGenInfo's sequence.
	bad := filepath.Join(t.TempDir(), "wrong-order.xml")
	writeFile(t, bad, `<packet version="1.6.9.1"><customer><add><gen_info><pname>N</pname><cname>C</cname><login>l</login><passwd>p</passwd></gen_info></add></customer></packet>`)
	if out, ok := xmllint(t, reqXSD, bad); ok {
		t.Errorf("wrong-order packet validated:\n%s", out)
	}
	// And a legacy-only operation is not in the customer operator.
	writeFile(t, bad, `<packet version="1.6.9.1"><customer><ippool_add_ip><client_id>1</client_id><ip_address>192.0.2.1</ip_address></ippool_add_ip></customer></packet>`)
	if out, ok := xmllint(t, reqXSD, bad); ok {
		t.Errorf("legacy op in customer validated:\n%s", out)
	}
}

// TestLegacySchema validates every legacy (client) fixture against the
// project's own schema in testdata/legacy (written from PROTOCOL.md §5-§8).
func TestLegacySchema(t *testing.T) {
	schema := func(fx fixture) string {
		kind := "request"
		if fx.response {
			kind = "response"
		}
		suffix := ""
		if fx.v14 {
			suffix = "-1.4"
		}
		return filepath.Join("testdata", "legacy", "client-"+kind+suffix+".xsd")
	}
	n := 0
	for _, fx := range fixtures(t) {
		if fx.modern {
			continue
		}
		n++
		checkSchema(t, schema(fx), fx)
	}
	if n < 40 {
		t.Errorf("only %d legacy fixtures validated", n)
	}
	bad := filepath.Join(t.TempDir(), "bad.xml")
	for _, pkt := range []string{
		// dataset out of order (limits before permissions)
		`<packet version="1.6.0.0"><client><get><filter/><dataset><limits/><permissions/></dataset></get></client></packet>`,
		// modern-only field in legacy add
		`<packet version="1.6.0.0"><client><add><gen_info><pname>N</pname><login>l</login><passwd>p</passwd><external-id>x</external-id></gen_info></add></client></packet>`,
		// template before gen_info
		`<packet version="1.4.2.0"><client><add><template-name>t</template-name><gen_info><pname>N</pname><login>l</login><passwd>p</passwd></gen_info></add></client></packet>`,
		// pair-format limit without value
		`<packet version="1.5.2.0"><client><set><filter/><values><limits><limit><name>max_dom</name></limit></limits></values></set></client></packet>`,
	} {
		writeFile(t, bad, pkt)
		if out, ok := xmllint(t, schema(fixture{v14: strings.Contains(pkt, `"1.4`)}), bad); ok {
			t.Errorf("invalid legacy packet validated: %s\n%s", pkt, out)
		}
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// domainListSchemas are root schemas for a packet holding customer
// get-domain-list, written from PROTOCOL.md §7.12 and the 1.6.8.0+ trees
// (shared/plesk/trees/customer-{request,response}-1680.txt). Only the
// operation element is ours: the filter is Plesk's clientSelectionFilterType
// and the result Plesk's resultFilterType, id_type, string and boolean,
// included from $PLESK_XSD_DIR. The domain's type is a restriction of string
// whose values the trees do not give.
const domainListRequestXSD = `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
	<xs:include schemaLocation="{{dir}}/client_input.xsd"/>
	<xs:element name="packet"><xs:complexType><xs:sequence>
		<xs:element name="customer"><xs:complexType><xs:sequence>
			<xs:element name="get-domain-list" maxOccurs="unbounded"><xs:complexType><xs:sequence>
				<xs:element name="filter" type="clientSelectionFilterType"/>
			</xs:sequence></xs:complexType></xs:element>
		</xs:sequence></xs:complexType></xs:element>
	</xs:sequence><xs:attribute name="version" type="string"/></xs:complexType></xs:element>
</xs:schema>`

const domainListResponseXSD = `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
	<xs:include schemaLocation="{{dir}}/client_output.xsd"/>
	<xs:element name="packet"><xs:complexType><xs:sequence>
		<xs:element name="customer"><xs:complexType><xs:sequence>
			<xs:element name="get-domain-list" maxOccurs="unbounded"><xs:complexType><xs:sequence>
				<xs:element name="result" minOccurs="0" maxOccurs="unbounded"><xs:complexType><xs:complexContent>
					<xs:extension base="resultFilterType"><xs:sequence>
						<xs:element name="domains" minOccurs="0"><xs:complexType><xs:sequence>
							<xs:element name="domain" minOccurs="0" maxOccurs="unbounded"><xs:complexType><xs:sequence>
								<xs:element name="id" type="id_type"/>
								<xs:element name="name" type="string"/>
								<xs:element name="ascii-name" type="string"/>
								<xs:element name="type"><xs:simpleType><xs:restriction base="string"/></xs:simpleType></xs:element>
								<xs:element name="main" type="boolean"/>
								<xs:element name="guid" type="string"/>
								<xs:element name="external-id" type="string"/>
								<xs:element name="parent-id" type="id_type" minOccurs="0"/>
								<xs:element name="domain-id" type="id_type" minOccurs="0"/>
							</xs:sequence></xs:complexType></xs:element>
						</xs:sequence></xs:complexType></xs:element>
					</xs:sequence></xs:extension>
				</xs:complexContent></xs:complexType></xs:element>
			</xs:sequence></xs:complexType></xs:element>
		</xs:sequence></xs:complexType></xs:element>
	</xs:sequence><xs:attribute name="version" type="string"/></xs:complexType></xs:element>
</xs:schema>`

// TestDomainListSchema validates the get-domain-list fixtures (which the
// ≈1.6.6 schema cannot, see schemaDeviations) against Plesk's own filter
// and result types, and shows the check can fail: two filter kinds, a
// domain without its ascii-name.
func TestDomainListSchema(t *testing.T) {
	dir := os.Getenv("PLESK_XSD_DIR")
	if dir == "" {
		t.Skip("PLESK_XSD_DIR not set")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	reqXSD, respXSD := filepath.Join(tmp, "domain-list-request.xsd"), filepath.Join(tmp, "domain-list-response.xsd")
	writeFile(t, reqXSD, strings.ReplaceAll(domainListRequestXSD, "{{dir}}", filepath.ToSlash(abs)))
	writeFile(t, respXSD, strings.ReplaceAll(domainListResponseXSD, "{{dir}}", filepath.ToSlash(abs)))
	n := 0
	for _, fx := range fixtures(t) {
		if schemaDeviations[filepath.Base(fx.path)] != domainListNotInXSD {
			continue
		}
		n++
		schema := reqXSD
		if fx.response {
			schema = respXSD
		}
		if out, ok := xmllint(t, schema, fx.path); !ok {
			t.Errorf("%s does not validate against %s:\n%s", fx.path, schema, out)
		}
	}
	if n != 4 {
		t.Errorf("%d get-domain-list fixtures validated, want 4", n)
	}
	bad := filepath.Join(tmp, "bad.xml")
	for schema, pkt := range map[string]string{
		reqXSD:  `<packet version="1.6.9.1"><customer><get-domain-list><filter><id>3</id><login>x</login></filter></get-domain-list></customer></packet>`,
		respXSD: `<packet version="1.6.9.1"><customer><get-domain-list><result><status>ok</status><id>3</id><domains><domain><id>1</id><name>a</name><type>domain</type><main>true</main><guid>g</guid><external-id/></domain></domains></result></get-domain-list></customer></packet>`,
	} {
		writeFile(t, bad, pkt)
		if out, ok := xmllint(t, schema, bad); ok {
			t.Errorf("invalid packet validated: %s\n%s", pkt, out)
		}
	}
}
