package plesksim

import (
	"slices"
	"strconv"
	"testing"
)

func TestLegacyLimitsAndPermissions(t *testing.T) {
	for _, v := range []string{"1.4.2.0", "1.5.2.0", "1.6.0.0"} {
		t.Run(v, func(t *testing.T) {
			pairs := mustV(v).atLeast(v1500)
			s := newSim(t, Config{})
			id := strconv.Itoa(addClient(t, s, asAdmin, v, "jdoe"))
			limits := `<limits><max_dom>5</max_dom><disk_space>1048576000</disk_space></limits>`
			if pairs {
				limits = `<limits><resource-policy><overuse>block</overuse></resource-policy>` +
					`<limit><name>max_dom</name><value>5</value></limit><limit><name>disk_space</name><value>1048576000</value></limit></limits>`
			}
			perms := `<permissions><create_domains>true</create_domains><manage_dns>1</manage_dns></permissions>`
			if pairs {
				perms = `<permissions><permission><name>create_domains</name><value>true</value></permission>` +
					`<permission><name>manage_dns</name><value>1</value></permission></permissions>`
			}
			root := admin(t, s, pk(v, `<set><filter><id>`+id+`</id></filter><values>`+
				`<gen_info><email>j@example.com</email></gen_info>`+limits+perms+`</values></set>`))
			wantOK(t, results(root, "client", "set")[0])
			c := clientByLogin(t, s, "jdoe")
			if c.Limits["max_dom"] != 5 || c.Limits["disk_space"] != 1048576000 || len(c.Limits) != 2 {
				t.Fatalf("limits %v", c.Limits)
			}
			if !c.Permissions["create_domains"] || !c.Permissions["manage_dns"] || len(c.Permissions) != 2 || c.Email != "j@example.com" {
				t.Fatalf("permissions %v", c.Permissions)
			}

			root = admin(t, s, pk(v, `<get><filter><id>`+id+`</id></filter><dataset><gen_info/><stat/><permissions/><limits/><ippool/></dataset></get>`))
			r := results(root, "client", "get")[0]
			wantOK(t, r)
			data := find(r, "data")[0]
			if got := names(data.children); !slices.Equal(got, []string{"gen_info", "stat", "permissions", "limits", "ippool"}) {
				t.Fatalf("data blocks %v", got)
			}
			if pairs {
				lim := map[string]string{}
				for _, l := range find(data, "limits/limit") {
					lim[text1(t, l, "name")] = text1(t, l, "value")
				}
				if lim["max_dom"] != "5" || lim["max_subdom"] != "-1" || len(lim) != len(limitNames) {
					t.Fatalf("limit pairs %v", lim)
				}
				if text1(t, data, "limits/resource-policy/overuse") != "block" {
					t.Fatal("overuse")
				}
			} else {
				if text1(t, data, "limits/max_dom") != "5" || text1(t, data, "limits/disk_space") != "1048576000" || len(find(data, "limits/limit")) != 0 {
					t.Fatal("named limits")
				}
			}
			got := map[string]string{}
			if pairs {
				for _, p := range find(data, "permissions/permission") {
					got[text1(t, p, "name")] = text1(t, p, "value")
				}
			} else {
				for _, p := range find(data, "permissions")[0].children {
					got[p.name] = p.value()
				}
			}
			if got["create_domains"] != "true" || got["manage_dns"] != "true" || got["manage_log"] != "false" {
				t.Fatalf("permissions %v", got)
			}

			// Unknown names: 1019 for pairs, 1014 for the named-element format.
			if pairs {
				root = admin(t, s, pk(v, `<set><filter><id>`+id+`</id></filter><values><gen_info><pname>Changed</pname></gen_info><limits><limit><name>max_unicorns</name><value>1</value></limit></limits></values></set>`))
				wantErr(t, results(root, "client", "set")[0], "1019")
				if clientByLogin(t, s, "jdoe").Name == "Changed" {
					t.Fatal("refused set applied gen_info")
				}
			} else {
				wantSystem(t, admin(t, s, pk(v, `<set><filter><id>`+id+`</id></filter><values><limits><max_unicorns>1</max_unicorns></limits></values></set>`)), "1014", "Element 'max_unicorns'")
			}
			if pairs {
				root = admin(t, s, pk(v, `<set><filter><id>`+id+`</id></filter><values><permissions><permission><name>fly</name><value>true</value></permission></permissions></values></set>`))
				wantErr(t, results(root, "client", "set")[0], "1019")
			} else {
				wantSystem(t, admin(t, s, pk(v, `<set><filter><id>`+id+`</id></filter><values><permissions><fly>true</fly></permissions></values></set>`)), "1014", "Element 'fly'")
			}
			badBool := `<permissions><manage_dns>yes</manage_dns></permissions>`
			badElem := "manage_dns"
			if pairs {
				badBool, badElem = `<permissions><permission><name>manage_dns</name><value>yes</value></permission></permissions>`, "value"
			}
			wantSystem(t, admin(t, s, pk(v, `<set><filter><id>`+id+`</id></filter><values>`+badBool+`</values></set>`)),
				"1014", "Element '"+badElem+"': 'yes' is not a valid value of the atomic type 'boolean'.")
			if pairs {
				wantSystem(t, admin(t, s, pk(v, `<set><filter><id>`+id+`</id></filter><values><limits><limit><name>max_dom</name><value>lots</value></limit></limits></values></set>`)),
					"1014", "'lots' is not a valid value of the atomic type 'long'.")
				wantSystem(t, admin(t, s, pk(v, `<set><filter><id>`+id+`</id></filter><values><limits><resource-policy><overuse>panic</overuse></resource-policy></limits></values></set>`)),
					"1014", "[facet 'enumeration']")
			}
		})
	}
}

func TestLegacyIPPool(t *testing.T) {
	for _, v := range []string{"1.4.2.0", "1.5.2.0", "1.6.0.0"} {
		t.Run(v, func(t *testing.T) {
			s := newSim(t, Config{Resellers: []Account{{"res1", "rpass"}}})
			id := strconv.Itoa(addClient(t, s, asAdmin, v, "jdoe"))
			op := func(c creds, name, body string) []*node {
				return results(call(t, s, c, pk(v, `<`+name+`>`+body+`</`+name+`>`)), "client", name)
			}
			rs := op(asAdmin, "ippool_add_ip", `<client_id>`+id+`</client_id><ip_address>192.0.2.10</ip_address><ip_address>192.0.2.99</ip_address><ip_address>192.0.2.10</ip_address><ip_address>2001:db8::10</ip_address>`)
			if len(rs) != 4 {
				t.Fatalf("results %d", len(rs))
			}
			wantOK(t, rs[0])
			wantErr(t, rs[1], "1018")
			wantErr(t, rs[2], "1007")
			wantOK(t, rs[3])
			for i, ip := range []string{"192.0.2.10", "192.0.2.99", "192.0.2.10", "2001:db8::10"} {
				if text1(t, rs[i], "ip_address") != ip {
					t.Errorf("result %d ip_address", i)
				}
			}
			if text1(t, rs[1], "errtext") != "IP address does not exist." {
				t.Error("1018 errtext")
			}
			if got := clientByLogin(t, s, "jdoe").IPPool; !slices.Equal(got, []string{"192.0.2.10", "2001:db8::10"}) {
				t.Fatalf("pool %v", got)
			}
			root := admin(t, s, pk(v, `<get><filter><id>`+id+`</id></filter><dataset><ippool/></dataset></get>`))
			ips := find(results(root, "client", "get")[0], "data/ippool/ip")
			if len(ips) != 2 || text1(t, ips[0], "ip-address") != "192.0.2.10" || text1(t, ips[0], "ip-type") != "shared" {
				t.Fatal("ippool data")
			}
			// Unknown client, and a reseller touching the admin's client.
			wantErr(t, op(asAdmin, "ippool_add_ip", `<client_id>999</client_id><ip_address>192.0.2.11</ip_address>`)[0], "1013")
			resellerCode := "1013" // another owner's client is invisible
			if !mustV(v).atLeast(v1600) {
				resellerCode = "1006" // no reseller access before 1.6.0.0
			}
			wantErr(t, op(as("res1", "rpass"), "ippool_add_ip", `<client_id>`+id+`</client_id><ip_address>192.0.2.11</ip_address>`)[0], resellerCode)
			rs = op(asAdmin, "ippool_del_ip", `<client_id>`+id+`</client_id><ip_address>192.0.2.10</ip_address><ip_address>192.0.2.12</ip_address>`)
			wantOK(t, rs[0])
			wantErr(t, rs[1], "1018")
			if got := clientByLogin(t, s, "jdoe").IPPool; !slices.Equal(got, []string{"2001:db8::10"}) {
				t.Fatalf("pool after del %v", got)
			}
			// Order: client_id first, then at least one ip_address.
			wantSystem(t, admin(t, s, pk(v, `<ippool_add_ip><ip_address>192.0.2.10</ip_address><client_id>`+id+`</client_id></ippool_add_ip>`)), "1014", "Element 'ip_address': This element is not expected. Expected is ( client_id ).")
			wantSystem(t, admin(t, s, pk(v, `<ippool_del_ip><client_id>`+id+`</client_id></ippool_del_ip>`)), "1014", "Element 'ippool_del_ip': Missing child element(s). Expected is ( ip_address ).")
			// Cascade: deleting the client removes its pool; a new client starts empty.
			admin(t, s, pk(v, `<del><filter><id>`+id+`</id></filter></del>`))
			wantErr(t, op(asAdmin, "ippool_del_ip", `<client_id>`+id+`</client_id><ip_address>2001:db8::10</ip_address>`)[0], "1013")
			addClient(t, s, asAdmin, v, "jdoe")
			if len(clientByLogin(t, s, "jdoe").IPPool) != 0 || len(clientByLogin(t, s, "jdoe").Limits) != 0 {
				t.Fatal("recreated client inherited state")
			}
		})
	}
}

func TestLegacyButtons(t *testing.T) {
	v := "1.6.0.0"
	s := newSim(t, Config{})
	id := strconv.Itoa(addClient(t, s, asAdmin, v, "jdoe"))
	rs := results(admin(t, s, pk(v, `<cform_buttons_list><filter><id>`+id+`</id><id>77</id></filter></cform_buttons_list>`)), "client", "cform_buttons_list")
	wantOK(t, rs[0])
	wantErr(t, rs[1], "1013")
	buttons := find(rs[0], "button")
	if len(buttons) < 3 {
		t.Fatalf("%d buttons", len(buttons))
	}
	for _, b := range buttons {
		for _, f := range []string{"code", "type", "name", "name_id", "group_name", "group_name_id", "href", "enabled"} {
			if len(texts(b, f)) != 1 {
				t.Fatalf("button lacks %s", f)
			}
		}
	}
	if text1(t, rs[0], "filter-id") != id {
		t.Fatal("filter-id")
	}
}

func TestLegacyDescriptors(t *testing.T) {
	for _, v := range []string{"1.5.0.0", "1.5.2.0", "1.6.0.2"} {
		t.Run(v, func(t *testing.T) {
			s := newSim(t, Config{})
			id := strconv.Itoa(addClient(t, s, asAdmin, v, "jdoe"))
			for _, kind := range []string{"get-limit-descriptor", "get-permission-descriptor"} {
				rs := results(admin(t, s, pk(v, `<`+kind+`><filter/></`+kind+`>`)), "client", kind)
				if len(rs) != 1 {
					t.Fatalf("%s blank: %d results", kind, len(rs))
				}
				wantOK(t, rs[0])
				if len(texts(rs[0], "filter-id"))+len(texts(rs[0], "id")) != 0 {
					t.Fatalf("%s blank result has filter-id/id", kind)
				}
				props := find(rs[0], "descriptor/property")
				var pnames []string
				for _, p := range props {
					pnames = append(pnames, text1(t, p, "name"))
				}
				if kind == "get-limit-descriptor" {
					if !slices.Equal(pnames, limitNames) {
						t.Fatalf("limit names %v", pnames)
					}
					if text1(t, props[0], "type") != "int" || text1(t, props[0], "extension/shared") != "false" {
						t.Fatal("limit property shape")
					}
				} else {
					if !slices.Equal(pnames, permissionNames) {
						t.Fatalf("permission names %v", pnames)
					}
					if text1(t, props[0], "type") != "boolean" || text1(t, props[0], "default-value") != "false" || len(texts(props[0], "extension/level")) == 0 {
						t.Fatal("permission property shape")
					}
				}
				rs = results(admin(t, s, pk(v, `<`+kind+`><filter><login>jdoe</login><login>nobody</login></filter></`+kind+`>`)), "client", kind)
				if len(rs) != 2 {
					t.Fatalf("%s filtered: %d results", kind, len(rs))
				}
				wantOK(t, rs[0])
				if text1(t, rs[0], "filter-id") != "jdoe" || text1(t, rs[0], "id") != id || len(find(rs[0], "descriptor/property")) != len(props) {
					t.Fatalf("%s filtered result", kind)
				}
				wantErr(t, rs[1], "1013")
			}
			// Every name the descriptors list is accepted by SET.
			var lims, perms string
			for _, n := range limitNames {
				lims += `<limit><name>` + n + `</name><value>1</value></limit>`
			}
			for _, n := range permissionNames {
				perms += `<permission><name>` + n + `</name><value>true</value></permission>`
			}
			root := admin(t, s, pk(v, `<set><filter><login>jdoe</login></filter><values><limits>`+lims+`</limits><permissions>`+perms+`</permissions></values></set>`))
			wantOK(t, results(root, "client", "set")[0])
		})
	}
}
