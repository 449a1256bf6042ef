package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pleskgate/pleskgate"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
	"github.com/pleskgate/pleskgate/translator"
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

// Two callers alternating on one gateway each get their own rights: the
// identities and credentials never cross.
func TestTwoCallersKeepTheirOwnRights(t *testing.T) {
	h := newHarness(t)
	admin, res1 := h, h.as("res1", resellerPass)
	for i := 0; i < 3; i++ {
		if r := h.expect(admin.do("GET", "/descriptors/limits", nil), http.StatusOK); i > 0 && !strings.Contains(r.Header.Get("Cache-Status"), "hit") {
			t.Fatalf("admin's repeat was not a hit: %s", r.Header.Get("Cache-Status"))
		}
		r := h.expect(res1.do("GET", "/descriptors/limits", nil), http.StatusOK)
		if i == 0 && !strings.Contains(r.Header.Get("Cache-Status"), "miss") {
			t.Fatalf("res1's first read was served from admin's entry: %s", r.Header.Get("Cache-Status"))
		}
		h.expect(h.as("res1", "wrong-password").do("GET", "/descriptors/limits", nil), http.StatusUnauthorized)
	}
	// The access log names each caller.
	callers := map[string]bool{}
	for _, e := range h.logs.FilterMessage("request").All() {
		if c, ok := e.ContextMap()["caller"].(string); ok {
			callers[c] = true
		}
	}
	if !callers["login:admin"] || !callers["login:res1"] {
		t.Fatalf("access log callers: %v", callers)
	}
}

func TestServiceModeKeysAndScopes(t *testing.T) {
	keys, err := NewAPIKeys([]APIKey{
		{Name: "reader", Scope: "read", SHA256: sha256hex("reader-key")},
		{Name: "writer", Scope: "write", SHA256: sha256hex("writer-key")},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.AuthMode, gc.APIKeys, gc.ServiceCredentials = AuthService, keys, upstream.Credentials{Login: "admin", Password: adminPass}
	})
	anon := h.anonymous()
	for i := 0; i < 2; i++ {
		h.expect(anon.with("X-API-Key", "reader-key").do("GET", "/descriptors/limits", nil), http.StatusOK)
		h.expect(anon.with("X-API-Key", "reader-key").do("DELETE", "/clients/1", nil), http.StatusForbidden)
		h.expect(anon.with("X-API-Key", "not-a-key").do("GET", "/descriptors/limits", nil), http.StatusUnauthorized)
	}
}

func TestDescriptorKeys(t *testing.T) {
	s := &Server{upstreamID: "u1"}
	v1, v2 := translator.MustParseVersion("1.6.0.2"), translator.MustParseVersion("1.6.3.0")
	if got, want := s.descriptorKey("id-a", "limits", v1, 0), "pleskgate:descriptor:u1:id-a:limits:1.6.0.2:server"; got != want {
		t.Fatalf("key %q, want %q", got, want)
	}
	type parts struct {
		identity string
		kind     descriptorKind
		version  translator.Version
		clientID int64
	}
	seen := map[string]parts{}
	for _, p := range []parts{
		{"id-a", "limits", v1, 0},
		{"id-b", "limits", v1, 0},
		{"id-a", "permissions", v1, 0},
		{"id-a", "limits", v2, 0},
		{"id-a", "limits", v1, 7},
		{"id-a", "limits", v1, 8},
	} {
		k := s.descriptorKey(p.identity, p.kind, p.version, p.clientID)
		if other, dup := seen[k]; dup {
			t.Fatalf("%+v and %+v share key %q", p, other, k)
		}
		seen[k] = p
	}
}

func TestObserverMemoKeepsSeries(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < 3; i++ {
		h.expect(h.do("GET", "/descriptors/limits", nil), http.StatusOK)
	}
	h.expect(h.anonymous().do("GET", "/descriptors/limits", nil), http.StatusUnauthorized)
	if n := testutil.ToFloat64(h.gw.metrics.httpRequests.WithLabelValues("getLimitDescriptor", "GET", "200")); n != 3 {
		t.Fatalf("200s counted: %v, want 3", n)
	}
	if n := testutil.ToFloat64(h.gw.metrics.httpRequests.WithLabelValues("getLimitDescriptor", "GET", "401")); n != 1 {
		t.Fatalf("401s counted: %v, want 1", n)
	}
	if n := testutil.ToFloat64(h.gw.metrics.cacheRequests.WithLabelValues("hit")); n != 2 {
		t.Fatalf("hits counted: %v, want 2", n)
	}
}

func TestRequestIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := newRequestID()
		if len(id) != 24 || !validRequestID(id) || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("request id %q", id)
		}
		if seen[id] {
			t.Fatalf("request id %q repeated", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "a b", "é", strings.Repeat("x", 129), "x\x7f"} {
		if validRequestID(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
