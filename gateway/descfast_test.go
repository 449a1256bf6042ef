package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/pleskgate/pleskgate/plesksim"
)

// descStep is one request of the fast-path comparison.
type descStep struct {
	name, user, pass, path string
	headers                map[string][]string
	status                 int
}

// TestDescriptorFastPathMatchesStrictHandler runs the same requests against
// two gateways, one answering descriptor reads in the chain
// (serveDescriptor) and one through the generated strict handler
// (descFastOff), each in front of a simulator of its own with the same
// accounts, and compares every answer (status, headers, body), the access
// log and the metrics.
func TestDescriptorFastPathMatchesStrictHandler(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testDescriptorFastPath(t, "") })
	// With CORS on, the chain runs Echo's CORS middleware first (Vary, Access-Control-*).
	t.Run("cors", func(t *testing.T) { testDescriptorFastPath(t, "https://app.example") })
}

func testDescriptorFastPath(t *testing.T, origin string) {
	var opts []harnessOpt
	if origin != "" {
		opts = append(opts, func(_ *plesksim.Config, gc *Config) { gc.CORSOrigins = []string{origin} })
	}
	fast, normal := newHarness(t, opts...), newHarness(t, opts...)
	normal.gw.descFastOff = true
	var fastServed, normalServed int
	descFastHook = func(s *Server) {
		switch s {
		case fast.gw:
			fastServed++
		case normal.gw:
			normalServed++
		}
	}
	t.Cleanup(func() { descFastHook = nil })

	// The same clients in both simulators, created in the same order.
	var adminClient, resClient int
	for i, h := range []*harness{fast, normal} {
		a := h.createClient("fastpath-a")
		r := h.as("res1", resellerPass).createClient("fastpath-r")
		if i == 0 {
			adminClient, resClient = a, r
		} else if a != adminClient || r != resClient {
			t.Fatalf("client ids differ between the simulators: %d/%d and %d/%d", adminClient, resClient, a, r)
		}
	}
	startLogs := [2]int{fast.logs.Len(), normal.logs.Len()}
	startMetrics := [2]map[string]float64{metricSnapshot(t, fast), metricSnapshot(t, normal)}

	limits := "/descriptors/limits"
	perms := "/descriptors/permissions"
	clientLimits := fmt.Sprintf("/clients/%d/descriptors/limits", adminClient)
	clientPerms := fmt.Sprintf("/clients/%d/descriptors/permissions", adminClient)
	resClientLimits := fmt.Sprintf("/clients/%d/descriptors/limits", resClient)
	const etagHere = "{etag}" // replaced by the ETag last answered for the path
	steps := []descStep{
		{name: "miss", path: limits, status: 200},
		{name: "hit", path: limits, status: 200},
		{name: "hit again", path: limits, status: 200},
		{name: "304", path: limits, headers: map[string][]string{"If-None-Match": {etagHere}}, status: 304},
		{name: "304 in a list", path: limits, headers: map[string][]string{"If-None-Match": {`W/"x", ` + etagHere}}, status: 304},
		{name: "304 star", path: limits, headers: map[string][]string{"If-None-Match": {"*"}}, status: 304},
		{name: "other etag", path: limits, headers: map[string][]string{"If-None-Match": {`"0123"`}}, status: 200},
		{name: "two If-None-Match", path: limits, headers: map[string][]string{"If-None-Match": {`"a"`, `"b"`}}, status: 400},
		{name: "query", path: limits + "?x=1", status: 200},
		{name: "permissions miss", path: perms, status: 200},
		{name: "permissions hit", path: perms, status: 200},
		{name: "permissions 304", path: perms, headers: map[string][]string{"If-None-Match": {etagHere}}, status: 304},
		{name: "reseller miss", user: "res1", pass: resellerPass, path: limits, status: 200},
		{name: "reseller hit", user: "res1", pass: resellerPass, path: limits, status: 200},
		{name: "reseller 304", user: "res1", pass: resellerPass, path: limits, headers: map[string][]string{"If-None-Match": {etagHere}}, status: 304},
		{name: "admin after reseller", path: limits, status: 200},
		{name: "client miss", path: clientLimits, status: 200},
		{name: "client hit", path: clientLimits, status: 200},
		{name: "client 304", path: clientLimits, headers: map[string][]string{"If-None-Match": {etagHere}}, status: 304},
		{name: "client permissions miss", path: clientPerms, status: 200},
		{name: "client permissions hit", path: clientPerms, status: 200},
		{name: "reseller's client miss", user: "res1", pass: resellerPass, path: resClientLimits, status: 200},
		{name: "reseller's client hit", user: "res1", pass: resellerPass, path: resClientLimits, status: 200},
		{name: "admin reads reseller's client", path: resClientLimits, status: 200},
		{name: "reseller reads admin's client", user: "res1", pass: resellerPass, path: clientLimits, status: -1},
		{name: "no such client", path: "/clients/987654/descriptors/limits", status: 404},
		{name: "no such client again", path: "/clients/987654/descriptors/limits", status: 404},
		{name: "id zero", path: "/clients/0/descriptors/limits", status: 400},
		{name: "id not a number", path: "/clients/abc/descriptors/limits", status: 400},
		{name: "leading zero", path: fmt.Sprintf("/clients/0%d/descriptors/limits", adminClient), status: -1},
		{name: "no credentials", path: limits, status: 401},
		{name: "wrong password", user: "admin", pass: "wrong", path: limits, status: -1},
		{name: "request id generated", path: limits, headers: map[string][]string{"X-Request-Id": nil}, status: 200},
	}
	etags := map[string]string{}
	for i, st := range steps {
		var got [2]response
		for j, h := range []*harness{fast, normal} {
			hh := h.as("admin", adminPass)
			if st.user != "" {
				hh = h.as(st.user, st.pass)
			} else if st.name == "no credentials" {
				hh = h.anonymous()
			}
			hh = hh.with("X-Request-ID", fmt.Sprintf("fastpath-%d", i))
			if origin != "" {
				hh = hh.with("Origin", origin)
			}
			for k, vs := range st.headers {
				if vs == nil {
					delete(hh.headers, k)
					continue
				}
				out := make([]string, len(vs))
				for n, v := range vs {
					out[n] = strings.ReplaceAll(v, etagHere, etags[st.user+st.path])
				}
				hh.headers[k] = out
			}
			got[j] = hh.do("GET", st.path, nil)
		}
		if st.status >= 0 && got[0].StatusCode != st.status {
			t.Fatalf("%s: status %d, want %d: %s", st.name, got[0].StatusCode, st.status, got[0].body)
		}
		compareAnswers(t, st.name, got[0], got[1])
		if origin != "" && (got[0].Header.Get("Access-Control-Allow-Origin") != origin || got[0].Header.Get("Vary") == "") {
			t.Fatalf("%s: CORS headers missing: %v", st.name, got[0].Header)
		}
		if e := got[0].Header.Get("ETag"); e != "" {
			etags[st.user+st.path] = e
		}
	}
	if fastServed == 0 || normalServed != 0 {
		t.Fatalf("serveDescriptor answered %d requests of the fast gateway and %d of the other, want some and none", fastServed, normalServed)
	}

	// The access log: the same lines with the same fields, latency aside.
	lines := [2][]string{}
	for j, h := range []*harness{fast, normal} {
		for _, e := range h.logs.All()[startLogs[j]:] {
			fields := e.ContextMap()
			if _, ok := fields["latency"]; !ok && e.Message == "request" {
				t.Fatalf("access-log line without latency: %v", fields)
			}
			delete(fields, "latency")
			if id, _ := fields["request_id"].(string); e.Message == "request" && id == "" {
				t.Fatalf("access-log line without request id: %v", fields)
			}
			if i, _ := fields["request_id"].(string); generatedID(i) {
				fields["request_id"] = "(generated)"
			}
			lines[j] = append(lines[j], fmt.Sprintf("%s %s %v", e.Level, e.Message, fields))
		}
	}
	if len(lines[0]) != len(lines[1]) || len(lines[0]) < len(steps) {
		t.Fatalf("access log: %d lines with the fast path, %d without, %d requests", len(lines[0]), len(lines[1]), len(steps))
	}
	for i := range lines[0] {
		if lines[0][i] != lines[1][i] {
			t.Fatalf("access-log line %d differs:\nfast:   %s\nnormal: %s", i, lines[0][i], lines[1][i])
		}
	}

	// The metrics: the same series moved by the same amounts.
	var deltas [2]map[string]float64
	for j, h := range []*harness{fast, normal} {
		deltas[j] = metricSnapshot(t, h)
		for k, v := range startMetrics[j] {
			deltas[j][k] -= v
		}
		for k, v := range deltas[j] {
			if v == 0 {
				delete(deltas[j], k)
			}
		}
	}
	if a, b := formatMetrics(deltas[0]), formatMetrics(deltas[1]); a != b {
		t.Fatalf("metrics moved differently:\nfast:\n%s\nnormal:\n%s", a, b)
	}
	for _, want := range []string{
		`pleskgate_http_requests_total{method="GET",operation="getLimitDescriptor",status="200"}`,
		`pleskgate_http_requests_total{method="GET",operation="getLimitDescriptor",status="304"}`,
		`pleskgate_http_requests_total{method="GET",operation="getClientLimitDescriptor",status="200"}`,
		`pleskgate_descriptor_cache_requests_total{outcome="hit"}`,
		`pleskgate_descriptor_cache_requests_total{outcome="miss"}`,
		`pleskgate_http_request_duration_seconds_count{method="GET",operation="getPermissionDescriptor"}`,
	} {
		if deltas[0][want] == 0 {
			t.Fatalf("no %s counted:\n%s", want, formatMetrics(deltas[0]))
		}
	}
}

// compareAnswers fails unless a and b are the same answer: status, body and
// every header byte for byte, but Date and the seconds left in
// Cache-Control and Cache-Status, which may differ by one when a second
// boundary passed between the two requests.
func compareAnswers(t *testing.T, name string, a, b response) {
	t.Helper()
	if a.StatusCode != b.StatusCode || string(a.body) != string(b.body) {
		t.Fatalf("%s: fast path %d %s, strict handler %d %s", name, a.StatusCode, a.body, b.StatusCode, b.body)
	}
	ha, hb := a.Header.Clone(), b.Header.Clone()
	delete(ha, "Date")
	delete(hb, "Date")
	// Generated request ids differ by design.
	if ia, ib := ha.Get("X-Request-ID"), hb.Get("X-Request-ID"); generatedID(ia) && generatedID(ib) {
		ha.Set("X-Request-ID", "(generated)")
		hb.Set("X-Request-ID", "(generated)")
	}
	for _, k := range []string{"Cache-Control", "Cache-Status"} {
		va, vb := ha[k], hb[k]
		if len(va) != 1 || len(vb) != 1 {
			continue
		}
		na, sa := secondsLeft(va[0])
		nb, sb := secondsLeft(vb[0])
		if sa == sb && na >= 0 && nb >= 0 && (na-nb <= 1 && nb-na <= 1) {
			ha[k], hb[k] = []string{sa}, []string{sb}
		}
	}
	if fa, fb := fmt.Sprint(sortedHeader(ha)), fmt.Sprint(sortedHeader(hb)); fa != fb {
		t.Fatalf("%s: headers differ:\nfast:   %s\nstrict: %s", name, fa, fb)
	}
}

func generatedID(id string) bool {
	return len(id) == 24 && strings.Trim(id, "0123456789abcdef") == ""
}

var secondsRE = regexp.MustCompile(`(max-age=|ttl=)([0-9]+)`)

// secondsLeft returns the seconds in a Cache-Control or Cache-Status value
// (-1 when none) and the value with them blanked out.
func secondsLeft(v string) (int, string) {
	m := secondsRE.FindStringSubmatch(v)
	if m == nil {
		return -1, v
	}
	n, _ := strconv.Atoi(m[2])
	return n, secondsRE.ReplaceAllString(v, "${1}N")
}

func sortedHeader(h http.Header) []string {
	var out []string
	for k, vs := range h {
		out = append(out, k+": "+strings.Join(vs, "\x00"))
	}
	sort.Strings(out)
	return out
}

// metricSnapshot reads the gateway's counters and histogram counts.
func metricSnapshot(t *testing.T, h *harness) map[string]float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := labelString(m.GetLabel())
			switch {
			case m.Counter != nil:
				out[mf.GetName()+labels] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[mf.GetName()+labels] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[mf.GetName()+"_count"+labels] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func labelString(ls []*dto.LabelPair) string {
	if len(ls) == 0 {
		return ""
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprintf("%s=%q", l.GetName(), l.GetValue())
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

func formatMetrics(m map[string]float64) string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s %v", k, v))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func TestHitMemo(t *testing.T) {
	var h hitMemo
	now := time.Now()
	p := func(id int64) descKeyParts { return descKeyParts{identity: "i", kind: "limits", clientID: id} }
	entry := func(body string, ttl time.Duration) CacheEntry {
		return CacheEntry{Body: []byte(body), ETag: etagOf([]byte(body)), StoredAt: now, Expires: now.Add(ttl)}
	}
	if h.get(p(1), now) != nil {
		t.Fatal("empty memo answered")
	}
	h.put(p(1), entry("a", time.Minute), now)
	if e := h.get(p(1), now); e == nil || string(e.Body) != "a" {
		t.Fatalf("got %v", e)
	}
	if h.get(p(2), now) != nil || h.get(descKeyParts{identity: "j", kind: "limits", clientID: 1}, now) != nil {
		t.Fatal("another key's entry answered")
	}
	if h.get(p(1), now.Add(time.Minute+time.Nanosecond)) != nil {
		t.Fatal("expired entry answered")
	}
	h.put(p(1), entry("b", 2*time.Minute), now)
	if e := h.get(p(1), now); e == nil || string(e.Body) != "b" {
		t.Fatalf("replaced entry: got %v", e)
	}
	// Full of unexpired entries: nothing new is added, present ones stay.
	for id := int64(2); id <= hitMemoSize+10; id++ {
		h.put(p(id), entry("c", time.Second), now)
	}
	if n := len(h.m.Load().entries); n != hitMemoSize {
		t.Fatalf("memo holds %d entries, bound %d", n, hitMemoSize)
	}
	if h.get(p(hitMemoSize+5), now) != nil {
		t.Fatal("entry beyond the bound remembered")
	}
	// Once some have expired, they make room.
	later := now.Add(time.Minute)
	h.put(p(hitMemoSize+5), entry("d", time.Minute), later)
	if e := h.get(p(hitMemoSize+5), later); e == nil || string(e.Body) != "d" {
		t.Fatalf("no room made: got %v", e)
	}
	if e := h.get(p(1), later); e == nil || string(e.Body) != "b" {
		t.Fatal("an unexpired entry was dropped")
	}
	if n := len(h.m.Load().entries); n != 2 {
		t.Fatalf("memo holds %d entries after expiry, want 2", n)
	}
	var none *hitMemo // configured stores (Redis) have no memo
	none.put(p(1), entry("a", time.Minute), now)
	if none.get(p(1), now) != nil {
		t.Fatal("nil memo answered")
	}
}

// TestDescriptorHitMemoOnlyInMemory: with a configured store every read asks it.
func TestDescriptorHitMemoOnlyInMemory(t *testing.T) {
	store := &countingStore{CacheStore: NewMemoryCache(100, time.Minute)}
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.Cache = store })
	for i := 0; i < 3; i++ {
		h.expect(h.do("GET", "/descriptors/limits", nil), http.StatusOK)
	}
	if store.gets.Load() != 3 {
		t.Fatalf("store asked %d times for 3 reads", store.gets.Load())
	}
	m := newHarness(t)
	for i := 0; i < 3; i++ {
		h := m.expect(m.do("GET", "/descriptors/limits", nil), http.StatusOK)
		if i > 0 && !strings.HasPrefix(h.Header.Get("Cache-Status"), "pleskgate; hit; ttl=") {
			t.Fatalf("Cache-Status %q", h.Header.Get("Cache-Status"))
		}
	}
	if n := testutil.ToFloat64(m.gw.metrics.cacheRequests.WithLabelValues("hit")); n != 2 {
		t.Fatalf("hits counted: %v, want 2", n)
	}
}

type countingStore struct {
	CacheStore
	gets atomic.Int32
}

func (s *countingStore) Get(ctx context.Context, key string) (CacheEntry, bool, error) {
	s.gets.Add(1)
	return s.CacheStore.Get(ctx, key)
}

// TestInFlightGauge: the gauge keeps its name and type, and counts the
// scrape that reads it.
func TestInFlightGauge(t *testing.T) {
	h := newHarness(t).anonymous()
	r := h.expect(h.do("GET", "/metrics", nil), http.StatusOK)
	for _, want := range []string{"# TYPE pleskgate_http_requests_in_flight gauge\n", "\npleskgate_http_requests_in_flight 1\n"} {
		if !strings.Contains(string(r.body), want) {
			t.Fatalf("/metrics lacks %q", want)
		}
	}
	// The first scrape is over: the second counts itself only.
	r = h.expect(h.do("GET", "/metrics", nil), http.StatusOK)
	if !strings.Contains(string(r.body), "\npleskgate_http_requests_in_flight 1\n") {
		t.Fatal("in-flight gauge not back to 1")
	}
}

// TestChainLeavesServersRequestAlone: the request net/http passed in keeps
// its body and context (limitBody and the state go on a copy).
func TestChainLeavesServersRequestAlone(t *testing.T) {
	h := newHarness(t)
	for _, method := range []string{"POST", "GET"} {
		r := httptest.NewRequest(method, "/clients", strings.NewReader(`{"login":"x"}`))
		r.SetBasicAuth("admin", adminPass)
		body, ctx := r.Body, r.Context()
		w := httptest.NewRecorder()
		h.gw.Handler().ServeHTTP(w, r)
		if r.Body != body || r.Context() != ctx {
			t.Fatalf("%s: the server's request was changed", method)
		}
		if w.Header().Get("X-Request-ID") == "" {
			t.Fatalf("%s: no request id", method)
		}
	}
}
