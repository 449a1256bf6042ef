package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/pleskgate/pleskgate/plesksim"
)

func TestMetricsLint(t *testing.T) {
	h := newHarness(t)
	h.expect(h.do("GET", "/clients", nil), http.StatusOK)
	h.do("GET", "/descriptors/limits", nil)
	problems, err := testutil.GatherAndLint(h.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
	r := h.anonymous().expect(h.anonymous().do("GET", "/metrics", nil), http.StatusOK)
	for _, want := range []string{
		`pleskgate_http_requests_total{method="GET",operation="listClients",status="200"}`,
		`pleskgate_upstream_packets_total{errcode="0",operation="customer/get",outcome="ok"}`,
		`pleskgate_descriptor_cache_requests_total{outcome="miss"}`,
		`pleskgate_upstream_circuit_breaker_state 0`,
		`pleskgate_http_requests_in_flight`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestMetricsCountEachRequest(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < 3; i++ {
		h.expect(h.do("GET", "/descriptors/limits", nil), http.StatusOK)
	}
	h.expect(h.anonymous().do("GET", "/descriptors/limits", nil), http.StatusUnauthorized)
	if n := testutil.ToFloat64(h.gw.metrics.httpRequests.WithLabelValues("getLimitDescriptor", "GET", "200")); n != 3 {
		t.Fatalf("200s counted: %v, want 3", n)
	}
	if n := testutil.ToFloat64(h.gw.metrics.httpRequests.WithLabelValues("getLimitDescriptor", "GET", "401")); n != 1 {
		t.Fatalf("401s counted: %v, want 1", n)
	}
	if n := testutil.ToFloat64(h.gw.metrics.cacheRequests.WithLabelValues("hit")); n != 2 {
		t.Fatalf("hits counted: %v, want 2", n)
	}
}

// TestMadeUpMethodsShareOneSeries: 300 requests with invented HTTP methods
// add one "other" series, not one per method, so /metrics stays small.
func TestMadeUpMethodsShareOneSeries(t *testing.T) {
	h := newHarness(t)
	for i := range 300 {
		req, err := http.NewRequest(fmt.Sprintf("X%dY", i), h.srv.URL+"/clients", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	body := string(h.anonymous().expect(h.anonymous().do("GET", "/metrics", nil), http.StatusOK).body)
	if strings.Contains(body, `method="X1Y"`) || !strings.Contains(body, `method="other"`) {
		t.Fatal("made-up methods became label values of their own")
	}
	if n := strings.Count(body, "\n"); n > 2000 {
		t.Fatalf("/metrics has %d lines after 300 made-up methods", n)
	}
}

// TestAdmissionMetrics: the hooks set the in-flight and queued gauges and
// count shed requests.
func TestAdmissionMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := newAdmissionMetrics(reg)
	a.observeAdmission(3, 5)
	a.upstreamShed.Inc()
	if testutil.ToFloat64(a.upstreamInFlight) != 3 || testutil.ToFloat64(a.upstreamQueued) != 5 || testutil.ToFloat64(a.upstreamShed) != 1 {
		t.Fatal("admission metrics not set")
	}
}

// TestDashboardNamesExposedMetrics loads deploy/grafana/pleskgate.json and
// checks that every query names metrics a real gateway exposes (its
// registry after a few requests of every kind), and only labels they carry.
func TestDashboardNamesExposedMetrics(t *testing.T) {
	data, err := os.ReadFile("../deploy/grafana/pleskgate.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}

	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.Upstream.Concurrency, gc.Upstream.Queue = 4, 16 })
	h.expect(h.with("Idempotency-Key", "dash-1").do("POST", "/clients", newClientBody("dash1")), http.StatusCreated)
	h.do("GET", "/clients/999999", nil)
	h.do("GET", "/descriptors/limits", nil)
	h.do("GET", "/descriptors/limits", nil)
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exposed := map[string]map[string]bool{} // series name → its labels
	for _, f := range families {
		labels := map[string]bool{}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				labels[l.GetName()] = true
			}
		}
		names := []string{f.GetName()}
		if f.GetType() == dto.MetricType_HISTOGRAM {
			labels["le"] = true
			names = append(names, f.GetName()+"_bucket", f.GetName()+"_sum", f.GetName()+"_count")
		}
		for _, n := range names {
			exposed[n] = labels
		}
	}

	metricRe := regexp.MustCompile(`\b(pleskgate_[a-z0-9_]+)(\{([^}]*)\})?`)
	labelRe := regexp.MustCompile(`([a-z_]+)\s*(=~|!~|!=|=)`)
	byRe := regexp.MustCompile(`\bby \(([^)]*)\)`)
	queries := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			queries++
			ms := metricRe.FindAllStringSubmatch(tg.Expr, -1)
			if len(ms) == 0 {
				t.Errorf("panel %q: query %q names no pleskgate metric", p.Title, tg.Expr)
			}
			used := map[string]bool{}
			for _, m := range ms {
				labels, ok := exposed[m[1]]
				if !ok {
					t.Errorf("panel %q: %s is not exposed by the gateway", p.Title, m[1])
					continue
				}
				for k := range labels {
					used[k] = true
				}
				for _, l := range labelRe.FindAllStringSubmatch(m[3], -1) {
					if !labels[l[1]] {
						t.Errorf("panel %q: %s has no label %s", p.Title, m[1], l[1])
					}
				}
			}
			for _, b := range byRe.FindAllStringSubmatch(tg.Expr, -1) {
				for _, l := range strings.Split(b[1], ",") {
					if l = strings.TrimSpace(l); !used[l] {
						t.Errorf("panel %q: grouped by %s, which its metrics do not carry", p.Title, l)
					}
				}
			}
		}
	}
	if queries < 10 {
		t.Fatalf("only %d queries in the dashboard", queries)
	}
	// Every family the gateway exposes is on the dashboard.
	for _, f := range families {
		if n := f.GetName(); strings.HasPrefix(n, "pleskgate_") && !strings.Contains(string(data), n) && !dashboardSkips[n] {
			t.Errorf("the dashboard shows nothing of %s", n)
		}
	}
}

// TestMadeUpErrcodesShareOneLabel: a panel answering codes outside
// PROTOCOL.md §9's list (here the simulator's answers replaced by system
// errors with 299 invented codes) adds one errcode="other" series, while a listed code
// keeps its own value.
func TestMadeUpErrcodesShareOneLabel(t *testing.T) {
	sim, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: adminPass})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	target, _ := url.Parse(simSrv.URL)
	var next atomic.Int64
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		ModifyResponse: func(resp *http.Response) error {
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			resp.Body.Close()
			code := int64(1014) // the first one: a listed code
			if n := next.Add(1); n > 1 {
				code = 70000 + n
			}
			b = fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?><packet version="1.6.9.1"><system><status>error</status><errcode>%d</errcode><errtext>made up</errtext></system></packet>`, code)
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Del("Content-Length")
			return nil
		},
	})
	defer proxy.Close()
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.Upstream.BaseURL = proxy.URL
		gc.Protocol, _ = ParseProtocolSetting("1.6.9.1") // no get_protos: every packet is a get
	})
	for i := range 300 {
		r := h.do("GET", fmt.Sprintf("/clients/%d", 900000+i), nil)
		if r.StatusCode < 400 {
			t.Fatalf("unknown client: %d %s", r.StatusCode, r.body)
		}
	}
	body := string(h.anonymous().expect(h.anonymous().do("GET", "/metrics", nil), http.StatusOK).body)
	if strings.Contains(body, `errcode="70002"`) || !strings.Contains(body, `errcode="other"`) || !strings.Contains(body, `errcode="1014"`) {
		t.Fatalf("errcode labels: %s", grepLines(body, "pleskgate_upstream_packets_total"))
	}
	if n := testutil.ToFloat64(h.gw.metrics.upstreamPackets.WithLabelValues("customer/get", "plesk_error", "other")); n != 299 {
		t.Fatalf("other: %v packets, want 299", n)
	}
	for _, c := range []int{0, 1001, 1013, 11003, 14009} {
		if errcodeLabel(c) != fmt.Sprint(c) {
			t.Errorf("code %d labelled %q", c, errcodeLabel(c))
		}
	}
	for _, c := range []int{-1, 1016, 1034, 2300, 99999} {
		if errcodeLabel(c) != "other" {
			t.Errorf("code %d labelled %q", c, errcodeLabel(c))
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// dashboardSkips are metrics the dashboard leaves out on purpose.
var dashboardSkips = map[string]bool{}

// A fresh gateway's /metrics already has the series of the label values
// known in advance, at 0, so the shipped dashboard shows 0 rather than "No
// data" until the first descriptor read or Idempotency-Key. Only series
// keyed by operation wait for that operation's first request.
func TestMetricsPresentFromTheStart(t *testing.T) {
	h := newHarness(t).anonymous()
	r := h.expect(h.do("GET", "/metrics", nil), 200)
	text := string(r.body)
	for _, want := range []string{
		`pleskgate_descriptor_cache_requests_total{outcome="hit"} 0`,
		`pleskgate_descriptor_cache_requests_total{outcome="miss"} 0`,
		`pleskgate_descriptor_cache_requests_total{outcome="collapsed"} 0`,
		`pleskgate_descriptor_cache_requests_total{outcome="bypass"} 0`,
		`pleskgate_idempotency_requests_total{outcome="new"} 0`,
		`pleskgate_idempotency_requests_total{outcome="replayed"} 0`,
		`pleskgate_idempotency_requests_total{outcome="conflict"} 0`,
		`pleskgate_idempotency_requests_total{outcome="store_error"} 0`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("a fresh /metrics lacks %s", want)
		}
	}
	// Every family the dashboard queries is there, but those keyed by
	// operation (they appear with its first request).
	byOperation := map[string]bool{
		"pleskgate_http_requests_total": true, "pleskgate_http_request_duration_seconds": true,
		"pleskgate_upstream_packets_total": true, "pleskgate_upstream_request_duration_seconds": true,
	}
	dash, err := os.ReadFile("../deploy/grafana/pleskgate.json")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, name := range regexp.MustCompile(`pleskgate_[a-z_]+`).FindAllString(string(dash), -1) {
		family := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		if seen[family] || byOperation[family] {
			continue
		}
		seen[family] = true
		if !strings.Contains(text, "\n"+family+"{") && !strings.Contains(text, "\n"+family+" ") {
			t.Errorf("the dashboard queries %s, missing from a fresh /metrics", family)
		}
	}
}
