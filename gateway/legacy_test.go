package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/gateway/store/storetest"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

// These tests run the gateway against a plesksim with RefuseLegacy: a panel
// that lists 1.6.0.2 in get_protos but refuses every <client> packet with
// REC-2's 1014 (PROTOCOL.md §15), the case of DESIGN.md §2 "When a panel
// refuses the legacy operator".

const rec2Words = "Element 'client': This element is not expected."

func withRefuseLegacy(sc *plesksim.Config, _ *Config) { sc.RefuseLegacy = true }

func withLegacyStore(s store.LegacyStore) harnessOpt {
	return func(_ *plesksim.Config, gc *Config) { gc.LegacyStore = s }
}

type legacyCall struct {
	name         string // the operation named in the problem
	method, path string
	body         any
	modern       int64 // modern packets the first call sends before the legacy one
}

// legacyCalls are the legacy-only endpoints of DESIGN.md §2 for client id.
func legacyCalls(id int) []legacyCall {
	base := fmt.Sprintf("/clients/%d", id)
	return []legacyCall{
		{"get-limits", "GET", base + "/limits", nil, 0},
		{"set-limits", "PATCH", base + "/limits", obj{"limits": obj{"max_dom": 5}}, 0},
		{"get-permissions", "GET", base + "/permissions", nil, 0},
		{"set-permissions", "PATCH", base + "/permissions", obj{"permissions": obj{"create_domains": true}}, 0},
		{"get-ippool", "GET", base + "/ippool", nil, 0},
		{"ippool_add_ip", "POST", base + "/ippool", obj{"ip_address": "192.0.2.10"}, 0},
		{"ippool_del_ip", "DELETE", base + "/ippool/192.0.2.10", nil, 0},
		{"cform_buttons_list", "GET", base + "/buttons", nil, 0},
		{"get-limit-descriptor", "GET", "/descriptors/limits", nil, 0},
		{"get-permission-descriptor", "GET", "/descriptors/permissions", nil, 0},
		{"get-limit-descriptor", "GET", base + "/descriptors/limits", nil, 0},
		{"get-permission-descriptor", "GET", base + "/descriptors/permissions", nil, 0},
		{"get-limits", "GET", base + "?include=limits", nil, 1},
	}
}

func (h *harness) send(c legacyCall) response {
	h.t.Helper()
	if c.method == "PATCH" {
		return h.do(c.method, c.path, c.body, "application/merge-patch+json")
	}
	return h.do(c.method, c.path, c.body)
}

// packets is how many packets the simulator has received.
func (h *harness) packets() int64 { return h.sim.Stats().Requests }

// expectRefused checks a 501 legacy-operator-refused quoting the panel.
func expectRefused(t *testing.T, h *harness, r response, op string) Problem {
	t.Helper()
	h.expect(r, http.StatusNotImplemented)
	p := r.problem(t)
	if p.Type != problemType("legacy-operator-refused") {
		t.Fatalf("%s: problem type %q", op, p.Type)
	}
	if p.PleskErrcode == nil || *p.PleskErrcode != 1014 || p.PleskErrtext == nil || !strings.Contains(*p.PleskErrtext, rec2Words) {
		t.Fatalf("%s: problem does not quote the panel: %s", op, r.body)
	}
	if !strings.Contains(p.Detail, op) || !strings.Contains(p.Detail, "1.6.0.2") || !strings.Contains(p.Detail, rec2Words) {
		t.Fatalf("%s: detail does not name the operation, the version and the panel's words: %q", op, p.Detail)
	}
	return p
}

// TestLegacyRefusedEveryEndpoint: each legacy-only endpoint, first on its
// own against a refusing panel, sends one refused packet, answers 501 with
// the panel's words, and the next call sends nothing.
func TestLegacyRefusedEveryEndpoint(t *testing.T) {
	refusedOnceEveryEndpoint(t, withRefuseLegacy, "legacyuser", func(t *testing.T, h *harness, r response, op string) {
		expectRefused(t, h, r, op)
	})
}

// refusedOnceEveryEndpoint runs each legacy-only endpoint on its own
// against a panel refusing the legacy operator (refuse): the first call
// sends its one refused packet (and its modern ones), expect checks the
// 501, and the second call sends nothing.
func refusedOnceEveryEndpoint(t *testing.T, refuse harnessOpt, login string, expect func(*testing.T, *harness, response, string)) {
	for _, c := range legacyCalls(0) {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			h := newHarness(t, refuse)
			id := h.createClient(login)
			c := legacyCalls(id)[indexOf(legacyCalls(0), c)]
			before := h.packets()
			expect(t, h, h.send(c), c.name)
			if n := h.packets() - before; n != 1+c.modern {
				t.Fatalf("first call sent %d packets, want the one refused (and %d modern)", n, c.modern)
			}
			before = h.packets()
			expect(t, h, h.send(c), c.name)
			if n := h.packets() - before; n != 0 {
				t.Fatalf("second call sent %d packets, want none", n)
			}
		})
	}
}

func indexOf(cs []legacyCall, c legacyCall) int {
	for i := range cs {
		if cs[i].method == c.method && cs[i].path == c.path {
			return i
		}
	}
	panic("no such call")
}

// TestLegacyRefusedSevenRequestsOnePacket is the measure: 7
// legacy-only requests cost at most 1 packet and all answer 501 with the
// panel's words; /meta and the metric then say so, and the modern
// endpoints are unaffected.
func TestLegacyRefusedSevenRequestsOnePacket(t *testing.T) {
	h := newHarness(t, withRefuseLegacy)
	id := h.createClient("seven")
	calls := legacyCalls(id)
	seven := []legacyCall{calls[5], calls[6], calls[4], calls[7], calls[0], calls[2], calls[8]}
	before := h.packets()
	for _, c := range seven {
		expectRefused(t, h, h.send(c), c.name)
	}
	n := h.packets() - before
	t.Logf("7 legacy-only requests against a refusing panel: %d packet(s)", n)
	if n > 1 {
		t.Fatalf("7 legacy-only requests sent %d packets, want at most 1", n)
	}
	if g := legacyGauge(t, h); g != 1 {
		t.Fatalf("pleskgate_upstream_legacy_refused = %v, want 1", g)
	}

	// /meta: every legacy-only operation unsupported, with the reason and time.
	var meta struct {
		Operations []struct {
			OperationID string     `json:"operation_id"`
			Supported   bool       `json:"supported"`
			Version     *string    `json:"version"`
			Reason      *string    `json:"reason"`
			LearnedAt   *time.Time `json:"learned_at"`
		} `json:"operations"`
	}
	h.expect(h.do("GET", "/meta", nil), http.StatusOK).json(t, &meta)
	legacyOnly := map[string]bool{
		"getClientLimits": true, "patchClientLimits": true, "getClientPermissions": true, "patchClientPermissions": true,
		"getClientIPPool": true, "addClientIP": true, "removeClientIP": true, "listClientButtons": true,
		"getLimitDescriptor": true, "getPermissionDescriptor": true, "getClientLimitDescriptor": true, "getClientPermissionDescriptor": true,
	}
	seen := 0
	for _, op := range meta.Operations {
		if legacyOnly[op.OperationID] {
			seen++
			if op.Supported || op.Version != nil || op.Reason == nil || !strings.Contains(*op.Reason, rec2Words) || op.LearnedAt == nil || op.LearnedAt.IsZero() {
				t.Errorf("/meta %s: supported=%v reason=%v learned_at=%v; want unsupported with the panel's words and a time", op.OperationID, op.Supported, op.Reason, op.LearnedAt)
			}
		} else if !op.Supported || op.Reason != nil || op.LearnedAt != nil {
			t.Errorf("/meta %s: a modern operation marked unsupported (%v)", op.OperationID, op.Reason)
		}
	}
	if seen != len(legacyOnly) {
		t.Fatalf("/meta lists %d of the %d legacy-only operations", seen, len(legacyOnly))
	}

	// Modern endpoints still reach the panel and work.
	base := fmt.Sprintf("/clients/%d", id)
	before = h.packets()
	h.expect(h.do("GET", base, nil), http.StatusOK)
	h.expect(h.do("GET", base+"?include=stat", nil), http.StatusOK)
	h.expect(h.do("GET", base+"/stat", nil), http.StatusOK)
	h.expect(h.do("PATCH", base, obj{"city": "Ottawa"}, "application/merge-patch+json"), http.StatusOK)
	h.expect(h.do("GET", base+"/owner", nil), http.StatusOK)
	h.expect(h.do("GET", "/clients?login=seven", nil), http.StatusOK)
	other := h.createClient("seven2")
	h.expect(h.do("DELETE", fmt.Sprintf("/clients/%d", other), nil), http.StatusNoContent)
	if h.packets() == before {
		t.Fatal("modern requests sent no packets")
	}
}

// TestLegacyRefusedModernUnaffected: on a refusing panel, before and after
// a refusal is learned, the modern operations answer as on any panel.
func TestLegacyRefusedModernUnaffected(t *testing.T) {
	h := newHarness(t, withRefuseLegacy)
	id := h.createClient("modern")
	base := fmt.Sprintf("/clients/%d", id)
	check := func() {
		t.Helper()
		var c obj
		h.expect(h.do("GET", base+"?include=stat", nil), http.StatusOK).json(t, &c)
		if c["login"] != "modern" || c["stat"] == nil {
			t.Fatalf("modern read: %v", c)
		}
		h.expect(h.do("PATCH", base, obj{"city": "Bern"}, "application/merge-patch+json"), http.StatusOK).json(t, &c)
		if c["city"] != "Bern" {
			t.Fatalf("modern set: %v", c)
		}
	}
	check()
	expectRefused(t, h, h.send(legacyCalls(id)[0]), "get-limits")
	check()
	if g := legacyGauge(t, h); g != 1 {
		t.Fatalf("gauge %v after a refusal", g)
	}
	// A panel that takes <client> is never marked.
	plain := newHarness(t)
	pid := plain.createClient("plainuser")
	plain.expect(plain.send(legacyCalls(pid)[0]), http.StatusOK)
	if g := legacyGauge(t, plain); g != 0 {
		t.Fatalf("gauge %v on a panel that takes the legacy operator", g)
	}
}

// TestLegacyRefusedRetry: after PLESKGATE_LEGACY_RETRY the gateway sends a
// legacy packet again: refused, it learns again (one packet); accepted (the
// panel changed), the operation works.
func TestLegacyRefusedRetry(t *testing.T) {
	panelURL, refuse, packets := switchablePanel(t)
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.Upstream = upstream.Config{BaseURL: panelURL, Timeout: 5 * time.Second}
		gc.LegacyRetry = time.Minute
	})
	now := time.Now()
	h.gw.legacy.now = func() time.Time { return now }
	desc := legacyCall{"get-limit-descriptor", "GET", "/descriptors/limits", nil, 0}

	p := expectRefused(t, h, h.send(desc), desc.name)
	first := p.Detail
	before := packets()
	now = now.Add(59 * time.Second)
	expectRefused(t, h, h.send(desc), desc.name)
	if n := packets() - before; n != 0 {
		t.Fatalf("within the retry interval %d packets were sent", n)
	}
	// The interval passes: one packet, refused again, learned anew.
	now = now.Add(2 * time.Second)
	before = packets()
	p = expectRefused(t, h, h.send(desc), desc.name)
	if n := packets() - before; n != 1 {
		t.Fatalf("after the retry interval %d packets were sent, want 1", n)
	}
	if p.Detail == first {
		t.Fatalf("the refusal was not learned again: %q", p.Detail)
	}
	before = packets()
	expectRefused(t, h, h.send(desc), desc.name)
	if n := packets() - before; n != 0 {
		t.Fatalf("after learning again %d packets were sent", n)
	}
	// The panel now takes <client>; after the interval the operation works.
	refuse.Store(false)
	now = now.Add(61 * time.Second)
	h.expect(h.send(desc), http.StatusOK)
	if g := legacyGauge(t, h); g != 0 {
		t.Fatalf("gauge %v once the panel takes the legacy operator again", g)
	}
}

// switchablePanel is a panel that can change its mind: a proxy to a
// simulator that refuses <client> while *refuse is true, else to one that
// takes it. packets counts what both received.
func switchablePanel(t *testing.T) (panelURL string, refuse *atomic.Bool, packets func() int64) {
	t.Helper()
	refusing, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: adminPass, RefuseLegacy: true})
	if err != nil {
		t.Fatal(err)
	}
	taking, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: adminPass})
	if err != nil {
		t.Fatal(err)
	}
	refuseSrv, takeSrv := httptest.NewServer(refusing), httptest.NewServer(taking)
	t.Cleanup(refuseSrv.Close)
	t.Cleanup(takeSrv.Close)
	refuse = &atomic.Bool{}
	refuse.Store(true)
	proxyTo := func(raw string) *httputil.ReverseProxy {
		u, _ := url.Parse(raw)
		return httputil.NewSingleHostReverseProxy(u)
	}
	toRefusing, toTaking := proxyTo(refuseSrv.URL), proxyTo(takeSrv.URL)
	panel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse.Load() {
			toRefusing.ServeHTTP(w, r)
		} else {
			toTaking.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(panel.Close)
	return panel.URL, refuse, func() int64 { return refusing.Stats().Requests + taking.Stats().Requests }
}

// TestLegacyRefusedSharedRecovery: a gateway started after a refusal was
// shared tries for itself; when the panel now takes <client>, it removes the
// shared record, and the replica that learned the refusal sends again.
func TestLegacyRefusedSharedRecovery(t *testing.T) {
	panelURL, refuse, _ := switchablePanel(t)
	store := store.NewMemoryLegacyStore()
	gw := func() *harness {
		return newHarness(t, withLegacyStore(store), func(_ *plesksim.Config, gc *Config) {
			gc.Upstream = upstream.Config{BaseURL: panelURL, Timeout: 5 * time.Second}
			gc.StateSecret = replicaSecret // replicas of one deployment share it
		})
	}
	a := gw()
	desc := legacyCall{"get-limit-descriptor", "GET", "/descriptors/limits", nil, 0}
	expectRefused(t, a, a.send(desc), desc.name)
	expectRefused(t, a, a.send(desc), desc.name)
	refuse.Store(false)
	later := gw()
	later.expect(later.send(desc), http.StatusOK)
	if _, ok, _ := store.Get(t.Context(), a.gw.upstreamID); ok {
		t.Fatal("the shared refusal outlived a legacy packet that went through")
	}
	a.expect(a.send(desc), http.StatusOK)
	if g := legacyGauge(t, a); g != 0 {
		t.Fatalf("gauge %v after the record was removed", g)
	}
}

// TestLegacyRefusedShared: replicas sharing a store.LegacyStore (in memory here,
// Redis in production) share what one learned; a gateway started later
// tries once for itself (the start-up retry).
func TestLegacyRefusedShared(t *testing.T) {
	run := func(t *testing.T, store store.LegacyStore) {
		a := newHarness(t, withRefuseLegacy, withLegacyStore(store))
		b := replica(t, a, store)
		desc := legacyCall{"get-permission-descriptor", "GET", "/descriptors/permissions", nil, 0}
		b.expect(b.do("GET", "/meta", nil), http.StatusOK) // b learns the versions
		expectRefused(t, a, a.send(desc), desc.name)
		before := a.packets()
		for _, c := range []legacyCall{desc, {"get-limit-descriptor", "GET", "/descriptors/limits", nil, 0}} {
			expectRefused(t, b, b.send(c), c.name)
		}
		if n := a.packets() - before; n != 0 {
			t.Fatalf("the replica sent %d packets for what the other had learned", n)
		}
		// Started after the refusal was learned: it tries once, then shares again.
		c := replica(t, a, store)
		c.expect(c.do("GET", "/meta", nil), http.StatusOK)
		before = a.packets()
		expectRefused(t, c, c.send(desc), desc.name)
		expectRefused(t, c, c.send(desc), desc.name)
		if n := a.packets() - before; n != 1 {
			t.Fatalf("a gateway started later sent %d packets, want its one start-up try", n)
		}
	}
	t.Run("memory", func(t *testing.T) { run(t, store.NewMemoryLegacyStore()) })
	t.Run("redis", func(t *testing.T) {
		r := storetest.StartRedis(t)
		_, idem, closer, err := store.NewRedis(r.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closer.Close() })
		ls, _ := store.RedisLegacyStoreFor(idem)
		run(t, ls)
	})
}

// replica is a second gateway in front of h's simulator, sharing store.
func replica(t *testing.T, h *harness, ls store.LegacyStore) *harness {
	t.Helper()
	return h.beside(Config{
		Upstream:    upstream.Config{BaseURL: h.simSrv.URL, Timeout: 5 * time.Second},
		LegacyStore: ls, Logger: zap.NewNop(), DescriptorTTL: time.Minute,
		StateSecret: h.gw.cfg.StateSecret, // replicas of one deployment share it
	})
}

// legacyGauge reads pleskgate_upstream_legacy_refused from h's registry.
func legacyGauge(t *testing.T, h *harness) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "pleskgate_upstream_legacy_refused" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("pleskgate_upstream_legacy_refused is not registered")
	return 0
}

// The 17.8 way (PROTOCOL.md §15 REC-3, REC-4): the panel takes a legacy
// packet's envelope and version and answers each <client> operation with a
// result-level 1017 naming the version. plesksim's RefuseLegacyResult is
// such a panel, in process.

const rec3Words = "This feature is not supported for protocol version 1.6.0.2."

func withRefuseLegacyResult(sc *plesksim.Config, _ *Config) { sc.RefuseLegacyResult = true }

// expectRefused17 checks a 501 legacy-operator-refused quoting the 17.8
// panel's result-level 1017.
func expectRefused17(t *testing.T, h *harness, r response, op string) {
	t.Helper()
	h.expect(r, http.StatusNotImplemented)
	p := r.problem(t)
	if p.Type != problemType("legacy-operator-refused") {
		t.Fatalf("%s: problem type %q, want legacy-operator-refused: %s", op, p.Type, r.body)
	}
	if p.PleskErrcode == nil || *p.PleskErrcode != 1017 || p.PleskErrtext == nil || *p.PleskErrtext != rec3Words {
		t.Fatalf("%s: problem does not quote the panel: %s", op, r.body)
	}
	if !strings.Contains(p.Detail, op) || !strings.Contains(p.Detail, rec3Words) {
		t.Fatalf("%s: detail does not name the operation and the panel's words: %q", op, p.Detail)
	}
}

// TestLegacyRefusedResult1017EveryEndpoint: against a panel answering the
// 17.8 way, each legacy-only endpoint's first call sends its one packet and
// answers 501 legacy-operator-refused quoting the panel; the second call
// sends nothing; /meta then marks every legacy-only operation unsupported
// with the panel's words, and the modern ones supported.
func TestLegacyRefusedResult1017EveryEndpoint(t *testing.T) {
	refusedOnceEveryEndpoint(t, withRefuseLegacyResult, "legacy17", expectRefused17)
	t.Run("meta", func(t *testing.T) {
		h := newHarness(t, withRefuseLegacyResult)
		id := h.createClient("meta17")
		expectRefused17(t, h, h.send(legacyCalls(id)[0]), "get-limits")
		var meta struct {
			Operations []struct {
				OperationID string  `json:"operation_id"`
				Supported   bool    `json:"supported"`
				Reason      *string `json:"reason"`
			} `json:"operations"`
		}
		h.expect(h.do("GET", "/meta", nil), http.StatusOK).json(t, &meta)
		refused := 0
		for _, op := range meta.Operations {
			switch {
			case op.Reason != nil && strings.Contains(*op.Reason, rec3Words):
				if op.Supported {
					t.Errorf("/meta %s: supported with a refusal reason", op.OperationID)
				}
				refused++
			case !op.Supported:
				t.Errorf("/meta %s: unsupported without the panel's words (%v)", op.OperationID, op.Reason)
			}
		}
		if refused != 12 {
			t.Fatalf("/meta marks %d operations refused, want the 12 legacy-only ones", refused)
		}
		if g := legacyGauge(t, h); g != 1 {
			t.Fatalf("pleskgate_upstream_legacy_refused = %v, want 1", g)
		}
		// Modern endpoints still work.
		h.expect(h.do("GET", fmt.Sprintf("/clients/%d?include=stat", id), nil), http.StatusOK)
	})
}

// TestLegacyUnrelated1017NotLearned: a result-level 1017 that does not name
// the packet's version is that operation's own 501: nothing is learned, the
// next call sends its packet again, and /meta still says supported.
func TestLegacyUnrelated1017NotLearned(t *testing.T) {
	sim, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: adminPass, RefuseLegacyResult: true})
	if err != nil {
		t.Fatal(err)
	}
	// The panel's answer with the version taken out of the text.
	panel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, r)
		body := strings.ReplaceAll(rec.Body.String(), rec3Words, "This feature is not supported.")
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(panel.Close)
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.Upstream = upstream.Config{BaseURL: panel.URL, Timeout: 5 * time.Second}
	})
	desc := legacyCall{"get-limit-descriptor", "GET", "/descriptors/limits", nil, 0}
	h.expect(h.do("GET", "/meta", nil), http.StatusOK) // the versions are learned
	for i := range 2 {
		before := sim.Stats().Requests
		r := h.expect(h.send(desc), http.StatusNotImplemented)
		if p := r.problem(t); p.Type == problemType("legacy-operator-refused") || p.PleskErrcode == nil || *p.PleskErrcode != 1017 {
			t.Fatalf("call %d: an unrelated 1017 answered as %s", i, r.body)
		}
		if n := sim.Stats().Requests - before; n != 1 {
			t.Fatalf("call %d sent %d packets, want 1: nothing is learned from an unrelated 1017", i, n)
		}
	}
	var meta struct {
		Operations []struct {
			OperationID string `json:"operation_id"`
			Supported   bool   `json:"supported"`
		} `json:"operations"`
	}
	h.expect(h.do("GET", "/meta", nil), http.StatusOK).json(t, &meta)
	for _, op := range meta.Operations {
		if op.OperationID == "getLimitDescriptor" && !op.Supported {
			t.Fatal("/meta marks getLimitDescriptor unsupported after an unrelated 1017")
		}
	}
	if g := legacyGauge(t, h); g != 0 {
		t.Fatalf("pleskgate_upstream_legacy_refused = %v after an unrelated 1017", g)
	}
}
