package gateway

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
	"github.com/pleskgate/pleskgate/translator"
)

// flakyUpstream answers the first fails requests with HTTP 500, then passes
// requests to the simulator.
type flakyUpstream struct {
	sim   http.Handler
	fails atomic.Int32
	seen  atomic.Int32
}

func (f *flakyUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.seen.Add(1)
	if f.fails.Add(-1) >= 0 {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	f.sim.ServeHTTP(w, r)
}

func TestRetriesOnlyReads(t *testing.T) {
	flaky := &flakyUpstream{}
	up := httptest.NewServer(flaky)
	defer up.Close()
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.Upstream = upstream.Config{BaseURL: up.URL, Timeout: 5 * time.Second, RetryInitial: time.Millisecond}
	})
	flaky.sim = h.sim
	h.expect(h.do("GET", "/meta", nil), http.StatusOK)

	flaky.fails.Store(2)
	flaky.seen.Store(0)
	h.expect(h.do("GET", "/clients", nil), http.StatusOK) // two 500s, then the answer
	if got := flaky.seen.Load(); got != 3 {
		t.Fatalf("a read took %d attempts, want 3", got)
	}
	flaky.fails.Store(1)
	flaky.seen.Store(0)
	h.expect(h.do("POST", "/clients", newClientBody("noretry")), http.StatusBadGateway).problem(t)
	if got := flaky.seen.Load(); got != 1 {
		t.Fatalf("a write was sent %d times", got)
	}
	if len(h.sim.Clients()) != 0 {
		t.Fatal("the failed write reached the simulator")
	}
}

func TestCircuitBreakerOpensAndRecovers(t *testing.T) {
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.Upstream = upstream.Config{Timeout: time.Second, RetryMax: -1,
			BreakerMinCalls: 3, BreakerOpenFor: 300 * time.Millisecond}
	})
	h.expect(h.do("GET", "/meta", nil), http.StatusOK)
	h.sim.SetFaults(plesksim.Faults{Kind: plesksim.FaultDrop, Rate: 1})
	for i := 0; i < 3; i++ {
		h.expect(h.do("GET", "/clients", nil), http.StatusServiceUnavailable)
	}
	if got := h.gw.upstream.BreakerState(); got != "open" {
		t.Fatalf("breaker %s after 3 failures", got)
	}
	if g := testutil.ToFloat64(h.gw.metrics.breakerState); g != 2 {
		t.Fatalf("breaker gauge %v, want 2 (open)", g)
	}
	before := h.sim.Stats().Requests
	p := h.expect(h.do("GET", "/clients", nil), http.StatusServiceUnavailable).problem(t)
	if !strings.Contains(p.Detail, "circuit breaker") || h.sim.Stats().Requests != before {
		t.Fatalf("an open breaker still called upstream: %+v", p)
	}
	h.sim.SetFaults(plesksim.Faults{})
	time.Sleep(350 * time.Millisecond)
	h.expect(h.do("GET", "/clients", nil), http.StatusOK)
	if got := h.gw.upstream.BreakerState(); got != "closed" {
		t.Fatalf("breaker %s after recovery", got)
	}
}

// first, over any reply's results: none is 404 "client not found", an
// error result is that result's Plesk error, an ok one is returned as is.
func TestFirstIsTheFirstResultOrItsError(t *testing.T) {
	_, err := first([]translator.DomainListResult{})
	if p, _ := problemFor(err); p.Status != http.StatusNotFound || p.Detail != "client not found" {
		t.Errorf("no result: %v, a %d", err, p.Status)
	}
	_, err = first([]translator.ButtonsResult{{Result: translator.Result{Status: "error", ErrCode: translator.CodeObjectNotFound, ErrText: "client does not exist"}}})
	var perr *translator.Error
	if !errors.As(err, &perr) || perr.Code != translator.CodeObjectNotFound {
		t.Errorf("error result: %v", err)
	}
	ok := translator.GetResult{Result: translator.Result{Status: "ok", ID: 7}, Client: &translator.ClientInfo{Login: "seven"}}
	if g, err := first([]translator.GetResult{ok, {}}); err != nil || g.Result.ID != 7 || g.Client.Login != "seven" {
		t.Errorf("ok result: %+v %v", g, err)
	}
	if r, err := first([]translator.Result{{Status: "error", ErrCode: 1007, ErrText: "exists"}}); !translator.IsConflict(err) || r.ErrCode != 1007 {
		t.Errorf("a Result's own error: %+v %v", r, err)
	}
}
