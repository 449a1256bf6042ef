package gateway

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestReadyzProbesAtMostOncePerWindow: /readyz is unauthenticated, so 50
// calls (concurrent and sequential) cost at most one packet, and its answer
// says ready or not and nothing else — not the upstream URL nor the error.
func TestReadyzProbesAtMostOncePerWindow(t *testing.T) {
	h := newHarness(t)
	before := h.sim.Stats().Requests
	var wg sync.WaitGroup
	for range 25 {
		wg.Go(func() { h.expect(h.anonymous().do("GET", "/readyz", nil), http.StatusOK) })
	}
	wg.Wait()
	for range 25 {
		h.expect(h.anonymous().do("GET", "/readyz", nil), http.StatusOK)
	}
	if n := h.sim.Stats().Requests - before; n > 1 {
		t.Fatalf("50 /readyz calls sent %d packets, want at most 1", n)
	}

	down := newHarness(t)
	down.simSrv.Close()
	r := down.expect(down.anonymous().do("GET", "/readyz", nil), http.StatusServiceUnavailable)
	if got := strings.TrimSpace(string(r.body)); got != `{"status":"unavailable"}` {
		t.Fatalf("/readyz said %s; want only the status (no URL, no error)", got)
	}
	if strings.Contains(string(r.body), "127.0.0.1") {
		t.Fatal("/readyz names the upstream")
	}
}
