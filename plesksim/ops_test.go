package plesksim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The versions every operation is exercised at.
var testVersions = []string{"1.4.0.0", "1.4.2.0", "1.5.2.0", "1.6.0.0", "1.6.3.0", "1.6.9.1"}

func mustV(s string) version { v, _ := parseExact(s); return v }

func operatorFor(v string) string {
	if mustV(v).atLeast(v1630) {
		return "customer"
	}
	return "client"
}

// pk wraps operations in a packet of version v with the right operator.
func pk(v string, ops ...string) string {
	o := operatorFor(v)
	return `<packet version="` + v + `"><` + o + `>` + strings.Join(ops, "") + `</` + o + `></packet>`
}

func addOp(login string, extra ...string) string {
	return `<add><gen_info><pname>Name ` + login + `</pname><login>` + login + `</login><passwd>secret1</passwd>` +
		strings.Join(extra, "") + `</gen_info></add>`
}

func addClient(t *testing.T, s *Server, c creds, v, login string, extra ...string) int {
	t.Helper()
	root := call(t, s, c, pk(v, addOp(login, extra...)))
	r := results(root, operatorFor(v), "add")
	if len(r) != 1 {
		t.Fatalf("add results %d: %v", len(r), names(root.children))
	}
	wantOK(t, r[0])
	id, err := strconv.Atoi(text1(t, r[0], "id"))
	if err != nil || id <= 0 {
		t.Fatalf("add id %v", texts(r[0], "id"))
	}
	return id
}

func TestCRUDAcrossVersions(t *testing.T) {
	for _, v := range testVersions {
		t.Run(v, func(t *testing.T) {
			ver := mustV(v)
			op := operatorFor(v)
			s := newSim(t, Config{Resellers: []Account{{"res1", "rpass"}}})

			// Blank get with no clients: an empty <get/>.
			root := admin(t, s, pk(v, `<get><filter/><dataset><gen_info/></dataset></get>`))
			if g := find(root, op+"/get"); len(g) != 1 || len(g[0].children) != 0 {
				t.Fatalf("blank get on empty server: %v", g)
			}

			// ADD with every legacy field, in sequence order.
			full := `<add><gen_info><cname>LogicSoft Ltd.</cname><pname>Stephen Lowell</pname><login>alice</login>` +
				`<passwd>Jhtr66fBB</passwd><status>16</status><phone>416 907 9944</phone><fax>928</fax>` +
				`<email>a@example.com</email><address>105 Brisbane Road</address><city>Toronto</city><state>ON</state>` +
				`<pcode>M1</pcode><country>CA</country><locale>en-US</locale></gen_info></add>`
			root = admin(t, s, pk(v, full))
			r := results(root, op, "add")[0]
			wantOK(t, r)
			id := text1(t, r, "id")
			if hasGUID := len(texts(r, "guid")) == 1; hasGUID != ver.atLeast(v1630) {
				t.Fatalf("add guid present=%v at %s", hasGUID, v)
			}

			// Errors of ADD.
			for _, tc := range []struct{ body, code string }{
				{addOp("alice"), "1007"},
				{addOp("admin"), "1007"},
				{addOp("res1"), "1007"},
				{addOp("bob", "<status>4</status>"), "1025"},
				{addOp("bob", "<status>64</status>"), "1025"},
				{`<add><gen_info><pname>  </pname><login>bob</login><passwd>secret1</passwd></gen_info></add>`, "1019"},
			} {
				wantErr(t, results(admin(t, s, pk(v, tc.body)), op, "add")[0], tc.code)
			}
			if ver.atLeast(v1600) {
				wantErr(t, results(admin(t, s, pk(v, addOp("bob", "<owner-login>ghost</owner-login>"))), op, "add")[0], "1015")
				wantErr(t, results(admin(t, s, pk(v, addOp("bob", "<owner-id>999</owner-id>"))), op, "add")[0], "1015")
				wantErr(t, results(admin(t, s, pk(v, addOp("bob", "<owner-login>alice</owner-login>"))), op, "add")[0], "1015")
				addClient(t, s, asAdmin, v, "bob", "<owner-login>res1</owner-login>")
			} else {
				addClient(t, s, asAdmin, v, "bob")
			}
			if got := len(s.Clients()); got != 2 {
				t.Fatalf("%d clients after failed adds", got)
			}

			// GET by login with gen_info and stat.
			root = admin(t, s, pk(v, `<get><filter><login>alice</login></filter><dataset><gen_info/><stat/></dataset></get>`))
			rs := results(root, op, "get")
			if len(rs) != 1 {
				t.Fatalf("get results %d", len(rs))
			}
			wantOK(t, rs[0])
			if fid := texts(rs[0], "filter-id"); ver.atLeast(v1420) != (len(fid) == 1 && fid[0] == "alice") {
				t.Fatalf("filter-id %v at %s", fid, v)
			}
			if text1(t, rs[0], "id") != id {
				t.Fatal("get id differs from add id")
			}
			gi := find(rs[0], "data/gen_info")[0]
			want := map[string]string{"cr_date": "2015-12-02", "cname": "LogicSoft Ltd.", "pname": "Stephen Lowell",
				"login": "alice", "status": "16", "phone": "416 907 9944", "fax": "928", "email": "a@example.com",
				"address": "105 Brisbane Road", "city": "Toronto", "state": "ON", "pcode": "M1", "country": "CA", "locale": "en-US"}
			for k, w := range want {
				if got := text1(t, gi, k); got != w {
					t.Errorf("gen_info/%s = %q, want %q", k, got, w)
				}
			}
			// [REC-1] a crypt hash and its type, never the password itself.
			if len(texts(gi, "passwd")) != 0 || !strings.HasPrefix(text1(t, gi, "password"), "$5$") ||
				text1(t, gi, "password_type") != "crypt" || strings.Contains(text1(t, gi, "password"), "Jhtr66fBB") {
				t.Fatalf("gen_info password %v type %v", texts(gi, "password"), texts(gi, "password_type"))
			}
			modern := ver.atLeast(v1630)
			// The admin's client: owner-login only [REC-1].
			for k, present := range map[string]bool{"guid": modern, "vendor-guid": modern, "external-id": modern,
				"description": ver.atLeast(v1660), "owner-id": false, "owner-login": ver.atLeast(v1600)} {
				if got := len(texts(gi, k)) == 1; got != present {
					t.Errorf("gen_info/%s present=%v at %s", k, got, v)
				}
			}
			stat := find(rs[0], "data/stat")[0]
			if got := len(texts(stat, "webapps")) == 1; got != !ver.atLeast(v1691) {
				t.Errorf("stat/webapps present=%v at %s", got, v)
			}
			if len(stat.children) < 12 {
				t.Errorf("stat has %d counters", len(stat.children))
			}

			// Unknown values: one 1013 per value, in filter order, mixed with hits.
			root = admin(t, s, pk(v, `<get><filter><id>999</id><id>`+id+`</id><id>998</id></filter><dataset/></get>`))
			rs = results(root, op, "get")
			if len(rs) != 3 {
				t.Fatalf("mixed get: %d results", len(rs))
			}
			wantErr(t, rs[0], "1013")
			wantOK(t, rs[1])
			wantErr(t, rs[2], "1013")
			if text1(t, rs[0], "errtext") != "Object not found." {
				t.Error("1013 errtext")
			}
			if fid := texts(rs[2], "filter-id"); ver.atLeast(v1420) != (len(fid) == 1 && fid[0] == "998") {
				t.Errorf("unmatched filter-id %v", fid)
			}
			if len(find(rs[1], "data")) != 1 || len(find(rs[1], "data")[0].children) != 0 {
				t.Error("empty dataset should give empty data")
			}

			// SET: partial update, login change, errors.
			root = admin(t, s, pk(v, `<set><filter><login>alice</login></filter><values><gen_info><pname>Alice  New</pname><login>alice2</login><status>0</status></gen_info></values></set>`))
			wantOK(t, results(root, op, "set")[0])
			c := clientByLogin(t, s, "alice2")
			if c.Name != "Alice New" || c.Status != 0 || c.Company != "LogicSoft Ltd." || c.City != "Toronto" {
				t.Fatalf("after set: %+v", c)
			}
			for _, tc := range []struct{ gi, code string }{
				{`<login>res1</login>`, "1007"},
				{`<login>bob</login>`, "1007"},
				{`<status>4</status>`, "1025"},
				{`<passwd></passwd>`, "1019"},
			} {
				root = admin(t, s, pk(v, `<set><filter><id>`+id+`</id></filter><values><gen_info>`+tc.gi+`</gen_info></values></set>`))
				r := results(root, op, "set")[0]
				wantErr(t, r, tc.code)
				if text1(t, r, "id") != id {
					t.Error("set error result lacks id")
				}
			}
			wantErr(t, results(admin(t, s, pk(v, `<set><filter><login>nobody</login></filter><values/></set>`)), op, "set")[0], "1013")
			root = admin(t, s, pk(v, `<set><filter><id>`+id+`</id></filter><values><gen_info><status>16</status></gen_info></values></set>`))
			wantOK(t, results(root, op, "set")[0])
			if c := clientByLogin(t, s, "alice2"); c.Status != 16 {
				t.Fatalf("status %d", c.Status)
			}

			// DEL.
			root = admin(t, s, pk(v, `<del><filter><login>alice2</login><login>ghost</login></filter></del>`))
			rs = results(root, op, "del")
			wantOK(t, rs[0])
			wantErr(t, rs[1], "1013")
			wantErr(t, results(admin(t, s, pk(v, `<get><filter><id>`+id+`</id></filter><dataset/></get>`)), op, "get")[0], "1013")
			if len(s.Clients()) != 1 {
				t.Fatal("del did not remove the client")
			}
			if s.Stats().Operations[op+"/add"] == 0 {
				t.Error("operations not counted")
			}
		})
	}
}

func clientByLogin(t *testing.T, s *Server, login string) Client {
	t.Helper()
	for _, c := range s.Clients() {
		if c.Login == login {
			return c
		}
	}
	t.Fatalf("no client %q", login)
	return Client{}
}

func TestModernGenInfoAndFilters(t *testing.T) {
	s := newSim(t, Config{Resellers: []Account{{"res1", "rpass"}}})
	v := "1.6.9.1"
	a := addClient(t, s, asAdmin, v, "ann", "<external-id>ext-1</external-id><description>Good  guy</description>")
	b := addClient(t, s, asAdmin, v, "ben", "<owner-login>res1</owner-login>")
	ann, ben := clientByLogin(t, s, "ann"), clientByLogin(t, s, "ben")
	if ann.OwnerLogin != "admin" || ann.OwnerID != 1 || ben.OwnerLogin != "res1" || ann.ExternalID != "ext-1" || ann.Description != "Good guy" {
		t.Fatalf("snapshots: %+v %+v", ann, ben)
	}
	if len(ann.GUID) != 36 || ann.GUID[14] != '4' {
		t.Fatalf("guid %q is not a v4 UUID", ann.GUID)
	}
	wantErr(t, results(admin(t, s, pk(v, addOp("other", "<external-id>ext-1</external-id>"))), "customer", "add")[0], "1007")

	get := func(filter string) []*node {
		return results(admin(t, s, pk(v, `<get><filter>`+filter+`</filter><dataset><gen_info/></dataset></get>`)), "customer", "get")
	}
	for _, tc := range []struct {
		filter string
		ids    []int
	}{
		{`<guid>` + ann.GUID + `</guid>`, []int{a}},
		{`<guid>` + strings.ToUpper(ben.GUID) + `</guid>`, []int{b}},
		{`<external-id>ext-1</external-id>`, []int{a}},
		{`<owner-login>res1</owner-login>`, []int{b}},
		{`<owner-id>1</owner-id>`, []int{a}},
		{`<login>ben</login><login>ann</login>`, []int{b, a}},
		{``, []int{a, b}},
	} {
		rs := get(tc.filter)
		var ids []int
		for _, r := range rs {
			wantOK(t, r)
			n, _ := strconv.Atoi(text1(t, r, "id"))
			ids = append(ids, n)
		}
		if !slices.Equal(ids, tc.ids) {
			t.Errorf("filter %s: ids %v, want %v", tc.filter, ids, tc.ids)
		}
	}
	// owner-login only for the admin's clients; owner-id and vendor-guid always.
	rs := get(`<id>` + strconv.Itoa(b) + `</id>`)
	gi := find(rs[0], "data/gen_info")[0]
	if len(texts(gi, "owner-login")) != 0 || text1(t, gi, "owner-id") != "2" {
		t.Errorf("reseller's client gen_info: owner-login %v owner-id %v", texts(gi, "owner-login"), texts(gi, "owner-id"))
	}
	resGUID := text1(t, gi, "vendor-guid")
	rs = get(`<id>` + strconv.Itoa(a) + `</id>`)
	gi = find(rs[0], "data/gen_info")[0]
	if text1(t, gi, "owner-login") != "admin" || text1(t, gi, "vendor-guid") == resGUID || text1(t, gi, "description") != "Good guy" {
		t.Error("admin's client gen_info")
	}
	// Filter-id echoes the collapsed value.
	rs = get(`<login>  ann </login>`)
	if text1(t, rs[0], "filter-id") != "ann" {
		t.Error("filter-id not collapsed")
	}
	// <guid/> in set regenerates the GUID.
	wantOK(t, results(admin(t, s, pk(v, `<set><filter><login>ann</login></filter><values><gen_info><guid/><external-id>ext-2</external-id></gen_info></values></set>`)), "customer", "set")[0])
	if g := clientByLogin(t, s, "ann"); g.GUID == ann.GUID || g.ExternalID != "ext-2" {
		t.Fatalf("guid not regenerated / ext not set: %+v", g)
	}
	// owner-id filter with a number that fits no int.
	wantErr(t, get(`<owner-id>99999999999999999999999</owner-id>`)[0], "1013")
}

func TestWhitespaceAndMetacharacters(t *testing.T) {
	s := newSim(t, Config{})
	v := "1.6.9.1"
	body := `<packet version="1.6.9.1"><customer><add><gen_info>
<cname>Smith &amp; Sons &lt;Ltd&gt; "quoted" 'single'</cname>
<pname>
   John     Doe
</pname><login> jdoe </login><passwd>p&amp;ss&lt;1</passwd>
<address>  1	Main
 St </address><city><![CDATA[A<B & C]]></city>
</gen_info></add></customer></packet>`
	wantOK(t, results(admin(t, s, body), "customer", "add")[0])
	c := clientByLogin(t, s, "jdoe")
	if c.Company != `Smith & Sons <Ltd> "quoted" 'single'` || c.Name != "John Doe" || c.Address != "1 Main St" || c.City != "A<B & C" {
		t.Fatalf("stored %+v", c)
	}
	if p, _ := s.ClientPassword("jdoe"); p != "p&ss<1" {
		t.Fatalf("password %q", p)
	}
	code, out := post(t, s, asAdmin, pk(v, `<get><filter><login>jdoe</login></filter><dataset><gen_info/></dataset></get>`))
	if code != 200 || !strings.Contains(out, `<cname>Smith &amp; Sons &lt;Ltd&gt; "quoted" 'single'</cname>`) || !strings.Contains(out, `<city>A&lt;B &amp; C</city>`) {
		t.Fatalf("escaping: %s", out)
	}
	root := admin(t, s, pk(v, `<get><filter><login>jdoe</login></filter><dataset><gen_info/></dataset></get>`))
	if text1(t, results(root, "customer", "get")[0], "data/gen_info/cname") != c.Company {
		t.Fatal("round trip of metacharacters")
	}
}

func TestLiteralAddSample(t *testing.T) {
	// PROTOCOL.md §7.1, the documented request of protocol 1.6.7.0.
	s := newSim(t, Config{})
	root := admin(t, s, `<packet version="1.6.7.0">
<customer>
<add>
   <gen_info>
       <cname>LogicSoft Ltd.</cname>
       <pname>Stephen Lowell</pname>
       <login>stevelow</login>
       <passwd>Jhtr66fBB</passwd>
       <status>0</status>
       <phone>416 907 9944</phone>
       <fax>928 752 3905</fax>
       <email>host@logicsoft.net</email>
       <address>105 Brisbane Road, Unit 2</address>
       <city>Toronto</city>
       <state/>
       <pcode/>
       <country>CA</country>
   </gen_info>
</add>
</customer>
</packet>`)
	if attrOf(root, "version") != "1.6.7.0" {
		t.Fatal("version not echoed")
	}
	r := results(root, "customer", "add")[0]
	wantOK(t, r)
	if len(text1(t, r, "guid")) != 36 || text1(t, r, "id") == "" {
		t.Fatal("add answer lacks id/guid")
	}
	// And the documented get of the same version.
	root = admin(t, s, `<packet version="1.6.7.0">
<customer><get>
  <filter><id>`+text1(t, r, "id")+`</id></filter>
  <dataset><gen_info/><stat/></dataset>
</get></customer>
</packet>`)
	rs := results(root, "customer", "get")
	wantOK(t, rs[0])
	if text1(t, rs[0], "data/gen_info/state") != "" || text1(t, rs[0], "data/stat/webapps") != "0" {
		t.Fatal("get sample")
	}
}

func TestBatching(t *testing.T) {
	s := newSim(t, Config{})
	root := admin(t, s, `<packet version="1.6.9.1">
<customer>
  <add><gen_info><pname>A</pname><login>a</login><passwd>secret1</passwd></gen_info></add>
  <add><gen_info><pname>A again</pname><login>a</login><passwd>secret1</passwd></gen_info></add>
  <add><gen_info><pname>B</pname><login>b</login><passwd>secret1</passwd></gen_info></add>
  <get><filter/><dataset><gen_info/></dataset></get>
</customer>
<server><get_protos/></server>
<customer>
  <del><filter><login>a</login></filter></del>
  <get><filter><login>a</login><login>b</login></filter><dataset/></get>
</customer>
</packet>`)
	if got := names(root.children); !slices.Equal(got, []string{"customer", "server", "customer"}) {
		t.Fatalf("operators %v", got)
	}
	first := root.children[0]
	if got := names(first.children); !slices.Equal(got, []string{"add", "add", "add", "get"}) {
		t.Fatalf("ops %v", got)
	}
	wantOK(t, first.children[0].child("result"))
	wantErr(t, first.children[1].child("result"), "1007")
	wantOK(t, first.children[2].child("result"))
	if got := texts(first.children[3], "result/data/gen_info/login"); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("get in batch sees %v", got)
	}
	third := root.children[2]
	wantOK(t, third.children[0].child("result"))
	rs := third.children[1].all("result")
	wantErr(t, rs[0], "1013")
	wantOK(t, rs[1])
	if got := s.Stats().Operations; got["customer/add"] != 3 || got["customer/get"] != 2 || got["customer/del"] != 1 || got["server/get_protos"] != 1 {
		t.Fatalf("operations %v", got)
	}
}

func TestDeleteAllIsPerCaller(t *testing.T) {
	s := newSim(t, Config{Resellers: []Account{{"res1", "rpass"}}, DemoClients: true})
	before := len(s.Clients())
	root := call(t, s, as("res1", "rpass"), pk("1.6.9.1", `<del><filter/></del>`))
	rs := results(root, "customer", "del")
	if len(rs) != 2 {
		t.Fatalf("reseller deleted %d", len(rs))
	}
	for _, r := range rs {
		wantOK(t, r)
		if text1(t, r, "filter-id") != text1(t, r, "id") { // [REC-1]
			t.Fatal("blank filter result: filter-id is not the id")
		}
	}
	if got := len(s.Clients()); got != before-2 {
		t.Fatalf("clients %d → %d", before, got)
	}
	admin(t, s, pk("1.6.9.1", `<del><filter/></del>`))
	if len(s.Clients()) != 0 {
		t.Fatal("admin del all left clients")
	}
}

func TestResellerIsolation(t *testing.T) {
	for _, v := range []string{"1.6.0.0", "1.6.9.1"} {
		t.Run(v, func(t *testing.T) {
			op := operatorFor(v)
			s := newSim(t, Config{Resellers: []Account{{"res1", "r1pass"}, {"res2", "r2pass"}}})
			r1, r2 := as("res1", "r1pass"), as("res2", "r2pass")
			mine := addClient(t, s, r1, v, "mine")
			theirs := addClient(t, s, r2, v, "theirs")
			adminC := addClient(t, s, asAdmin, v, "adminc")
			if c := clientByLogin(t, s, "mine"); c.OwnerLogin != "res1" {
				t.Fatalf("default owner %q", c.OwnerLogin)
			}
			// A reseller may not create for someone else.
			wantErr(t, results(call(t, s, r1, pk(v, addOp("x1", "<owner-login>admin</owner-login>"))), op, "add")[0], "1006")
			wantErr(t, results(call(t, s, r1, pk(v, addOp("x2", "<owner-login>res2</owner-login>"))), op, "add")[0], "1006")
			addClient(t, s, r1, v, "x3", "<owner-login>res1</owner-login>")

			root := call(t, s, r1, pk(v, `<get><filter/><dataset><gen_info/></dataset></get>`))
			if got := texts(root, op+"/get/result/data/gen_info/login"); !slices.Equal(got, []string{"mine", "x3"}) {
				t.Fatalf("res1 sees %v", got)
			}
			for _, o := range []string{
				`<get><filter><id>%d</id></filter><dataset/></get>`,
				`<set><filter><id>%d</id></filter><values><gen_info><pname>X</pname></gen_info></values></set>`,
				`<del><filter><id>%d</id></filter></del>`,
				`<change-owner><filter><id>%d</id></filter><new-owner-login>res1</new-owner-login>` + ipIfModern(v) + `</change-owner>`,
			} {
				for _, id := range []int{theirs, adminC} {
					root := call(t, s, r1, pk(v, fmt.Sprintf(o, id)))
					wantErr(t, root.children[0].children[0].child("result"), "1013")
				}
			}
			wantErr(t, results(call(t, s, r1, pk(v, `<get><filter><login>theirs</login></filter><dataset/></get>`)), op, "get")[0], "1013")
			wantErr(t, results(call(t, s, r1, pk(v, `<convert-to-reseller><filter><id>`+strconv.Itoa(mine)+`</id></filter></convert-to-reseller>`)), op, "convert-to-reseller")[0], "1006")
			if c := clientByLogin(t, s, "theirs"); c.Name != "Name theirs" || c.OwnerLogin != "res2" {
				t.Fatalf("other reseller's client changed: %+v", c)
			}
			// A reseller moves its own client (to the other reseller).
			root = call(t, s, r1, pk(v, `<change-owner><filter><id>`+strconv.Itoa(mine)+`</id></filter><new-owner-login>res2</new-owner-login>`+ipIfModern(v)+`</change-owner>`))
			wantOK(t, results(root, op, "change-owner")[0])
			if c := clientByLogin(t, s, "mine"); c.OwnerLogin != "res2" {
				t.Fatal("change-owner by reseller")
			}
			// Clients cannot use the operator, but may ask for protocols.
			cl := as("adminc", "secret1")
			wantErr(t, results(call(t, s, cl, pk(v, `<get><filter/><dataset/></get>`)), op, "get")[0], "1006")
			root = call(t, s, cl, `<packet><server><get_protos/></server></packet>`)
			wantOK(t, results(root, "server", "get_protos")[0])
			// A disabled client cannot log in.
			admin(t, s, pk(v, `<set><filter><login>adminc</login></filter><values><gen_info><status>16</status></gen_info></values></set>`))
			wantSystem(t, call(t, s, cl, `<packet><server><get_protos/></server></packet>`), "1011", "")
		})
	}
}

func TestResellerBeforeOwnersExisted(t *testing.T) {
	s := newSim(t, Config{Resellers: []Account{{"res1", "rpass"}}})
	root := call(t, s, as("res1", "rpass"), pk("1.5.2.0", addOp("x"), `<get><filter/><dataset/></get>`))
	for _, op := range []string{"add", "get"} {
		wantErr(t, results(root, "client", op)[0], "1006")
	}
	if len(s.Clients()) != 0 {
		t.Fatal("reseller created a client at 1.5.2.0")
	}
}

func ipIfModern(v string) string {
	if mustV(v).atLeast(v1630) {
		return `<ipV4-address>192.0.2.10</ipV4-address>`
	}
	return ""
}

func TestConvertToReseller(t *testing.T) {
	for _, v := range []string{"1.6.0.0", "1.6.3.0", "1.6.9.1"} {
		t.Run(v, func(t *testing.T) {
			op := operatorFor(v)
			s := newSim(t, Config{ResellerPlans: []string{"Gold"}})
			id := addClient(t, s, asAdmin, v, "jd")
			addClient(t, s, asAdmin, v, "keep")
			if mustV(v).atLeast(v1630) {
				root := admin(t, s, pk(v, `<convert-to-reseller><filter><login>jd</login></filter><reseller-plan-name>Silver</reseller-plan-name></convert-to-reseller>`))
				wantErr(t, results(root, op, "convert-to-reseller")[0], "1013")
				if len(s.Clients()) != 2 {
					t.Fatal("failed conversion removed the client")
				}
			}
			plan := ""
			if mustV(v).atLeast(v1630) {
				plan = `<reseller-plan-name>Gold</reseller-plan-name>`
			}
			root := admin(t, s, pk(v, `<convert-to-reseller><filter><login>jd</login><login>nobody</login></filter>`+plan+`</convert-to-reseller>`))
			rs := results(root, op, "convert-to-reseller")
			wantOK(t, rs[0])
			if text1(t, rs[0], "filter-id") != "jd" || text1(t, rs[0], "id") != strconv.Itoa(id) {
				t.Fatal("convert result head")
			}
			wantErr(t, rs[1], "1013")
			wantErr(t, results(admin(t, s, pk(v, `<get><filter><login>jd</login></filter><dataset/></get>`)), op, "get")[0], "1013")
			if len(s.Clients()) != 1 {
				t.Fatal("converted client still listed")
			}
			// The new reseller logs in with the client's password and owns clients.
			jd := as("jd", "secret1")
			addClient(t, s, jd, v, "sub")
			if c := clientByLogin(t, s, "sub"); c.OwnerID != id || c.OwnerLogin != "jd" {
				t.Fatalf("sub owner %+v", c)
			}
			// Its login stays taken.
			wantErr(t, results(admin(t, s, pk(v, addOp("jd"))), op, "add")[0], "1007")
			// And admin can move clients to it.
			root = admin(t, s, pk(v, `<change-owner><filter><login>keep</login></filter><new-owner-login>jd</new-owner-login>`+ipIfModern(v)+`</change-owner>`))
			wantOK(t, results(root, op, "change-owner")[0])
		})
	}
}

func TestChangeOwner(t *testing.T) {
	s := newSim(t, Config{Resellers: []Account{{"res1", "rpass"}}, HostingPlans: []string{"Admin Simple"},
		Plans: []Plan{{"Res Simple", "res1"}}})
	v := "1.6.9.1"
	id := addClient(t, s, asAdmin, v, "customer1")
	before := clientByLogin(t, s, "customer1")
	co := func(rest string) *node {
		return results(admin(t, s, pk(v, `<change-owner><filter><login>customer1</login></filter>`+rest+`</change-owner>`)), "customer", "change-owner")[0]
	}
	wantErr(t, co(`<new-owner-login>ghost</new-owner-login><ipV4-address>192.0.2.10</ipV4-address>`), "1015")
	wantErr(t, co(`<new-owner-login>res1</new-owner-login>`), "1019")
	wantErr(t, co(`<new-owner-login>res1</new-owner-login><ipV4-address>10.0.0.1</ipV4-address>`), "1018")
	wantErr(t, co(`<new-owner-login>res1</new-owner-login><ipV6-address>2001:db8::10</ipV6-address><plan-name>Nope</plan-name>`), "1013")
	if c := clientByLogin(t, s, "customer1"); c.OwnerLogin != "admin" {
		t.Fatal("refused change-owner changed the owner")
	}
	// plan-name is the new owner's plan: the admin's is refused for res1.
	wantErr(t, co(`<new-owner-login>res1</new-owner-login><ipV4-address>192.0.2.10</ipV4-address><plan-name>Admin Simple</plan-name>`), "1013")
	r := co(`<new-owner-login>res1</new-owner-login><ipV4-address>192.0.2.10</ipV4-address><ipV6-address>2001:db8::10</ipV6-address><plan-name>Res Simple</plan-name>`)
	wantOK(t, r)
	if text1(t, r, "filter-id") != "customer1" || text1(t, r, "id") != strconv.Itoa(id) {
		t.Fatal("change-owner result head")
	}
	rs := results(admin(t, s, pk(v, `<get><filter><login>customer1</login></filter><dataset><gen_info/></dataset></get>`)), "customer", "get")
	gi := find(rs[0], "data/gen_info")[0]
	if text1(t, gi, "owner-id") != "2" || len(texts(gi, "owner-login")) != 0 {
		t.Fatal("owner not updated in gen_info")
	}
	vendor := text1(t, gi, "vendor-guid")
	// Back to the admin via the documented sample shape.
	wantOK(t, co(`<new-owner-login>admin</new-owner-login><ipV4-address>192.0.2.11</ipV4-address>`))
	gi = find(results(admin(t, s, pk(v, `<get><filter><login>customer1</login></filter><dataset><gen_info/></dataset></get>`)), "customer", "get")[0], "data/gen_info")[0]
	if text1(t, gi, "owner-login") != "admin" || text1(t, gi, "vendor-guid") == vendor {
		t.Fatal("owner-login / vendor-guid after moving back")
	}
	if after := clientByLogin(t, s, "customer1"); after.GUID != before.GUID {
		t.Fatal("change-owner changed the client's guid")
	}
	// Legacy 1.6.0.0: no IPs needed.
	root := admin(t, s, `<packet version="1.6.0.0"><client><change-owner><filter><id>`+strconv.Itoa(id)+`</id></filter><new-owner-login>res1</new-owner-login></change-owner></client></packet>`)
	wantOK(t, results(root, "client", "change-owner")[0])
}
