package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

type obj = map[string]any

// dialectCases are servers whose newest protocol spans both dialects; the
// gateway runs in auto mode against each.
var dialectCases = []string{"1.4.2.0", "1.5.2.0", "1.6.0.0", "1.6.3.0", "1.6.9.1"}

func newClientBody(login string) obj {
	return obj{
		"name": "Stephen Lowell", "login": login, "password": "Jhtr66fBB", "company": "LogicSoft <Ltd> & \"Co\"",
		"phone": "416 907 9944", "email": login + "@example.com", "city": "Toronto", "country": "CA",
	}
}

func TestClientLifecycleEveryDialect(t *testing.T) {
	for _, newest := range dialectCases {
		t.Run(newest, func(t *testing.T) {
			h := newHarness(t, withProtocol(newest))
			r := h.expect(h.do("POST", "/clients", newClientBody("stevelow")), http.StatusCreated)
			var created obj
			r.json(t, &created)
			id := int(created["id"].(float64))
			if got := r.Header.Get("Location"); got != fmt.Sprintf("/clients/%d", id) {
				t.Fatalf("Location %q", got)
			}
			if created["login"] != "stevelow" || created["company"] != "LogicSoft <Ltd> & \"Co\"" {
				t.Fatalf("created %v", created)
			}
			if _, ok := created["password"]; ok {
				t.Fatal("the password came back")
			}
			// The simulator stored exactly what was sent, metacharacters and all.
			if c := h.sim.Clients(); len(c) != 1 || c[0].Company != "LogicSoft <Ltd> & \"Co\"" {
				t.Fatalf("sim state %+v", c)
			}

			r = h.expect(h.do("GET", fmt.Sprintf("/clients/%d", id), nil), http.StatusOK)
			etag := r.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			var got obj
			r.json(t, &got)
			if got["email"] != "stevelow@example.com" || got["name"] != "Stephen Lowell" {
				t.Fatalf("got %v", got)
			}

			// Merge patch: only the fields sent change; null clears.
			r = h.expect(h.do("PATCH", fmt.Sprintf("/clients/%d", id), obj{"city": "Ottawa", "phone": nil}, "application/merge-patch+json"), http.StatusOK)
			got = obj{}
			r.json(t, &got)
			if got["city"] != "Ottawa" || got["phone"] != nil || got["email"] != "stevelow@example.com" {
				t.Fatalf("patched %v", got)
			}
			if c := h.sim.Clients()[0]; c.City != "Ottawa" || c.Phone != "" || c.Email != "stevelow@example.com" || c.Name != "Stephen Lowell" {
				t.Fatalf("sim after patch %+v", c)
			}
			// The old ETag no longer matches.
			h.expect(h.with("If-Match", etag).do("PATCH", fmt.Sprintf("/clients/%d", id), obj{"city": "X"}, "application/merge-patch+json"), http.StatusPreconditionFailed).problem(t)
			if h.sim.Clients()[0].City != "Ottawa" {
				t.Fatal("a failed precondition changed the client")
			}

			r = h.expect(h.do("GET", "/clients?login=stevelow", nil), http.StatusOK)
			var list obj
			r.json(t, &list)
			if items := list["items"].([]any); len(items) != 1 {
				t.Fatalf("list %v", list)
			}

			h.expect(h.do("DELETE", fmt.Sprintf("/clients/%d", id), nil), http.StatusNoContent)
			h.expect(h.do("GET", fmt.Sprintf("/clients/%d", id), nil), http.StatusNotFound).problem(t)
			if len(h.sim.Clients()) != 0 {
				t.Fatal("client not deleted in the simulator")
			}
		})
	}
}

// createClient creates a client as h's caller and returns its id.
func (h *harness) createClient(login string) int {
	h.t.Helper()
	var c obj
	h.expect(h.do("POST", "/clients", newClientBody(login)), http.StatusCreated).json(h.t, &c)
	return int(c["id"].(float64))
}

func TestStatEveryDialect(t *testing.T) {
	for _, newest := range dialectCases {
		t.Run(newest, func(t *testing.T) {
			h := newHarness(t, withProtocol(newest))
			id := h.createClient("statuser")
			var st obj
			h.expect(h.do("GET", fmt.Sprintf("/clients/%d/stat", id), nil), http.StatusOK).json(t, &st)
			if _, ok := st["active_domains"]; !ok {
				t.Fatalf("stat %v", st)
			}
			_, hasWebapps := st["webapps"]
			if hasWebapps != (newest != "1.6.9.1") {
				t.Fatalf("webapps present=%v at %s", hasWebapps, newest)
			}
			var c obj
			h.expect(h.do("GET", fmt.Sprintf("/clients/%d?include=stat", id), nil), http.StatusOK).json(t, &c)
			if c["stat"] == nil {
				t.Fatalf("include=stat: %v", c)
			}
		})
	}
}

// Against a modern server, in auto mode, the legacy-only operations travel as
// client packets at the newest legacy version the server lists.
func TestLegacyOperationsAgainstModernServer(t *testing.T) {
	for _, newest := range []string{"1.6.0.0", "1.6.9.1"} {
		t.Run(newest, func(t *testing.T) {
			h := newHarness(t, withProtocol(newest))
			id := h.createClient("legacyops")
			base := fmt.Sprintf("/clients/%d", id)

			var lim obj
			h.expect(h.do("PATCH", base+"/limits", obj{"limits": obj{"max_dom": 5, "disk_space": 1048576000}}, "application/merge-patch+json"), http.StatusOK).json(t, &lim)
			if l := lim["limits"].(map[string]any); l["max_dom"] != float64(5) || l["disk_space"] != float64(1048576000) {
				t.Fatalf("limits %v", lim)
			}
			h.expect(h.do("GET", base+"/limits", nil), http.StatusOK).json(t, &lim)
			if lim["limits"].(map[string]any)["max_dom"] != float64(5) {
				t.Fatalf("limits %v", lim)
			}
			if h.sim.Clients()[0].Limits["max_dom"] != 5 {
				t.Fatal("limit not stored")
			}
			h.expect(h.do("PATCH", base+"/limits", obj{"limits": obj{"no_such_limit": 1}}, "application/merge-patch+json"), http.StatusUnprocessableEntity).problem(t)

			var perms obj
			h.expect(h.do("PATCH", base+"/permissions", obj{"permissions": obj{"create_domains": true}}, "application/merge-patch+json"), http.StatusOK).json(t, &perms)
			if perms["permissions"].(map[string]any)["create_domains"] != true {
				t.Fatalf("permissions %v", perms)
			}
			h.expect(h.do("GET", base+"/permissions", nil), http.StatusOK).json(t, &perms)

			var pool obj
			h.expect(h.do("POST", base+"/ippool", obj{"ip_address": "192.0.2.10"}), http.StatusCreated).json(t, &pool)
			if ips := pool["ips"].([]any); len(ips) != 1 || ips[0].(map[string]any)["ip_address"] != "192.0.2.10" {
				t.Fatalf("pool %v", pool)
			}
			p := h.expect(h.do("POST", base+"/ippool", obj{"ip_address": "198.51.100.7"}), http.StatusUnprocessableEntity).problem(t)
			if p.PleskErrcode == nil || *p.PleskErrcode != 1018 {
				t.Fatalf("unknown IP: %+v", p)
			}
			h.expect(h.do("GET", base+"/ippool", nil), http.StatusOK).json(t, &pool)
			h.expect(h.do("DELETE", base+"/ippool/192.0.2.10", nil), http.StatusNoContent)
			if len(h.sim.Clients()[0].IPPool) != 0 {
				t.Fatal("IP not removed")
			}

			var buttons obj
			h.expect(h.do("GET", base+"/buttons", nil), http.StatusOK).json(t, &buttons)
			if len(buttons["buttons"].([]any)) == 0 {
				t.Fatal("no buttons")
			}

			var c obj
			h.expect(h.do("GET", base+"?include=limits&include=permissions&include=ippool&include=stat", nil), http.StatusOK).json(t, &c)
			if c["limits"] == nil || c["permissions"] == nil || c["ippool"] == nil || c["stat"] == nil {
				t.Fatalf("include: %v", c)
			}
			if newest == "1.6.9.1" && c["guid"] == nil {
				t.Fatal("a modern read lost the guid when legacy blocks were included")
			}

			for _, path := range []string{"/descriptors/limits", "/descriptors/permissions", base + "/descriptors/limits", base + "/descriptors/permissions"} {
				var d obj
				h.expect(h.do("GET", path, nil), http.StatusOK).json(t, &d)
				if len(d["properties"].([]any)) == 0 {
					t.Fatalf("%s: %v", path, d)
				}
			}

			var meta obj
			h.expect(h.do("GET", "/meta", nil), http.StatusOK).json(t, &meta)
			for _, op := range meta["operations"].([]any) {
				mo := op.(map[string]any)
				if mo["operation_id"] == "listClientDomains" && newest != "1.6.9.1" {
					// get-domain-list's answer is documented from 1.6.8.0 on.
					if mo["supported"] != false {
						t.Fatalf("meta: %v supported below 1.6.8.0", mo)
					}
					continue
				}
				if mo["supported"] != true {
					t.Fatalf("meta: %v unsupported", mo)
				}
				if mo["operation_id"] == "addClientIP" && (mo["version"] != "1.6.0.2" && newest == "1.6.9.1") {
					t.Fatalf("meta addClientIP %v", mo)
				}
				if mo["operation_id"] == "getClient" && mo["version"] != meta["newest_version"] {
					t.Fatalf("meta getClient %v", mo)
				}
			}
		})
	}
}

func TestPinnedModernRefusesLegacyOperations(t *testing.T) {
	h := newHarness(t, withPinned("1.6.9.1"))
	id := h.createClient("pinned")
	base := fmt.Sprintf("/clients/%d", id)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", base + "/limits", nil},
		{"PATCH", base + "/limits", obj{"limits": obj{"max_dom": 1}}},
		{"GET", base + "/permissions", nil},
		{"GET", base + "/ippool", nil},
		{"POST", base + "/ippool", obj{"ip_address": "192.0.2.10"}},
		{"DELETE", base + "/ippool/192.0.2.10", nil},
		{"GET", base + "/buttons", nil},
		{"GET", "/descriptors/limits", nil},
		{"GET", "/descriptors/permissions", nil},
		{"GET", base + "?include=limits", nil},
	} {
		ct := "application/json"
		if c.method == "PATCH" {
			ct = "application/merge-patch+json"
		}
		p := h.expect(h.do(c.method, c.path, c.body, ct), http.StatusNotImplemented).problem(t)
		if !strings.Contains(p.Detail, "1.6.9.1") {
			t.Fatalf("%s %s: detail %q does not name the versions tried", c.method, c.path, p.Detail)
		}
	}
	// The modern operations still work when pinned.
	h.expect(h.do("GET", base, nil), http.StatusOK)
}

func TestOwnerAndConversion(t *testing.T) {
	for _, newest := range []string{"1.6.0.0", "1.6.9.1"} {
		t.Run(newest, func(t *testing.T) {
			h := newHarness(t, withProtocol(newest))
			id := h.createClient("moving")
			base := fmt.Sprintf("/clients/%d", id)
			var owner obj
			h.expect(h.do("GET", base+"/owner", nil), http.StatusOK).json(t, &owner)
			if owner["owner_login"] != "admin" {
				t.Fatalf("owner %v", owner)
			}
			body := obj{"owner_login": "res1"}
			if newest == "1.6.9.1" {
				body["ipv4_addresses"] = []string{"192.0.2.10"}
			}
			h.expect(h.do("PUT", base+"/owner", body), http.StatusOK).json(t, &owner)
			if h.sim.Clients()[0].OwnerLogin != "res1" {
				t.Fatalf("owner not changed: %+v", h.sim.Clients()[0])
			}
			body["owner_login"] = "nobody"
			p := h.expect(h.do("PUT", base+"/owner", body), http.StatusUnprocessableEntity).problem(t)
			if p.PleskErrcode == nil || *p.PleskErrcode != 1015 {
				t.Fatalf("unknown owner: %+v", p)
			}
			// Only the administrator converts.
			p = h.as("res1", resellerPass).expect(h.as("res1", resellerPass).do("POST", base+"/convert-to-reseller", obj{}), http.StatusForbidden).problem(t)
			if p.PleskErrcode == nil || *p.PleskErrcode != 1006 {
				t.Fatalf("reseller convert: %+v", p)
			}
			var conv obj
			h.expect(h.do("POST", base+"/convert-to-reseller", obj{}), http.StatusOK).json(t, &conv)
			if conv["login"] != "moving" {
				t.Fatalf("conversion %v", conv)
			}
			h.expect(h.do("GET", base, nil), http.StatusNotFound)
		})
	}
}

func TestResellerIsolation(t *testing.T) {
	h := newHarness(t)
	r1 := h.as("res1", resellerPass)
	r2 := h.as("res2", otherPass)
	id := r1.createClient("ofres1")
	base := fmt.Sprintf("/clients/%d", id)
	if c := h.sim.Clients()[0]; c.OwnerLogin != "res1" {
		t.Fatalf("owner %q", c.OwnerLogin)
	}
	// The other reseller sees nothing of it on any endpoint.
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", base, nil}, {"PATCH", base, obj{"city": "X"}}, {"DELETE", base, nil},
		{"GET", base + "/stat", nil}, {"GET", base + "/owner", nil},
		{"GET", base + "/limits", nil}, {"GET", base + "/permissions", nil}, {"GET", base + "/ippool", nil},
		{"POST", base + "/ippool", obj{"ip_address": "192.0.2.10"}}, {"GET", base + "/buttons", nil},
		{"GET", base + "/descriptors/limits", nil}, {"GET", base + "/descriptors/permissions", nil},
		{"PUT", base + "/owner", obj{"owner_login": "res2", "ipv4_addresses": []string{"192.0.2.10"}}},
	} {
		ct := "application/json"
		if c.method == "PATCH" {
			ct = "application/merge-patch+json"
		}
		r := r2.do(c.method, c.path, c.body, ct)
		if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden {
			t.Fatalf("%s %s as another reseller: %d %s", c.method, c.path, r.StatusCode, r.body)
		}
		r.problem(t)
	}
	var list obj
	r2.expect(r2.do("GET", "/clients", nil), http.StatusOK).json(t, &list)
	if len(list["items"].([]any)) != 0 {
		t.Fatalf("reseller 2 lists %v", list)
	}
	r1.expect(r1.do("GET", "/clients", nil), http.StatusOK).json(t, &list)
	if len(list["items"].([]any)) != 1 {
		t.Fatalf("reseller 1 lists %v", list)
	}
	if c := h.sim.Clients(); len(c) != 1 || c[0].City != "Toronto" {
		t.Fatalf("the other reseller changed something: %+v", c)
	}
}

func TestErrors(t *testing.T) {
	h := newHarness(t)
	id := h.createClient("taken")

	t.Run("400 validation", func(t *testing.T) {
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/clients", obj{"login": "x", "password": "secret1"}},                    // name missing
			{"POST", "/clients", obj{"name": "n", "login": "x", "password": "p", "bogus": 1}}, // unknown field
			{"POST", "/clients", "{not json"},
			{"POST", "/clients", obj{"name": "n", "login": "x", "password": "p", "status": 4}}, // status only 0/16
			{"GET", "/clients?id=abc", nil},
			{"GET", "/clients?id=1&login=x", nil}, // mixed kinds
			{"GET", "/clients?limit=0", nil},
			{"GET", "/clients?cursor=garbage", nil},
			{"DELETE", "/clients", nil}, // empty bulk filter
		} {
			p := h.expect(h.do(c.method, c.path, c.body), http.StatusBadRequest).problem(t)
			if p.PleskErrcode != nil {
				t.Fatalf("%s %s: a validation error carries a Plesk code", c.method, c.path)
			}
		}
		if len(h.sim.Clients()) != 1 {
			t.Fatal("bad input changed the simulator's state")
		}
	})
	t.Run("415", func(t *testing.T) {
		h.expect(h.do("PATCH", fmt.Sprintf("/clients/%d", id), obj{"city": "X"}, "application/json"), http.StatusUnsupportedMediaType).problem(t)
		h.expect(h.do("POST", "/clients", "name=x", "application/x-www-form-urlencoded"), http.StatusUnsupportedMediaType).problem(t)
	})
	t.Run("401", func(t *testing.T) {
		r := h.expect(h.anonymous().do("GET", "/clients", nil), http.StatusUnauthorized)
		r.problem(t)
		if r.Header.Get("WWW-Authenticate") == "" {
			t.Fatal("no WWW-Authenticate")
		}
		p := h.expect(h.as("admin", "wrong").do("GET", "/clients", nil), http.StatusUnauthorized).problem(t)
		if p.PleskErrcode == nil || *p.PleskErrcode != 1001 {
			t.Fatalf("wrong password: %+v", p)
		}
		p = h.expect(h.anonymous().with("X-API-Key", "wrong-key").do("GET", "/clients", nil), http.StatusUnauthorized).problem(t)
		if p.PleskErrcode == nil || *p.PleskErrcode != 11003 {
			t.Fatalf("wrong key: %+v", p)
		}
		h.expect(h.anonymous().with("X-API-Key", "admin-secret-key").do("GET", "/clients", nil), http.StatusOK)
	})
	t.Run("404", func(t *testing.T) {
		p := h.expect(h.do("GET", "/clients/99999", nil), http.StatusNotFound).problem(t)
		if p.PleskErrcode == nil || *p.PleskErrcode != 1013 {
			t.Fatalf("%+v", p)
		}
		h.expect(h.do("DELETE", "/clients/99999", nil), http.StatusNotFound).problem(t)
		h.expect(h.do("GET", "/no/such/path", nil), http.StatusNotFound).problem(t)
	})
	t.Run("409", func(t *testing.T) {
		p := h.expect(h.do("POST", "/clients", newClientBody("taken")), http.StatusConflict).problem(t)
		if p.PleskErrcode == nil || *p.PleskErrcode != 1007 {
			t.Fatalf("%+v", p)
		}
		other := h.createClient("other")
		h.expect(h.do("PATCH", fmt.Sprintf("/clients/%d", other), obj{"login": "taken"}, "application/merge-patch+json"), http.StatusConflict).problem(t)
	})
	t.Run("422", func(t *testing.T) {
		body := newClientBody("newone")
		body["owner_login"] = "nobody"
		p := h.expect(h.do("POST", "/clients", body), http.StatusUnprocessableEntity).problem(t)
		if p.PleskErrcode == nil || *p.PleskErrcode != 1015 {
			t.Fatalf("%+v", p)
		}
		h.expect(h.do("PATCH", fmt.Sprintf("/clients/%d", id), obj{"name": nil}, "application/merge-patch+json"), http.StatusUnprocessableEntity).problem(t)
		body = newClientBody("twoowners")
		body["owner_login"], body["owner_id"] = "admin", 1
		h.expect(h.do("POST", "/clients", body), http.StatusUnprocessableEntity).problem(t)
	})
	t.Run("bulk delete", func(t *testing.T) {
		a := h.createClient("bulk-a")
		b := h.createClient("bulk-b")
		var res obj
		h.expect(h.do("DELETE", fmt.Sprintf("/clients?id=%d&id=%d&id=99998", a, b), nil), http.StatusOK).json(t, &res)
		items := res["results"].([]any)
		if len(items) != 3 {
			t.Fatalf("results %v", res)
		}
		statuses := []string{}
		for _, it := range items {
			statuses = append(statuses, it.(map[string]any)["status"].(string))
		}
		if strings.Join(statuses, ",") != "deleted,deleted,error" {
			t.Fatalf("statuses %v", statuses)
		}
		if e := items[2].(map[string]any)["error"].(map[string]any); e["status"] != float64(404) || e["plesk_errcode"] != float64(1013) {
			t.Fatalf("item error %v", e)
		}
	})
}

func TestUpstreamFailures(t *testing.T) {
	t.Run("502 malformed", func(t *testing.T) {
		h := newHarness(t)
		h.expect(h.do("GET", "/meta", nil), http.StatusOK) // learn versions first
		for _, k := range []plesksim.FaultKind{plesksim.FaultMalformed, plesksim.FaultTruncated, plesksim.FaultHTTP500} {
			h.sim.SetFaults(plesksim.Faults{Kind: k, Rate: 1})
			h.expect(h.do("GET", "/clients", nil), http.StatusBadGateway).problem(t)
		}
	})
	t.Run("503 unreachable", func(t *testing.T) {
		h := newHarness(t)
		h.simSrv.Close()
		h.expect(h.do("GET", "/clients", nil), http.StatusServiceUnavailable).problem(t)
		h.expect(h.anonymous().do("GET", "/readyz", nil), http.StatusServiceUnavailable)
	})
	t.Run("504 slow", func(t *testing.T) {
		h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
			gc.Upstream = upstream.Config{Timeout: 200 * time.Millisecond}
		})
		h.sim.SetFaults(plesksim.Faults{Latency: 2 * time.Second})
		h.expect(h.do("GET", "/clients", nil), http.StatusGatewayTimeout).problem(t)
	})
}

func TestDescriptorCache(t *testing.T) {
	h := newHarness(t)
	h.expect(h.do("GET", "/meta", nil), http.StatusOK)
	h.sim.ResetStats()
	const n = 20
	var wg sync.WaitGroup
	etags := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := h.do("GET", "/descriptors/limits", nil)
			if r.StatusCode != http.StatusOK {
				t.Errorf("status %d", r.StatusCode)
			}
			etags[i] = r.Header.Get("ETag")
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		h.expect(h.do("GET", "/descriptors/limits", nil), http.StatusOK)
	}
	if got := h.sim.Stats().Operations["client/get-limit-descriptor"]; got != 1 {
		t.Fatalf("%d identical descriptor reads cost %d upstream packets, want 1", 2*n, got)
	}
	r := h.expect(h.do("GET", "/descriptors/limits", nil), http.StatusOK)
	if cs := r.Header.Get("Cache-Status"); !strings.HasPrefix(cs, "pleskgate; hit") {
		t.Fatalf("Cache-Status %q", cs)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "private, max-age=") {
		t.Fatalf("Cache-Control %q", cc)
	}
	r = h.expect(h.with("If-None-Match", etags[0]).do("GET", "/descriptors/limits", nil), http.StatusNotModified)
	if len(r.body) != 0 {
		t.Fatal("304 with a body")
	}
	// Another caller's rights are another cache entry.
	h.expect(h.as("res1", resellerPass).do("GET", "/descriptors/limits", nil), http.StatusOK)
	if got := h.sim.Stats().Operations["client/get-limit-descriptor"]; got != 2 {
		t.Fatalf("a second caller was served from the first caller's entry (%d packets)", got)
	}
}

func TestListPaging(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < 7; i++ {
		h.createClient(fmt.Sprintf("page%d", i))
	}
	var seen []string
	path := "/clients?limit=3"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		r := h.expect(h.do("GET", path, nil), http.StatusOK)
		var list obj
		r.json(t, &list)
		for _, it := range list["items"].([]any) {
			seen = append(seen, it.(map[string]any)["login"].(string))
		}
		path = ""
		if link := r.Header.Get("Link"); link != "" {
			path = strings.TrimSuffix(strings.TrimPrefix(strings.Split(link, ";")[0], "<"), ">")
			if list["next_cursor"] == nil {
				t.Fatal("Link without next_cursor")
			}
		}
	}
	if strings.Join(seen, ",") != "page0,page1,page2,page3,page4,page5,page6" {
		t.Fatalf("pages gave %v", seen)
	}
}

func TestServiceEndpoints(t *testing.T) {
	h := newHarness(t).anonymous()
	for _, path := range []string{"/healthz", "/readyz", "/openapi.json", "/openapi.yaml", "/docs/", "/metrics"} {
		h.expect(h.do("GET", path, nil), http.StatusOK)
	}
	r := h.do("GET", "/docs/", nil)
	if !strings.Contains(string(r.body), "swagger") {
		t.Fatal("/docs/ is not Swagger UI")
	}
	r = h.do("GET", "/openapi.json", nil)
	for _, op := range []string{"listClients", "getHealthz", "getDocs", "getMetrics"} {
		if !strings.Contains(string(r.body), `"`+op+`"`) {
			t.Fatalf("/openapi.json lacks %s", op)
		}
	}
	// In the YAML's order (Swagger UI offers the first scheme first).
	if b := string(r.body); !strings.Contains(b, `"securitySchemes":{"basicAuth":`) {
		t.Fatal("/openapi.json does not keep openapi.yaml's order: basicAuth is not the first security scheme")
	}
}

// Protocol 1.4.x writes limits and permissions as named elements; 1.5.0.0
// and later as name/value pairs. Descriptors only exist from 1.5.0.0.
func TestLegacyFormatsAt142(t *testing.T) {
	h := newHarness(t, withProtocol("1.4.2.0"))
	id := h.createClient("oldformat")
	base := fmt.Sprintf("/clients/%d", id)
	var lim, perms obj
	h.expect(h.do("PATCH", base+"/limits", obj{"limits": obj{"max_dom": 3}}, "application/merge-patch+json"), http.StatusOK).json(t, &lim)
	h.expect(h.do("PATCH", base+"/permissions", obj{"permissions": obj{"manage_dns": true}}, "application/merge-patch+json"), http.StatusOK).json(t, &perms)
	c := h.sim.Clients()[0]
	if c.Limits["max_dom"] != 3 || !c.Permissions["manage_dns"] || lim["limits"].(map[string]any)["max_dom"] != float64(3) || perms["permissions"].(map[string]any)["manage_dns"] != true {
		t.Fatalf("sim %+v, limits %v, permissions %v", c, lim, perms)
	}
	p := h.expect(h.do("GET", "/descriptors/limits", nil), http.StatusNotImplemented).problem(t)
	if !strings.Contains(p.Detail, "get-limit-descriptor") {
		t.Fatalf("501 detail %q", p.Detail)
	}
}

// IP addresses are sent in canonical form, once.
func TestIPAddressesCanonical(t *testing.T) {
	h := newHarness(t, withProtocol("1.6.0.0"))
	id := h.createClient("v6")
	base := fmt.Sprintf("/clients/%d", id)
	h.expect(h.do("POST", base+"/ippool", obj{"ip_address": "2001:DB8::10"}), http.StatusCreated)
	if pool := h.sim.Clients()[0].IPPool; len(pool) != 1 || pool[0] != "2001:db8::10" {
		t.Fatalf("pool %v", pool)
	}
	h.expect(h.do("POST", base+"/ippool", obj{"ip_address": "not-an-ip"}), http.StatusUnprocessableEntity).problem(t)
	h.expect(h.do("DELETE", base+"/ippool/2001:0db8:0::10", nil), http.StatusNoContent)
	h.expect(h.do("PATCH", base+"/limits", obj{"limits": obj{"max_dom": -5}}, "application/merge-patch+json"), http.StatusBadRequest).problem(t)
}

// Scripts (Swagger UI) get the 401 problem without a Basic challenge, so the
// browser does not replace it with its own sign-in dialog.
func TestNoChallengeForScripts(t *testing.T) {
	h := newHarness(t).anonymous()
	r := h.expect(h.do("GET", "/clients", nil), http.StatusUnauthorized)
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("plain client got no challenge")
	}
	r = h.expect(h.with("X-Requested-With", "XMLHttpRequest").do("GET", "/clients", nil), http.StatusUnauthorized)
	r.problem(t)
	if r.Header.Get("WWW-Authenticate") != "" {
		t.Fatal("script got a challenge")
	}
	if page := h.do("GET", "/docs/", nil); !strings.Contains(string(page.body), "X-Requested-With") {
		t.Fatal("Swagger UI does not mark its requests")
	}
}
