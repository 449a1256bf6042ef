package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/pleskgate/pleskgate"
)

// Ordinary path and header values pass the validator: an id, an entity tag,
// "*", or no header at all.
func TestValidatorAcceptsOrdinaryParameters(t *testing.T) {
	spec, err := openapi3.NewLoader().LoadFromData(pleskgate.OpenAPIYAML)
	if err != nil {
		t.Fatal(err)
	}
	spec.Servers = nil
	routes := specRoutes(spec)
	for _, tc := range []struct {
		key    routeKey
		params map[string]string
	}{
		{routeKey{http.MethodGet, "/clients/:id"}, map[string]string{"id": "42"}},
		{routeKey{http.MethodGet, "/clients/:id"}, map[string]string{"id": "9223372036854775807"}},
		{routeKey{http.MethodGet, "/descriptors/limits"}, nil},
	} {
		info := routes[tc.key]
		if info == nil {
			t.Fatalf("%v: no such operation", tc.key)
		}
		for _, hv := range []string{`"abc"`, "*", "<absent>"} {
			r := httptest.NewRequest(tc.key.method, "/", nil)
			if hv != "<absent>" {
				r.Header["If-Match"] = []string{hv}
				r.Header["If-None-Match"] = []string{hv}
			}
			err := openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
				Request: r, PathParams: tc.params, Route: info.route, Options: validatorOptions,
			})
			if err != nil {
				t.Errorf("%s %s %v, header %q: kin-openapi refuses: %v", tc.key.method, tc.key.path, tc.params, hv, err)
			}
		}
	}
}

// Through the whole gateway: invalid path and header values get the
// validator's problem.
func TestValidatorRefusesBadParameters(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/clients/0", "/clients/abc", "/clients/-3", "/clients/99999999999999999999"} {
		p := h.expect(h.do("GET", path, nil), http.StatusBadRequest).problem(t)
		if len(p.Errors) == 0 || p.Errors[0].Field != "path.id" {
			t.Errorf("GET %s: problem %+v, want a path.id error", path, p)
		}
	}
	h.expect(h.with("If-None-Match", "").do("GET", "/descriptors/limits", nil), http.StatusBadRequest).problem(t)
}

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
