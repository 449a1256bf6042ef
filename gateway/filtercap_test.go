package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestFilterValuesCappedAt1000: each filter parameter takes at most 1000
// values (openapi.yaml maxItems); the 1001st is a 400 problem naming the
// parameter, and no packet reaches the panel. 1000 values are served.
func TestFilterValuesCappedAt1000(t *testing.T) {
	h := newHarness(t)
	for _, p := range []struct{ name, value string }{
		{"id", "%d"}, {"login", "user%d"}, {"guid", "g%d"}, {"external_id", "e%d"}, {"owner_id", "%d"}, {"owner_login", "o%d"},
	} {
		query := func(n int) string {
			vals := make([]string, n)
			for i := range vals {
				vals[i] = p.name + "=" + fmt.Sprintf(p.value, i+1)
			}
			return strings.Join(vals, "&")
		}
		before := h.sim.Stats().Requests
		r := h.do("GET", "/clients?"+query(1001), nil)
		if r.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s ×1001: %d %s", p.name, r.StatusCode, r.body)
		}
		pr := r.problem(t)
		if !strings.Contains(pr.Detail, `"`+p.name+`"`) {
			t.Errorf("%s ×1001: the problem does not name the parameter: %s", p.name, r.body)
		}
		if n := h.sim.Stats().Requests - before; n != 0 {
			t.Errorf("%s ×1001: %d packets reached the panel", p.name, n)
		}
		if p.name == "id" || p.name == "login" {
			if r := h.do("GET", "/clients?"+query(1000), nil); r.StatusCode != http.StatusOK {
				t.Errorf("%s ×1000: %d %.300s", p.name, r.StatusCode, r.body)
			}
		}
	}
}
