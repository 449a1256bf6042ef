package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pleskgate/pleskgate/plesksim"
)

func withDemo() harnessOpt {
	return func(sc *plesksim.Config, _ *Config) { sc.DemoClients = true }
}

func (h *harness) simClientID(login string) int {
	h.t.Helper()
	for _, c := range h.sim.Clients() {
		if c.Login == login {
			return c.ID
		}
	}
	h.t.Fatalf("no client %q in the simulator", login)
	return 0
}

// TestListClientDomains: a client's domains as get-domain-list lists them,
// the alias and subdomain pointing at their parent, in both answer forms the
// gateway may pick (1.6.8.0, the first with a documented answer, and the newest).
func TestListClientDomains(t *testing.T) {
	for _, newest := range []string{"1.6.8.0", "1.6.9.1"} {
		t.Run(newest, func(t *testing.T) {
			h := newHarness(t, withProtocol(newest), withDemo())
			var got struct {
				Domains []struct {
					ID        int64  `json:"id"`
					Name      string `json:"name"`
					ASCIIName string `json:"ascii_name"`
					Type      string `json:"type"`
					Main      bool   `json:"main"`
					GUID      string `json:"guid"`
					ParentID  *int64 `json:"parent_id"`
				} `json:"domains"`
			}
			h.expect(h.do("GET", fmt.Sprintf("/clients/%d/domains", h.simClientID("jdoe")), nil), http.StatusOK).json(t, &got)
			want := h.sim.ClientDomains("jdoe")
			if len(got.Domains) != len(want) || len(want) == 0 {
				t.Fatalf("domains %+v, simulator has %+v", got.Domains, want)
			}
			byID := map[int64]string{}
			for i, d := range got.Domains {
				w := want[i]
				if d.ID != int64(w.ID) || d.Name != w.Name || d.ASCIIName != w.ASCIIName || d.Type != w.Type || d.Main != w.Main || d.GUID != w.GUID {
					t.Fatalf("domain %d: %+v, want %+v", i, d, w)
				}
				if (d.ParentID == nil) != (w.ParentID == 0) || d.ParentID != nil && *d.ParentID != int64(w.ParentID) {
					t.Fatalf("domain %s: parent %v, want %d", d.Name, d.ParentID, w.ParentID)
				}
				byID[d.ID] = d.Name
			}
			// A client without domains answers an empty list, not null.
			id := h.createClient("nodomains")
			r := h.expect(h.do("GET", fmt.Sprintf("/clients/%d/domains", id), nil), http.StatusOK)
			if !strings.Contains(string(r.body), `"domains":[]`) {
				t.Fatalf("no domains: %s", r.body)
			}
		})
	}
}

// TestListClientDomainsOnlyOwnClients: a reseller sees its own clients'
// domains and gets 404 for the administrator's, as Plesk decides.
func TestListClientDomainsOnlyOwnClients(t *testing.T) {
	h := newHarness(t, withDemo())
	res := h.as("res1", resellerPass)
	res.expect(res.do("GET", fmt.Sprintf("/clients/%d/domains", h.simClientID("rclient1")), nil), http.StatusOK)
	res.expect(res.do("GET", fmt.Sprintf("/clients/%d/domains", h.simClientID("jdoe")), nil), http.StatusNotFound)
	h.expect(h.do("GET", "/clients/424242/domains", nil), http.StatusNotFound)
}

// TestListClientDomainsNotBefore1680: below the first version whose answer
// is documented the route is a 501 naming the operation, and no packet goes.
func TestListClientDomainsNotBefore1680(t *testing.T) {
	for _, newest := range []string{"1.6.7.0", "1.6.0.2"} {
		t.Run(newest, func(t *testing.T) {
			h := newHarness(t, withProtocol(newest), withDemo())
			id := h.simClientID("jdoe")
			h.do("GET", "/meta", nil) // versions learned
			before := h.sim.Stats()
			p := h.expect(h.do("GET", fmt.Sprintf("/clients/%d/domains", id), nil), http.StatusNotImplemented).problem(t)
			if !strings.Contains(p.Detail, "get-domain-list") {
				t.Fatalf("501 detail %q", p.Detail)
			}
			if after := h.sim.Stats(); after.Requests != before.Requests {
				t.Fatalf("packets %d → %d: a 501 sent one", before.Requests, after.Requests)
			}
		})
	}
}
