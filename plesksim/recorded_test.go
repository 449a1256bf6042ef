package plesksim

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// One test per fact that PROTOCOL.md §15 recorded from real servers. REC-1
// is Plesk 11.5.30 at protocol 1.6.3.5 with the administrator (id 1) and
// resellers; its reseller has id 3, as in the recording.

func rec1Sim(t *testing.T) *Server {
	t.Helper()
	return newSim(t, Config{Protocol: "1.6.3.5", Resellers: []Account{{"res2", "rpass2"}, {"res3", "rpass3"}}})
}

// REC-1: bodies start with the XML declaration and a newline; the version is echoed.
func TestRecDeclarationAndVersion(t *testing.T) {
	s := rec1Sim(t)
	for _, body := range []string{
		`<packet version="1.6.3.5">` + getAll + `</packet>`,
		`<packet version="1.6.3.5"><bogus/></packet>`, // a system error too
	} {
		code, out := post(t, s, asAdmin, body)
		if h := recordedHeaders(t, s, body); h.Get("Content-Type") != "text/xml" || h.Get("Server") != "sw-cp-server" {
			t.Errorf("headers %v", h)
		}
		if code != 200 || !strings.HasPrefix(out, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<packet version="1.6.3.5">`) {
			t.Fatalf("answer head %q", out[:min(len(out), 80)])
		}
	}
}

// REC-1: a blank filter gives each result a filter-id equal to its id.
func TestRecBlankFilterID(t *testing.T) {
	s := rec1Sim(t)
	addClient(t, s, asAdmin, "1.6.3.5", "cust1")
	addClient(t, s, asAdmin, "1.6.3.5", "cust2", "<owner-id>3</owner-id>")
	rs := results(admin(t, s, `<packet version="1.6.3.5"><customer><get><filter></filter><dataset><gen_info/><stat/></dataset></get></customer></packet>`), "customer", "get")
	if len(rs) != 2 {
		t.Fatalf("%d results", len(rs))
	}
	for _, r := range rs {
		if text1(t, r, "filter-id") != text1(t, r, "id") {
			t.Errorf("filter-id %q, id %q", text1(t, r, "filter-id"), text1(t, r, "id"))
		}
	}
}

var rec1GenInfoOrder = []string{"cr_date", "cname", "pname", "login", "status", "phone", "fax", "email", "address",
	"city", "state", "pcode", "country", "locale", "guid", "OWNER", "vendor-guid", "external-id", "password", "password_type"}

// REC-1: gen_info order, owner-login xor owner-id, vendor-guid the owner's
// guid, a $5$ hash with password_type crypt, no description, the default
// locale, webapps in stat.
func TestRecGenInfo(t *testing.T) {
	s := rec1Sim(t)
	addClient(t, s, asAdmin, "1.6.3.5", "cust1")
	addClient(t, s, asAdmin, "1.6.3.5", "cust2", "<owner-id>3</owner-id>")
	rs := results(admin(t, s, `<packet version="1.6.3.5"><customer><get><filter/><dataset><gen_info/><stat/></dataset></get></customer></packet>`), "customer", "get")
	adminGUID := s.users[0].guid
	for i, wantOwner := range []string{"owner-login", "owner-id"} {
		gi := find(rs[i], "data/gen_info")[0]
		want := slices.Clone(rec1GenInfoOrder)
		want[slices.Index(want, "OWNER")] = wantOwner
		if got := names(gi.children); !slices.Equal(got, want) {
			t.Errorf("gen_info order\n got %v\nwant %v", got, want)
		}
		vendor := adminGUID
		if wantOwner == "owner-login" {
			if text1(t, gi, "owner-login") != "admin" {
				t.Error("owner-login")
			}
		} else {
			if text1(t, gi, "owner-id") != "3" {
				t.Error("owner-id")
			}
			vendor = s.userByID(3).guid
		}
		if text1(t, gi, "vendor-guid") != vendor {
			t.Error("vendor-guid is not the owner's guid")
		}
		hash := text1(t, gi, "password")
		if !strings.HasPrefix(hash, "$5$") || sha256Crypt("secret1", strings.Split(hash, "$")[2]) != hash || text1(t, gi, "password_type") != "crypt" {
			t.Errorf("password %q type %q", hash, text1(t, gi, "password_type"))
		}
		if text1(t, gi, "locale") != "en-US" {
			t.Errorf("locale %q", text1(t, gi, "locale"))
		}
		if len(texts(rs[i], "data/stat/webapps")) != 1 {
			t.Error("stat/webapps missing at 1.6.3.5")
		}
	}
	// description comes back from 1.6.6.0, and add refuses it before.
	wantSystem(t, admin(t, s, pk("1.6.3.5", addOp("cust3", "<description>x</description>"))), "1014", "Element 'description'")
	s2 := newSim(t, Config{Locale: "de-DE"})
	addClient(t, s2, asAdmin, "1.6.6.0", "cust4", "<description>Good guy</description>")
	gi := find(results(admin(t, s2, pk("1.6.6.0", `<get><filter><login>cust4</login></filter><dataset><gen_info/></dataset></get>`)), "customer", "get")[0], "data/gen_info")[0]
	if text1(t, gi, "description") != "Good guy" || text1(t, gi, "locale") != "de-DE" {
		t.Errorf("1.6.6.0 description %v locale %v", texts(gi, "description"), texts(gi, "locale"))
	}
}

// REC-1: a filter by owner-id answers that value as every result's filter-id.
func TestRecOwnerIDFilterID(t *testing.T) {
	s := rec1Sim(t)
	addClient(t, s, asAdmin, "1.6.3.5", "c1", "<owner-id>3</owner-id>")
	addClient(t, s, asAdmin, "1.6.3.5", "c2", "<owner-id>3</owner-id>")
	rs := results(admin(t, s, pk("1.6.3.5", `<get><filter><owner-id>3</owner-id></filter><dataset><gen_info/></dataset></get>`)), "customer", "get")
	if len(rs) != 2 || text1(t, rs[0], "filter-id") != "3" || text1(t, rs[1], "filter-id") != "3" {
		t.Fatalf("results %d", len(rs))
	}
}

// REC-1: add with a taken login is 1007 with the recorded text and no id.
func TestRecAddExisting(t *testing.T) {
	s := rec1Sim(t)
	addClient(t, s, asAdmin, "1.6.3.5", "cust91")
	r := results(admin(t, s, pk("1.6.3.5", addOp("cust91"))), "customer", "add")[0]
	wantErr(t, r, "1007")
	if text1(t, r, "errtext") != "Client with login name 'cust91' already exists." || len(texts(r, "id")) != 0 {
		t.Fatalf("errtext %q id %v", text1(t, r, "errtext"), texts(r, "id"))
	}
}

// REC-1: set on an unknown login is 1013 "client does not exist", with
// filter-id and without id.
func TestRecSetUnknown(t *testing.T) {
	s := rec1Sim(t)
	r := results(admin(t, s, pk("1.6.3.5", `<set><filter><login>ghost</login></filter><values><gen_info><pname>X</pname></gen_info></values></set>`)), "customer", "set")[0]
	wantErr(t, r, "1013")
	if text1(t, r, "errtext") != "client does not exist" || text1(t, r, "filter-id") != "ghost" || len(texts(r, "id")) != 0 {
		t.Fatalf("errtext %q filter-id %v id %v", text1(t, r, "errtext"), texts(r, "filter-id"), texts(r, "id"))
	}
}

// REC-1: server get stat reports the panel version.
func TestRecServerStatVersion(t *testing.T) {
	s := newSim(t, Config{Protocol: "1.6.3.5", PleskVersion: "11.5.30"})
	r := results(admin(t, s, `<packet version="1.6.3.5"><server><get><stat/></get></server></packet>`), "server", "get")[0]
	wantOK(t, r)
	if text1(t, r, "stat/version/plesk_version") != "11.5.30" {
		t.Fatalf("plesk_version %v", texts(r, "stat/version/plesk_version"))
	}
}

// REC-2: an unversioned packet with <client> gets the newest schema's 1014
// with Obsidian's operator list, cut at 10 names.
func TestRecClientOperatorRefused(t *testing.T) {
	s := newSim(t, Config{})
	root := admin(t, s, "<packet>\n<client><get><filter/><dataset><gen_info/></dataset></get></client></packet>")
	wantSystem(t, root, "1014", "")
	want := "Parser error: Request is invalid. Error in line 2: Element 'client': This element is not expected. Expected is one of ( request-settings, server, customer, webspace, subdomain, dns, db_server, mail, certificate, site-alias )."
	if got := text1(t, root, "system/errtext"); got != want {
		t.Fatalf("errtext\n got %q\nwant %q", got, want)
	}
}

// REC-3: an unversioned get matching nothing answers the newest version
// (1.6.9.0 there) with an empty <get/>; an empty id is 1014 naming id_type;
// a 1.6.0.2 answer echoes 1.6.0.2.
func TestRecOtherAnswers(t *testing.T) {
	s := newSim(t, Config{Protocol: "1.6.9.0"})
	code, out := post(t, s, asAdmin, `<packet><customer><get><filter/><dataset><gen_info/></dataset></get></customer></packet>`)
	if code != 200 || !strings.Contains(out, `<packet version="1.6.9.0"><customer><get/></customer></packet>`) {
		t.Fatalf("answer %s", out)
	}
	root := admin(t, s, "<packet version=\"1.6.9.0\">\n<customer>\n<get>\n<filter>\n<id></id>\n</filter><dataset><gen_info/></dataset></get></customer></packet>")
	wantSystem(t, root, "1014", "Error in line 5: Element 'id': '' is not a valid value of the atomic type 'id_type'.")
	old := newSim(t, Config{})
	if v := attrOf(admin(t, old, `<packet version="1.6.0.2"><client><get><filter/><dataset><gen_info/></dataset></get></client></packet>`), "version"); v != "1.6.0.2" {
		t.Fatalf("version %q", v)
	}
}

// §15 "Versions seen": get_protos lists 1.0.0.0 and up, with every recorded version.
func TestRecVersionsListed(t *testing.T) {
	s := newSim(t, Config{})
	got := texts(results(admin(t, s, `<packet><server><get_protos/></server></packet>`), "server", "get_protos")[0], "protos/proto")
	for _, v := range []string{"1.0.0.0", "1.1.0.0", "1.2.0.0", "1.3.0.0", "1.3.5.0", "1.3.5.1", "1.4.1.1", "1.4.1.2", "1.6.0.1",
		"1.6.0.2", "1.6.3.0", "1.6.3.1", "1.6.3.2", "1.6.3.5", "1.6.4.0", "1.6.6.0", "1.6.7.0", "1.6.9.0", "1.6.9.1"} {
		if !slices.Contains(got, v) {
			t.Errorf("get_protos lacks %s", v)
		}
	}
	if got[0] != "1.0.0.0" {
		t.Errorf("first %s", got[0])
	}
}

// §8: packets at 1.0–1.3 are accepted for what existed then: the client
// operator, filter by id only, add with gen_info only, no owners, the
// password hash only from 1.3.5.0.
func TestOldVersions(t *testing.T) {
	s := newSim(t, Config{})
	for _, v := range []string{"1.0.0.0", "1.3.4.0", "1.3.5.0"} {
		id := strconv.Itoa(addClient(t, s, asAdmin, v, "old"+strings.ReplaceAll(v, ".", "")))
		gi := find(results(admin(t, s, pk(v, `<get><filter><id>`+id+`</id></filter><dataset><gen_info/><limits/></dataset></get>`)), "client", "get")[0], "data/gen_info")[0]
		if got := len(texts(gi, "password")) == 1; got != (v == "1.3.5.0") {
			t.Errorf("%s: password present %v", v, got)
		}
		if len(texts(gi, "owner-login")) != 0 || len(texts(gi, "owner-id")) != 0 {
			t.Errorf("%s: owner in gen_info", v)
		}
		wantSystem(t, admin(t, s, pk(v, `<get><filter><login>x</login></filter><dataset><gen_info/></dataset></get>`)), "1014", "Element 'login'")
		wantSystem(t, admin(t, s, pk(v, `<add><gen_info><pname>P</pname><login>t`+id+`</login><passwd>secret1</passwd></gen_info><template-name>T</template-name></add>`)), "1014", "Element 'template-name'")
		wantSystem(t, admin(t, s, pk(v, `<customer/>`)), "1014", "Element 'customer'")
	}
}

func TestServerGet(t *testing.T) {
	s := newSim(t, Config{Resellers: []Account{{"res1", "rpass"}}, DemoClients: true})
	r := results(admin(t, s, `<packet><server><get><key/><gen_info/><stat/></get></server></packet>`), "server", "get")[0]
	wantOK(t, r)
	if got := names(r.children); !slices.Equal(got, []string{"status", "key", "gen_info", "stat"}) {
		t.Fatalf("result children %v", got)
	}
	if texts(r, "key/property/name")[0] != "plesk_key_id" || texts(r, "key/property/value")[1] != "18.0" {
		t.Errorf("key %v", texts(r, "key/property/value"))
	}
	if text1(t, r, "gen_info/server_guid") != s.users[0].guid || text1(t, r, "gen_info/server_name") == "" {
		t.Error("gen_info")
	}
	if text1(t, r, "stat/objects/clients") != strconv.Itoa(len(DemoSeed)) || text1(t, r, "stat/version/plesk_version") != "18.0.41" {
		t.Errorf("stat clients %v", texts(r, "stat/objects/clients"))
	}
	for _, part := range []string{"objects", "version", "other", "load_avg", "mem", "swap", "diskspace"} {
		if len(find(r, "stat/"+part)) != 1 {
			t.Errorf("stat/%s missing", part)
		}
	}
	// Only what was asked for, in schema order.
	r = results(admin(t, s, `<packet><server><get><gen_info/></get></server></packet>`), "server", "get")[0]
	if got := names(r.children); !slices.Equal(got, []string{"status", "gen_info"}) {
		t.Fatalf("gen_info only: %v", got)
	}
	wantSystem(t, admin(t, s, `<packet><server><get><stat/><key/></get></server></packet>`), "1014", "Element 'key'")
	wantErr(t, results(call(t, s, as("res1", "rpass"), `<packet><server><get><key/></get></server></packet>`), "server", "get")[0], "1006")
}

func TestSHA256Crypt(t *testing.T) {
	// Vectors computed with `openssl passwd -5 -salt SALT PASSWORD`.
	for _, c := range [][3]string{
		{"Hello world!", "saltstring", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
		{"a-much-longer-password-exceeding-thirty-two-bytes!!", "s4ltS4lt", "$5$s4ltS4lt$UiVHHwVymv1FpcbVfNYY7TtTcaF6ZtUutVR8HCLlWl0"},
	} {
		if got := sha256Crypt(c[0], c[1]); got != c[2] {
			t.Errorf("sha256Crypt(%q, %q) = %s, want %s", c[0], c[1], got, c[2])
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	for _, c := range []struct {
		p          PasswordPolicy
		ok, refuse []string
	}{
		{PasswordPolicyOff, []string{"1", "123"}, nil},
		{PasswordPolicyWeak, []string{"12345", "abcde"}, []string{"123", "abcd"}},
		{PasswordPolicyMedium, []string{"abcdefg1", "Jhtr66fBB", "correct-horse-battery-staple"}, []string{"123", "abcdefgh", "12345678", "abc1", "Ab1"}},
		{PasswordPolicyStrong, []string{"Abcdefg1!", "Jhtr66f#B"}, []string{"Jhtr66fBB", "abcdefg1!", "ABCDEFG1!", "Ab1!"}},
	} {
		s := newSim(t, Config{PasswordPolicy: c.p})
		weakest := "1"
		if len(c.refuse) > 0 {
			weakest = c.refuse[0]
		}
		for i, pw := range append(slices.Clone(c.ok), c.refuse...) {
			login := "u" + strconv.Itoa(i)
			r := results(admin(t, s, pk("1.6.9.1", `<add><gen_info><pname>P</pname><login>`+login+`</login><passwd>`+pw+`</passwd></gen_info></add>`)), "customer", "add")[0]
			if i < len(c.ok) {
				wantOK(t, r)
				// set is held to the same rule.
				rs := results(admin(t, s, pk("1.6.9.1", `<set><filter><login>`+login+`</login></filter><values><gen_info><passwd>`+weakest+`</passwd></gen_info></values></set>`)), "customer", "set")[0]
				if c.p == PasswordPolicyOff {
					wantOK(t, rs)
				} else {
					wantErr(t, rs, "1019")
				}
				continue
			}
			wantErr(t, r, "1019")
			if text1(t, r, "errtext") != passwordPolicyText(c.p) || !strings.Contains(text1(t, r, "errtext"), c.p.Rule()) {
				t.Errorf("%s %q: errtext %q", c.p, pw, text1(t, r, "errtext"))
			}
		}
	}
	if _, err := New(Config{PasswordPolicy: "extreme"}); err == nil {
		t.Error("unknown policy accepted")
	}
}

// [DOC] type-clientaddgeninfo.34336 lengths: 1019 beyond them, on add and set.
func TestFieldLengths(t *testing.T) {
	s := newSim(t, Config{})
	long := func(n int) string { return strings.Repeat("é", n) } // characters, not bytes
	for _, c := range []struct {
		field string
		ok    int
		bad   int
	}{{"pname", 60, 61}, {"cname", 60, 61}, {"phone", 30, 31}, {"city", 50, 51}, {"state", 25, 26}, {"pcode", 10, 11}, {"email", 255, 256}} {
		for _, n := range []int{c.ok, c.bad} {
			login := c.field + strconv.Itoa(n)
			fields := map[string]string{"pname": "P"}
			fields[c.field] = long(n)
			var gi strings.Builder
			for _, f := range []string{"cname", "pname", "login", "passwd", "phone", "email", "city", "state", "pcode"} {
				switch f {
				case "login":
					gi.WriteString("<login>" + login + "</login>")
				case "passwd":
					gi.WriteString("<passwd>secret1</passwd>")
				default:
					if v, ok := fields[f]; ok {
						gi.WriteString("<" + f + ">" + v + "</" + f + ">")
					}
				}
			}
			r := results(admin(t, s, pk("1.6.9.1", `<add><gen_info>`+gi.String()+`</gen_info></add>`)), "customer", "add")[0]
			if n == c.ok {
				wantOK(t, r)
				set := results(admin(t, s, pk("1.6.9.1", `<set><filter><login>`+login+`</login></filter><values><gen_info><`+c.field+`>`+long(c.bad)+`</`+c.field+`></gen_info></values></set>`)), "customer", "set")[0]
				wantErr(t, set, "1019")
			} else {
				wantErr(t, r, "1019")
				if !strings.Contains(text1(t, r, "errtext"), c.field) {
					t.Errorf("errtext %q", text1(t, r, "errtext"))
				}
			}
		}
	}
	addLogin := func(login string) *node {
		return results(admin(t, s, pk("1.6.9.1", `<add><gen_info><pname>P</pname><login>`+login+`</login><passwd>secret1</passwd></gen_info></add>`)), "customer", "add")[0]
	}
	wantErr(t, addLogin(strings.Repeat("l", 61)), "1019")
	wantOK(t, addLogin(strings.Repeat("l", 60)))
}

func recordedHeaders(t *testing.T, s *Server, body string) http.Header {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, AgentPath, strings.NewReader(body))
	for k, v := range asAdmin {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w.Result().Header
}

// TestServerKeyLicenceProperties: the key answer carries the properties
// Plesk's own PHP library reads (api-php-lib tests: ServerTest asserts
// plesk_key_id and lim_date; CustomerTest::testGetAll checks
// can-manage-customers and lim_cl with KeyLimitChecker before it lists
// customers), with values its checks read as PHP's intval does: a licence
// that can manage customers and resellers, without a limit (-1).
func TestServerKeyLicenceProperties(t *testing.T) {
	s := newSim(t, Config{})
	r := results(admin(t, s, `<packet><server><get><key/></get></server></packet>`), "server", "get")[0]
	wantOK(t, r)
	keys, values := texts(r, "key/property/name"), texts(r, "key/property/value")
	if len(keys) != len(values) {
		t.Fatalf("properties without a value: %v / %v", keys, values)
	}
	got := make(map[string]string, len(keys))
	for i, k := range keys {
		if _, dup := got[k]; dup {
			t.Errorf("property %s twice", k)
		}
		got[k] = values[i]
	}
	for _, name := range []string{"plesk_key_id", "product_version", "lim_date", "can-manage-customers", "can-manage-resellers", "lim_cl", "lim_dom"} {
		if _, ok := got[name]; !ok {
			t.Errorf("key lacks %s: %v", name, got)
		}
	}
	intval := func(name string) int {
		n, _ := strconv.Atoi(got[name]) // PHP's intval: 0 for what is not a number
		return n
	}
	// KeyLimitChecker::checkByType(keyInfo, LIMIT_CLIENTS, 2), as testGetAll calls it.
	if intval("can-manage-customers") == 0 || !(intval("lim_cl") == -1 || intval("lim_cl") > 2) {
		t.Errorf("Plesk's testGetAll would skip: can-manage-customers=%q lim_cl=%q", got["can-manage-customers"], got["lim_cl"])
	}
	if intval("can-manage-resellers") == 0 || !(intval("lim_dom") == -1 || intval("lim_dom") > 2) {
		t.Errorf("resellers or domains limited: can-manage-resellers=%q lim_dom=%q", got["can-manage-resellers"], got["lim_dom"])
	}
}
