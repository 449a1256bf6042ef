package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

// Security checks over the whole HTTP surface: secrets never in logs or
// answers, reseller isolation, authentication everywhere, body limits, XML
// metacharacters, TLS verification.

// endpoint is one API operation with a request that succeeds for the
// client's owner (or the administrator).
type endpoint struct {
	op, method, path string
	body             any
	ok               int
}

// allEndpoints lists every API operation of openapi.yaml for client id
// (deleteClient deletes other, as id has become a reseller by then); ip is an
// address of the server's pool. Order matters: the destructive ones last.
func allEndpoints(id, other int, ip string) []endpoint {
	b := fmt.Sprintf("/clients/%d", id)
	return []endpoint{
		{"listClients", "GET", "/clients", nil, 200},
		{"getClient", "GET", b + "?include=stat", nil, 200},
		{"patchClient", "PATCH", b, obj{"city": "Patched City"}, 200},
		{"getClientStat", "GET", b + "/stat", nil, 200},
		{"getClientLimits", "GET", b + "/limits", nil, 200},
		{"patchClientLimits", "PATCH", b + "/limits", obj{"limits": obj{"max_dom": 3}}, 200},
		{"getClientPermissions", "GET", b + "/permissions", nil, 200},
		{"patchClientPermissions", "PATCH", b + "/permissions", obj{"permissions": obj{"create_domains": true}}, 200},
		{"getClientIPPool", "GET", b + "/ippool", nil, 200},
		{"addClientIP", "POST", b + "/ippool", obj{"ip_address": ip}, 201},
		{"removeClientIP", "DELETE", b + "/ippool/" + ip, nil, 204},
		{"listClientButtons", "GET", b + "/buttons", nil, 200},
		{"getClientOwner", "GET", b + "/owner", nil, 200},
		{"getLimitDescriptor", "GET", "/descriptors/limits", nil, 200},
		{"getPermissionDescriptor", "GET", "/descriptors/permissions", nil, 200},
		{"getClientLimitDescriptor", "GET", b + "/descriptors/limits", nil, 200},
		{"getClientPermissionDescriptor", "GET", b + "/descriptors/permissions", nil, 200},
		{"getMeta", "GET", "/meta", nil, 200},
		{"createClient", "POST", "/clients", nil, 201}, // body filled in by the caller
		{"changeClientOwner", "PUT", b + "/owner", obj{"owner_login": "admin", "ipv4_addresses": []string{ip}}, 200},
		{"convertClientToReseller", "POST", b + "/convert-to-reseller", obj{}, 200},
		{"deleteClients", "DELETE", "/clients?login=nobody-at-all", nil, 200},
		{"deleteClient", "DELETE", fmt.Sprintf("/clients/%d", other), nil, 204},
	}
}

func (e endpoint) contentType() string {
	if e.method == "PATCH" {
		return "application/merge-patch+json"
	}
	return "application/json"
}

// TestEndpointListIsComplete keeps allEndpoints in step with the spec.
func TestEndpointListIsComplete(t *testing.T) {
	h := newHarness(t)
	var ops []string
	for _, r := range h.gw.routes {
		op := r.route.Operation
		if op.Security != nil && len(*op.Security) == 0 {
			continue // documents and health: no credentials by design
		}
		ops = append(ops, op.OperationID)
	}
	have := map[string]bool{}
	for _, e := range allEndpoints(1, 1, "192.0.2.10") {
		have[e.op] = true
	}
	sort.Strings(ops)
	for _, op := range ops {
		if !have[op] {
			t.Errorf("operation %s is not exercised by the security tests", op)
		}
	}
}

const secretToken = "Qx7TOK"

// secretPasswords are the client passwords used: XML and JSON
// metacharacters, so the XML-escaped form in a packet dump must be redacted too.
var secretPasswords = []string{
	"Pw1-" + secretToken + "-plain",
	"Pw2-" + secretToken + `-<&>'"]]>ü😀`,
	"Pw3-" + secretToken + "-</passwd><x>",
}

// secretForms returns the forms a secret could take in a log line.
func secretForms(s string) []string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	j, _ := json.Marshal(s)
	return []string{s, b.String(), strings.Trim(string(j), `"`)}
}

// TestNoSecretsAnywhere exercises every endpoint, with debug
// logging of packets on, and looks for every password and key in every log
// line (message and fields) and every response body.
func TestNoSecretsAnywhere(t *testing.T) {
	h := newHarness(t)
	var bodies [][]byte
	keep := func(r response) response { bodies = append(bodies, r.body); return r }

	var ids []int
	for i, pw := range secretPasswords {
		body := newClientBody(fmt.Sprintf("sec%d", i))
		body["password"] = pw
		var c obj
		keep(h.expect(h.do("POST", "/clients", body), http.StatusCreated)).json(t, &c)
		ids = append(ids, int(c["id"].(float64)))
		if got, _ := h.sim.ClientPassword(fmt.Sprintf("sec%d", i)); got != pw {
			t.Fatalf("password stored as %q", got)
		}
	}
	// A password change through PATCH, and one that Plesk refuses (blank).
	newPass := "Pw4-" + secretToken + "-new&<"
	keep(h.expect(h.do("PATCH", fmt.Sprintf("/clients/%d", ids[0]), obj{"password": newPass}, "application/merge-patch+json"), http.StatusOK))
	keep(h.do("PATCH", fmt.Sprintf("/clients/%d", ids[0]), obj{"password": " "}, "application/merge-patch+json"))
	keep(h.do("PATCH", fmt.Sprintf("/clients/%d", ids[0]), obj{"password": 12345}, "application/merge-patch+json"))
	keep(h.do("POST", "/clients", obj{"name": "x", "login": "sec-bad", "password": "Pw5-" + secretToken + "\u0001"}))
	keep(h.do("POST", "/clients", obj{"name": "x", "login": "sec-bad", "password": "Pw6-" + secretToken, "country": "nope"}))

	for _, ep := range allEndpoints(ids[1], ids[2], "192.0.2.10") {
		body := ep.body
		if ep.op == "createClient" {
			nb := newClientBody("sec-extra")
			nb["password"] = "Pw7-" + secretToken
			body = nb
		}
		r := keep(h.do(ep.method, ep.path, body, ep.contentType()))
		if r.StatusCode != ep.ok {
			t.Fatalf("%s %s: %d, want %d: %s", ep.method, ep.path, r.StatusCode, ep.ok, r.body)
		}
	}
	// Failures: wrong password, a secret key, an unknown key, an upstream fault.
	keep(h.expect(h.as("admin", "Wrong-"+secretToken).do("GET", "/clients", nil), http.StatusUnauthorized))
	keep(h.expect(h.anonymous().with("X-API-Key", "admin-secret-key").do("GET", "/clients", nil), http.StatusOK))
	keep(h.expect(h.anonymous().with("X-API-Key", "Key-"+secretToken).do("GET", "/clients", nil), http.StatusUnauthorized))
	h.sim.SetFaults(plesksim.Faults{Kind: plesksim.FaultMalformed, Rate: 1})
	nb := newClientBody("sec-fault")
	nb["password"] = "Pw8-" + secretToken
	keep(h.expect(h.do("POST", "/clients", nb), http.StatusBadGateway))
	h.sim.SetFaults(plesksim.Faults{})
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json"} {
		keep(h.anonymous().do("GET", path, nil))
	}

	secrets := []string{adminPass, "admin-secret-key", secretToken}
	secrets = append(secrets, secretPasswords...)
	secrets = append(secrets, newPass)
	entries := h.logs.All()
	sawDump := false
	for _, e := range entries {
		var line strings.Builder
		line.WriteString(e.Message)
		for k, v := range e.ContextMap() {
			fmt.Fprintf(&line, " %s=%v", k, v)
		}
		for _, f := range e.Context {
			fmt.Fprintf(&line, " %s=%s%v", f.Key, f.String, f.Interface)
		}
		if strings.Contains(line.String(), "[redacted]") {
			sawDump = true
		}
		for _, s := range secrets {
			for _, form := range secretForms(s) {
				if strings.Contains(line.String(), form) {
					t.Fatalf("a log line holds a secret (%q): %s", form, line.String())
				}
			}
		}
	}
	if !sawDump {
		t.Fatal("no redacted packet dump seen: the log check proved nothing about dumps")
	}
	for _, b := range bodies {
		for _, s := range secrets {
			for _, form := range secretForms(s) {
				if bytes.Contains(b, []byte(form)) {
					t.Fatalf("a response body holds a secret (%q): %s", form, b)
				}
			}
		}
	}
	t.Logf("%d log lines and %d bodies scanned for %d secrets", len(entries), len(bodies), len(secrets))
}

// TestResellerIsolationEveryEndpoint: another reseller gets 404 or
// 403 on every endpoint naming a client it does not own, and changes nothing;
// the owner and the administrator succeed.
func TestResellerIsolationEveryEndpoint(t *testing.T) {
	for _, owner := range []string{"res1", "admin"} {
		t.Run("client of "+owner, func(t *testing.T) {
			h := newHarness(t)
			pass := map[string]string{"res1": resellerPass, "admin": adminPass}[owner]
			id := h.as(owner, pass).createClient("isolated")
			// Administrator-only state the reseller might reach: an IP in the pool.
			h.expect(h.do("POST", fmt.Sprintf("/clients/%d/ippool", id), obj{"ip_address": "192.0.2.11"}), http.StatusCreated)
			before := h.sim.Clients()
			r2 := h.as("res2", otherPass)
			for _, ep := range allEndpoints(id, id, "192.0.2.10") {
				body := ep.body
				switch ep.op {
				case "listClients", "getMeta", "getLimitDescriptor", "getPermissionDescriptor", "createClient":
					continue // not about one client; listClients and deleteClients are checked below
				case "deleteClients":
					ep.path = fmt.Sprintf("/clients?id=%d", id)
				case "changeClientOwner":
					body = obj{"owner_login": "res2", "ipv4_addresses": []string{"192.0.2.10"}}
				}
				r := r2.do(ep.method, ep.path, body, ep.contentType())
				if ep.op == "deleteClients" {
					var res struct {
						Results []struct{ Status string } `json:"results"`
					}
					r2.expect(r, http.StatusOK).json(t, &res)
					for _, it := range res.Results {
						if it.Status == "deleted" {
							t.Fatalf("bulk delete as another reseller deleted: %s", r.body)
						}
					}
					continue
				}
				if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden {
					t.Fatalf("%s %s as another reseller: %d %s", ep.method, ep.path, r.StatusCode, r.body)
				}
				r.problem(t)
				if strings.Contains(string(r.body), "isolated") {
					t.Fatalf("%s %s: the refusal names the client: %s", ep.method, ep.path, r.body)
				}
			}
			var list struct {
				Items []struct{ ID int } `json:"items"`
			}
			r2.expect(r2.do("GET", "/clients", nil), http.StatusOK).json(t, &list)
			r2.expect(r2.do("GET", "/clients?login=isolated", nil), http.StatusOK).json(t, &list)
			if len(list.Items) != 0 {
				t.Fatalf("another reseller lists the client: %+v", list)
			}
			if after := h.sim.Clients(); !sameState(before, after) {
				t.Fatalf("another reseller changed something:\n%+v\n%+v", before, after)
			}
		})
	}
}

// TestAuthRequiredEverywhere: every API endpoint answers 401 with a
// WWW-Authenticate challenge and a problem, without credentials and with
// wrong ones, and sends no packet without credentials.
func TestAuthRequiredEverywhere(t *testing.T) {
	h := newHarness(t)
	id := h.createClient("authcheck")
	before := h.sim.Clients()
	h.sim.ResetStats()
	wrongMeta := false
	for _, ep := range allEndpoints(id, id, "192.0.2.10") {
		body := ep.body
		if ep.op == "createClient" {
			body = newClientBody("nobody-creates")
		}
		r := h.anonymous().do(ep.method, ep.path, body, ep.contentType())
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s %s without credentials: %d %s", ep.method, ep.path, r.StatusCode, r.body)
		}
		r.problem(t)
		if r.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%s %s: 401 without WWW-Authenticate", ep.method, ep.path)
		}
		r = h.anonymous().with("Authorization", "Bearer abc").do(ep.method, ep.path, body, ep.contentType())
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s %s with a bearer token: %d %s", ep.method, ep.path, r.StatusCode, r.body)
		}
	}
	if n := h.sim.Stats().Requests; n != 0 {
		t.Fatalf("%d packets sent for requests without credentials", n)
	}
	for _, ep := range allEndpoints(id, id, "192.0.2.10") {
		body := ep.body
		if ep.op == "createClient" {
			body = newClientBody("nobody-creates")
		}
		r := h.as("admin", "not-the-password").do(ep.method, ep.path, body, ep.contentType())
		if ep.op == "getMeta" && r.StatusCode == http.StatusOK {
			wrongMeta = true
			continue
		}
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s %s with a wrong password: %d %s", ep.method, ep.path, r.StatusCode, r.body)
		}
		r.problem(t)
	}
	if after := h.sim.Clients(); !sameState(before, after) {
		t.Fatal("unauthenticated requests changed the simulator")
	}
	if wrongMeta {
		knownBug(t, "in passthrough mode GET /meta answers 200 with the upstream's version list and capabilities to any "+
			"Basic credentials once the versions are learned: it never checks them with Plesk (GetMeta reads Protocol.Known())")
	}
}

// TestOversizeBody: more than 1 MiB is 413, with or without a
// Content-Length, and nothing is sent upstream.
func TestOversizeBody(t *testing.T) {
	h := newHarness(t)
	id := h.createClient("bigbody")
	h.sim.ResetStats()
	big := `{"name":"n","login":"big","password":"pw-12345","description":"` + strings.Repeat("x", 1<<20) + `"}`
	bigPatch := `{"description":"` + strings.Repeat("y", 1<<20) + `"}`
	for _, c := range []struct{ method, path, body, ct string }{
		{"POST", "/clients", big, "application/json"},
		{"PATCH", fmt.Sprintf("/clients/%d", id), bigPatch, "application/merge-patch+json"},
		{"POST", fmt.Sprintf("/clients/%d/ippool", id), `{"ip_address":"` + strings.Repeat("1", 1<<20+1) + `"}`, "application/json"},
	} {
		for _, chunked := range []bool{false, true} {
			var rd io.Reader = strings.NewReader(c.body)
			if chunked {
				rd = io.MultiReader(strings.NewReader(c.body)) // no length known: Transfer-Encoding: chunked
			}
			req, err := http.NewRequest(c.method, h.srv.URL+c.path, rd)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", c.ct)
			req.SetBasicAuth("admin", adminPass)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s chunked=%v: %v", c.method, c.path, chunked, err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("%s %s chunked=%v: %d, want 413: %.300s", c.method, c.path, chunked, resp.StatusCode, data)
			}
			checkProblem(t, resp.StatusCode, resp.Header, data, c.method+" "+c.path)
		}
	}
	if n := h.sim.Stats().Requests; n != 0 {
		t.Fatalf("%d packets sent for oversize bodies", n)
	}
	// Just under the limit is not refused for its size.
	ok := `{"name":"n","login":"big","password":"pw-12345","description":"` + strings.Repeat("x", 1<<20-200) + `"}`
	if r := h.do("POST", "/clients", ok); r.StatusCode == http.StatusRequestEntityTooLarge {
		t.Fatalf("a body under 1 MiB refused: %d", r.StatusCode)
	}
}

// xmlMetacharacters is text with every XML metacharacter, a CDATA end, non-ASCII and an emoji.
const xmlMetacharacters = `<a href="x">&amp;'b' ]]> Ünïcødé 😀 &#x41; <![CDATA[c]]>`

// TestXMLMetacharactersStoredExactly writes metacharacters into
// every string field, through POST and through PATCH, in both dialects, and
// reads them back through GET and from the simulator; the packets that carry
// them keep their structure.
func TestXMLMetacharactersStoredExactly(t *testing.T) {
	fit := func(n int) string { // the first n runes of xmlMetacharacters, for short fields
		r := []rune(xmlMetacharacters)
		if len(r) > n {
			r = r[:n]
		}
		return string(r)
	}
	for _, newest := range []string{"1.6.9.1", "1.6.0.0"} {
		t.Run(newest, func(t *testing.T) {
			h := newHarness(t, withProtocol(newest))
			fields := obj{
				"name": fit(60), "company": fit(60), "login": "meta-" + `<&>'"😀`, "password": xmlMetacharacters,
				"phone": `<&>'"]]>😀é`, "fax": `&<>"']]>`, "email": xmlMetacharacters, "address": xmlMetacharacters, "city": fit(50),
				"state": fit(25), "postal_code": `<&>'"]]>é😀`, "locale": xmlMetacharacters,
			}
			if newest >= "1.6.9.1" {
				fields["external_id"], fields["description"] = xmlMetacharacters, xmlMetacharacters
			}
			var c obj
			h.expect(h.do("POST", "/clients", fields), http.StatusCreated).json(t, &c)
			id := int(c["id"].(float64))
			checkReadBack(t, h, id, fields)

			// PATCH every field to another metacharacter text.
			patch := obj{}
			for k, v := range fields {
				s := v.(string)
				if k == "login" {
					patch[k] = "meta2-" + `]]>&<`
					continue
				}
				r := []rune(s)
				patch[k] = string(r[len(r)/2:]) + string(r[:len(r)/2])
			}
			h.expect(h.do("PATCH", fmt.Sprintf("/clients/%d", id), patch, "application/merge-patch+json"), http.StatusOK)
			checkReadBack(t, h, id, patch)

			// The packets kept their structure: every dump parses, and the
			// add and set carried exactly the fields sent.
			for _, e := range h.logs.FilterMessage("upstream packet").All() {
				raw := []byte(fmt.Sprint(e.ContextMap()["request"]))
				if !bytes.Contains(raw, []byte("<add>")) && !bytes.Contains(raw, []byte("<set>")) {
					continue
				}
				names, err := genInfoNames(raw)
				if err != nil {
					t.Fatalf("a packet does not parse: %v: %s", err, raw)
				}
				if names == nil {
					continue
				}
				if len(names) != len(fields) {
					t.Fatalf("gen_info has %d elements %v for %d fields sent: %s", len(names), names, len(fields), raw)
				}
			}
		})
	}
}

// checkReadBack compares sent fields with GET and with the simulator.
func checkReadBack(t *testing.T, h *harness, id int, sent obj) {
	t.Helper()
	var got obj
	h.expect(h.do("GET", fmt.Sprintf("/clients/%d", id), nil), http.StatusOK).json(t, &got)
	var c plesksim.Client
	for _, x := range h.sim.Clients() {
		if x.ID == id {
			c = x
		}
	}
	for k, v := range sent {
		if k == "password" {
			if pw, _ := h.sim.ClientPassword(c.Login); pw != collapseSpace(v.(string)) {
				t.Fatalf("password stored as %q, sent %q", pw, v)
			}
			continue
		}
		// Plesk stores strings whitespace-collapsed (XSD), nothing else changes.
		want := collapseSpace(v.(string))
		if got[k] != want {
			t.Fatalf("GET %s = %q, sent %q", k, got[k], v)
		}
		if s, _ := clientField(c, k); s != want {
			t.Fatalf("simulator %s = %q, sent %q", k, s, v)
		}
	}
}

// genInfoNames returns the element names under the first gen_info of an
// add or set packet (nil when there is none).
func genInfoNames(packet []byte) ([]string, error) {
	d := xml.NewDecoder(bytes.NewReader(packet))
	var names []string
	depth, in := 0, -1
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return names, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if in < 0 && (t.Name.Local == "gen_info") && names == nil {
				in = depth
				names = []string{}
			} else if in > 0 && depth == in+1 {
				names = append(names, t.Name.Local)
			}
		case xml.EndElement:
			if depth == in {
				in = -2 // done with the first gen_info
			}
			depth--
		}
	}
}

// TestTLSVerifiedByDefault: a self-signed panel is refused with the
// default client (503, nothing sent), and works once its certificate is trusted.
func TestTLSVerifiedByDefault(t *testing.T) {
	sim, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: adminPass})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(sim)
	defer srv.Close()

	// Default upstream client: system roots only.
	g := newFaultGW(t, srv.URL, 2*time.Second, func(u *upstream.Config, _ *Config) { u.Transport = nil })
	p := g.do("GET", "/clients", "", http.StatusServiceUnavailable)
	if !strings.Contains(p.Detail, "certificate") {
		t.Fatalf("detail %q does not say the certificate was refused", p.Detail)
	}
	if n := sim.Stats().Operations["customer/get"]; n != 0 {
		t.Fatalf("%d packets executed over an unverified connection", n)
	}

	// Trusting the panel's certificate.
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	defer tr.CloseIdleConnections()
	g = newFaultGW(t, srv.URL, 2*time.Second, func(u *upstream.Config, _ *Config) { u.Transport = tr })
	g.do("GET", "/clients", "", http.StatusOK)

}

// TestConcurrentFirstRequestsDoNotShareAuthFailures: in auto mode
// the first requests learn the protocol versions with one shared
// server/get_protos (singleflight). The packet carries the first caller's
// credentials; a caller with a wrong password must not make a concurrent
// caller with the right one fail, nor its cancellation cancel the others.
func TestConcurrentFirstRequestsDoNotShareAuthFailures(t *testing.T) {
	h := newHarness(t)
	h.sim.SetFaults(plesksim.Faults{Latency: 300 * time.Millisecond})
	wrong := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", h.srv.URL+"/clients", nil)
		req.SetBasicAuth("admin", "wrong-password")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			wrong <- 0
			return
		}
		resp.Body.Close()
		wrong <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond) // the wrong caller's get_protos is in flight
	r := h.do("GET", "/clients", nil)
	if got := <-wrong; got != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", got)
	}
	if r.StatusCode == http.StatusUnauthorized {
		knownBug(t, "a caller with the right password got 401 because a concurrent caller with a wrong one led the shared "+
			"get_protos (Protocol.Versions singleflight runs ask() with the leader's credentials and context and hands its "+
			"error to every waiter); fix: share only successes — on error, each waiter retries with its own credentials "+
			"(or ask with a context detached from the leader and re-ask per caller when the shared ask failed with a Plesk auth error)")
	}
	h.expect(r, http.StatusOK)
}

// TestLeaderCancellationDoesNotFailOthers: the caller that leads
// the shared get_protos goes away; a concurrent caller still gets its answer.
func TestLeaderCancellationDoesNotFailOthers(t *testing.T) {
	h := newHarness(t)
	h.sim.SetFaults(plesksim.Faults{Latency: 400 * time.Millisecond})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", h.srv.URL+"/clients", nil)
		req.SetBasicAuth("admin", adminPass)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	r := h.do("GET", "/clients", nil)
	if r.StatusCode == 499 {
		knownBug(t, "a caller got 499 \"Request canceled\" because another caller, which led the shared get_protos, went away: "+
			"Protocol.Versions runs ask(ctx) with the leader's context; fix: run the shared ask with context.WithoutCancel(ctx) "+
			"plus the upstream timeout, or let waiters retry when the shared ask failed with context.Canceled")
	}
	h.expect(r, http.StatusOK)
}

func TestServiceMode(t *testing.T) {
	readKey, writeKey := "read-key-123", "write-key-456"
	hash := func(k string) string { s := sha256.Sum256([]byte(k)); return hex.EncodeToString(s[:]) }
	keys, err := NewAPIKeys([]APIKey{{Name: "viewer", Scope: "read", SHA256: hash(readKey)}, {Name: "writer", Scope: "write", SHA256: hash(writeKey)}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.AuthMode = AuthService
		gc.APIKeys = keys
		gc.ServiceCredentials = upstream.Credentials{Login: "admin", Password: adminPass}
	}).anonymous()
	h.expect(h.do("GET", "/clients", nil), http.StatusUnauthorized).problem(t)
	r := h.with("X-API-Key", "nope").do("GET", "/clients", nil)
	h.expect(r, http.StatusUnauthorized).problem(t)
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
	// Basic credentials are not a gateway key.
	h.as("admin", adminPass).expect(h.as("admin", adminPass).do("GET", "/clients", nil), http.StatusUnauthorized)
	reader := h.with("X-API-Key", readKey)
	reader.expect(reader.do("GET", "/clients", nil), http.StatusOK)
	reader.expect(reader.do("POST", "/clients", newClientBody("svc")), http.StatusForbidden).problem(t)
	if len(h.sim.Clients()) != 0 {
		t.Fatal("a read key wrote")
	}
	writer := h.with("X-API-Key", writeKey)
	writer.expect(writer.do("POST", "/clients", newClientBody("svc")), http.StatusCreated)
	if c := h.sim.Clients(); len(c) != 1 || c[0].OwnerLogin != "admin" {
		t.Fatalf("service mode did not act as the gateway's own account: %+v", c)
	}
}

func TestNoSecretsInLogs(t *testing.T) {
	h := newHarness(t)
	// Debug level, packet dumps included.
	clientPass := "Cl1ent-Pa55word"
	body := newClientBody("secretive")
	body["password"] = clientPass
	var c obj
	h.expect(h.do("POST", "/clients", body), http.StatusCreated).json(t, &c)
	base := fmt.Sprintf("/clients/%v", c["id"])
	newPass := "N3w-Pa55word"
	h.expect(h.do("PATCH", base, obj{"password": newPass}, "application/merge-patch+json"), http.StatusOK)
	if pw, _ := h.sim.ClientPassword("secretive"); pw != newPass {
		t.Fatalf("password not changed: %q", pw)
	}
	h.expect(h.as("admin", "Wr0ng-admin-pass").do("GET", "/clients", nil), http.StatusUnauthorized)
	h.expect(h.anonymous().with("X-API-Key", "admin-secret-key").do("GET", base, nil), http.StatusOK)
	h.do("GET", base+"/stat", nil)
	h.do("GET", "/descriptors/limits", nil)
	h.expect(h.do("DELETE", base, nil), http.StatusNoContent)
	entries := h.logs.All()
	if len(entries) < 5 {
		t.Fatalf("only %d log lines", len(entries))
	}
	sawDump := false
	for _, e := range entries {
		line := e.Message
		for k, v := range e.ContextMap() {
			line += fmt.Sprintf(" %s=%v", k, v)
		}
		if strings.Contains(line, "<passwd>[redacted]</passwd>") {
			sawDump = true
		}
		for _, secret := range []string{adminPass, clientPass, newPass, "Wr0ng-admin-pass", "admin-secret-key"} {
			if strings.Contains(line, secret) {
				t.Fatalf("log line leaks a secret: %s", line)
			}
		}
	}
	if !sawDump {
		t.Fatal("no redacted packet dump was logged: the check above proved nothing about dumps")
	}
}

// Two callers alternating on one gateway each get their own rights: the
// identities and credentials never cross.
func TestTwoCallersKeepTheirOwnRights(t *testing.T) {
	h := newHarness(t)
	admin, res1 := h, h.as("res1", resellerPass)
	for i := 0; i < 3; i++ {
		if r := h.expect(admin.do("GET", "/descriptors/limits", nil), http.StatusOK); i > 0 && !strings.Contains(r.Header.Get("Cache-Status"), "hit") {
			t.Fatalf("admin's repeat was not a hit: %s", r.Header.Get("Cache-Status"))
		}
		r := h.expect(res1.do("GET", "/descriptors/limits", nil), http.StatusOK)
		if i == 0 && !strings.Contains(r.Header.Get("Cache-Status"), "miss") {
			t.Fatalf("res1's first read was served from admin's entry: %s", r.Header.Get("Cache-Status"))
		}
		h.expect(h.as("res1", "wrong-password").do("GET", "/descriptors/limits", nil), http.StatusUnauthorized)
	}
	// The access log names each caller, by its login's fingerprint.
	callers := map[string]bool{}
	for _, e := range h.logs.FilterMessage("request").All() {
		if c, ok := e.ContextMap()["principal"].(string); ok {
			callers[c] = true
		}
	}
	fingerprint := func(login string) string {
		return h.gw.principal(&reqState{caller: "login", creds: upstream.Credentials{Login: login}})
	}
	if !callers[fingerprint("admin")] || !callers[fingerprint("res1")] || fingerprint("admin") == fingerprint("res1") {
		t.Fatalf("access log callers: %v", callers)
	}
}

func TestServiceModeKeysAndScopes(t *testing.T) {
	keys, err := NewAPIKeys([]APIKey{
		{Name: "reader", Scope: "read", SHA256: sha256hex("reader-key")},
		{Name: "writer", Scope: "write", SHA256: sha256hex("writer-key")},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.AuthMode, gc.APIKeys, gc.ServiceCredentials = AuthService, keys, upstream.Credentials{Login: "admin", Password: adminPass}
	})
	anon := h.anonymous()
	for i := 0; i < 2; i++ {
		h.expect(anon.with("X-API-Key", "reader-key").do("GET", "/descriptors/limits", nil), http.StatusOK)
		h.expect(anon.with("X-API-Key", "reader-key").do("DELETE", "/clients/1", nil), http.StatusForbidden)
		h.expect(anon.with("X-API-Key", "not-a-key").do("GET", "/descriptors/limits", nil), http.StatusUnauthorized)
	}
}

// TestUnsendableCredentialsAre401: a Basic password with a control character
// (printf 'x:\001' | base64) is a 401 before any packet, however often it
// comes, and it does not open the breaker for everyone else.
func TestUnsendableCredentialsAre401(t *testing.T) {
	h := newHarness(t)
	before := h.sim.Stats().Requests
	for range 20 {
		p := h.anonymous().with("Authorization", "Basic eDoB").expect(h.anonymous().with("Authorization", "Basic eDoB").do("GET", "/clients/3", nil), http.StatusUnauthorized).problem(t)
		if !strings.Contains(p.Detail, "control characters") {
			t.Fatalf("detail %q does not say why", p.Detail)
		}
	}
	if n := h.sim.Stats().Requests - before; n != 0 {
		t.Fatalf("%d packets sent for unsendable credentials", n)
	}
	if st := h.gw.upstream.BreakerState(); st != "closed" {
		t.Fatalf("breaker %s after unsendable credentials", st)
	}
	h.expect(h.do("GET", "/clients", nil), http.StatusOK)
}

// The access log has one caller key (zap's source location) and never the
// Basic login as typed: a password typed into the login field must not
// land in the log (issue 26, low).
func TestAccessLogNamesCallerOnceWithoutLogin(t *testing.T) {
	var buf syncBuffer
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	log := zap.New(zapcore.NewCore(enc, zapcore.AddSync(&buf), zap.InfoLevel), zap.AddCaller())
	e := newShieldEnv(t, func(c *Config) { c.Logger = log })
	const typo = "Hunter2-typed-as-login"
	e.do("GET", "/clients", typo, "x", nil, "")
	e.do("GET", "/clients", "admin", adminPass, nil, "")
	e.do("GET", "/clients", "res1", resellerPass, nil, "")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	principals := map[string]bool{}
	for _, line := range lines {
		if strings.Contains(line, typo) || strings.Contains(line, `"login:admin"`) || strings.Contains(line, `"login:res1"`) {
			t.Fatalf("the access log names a login as typed: %s", line)
		}
		if n := strings.Count(line, `"caller":`); n > 1 {
			t.Fatalf("%d caller keys in one line: %s", n, line)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if m["msg"] == "request" && m["route"] == "/clients" {
			p, _ := m["principal"].(string)
			principals[p] = true
		}
	}
	// Three logins, three fingerprints: the lines of one caller can still be told apart.
	if len(principals) != 3 {
		t.Fatalf("principals %v, want three distinct fingerprints", principals)
	}
	for p := range principals {
		if !strings.HasPrefix(p, "login:") || len(p) != len("login:")+12 {
			t.Fatalf("principal %q is not a login fingerprint", p)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Sync() error { return nil }

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The fingerprint is the HMAC of the login under the state secret
// (upstream.Keyed), whatever HMAC the pool hands out.
func TestPrincipalIsKeyedLogin(t *testing.T) {
	s := &Server{cfg: Config{StateSecret: replicaSecret}}
	for range 3 {
		for _, login := range []string{"admin", "res1", "", "ü-ñ"} {
			got := s.principal(&reqState{caller: "login", creds: upstream.Credentials{Login: login}})
			if want := "login:" + upstream.Keyed(replicaSecret, "log-login", login)[:12]; got != want {
				t.Fatalf("%q: %s, want %s", login, got, want)
			}
		}
	}
	if got := s.principal(&reqState{caller: "key:reader"}); got != "key:reader" {
		t.Fatalf("API key principal %q", got)
	}
}
