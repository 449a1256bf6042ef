package gateway

import (
	"net/http"
	"testing"

	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestBusyProblem: a request shed by admission is 503 upstream-busy with
// Retry-After.
func TestBusyProblem(t *testing.T) {
	p, h := problemFor(&upstream.Error{Kind: upstream.Busy, Err: upstream.ErrBusy})
	if p.Status != http.StatusServiceUnavailable || p.Type != "https://pleskgate.dev/problems/upstream-busy" || h.Get("Retry-After") == "" {
		t.Fatalf("problem %+v header %v", p, h)
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
