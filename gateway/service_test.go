package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/pleskgate/pleskgate/gateway/upstream"
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

// heldPanel is a gateway with one upstream slot and a queue of queue, in
// front of a panel that holds every get_protos until the test ends; busy
// starts one such packet per login and returns when the first is at the
// panel.
func heldPanel(t *testing.T, queue int) (s *Server, busy func(logins ...string)) {
	t.Helper()
	release := make(chan struct{})
	arrived := make(chan struct{}, 10)
	panel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		_, _ = io.WriteString(w, `<?xml version="1.0"?><packet><server><get_protos><result><status>ok</status><protos><proto>1.6.9.1</proto></protos></result></get_protos></server></packet>`)
	}))
	var wg sync.WaitGroup
	t.Cleanup(func() { close(release); wg.Wait(); panel.Close() })
	s, err := New(Config{Upstream: upstream.Config{BaseURL: panel.URL, Concurrency: 1, Queue: queue}})
	if err != nil {
		t.Fatal(err)
	}
	return s, func(logins ...string) {
		for i, login := range logins {
			wg.Go(func() {
				_, _ = s.upstream.Protos(context.Background(), upstream.Credentials{Login: login, Password: "pw"})
			})
			if i == 0 {
				<-arrived
			}
		}
	}
}

func readyz(s *Server) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return rec
}

// TestReadyzWithAFullQueue: with every slot taken and the queue full of
// callers' reads, /readyz still says ready: a full queue is not "not ready".
func TestReadyzWithAFullQueue(t *testing.T) {
	s, busy := heldPanel(t, 1)
	busy("a", "b")
	for !strings.Contains(metricLine(t, s, "pleskgate_upstream_queued"), " 1") {
		runtime.Gosched()
	}
	if rec := readyz(s); rec.Code != http.StatusOK {
		t.Fatalf("/readyz with a full queue: %d %s, want 200", rec.Code, rec.Body)
	}
}

// TestReadyzWhileItsProbeWaitsForASlot: every slot busy with a slow panel
// and room in the queue, the probe waits out its time in the queue without
// sending anything; that is a busy panel, not a failing one.
func TestReadyzWhileItsProbeWaitsForASlot(t *testing.T) {
	s, busy := heldPanel(t, 8)
	busy("a")
	if rec := readyz(s); rec.Code != http.StatusOK {
		t.Fatalf("/readyz while its probe waited for a slot: %d %s, want 200", rec.Code, rec.Body)
	}
}

// metricLine is the exposition line of the metric name, "" when absent.
func metricLine(t *testing.T, s *Server, name string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(l, name+" ") || strings.HasPrefix(l, name+"{") {
			return l
		}
	}
	return ""
}

// GET / — the first URL a newcomer tries — leads to Swagger UI instead of
// a 404 problem.
func TestRootLeadsToDocs(t *testing.T) {
	h := newHarness(t).anonymous()
	r := h.do("GET", "/", nil)
	if r.StatusCode != 200 || r.Request.URL.Path != "/docs/" || !bytes.Contains(r.body, []byte("swagger")) {
		t.Fatalf("GET / → %d at %s: %.200s", r.StatusCode, r.Request.URL.Path, r.body)
	}
}
