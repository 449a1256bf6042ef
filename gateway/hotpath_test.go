package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pleskgate/pleskgate"
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

func TestAuthMemoBoundedAndPerCaller(t *testing.T) {
	m := newAuthMemo(4)
	a := &authEntry{creds: Credentials{Login: "a", Password: "pa"}, identity: "ida"}
	b := &authEntry{creds: Credentials{Login: "b", Password: "pb"}, identity: "idb"}
	m.put(memoPassthroughBasic, "Basic YTpwYQ==", a)
	m.put(memoPassthroughBasic, "Basic YjpwYg==", b)
	if got := m.get(memoPassthroughBasic, "Basic YTpwYQ=="); got != a {
		t.Fatalf("caller a: got %+v", got)
	}
	if got := m.get(memoPassthroughBasic, "Basic YjpwYg=="); got != b {
		t.Fatalf("caller b: got %+v", got)
	}
	// The same string as another header, or in another mode, is not the same caller.
	if m.get(memoPassthroughKey, "Basic YTpwYQ==") != nil || m.get(memoServiceKey, "Basic YTpwYQ==") != nil {
		t.Fatal("a Basic header's entry answered for a key")
	}
	if m.get(memoPassthroughBasic, "Basic YTpwYg==") != nil || m.get(memoPassthroughBasic, "") != nil {
		t.Fatal("an unknown header value was found")
	}
	for i := 0; i < 100; i++ {
		m.put(memoPassthroughKey, fmt.Sprintf("key-%d", i), &authEntry{})
		if n := m.len(); n > 4 {
			t.Fatalf("memo holds %d entries, bound 4", n)
		}
	}
}

// Two callers alternating on one gateway each get their own rights: the
// memoised identity and credentials never cross.
func TestAuthMemoTwoCallers(t *testing.T) {
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
	if n := h.gw.authMemo.len(); n != 3 {
		t.Fatalf("memo holds %d entries, want 3 (admin, res1, res1 with a wrong password)", n)
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

func TestServiceModeMemo(t *testing.T) {
	keys, err := NewAPIKeys([]APIKey{
		{Name: "reader", Scope: "read", SHA256: sha256hex("reader-key")},
		{Name: "writer", Scope: "write", SHA256: sha256hex("writer-key")},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.AuthMode, gc.APIKeys, gc.ServiceCredentials = AuthService, keys, Credentials{Login: "admin", Password: adminPass}
	})
	anon := h.anonymous()
	for i := 0; i < 2; i++ {
		h.expect(anon.with("X-API-Key", "reader-key").do("GET", "/descriptors/limits", nil), http.StatusOK)
		h.expect(anon.with("X-API-Key", "reader-key").do("DELETE", "/clients/1", nil), http.StatusForbidden)
		h.expect(anon.with("X-API-Key", "not-a-key").do("GET", "/descriptors/limits", nil), http.StatusUnauthorized)
	}
	if n := h.gw.authMemo.len(); n != 1 {
		t.Fatalf("memo holds %d entries, want 1 (unknown keys are not remembered)", n)
	}
}

func TestDescriptorKeyParts(t *testing.T) {
	s := &Server{upstreamID: "u1"}
	v1, v2 := translator.MustParseVersion("1.6.0.2"), translator.MustParseVersion("1.6.3.0")
	base := descKeyParts{identity: "id-a", kind: "limits", version: v1}
	if got, want := s.buildDescriptorKey(base), "pleskgate:descriptor:u1:id-a:limits:1.6.0.2:server"; got != want {
		t.Fatalf("key %q, want %q", got, want)
	}
	seen := map[string]descKeyParts{}
	for _, p := range []descKeyParts{
		base,
		{identity: "id-b", kind: "limits", version: v1},
		{identity: "id-a", kind: "permissions", version: v1},
		{identity: "id-a", kind: "limits", version: v2},
		{identity: "id-a", kind: "limits", version: v1, clientID: 7},
		{identity: "id-a", kind: "limits", version: v1, clientID: 8},
	} {
		k := s.buildDescriptorKey(p)
		if other, dup := seen[k]; dup {
			t.Fatalf("%+v and %+v share key %q", p, other, k)
		}
		seen[k] = p
	}
	m := newKeyMemo(2)
	calls := 0
	build := func(p descKeyParts) string { calls++; return s.buildDescriptorKey(p) }
	for i := 0; i < 3; i++ {
		if got := m.get(base, build); got != s.buildDescriptorKey(base) {
			t.Fatalf("memo gave %q", got)
		}
	}
	if calls != 1 {
		t.Fatalf("built %d times, want 1", calls)
	}
	for id := int64(1); id < 10; id++ {
		m.get(descKeyParts{identity: "x", kind: "limits", version: v1, clientID: id}, build)
		if m.keys.len() > 2 {
			t.Fatalf("memo holds %d keys, bound 2", m.keys.len())
		}
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
		if i%2 == 1 {
			id = (&reqState{}).newRequestIDIn()
		}
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
