package plesksim

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

const getAll = `<customer><get><filter/><dataset><gen_info/></dataset></get></customer>`

func TestNewRejectsUnknownProtocol(t *testing.T) {
	for _, p := range []string{"1.6.9.2", "1.6", "x", "0.9.0.0", "1.3.6.0"} {
		if _, err := New(Config{Protocol: p}); err == nil {
			t.Errorf("New(Protocol %q) succeeded", p)
		}
	}
	if _, err := New(Config{Faults: Faults{Kind: "boom"}}); err == nil {
		t.Error("New with unknown fault kind succeeded")
	}
}

func TestCheckupOrder(t *testing.T) {
	s := newSim(t, Config{Keys: []string{"sekrit"}, Resellers: []Account{{"res1", "rpass"}}})
	valid := `<packet version="1.6.9.1">` + getAll + `</packet>`
	invalid := `<packet version="1.6.9.1"><customer><bogus/></customer></packet>`
	cases := []struct {
		name    string
		c       creds
		body    string
		code    string
		errtext string
	}{
		{"unsupported version before auth", nil, `<packet version="100.0.0">` + getAll + `</packet>`, "1005", "version not supported"},
		{"too old version", asAdmin, `<packet version="0.9.0.0"><client/></packet>`, "1005", ""},
		{"unknown partial", asAdmin, `<packet version="1.7"/>`, "1005", ""},
		{"garbage version", asAdmin, `<packet version="abc"/>`, "1005", ""},
		{"no auth headers", nil, valid, "1029", "Authentication method is not specified"},
		{"login without password", creds{"HTTP_AUTH_LOGIN": "admin"}, valid, "1029", ""},
		{"misspelt password header", creds{"HTTP_AUTH_LOGIN": "admin", "HTTP_AUTH_PASSWORD": "setup"}, valid, "1029", ""},
		{"wrong password", as("admin", "nope"), valid, "1001", ""},
		{"unknown login", as("ghost", "setup"), valid, "1001", ""},
		{"wrong key", creds{"KEY": "wrong"}, valid, "11003", ""},
		{"auth before validity", as("admin", "nope"), invalid, "1001", ""},
		{"version before validity", asAdmin, `<packet version="9.9.9.9"><bogus/></packet>`, "1005", ""},
		{"invalid packet", asAdmin, invalid, "1014", "Element 'bogus': This element is not expected."},
		{"unknown operator", asAdmin, `<packet version="1.6.9.1"><webspace><get/></webspace></packet>`, "1014", "Element 'webspace': This element is not expected."},
		{"malformed xml", asAdmin, `<packet version="1.6.9.1"><customer></packet>`, "1014", "Parser error: Request is invalid. Error in line 1"},
		{"empty body", asAdmin, ``, "1014", "Document is empty"},
		{"wrong root", asAdmin, `<pack/>`, "1014", "Element 'pack': No matching global declaration"},
		{"empty packet", asAdmin, `<packet/>`, "1014", "Element 'packet': Missing child element(s)."},
		{"doctype refused", asAdmin, `<!DOCTYPE packet [<!ENTITY x "y">]><packet/>`, "1014", ""},
		{"attribute refused", asAdmin, `<packet version="1.6.9.1" foo="1">` + getAll + `</packet>`, "1014", "attribute 'foo'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := call(t, s, tc.c, tc.body)
			wantSystem(t, root, tc.code, tc.errtext)
		})
	}
	// The version is echoed in system errors too.
	root := call(t, s, nil, `<packet version="100.0.0"/>`)
	if v := attrOf(root, "version"); v != "100.0.0" {
		t.Errorf("echoed version %q", v)
	}
	// Good key and reseller password authenticate.
	if root := call(t, s, creds{"KEY": "sekrit"}, valid); root.child("customer") == nil {
		t.Fatal("key login failed")
	}
	if root := call(t, s, as("res1", "rpass"), valid); root.child("customer") == nil {
		t.Fatal("reseller login failed")
	}
}

func attrOf(n *node, name string) string {
	for _, a := range n.attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func TestNothingExecutedOnSystemError(t *testing.T) {
	s := newSim(t, Config{})
	root := admin(t, s, `<packet version="1.6.9.1"><customer>
<add><gen_info><pname>A</pname><login>a1</login><passwd>secret1</passwd></gen_info></add>
<add><gen_info><pname>B</pname><login>b1</login><passwd>secret1</passwd><bogus/></gen_info></add>
</customer></packet>`)
	wantSystem(t, root, "1014", "Error in line 3: Element 'bogus': This element is not expected.")
	if n := len(s.Clients()); n != 0 {
		t.Fatalf("%d clients created by a refused packet", n)
	}
	if st := s.Stats(); len(st.Operations) != 0 || st.Requests != 1 {
		t.Fatalf("stats after refused packet: %+v", st)
	}
}

func TestHTTPSurface(t *testing.T) {
	s := newSim(t, Config{})
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		r := httptest.NewRequest(m, AgentPath, nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "POST" {
			t.Errorf("%s: %d %q", m, w.Code, w.Header().Get("Allow"))
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/other", strings.NewReader(`<packet/>`))
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusNotFound {
		t.Errorf("other path: %d", w.Code)
	}
	big := `<packet version="1.6.9.1">` + strings.Repeat(" ", MaxBodyBytes) + `</packet>`
	if code, _ := post(t, s, asAdmin, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", code)
	}
	code, out := post(t, s, asAdmin, `<packet>`+getAll+`</packet>`)
	if code != 200 || !strings.Contains(out, `<packet version="1.6.9.1">`) {
		t.Errorf("no version: %d %s", code, out)
	}
	if st := s.Stats(); st.Requests != 4 || st.Operations["customer/get"] != 1 {
		t.Errorf("stats %+v", st)
	}
	s.ResetStats()
	if st := s.Stats(); st.Requests != 0 || len(st.Operations) != 0 {
		t.Errorf("after reset %+v", st)
	}
}

func TestVersions(t *testing.T) {
	s := newSim(t, Config{})
	vs := s.Versions()
	if vs[0] != "1.0.0.0" || vs[len(vs)-1] != "1.6.9.1" || len(vs) != 35 {
		t.Fatalf("Versions() = %v", vs)
	}
	if !slices.IsSortedFunc(vs, func(a, b string) int { x, _ := parseExact(a); y, _ := parseExact(b); return x.cmp(y) }) {
		t.Fatal("versions not ascending")
	}
	legacy := `<client><get><filter/><dataset><gen_info/></dataset></get></client>`
	cases := []struct {
		attr     string // "-" = absent
		body     string
		wantEcho string
		wantOp   string // operator element expected in the answer, or "" for 1014
	}{
		{"1.6.9.1", getAll, "1.6.9.1", "customer"},
		{"1.6.3.0", getAll, "1.6.3.0", "customer"},
		{"1.6", getAll, "1.6", "customer"},     // newest 1.6.x.x = 1.6.9.1
		{"1.6.5", getAll, "1.6.5", "customer"}, // 1.6.5.0
		{"1.6.0", legacy, "1.6.0", "client"},   // 1.6.0.2
		{"1.6.0", getAll, "1.6.0", ""},         // customer not valid at 1.6.0.2
		{"1.5", legacy, "1.5", "client"},       // 1.5.2.1
		{"1", getAll, "1", "customer"},         // newest 1.x.x.x
		{"-", getAll, "1.6.9.1", "customer"},   // absent → newest
		{"1.6.0.2", legacy, "1.6.0.2", "client"},
		{"1.6.3.0", legacy, "1.6.3.0", ""}, // client not valid from 1.6.3.0
		{"1.4.0.0", legacy, "1.4.0.0", "client"},
	}
	for _, tc := range cases {
		t.Run(tc.attr+"/"+tc.wantOp, func(t *testing.T) {
			open := `<packet version="` + tc.attr + `">`
			if tc.attr == "-" {
				open = `<packet>`
			}
			root := admin(t, s, open+tc.body+`</packet>`)
			if v := attrOf(root, "version"); v != tc.wantEcho {
				t.Errorf("echo %q, want %q", v, tc.wantEcho)
			}
			if tc.wantOp == "" {
				op := "customer"
				if strings.HasPrefix(tc.body, "<client") {
					op = "client"
				}
				wantSystem(t, root, "1014", "Element '"+op+"': This element is not expected.")
				return
			}
			if root.child(tc.wantOp) == nil {
				t.Fatalf("no <%s> in answer: %v", tc.wantOp, names(root.children))
			}
		})
	}
	// A simulator capped at 1.6.0.2 refuses 1.6.3.0 and resolves "1.6" to 1.6.0.2.
	old := newSim(t, Config{Protocol: "1.6.0.2"})
	if got := old.Versions(); got[len(got)-1] != "1.6.0.2" {
		t.Fatalf("capped versions %v", got)
	}
	wantSystem(t, admin(t, old, `<packet version="1.6.3.0">`+getAll+`</packet>`), "1005", "")
	if root := admin(t, old, `<packet version="1.6">`+legacy+`</packet>`); root.child("client") == nil {
		t.Fatal("1.6 on a 1.6.0.2 server did not resolve to the legacy dialect")
	}
	if root := admin(t, old, `<packet>`+legacy+`</packet>`); attrOf(root, "version") != "1.6.0.2" {
		t.Fatal("absent version not answered with the newest")
	}
}

func TestGetProtos(t *testing.T) {
	s := newSim(t, Config{Protocol: "1.6.3.0", Resellers: []Account{{"res1", "rpass"}}})
	for _, v := range []string{"1.4.0.0", "1.6.3.0", ""} {
		body := `<packet version="` + v + `"><server><get_protos/></server></packet>`
		if v == "" {
			body = `<packet><server><get_protos/></server></packet>`
		}
		for _, c := range []creds{asAdmin, as("res1", "rpass")} {
			root := call(t, s, c, body)
			r := results(root, "server", "get_protos")
			if len(r) != 1 {
				t.Fatalf("results %d", len(r))
			}
			wantOK(t, r[0])
			if got := texts(r[0], "protos/proto"); !slices.Equal(got, s.Versions()) {
				t.Fatalf("protos %v, want %v", got, s.Versions())
			}
		}
	}
	if n := s.Stats().Operations["server/get_protos"]; n != 6 {
		t.Fatalf("server/get_protos counted %d", n)
	}
	wantSystem(t, admin(t, s, `<packet><server><get_protos>x</get_protos></server></packet>`), "1014", "Character content is not allowed")
	wantSystem(t, admin(t, s, `<packet><server><get_info/></server></packet>`), "1014", "Element 'get_info': This element is not expected. Expected is one of ( get_protos, get ).")
}

func TestOperationsPerVersion(t *testing.T) {
	s := newSim(t, Config{})
	filter := `<filter><id>1</id></filter>`
	cases := []struct {
		v, body string
		bad     string // element named in the 1014, "" = accepted
	}{
		{"1.4.2.0", `<client><get-limit-descriptor><filter/></get-limit-descriptor></client>`, "get-limit-descriptor"},
		{"1.5.0.0", `<client><get-limit-descriptor><filter/></get-limit-descriptor></client>`, ""},
		{"1.5.0.0", `<client><get-permission-descriptor><filter/></get-permission-descriptor></client>`, ""},
		{"1.5.2.1", `<client><convert-to-reseller>` + filter + `</convert-to-reseller></client>`, "convert-to-reseller"},
		{"1.5.2.1", `<client><change-owner>` + filter + `<new-owner-login>admin</new-owner-login></change-owner></client>`, "change-owner"},
		{"1.6.0.0", `<client><convert-to-reseller>` + filter + `</convert-to-reseller></client>`, ""},
		{"1.6.0.0", `<client><convert-to-reseller>` + filter + `<reseller-plan-name>x</reseller-plan-name></convert-to-reseller></client>`, "reseller-plan-name"},
		{"1.6.0.0", `<client><change-owner>` + filter + `<new-owner-login>admin</new-owner-login><ipV4-address>192.0.2.10</ipV4-address></change-owner></client>`, "ipV4-address"},
		{"1.6.3.0", `<customer><ippool_add_ip><client_id>1</client_id><ip_address>192.0.2.10</ip_address></ippool_add_ip></customer>`, "ippool_add_ip"},
		{"1.6.3.0", `<customer><cform_buttons_list>` + filter + `</cform_buttons_list></customer>`, "cform_buttons_list"},
		{"1.6.3.0", `<customer><get-limit-descriptor><filter/></get-limit-descriptor></customer>`, "get-limit-descriptor"},
		{"1.6.3.0", `<customer><get><filter/><dataset><limits/></dataset></get></customer>`, "limits"},
		{"1.6.0.2", `<client><get><filter/><dataset><limits/><ippool/></dataset></get></client>`, ""},
		// Filter kinds per version.
		{"1.5.2.0", `<client><del><filter><owner-id>1</owner-id></filter></del></client>`, "owner-id"},
		{"1.6.0.0", `<client><del><filter><owner-login>admin</owner-login></filter></del></client>`, ""},
		{"1.6.0.0", `<client><del><filter><guid>x</guid></filter></del></client>`, "guid"},
		{"1.6.0.2", `<client><del><filter><external-id>x</external-id></filter></del></client>`, "external-id"},
		{"1.6.3.0", `<customer><del><filter><guid>x</guid></filter></del></customer>`, ""},
		{"1.6.3.0", `<customer><del><filter><external-id>x</external-id></filter></del></customer>`, ""},
		{"1.4.0.0", `<client><del><filter><login>x</login></filter></del></client>`, ""},
		// Legacy add extras.
		{"1.4.0.0", `<client><add><gen_info><pname>P</pname><login>tpl1</login><passwd>secret1</passwd></gen_info><template-name>Default</template-name></add></client>`, ""},
		{"1.5.2.0", `<client><add><gen_info><pname>P</pname><login>tpl2</login><passwd>secret1</passwd><owner-login>admin</owner-login></gen_info></add></client>`, "owner-login"},
		{"1.6.0.0", `<client><add><gen_info><pname>P</pname><login>tpl3</login><passwd>secret1</passwd><owner-login>admin</owner-login></gen_info><template-id>3</template-id></add></client>`, ""},
		{"1.6.0.0", `<client><add><gen_info><pname>P</pname><login>tpl4</login><passwd>secret1</passwd><external-id>e</external-id></gen_info></add></client>`, "external-id"},
		{"1.6.3.0", `<customer><add><gen_info><pname>P</pname><login>tpl5</login><passwd>secret1</passwd></gen_info><template-name>Default</template-name></add></customer>`, "template-name"},
		// Limits format per version.
		{"1.4.2.0", `<client><set>` + filter + `<values><limits><max_dom>5</max_dom><disk_space>100</disk_space></limits></values></set></client>`, ""},
		{"1.4.2.0", `<client><set>` + filter + `<values><limits><limit><name>max_dom</name><value>1</value></limit></limits></values></set></client>`, "limit"},
		{"1.5.0.0", `<client><set>` + filter + `<values><limits><max_dom>5</max_dom></limits></values></set></client>`, "max_dom"},
		{"1.4.2.0", `<client><set>` + filter + `<values><limits><max_dom>5</max_dom><max_dom>6</max_dom></limits></values></set></client>`, "max_dom"},
		// request-settings only from 1.6.9.0.
		{"1.6.9.1", `<request-settings><setting><name>x</name><value>y</value></setting></request-settings>` + getAll, ""},
		{"1.6.8.0", `<request-settings><setting><name>x</name></setting></request-settings>` + getAll, "request-settings"},
		// get-domain-list only from 1.6.7.0 (answered: domains_test.go); set-billing-info is not simulated.
		{"1.6.6.0", `<customer><get-domain-list>` + filter + `</get-domain-list></customer>`, "get-domain-list"},
	}
	for _, tc := range cases {
		t.Run(tc.v+"/"+tc.bad, func(t *testing.T) {
			root := admin(t, s, `<packet version="`+tc.v+`">`+tc.body+`</packet>`)
			if tc.bad == "" {
				if root.child("system") != nil {
					t.Fatalf("refused: %v", texts(root, "system/errtext"))
				}
				return
			}
			wantSystem(t, root, "1014", "Element '"+tc.bad+"': This element is not expected.")
		})
	}
}
