package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
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
