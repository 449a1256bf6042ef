package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/pleskgate/pleskgate"
)

// The precompiled parameter checks may only ever vouch for values that
// kin-openapi accepts too: whenever paramsValid says yes, ValidateRequest
// must say yes. They must also vouch for ordinary values, or the fast path
// never runs.
func TestParamChecksNeverVouchForInvalid(t *testing.T) {
	spec, err := openapi3.NewLoader().LoadFromData(pleskgate.OpenAPIYAML)
	if err != nil {
		t.Fatal(err)
	}
	spec.Servers = nil
	routes := specRoutes(spec)
	values := []string{"1", "42", "0", "-1", "01", "+5", "1e3", " 1", "abc", "", "9223372036854775807",
		"999999999999999999", "99999999999999999999", "192.0.2.10", "2001:db8::1", strings.Repeat("9", 46), "é"}
	headers := []string{"", `"abc"`, "*", strings.Repeat("x", 300), "ü"}
	e := echo.New()
	vouched := 0
	for key, info := range routes {
		if !info.fast || !info.hasParams || info.route.Operation.RequestBody != nil {
			continue
		}
		names := pathParamNames(key.path)
		for _, v := range values {
			for _, hv := range append(headers, "<absent>") {
				r := httptest.NewRequest(key.method, "/", nil)
				if hv != "<absent>" {
					r.Header["If-Match"] = []string{hv}
					r.Header["If-None-Match"] = []string{hv}
				}
				c := e.NewContext(r, httptest.NewRecorder())
				vals := make([]string, len(names))
				pp := map[string]string{}
				for i, n := range names {
					vals[i] = v
					pp[n] = v
				}
				c.SetParamNames(names...)
				c.SetParamValues(vals...)
				if !paramsValid(info.checks, c, r.Header) {
					continue
				}
				vouched++
				err := openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
					Request: r, PathParams: pp, Route: info.route, Options: validatorOptions,
				})
				if err != nil {
					t.Errorf("%s %s with %q, header %q: the checks vouched for it, kin-openapi refuses: %v", key.method, key.path, v, hv, err)
				}
			}
		}
	}
	if vouched == 0 {
		t.Fatal("the checks vouched for nothing: the fast path would never run")
	}
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	c.SetParamNames("id")
	c.SetParamValues("42")
	if info := routes[routeKey{http.MethodGet, "/clients/:id"}]; !info.fast || !paramsValid(info.checks, c, c.Request().Header) {
		t.Fatal("GET /clients/42 does not take the fast path")
	}
}

func pathParamNames(path string) []string {
	var names []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, ":") {
			names = append(names, seg[1:])
		}
	}
	return names
}

// Through the whole gateway: values the checks cannot vouch for still get
// the validator's problem.
func TestFastPathStillRefusesBadParameters(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/clients/0", "/clients/abc", "/clients/-3", "/clients/99999999999999999999"} {
		p := h.expect(h.do("GET", path, nil), http.StatusBadRequest).problem(t)
		if len(p.Errors) == 0 || p.Errors[0].Field != "path.id" {
			t.Errorf("GET %s: problem %+v, want a path.id error", path, p)
		}
	}
	h.expect(h.with("If-None-Match", "").do("GET", "/descriptors/limits", nil), http.StatusBadRequest).problem(t)
}
