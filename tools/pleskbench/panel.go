package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pleskgate/pleskgate/plesksim"
	"github.com/pleskgate/pleskgate/translator"
)

// What -hangups, -fairshare and -biganswers share: a panel in this process
// that a gateway binary (built from the commit under test) is started in
// front of, a gauge of the packets inside that panel, and a tally of the
// answers the callers saw.

// peakGauge counts what is in progress, the most that ever was at once, and
// how many entered in all.
type peakGauge struct{ now, peak, total atomic.Int64 }

func (g *peakGauge) enter() {
	n := g.now.Add(1)
	g.total.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
}

func (g *peakGauge) leave() { g.now.Add(-1) }

// reset starts a new measurement: the peak is what is in progress now.
func (g *peakGauge) reset() {
	g.peak.Store(g.now.Load())
	g.total.Store(0)
}

// waitIdle waits until nothing is in progress, at most for limit, and
// reports whether that happened.
func (g *peakGauge) waitIdle(limit time.Duration) bool {
	for end := time.Now().Add(limit); g.now.Load() > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			return false
		}
	}
	return true
}

// slowPanel answers as sim does, after latency per packet, as a PHP panel
// does: the packet is read whole, then the panel works for latency and runs
// it whether or not its client is still there (the request's context is
// not passed on). g counts the packets being worked on.
func slowPanel(sim http.Handler, latency time.Duration, g *peakGauge) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		g.enter()
		defer g.leave()
		time.Sleep(latency)
		r2 := r.Clone(context.Background())
		r2.Body = io.NopCloser(bytes.NewReader(body))
		sim.ServeHTTP(w, r2)
	})
}

// panelGateway starts a gateway binary in front of panelURL, with the
// protocol pinned (one packet per read, no get_protos) and env added.
func panelGateway(bin, panelURL string, env ...string) (*floodGateway, error) {
	return startFloodGateway(bin, append([]string{"PLESKGATE_UPSTREAM_URL=" + panelURL, "PLESKGATE_PROTOCOL=1.6.9.1"}, env...)...)
}

// tally counts outcomes by name ("200", "503", "hung up", …).
type tally struct {
	mu sync.Mutex
	n  map[string]int
}

func (t *tally) add(outcome string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == nil {
		t.n = map[string]int{}
	}
	t.n[outcome]++
}

func (t *tally) get(outcome string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n[outcome]
}

// String lists the outcomes, most frequent first: "18 × 200, 2 × 503".
func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.n) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(t.n))
	for k := range t.n {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if t.n[a] != t.n[b] {
			return t.n[b] - t.n[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d × %s", t.n[k], k)
	}
	return strings.Join(parts, ", ")
}

// outcome names what a request ended with: its status, or "hung up" when
// the caller's own deadline ended it first, or the error.
func outcome(resp *http.Response, err error) string {
	switch {
	case err == nil:
		return fmt.Sprint(resp.StatusCode)
	case strings.Contains(err.Error(), context.DeadlineExceeded.Error()), strings.Contains(err.Error(), "Client.Timeout"):
		return "hung up"
	default:
		return "error"
	}
}

// seedAs adds n clients to sim as login (the administrator, or a reseller,
// who then owns them), 100 per packet, and returns their ids.
func seedAs(sim *plesksim.Server, login, password, prefix string, n int) ([]int, error) {
	v := newestVersion(sim)
	before := map[int]bool{}
	for _, c := range sim.Clients() {
		before[c.ID] = true
	}
	for done := 0; done < n; {
		var reqs []translator.Request
		for ; len(reqs) < 100 && done < n; done++ {
			reqs = append(reqs, &translator.AddRequest{Client: translator.NewClient{
				Name: fmt.Sprintf("%s %d", prefix, done), Login: fmt.Sprintf("%s%06d", prefix, done), Password: "bench-Pass1",
				Email: ptr(fmt.Sprintf("%s%06d@example.com", prefix, done)),
			}})
		}
		pkt, err := translator.EncodeRequest(v, reqs...)
		if err != nil {
			return nil, err
		}
		r, err := http.NewRequest(http.MethodPost, plesksim.AgentPath, bytes.NewReader(pkt))
		if err != nil {
			return nil, err
		}
		r.Header.Set("HTTP_AUTH_LOGIN", login)
		r.Header.Set("HTTP_AUTH_PASSWD", password)
		w := &bufferWriter{h: http.Header{}}
		sim.ServeHTTP(w, r)
		if w.code != 0 && w.code != http.StatusOK || bytes.Contains(w.buf, []byte("<status>error</status>")) {
			return nil, fmt.Errorf("seeding as %s failed: %d %.300s", login, w.code, w.buf)
		}
	}
	var ids []int
	for _, c := range sim.Clients() {
		if !before[c.ID] && strings.HasPrefix(c.Login, prefix) {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) != n {
		return nil, fmt.Errorf("seeded %d clients as %s, want %d", len(ids), login, n)
	}
	return ids, nil
}
