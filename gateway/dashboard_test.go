package gateway

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/pleskgate/pleskgate/plesksim"
)

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

// dashboardSkips are metrics the dashboard leaves out on purpose.
var dashboardSkips = map[string]bool{}
