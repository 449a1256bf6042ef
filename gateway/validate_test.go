package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
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
