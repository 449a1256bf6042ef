package gateway

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestDeclaredQueryComesFromTheSpec(t *testing.T) {
	h := newHarness(t)
	got := h.gw.routes[routeKey{http.MethodGet, "/clients"}].query
	want := []string{"cursor", "external_id", "guid", "id", "include", "limit", "login", "owner_id", "owner_login"}
	if !slices.Equal(got, want) {
		t.Fatalf("GET /clients declares %v, want %v", got, want)
	}
	if q := h.gw.routes[routeKey{http.MethodGet, "/meta"}].query; len(q) != 0 {
		t.Fatalf("GET /meta declares %v", q)
	}
}

// ?page=2 and ?offset=2 (paging the API does not have) are a 400 naming
// the parameter, not the first page; declared parameters still work.
func TestUnknownQueryParameterIsABadRequest(t *testing.T) {
	h := newHarness(t)
	for _, q := range []string{"page=2", "offset=2", "limit=2&page=2", "login=jdoe&Limit=2", "pa%67e=2"} {
		r := h.expect(h.do("GET", "/clients?"+q, nil), http.StatusBadRequest)
		p := r.problem(t)
		name := map[string]string{"page=2": "page", "offset=2": "offset", "limit=2&page=2": "page", "login=jdoe&Limit=2": "Limit", "pa%67e=2": "page"}[q]
		if !strings.Contains(p.Detail, `unknown query parameter "`+name+`"`) || len(p.Errors) != 1 || p.Errors[0].Field != "query."+name ||
			!strings.HasSuffix(p.Type, "/validation") {
			t.Errorf("?%s: %s", q, r.body)
		}
	}
	h.expect(h.do("GET", "/clients?limit=2&include=stat&", nil), http.StatusOK)
}

// Every operation of the spec refuses an undeclared query parameter,
// before anything else about the request is looked at.
func TestEveryOperationRefusesUnknownQueryParameters(t *testing.T) {
	h := newHarness(t)
	n := 0
	for key := range h.gw.routes {
		path := key.path
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, ":") {
				path = strings.Replace(path, seg, "1", 1)
			}
		}
		var body any
		if key.method == http.MethodPost {
			body = "" // an empty body as application/json: every POST needs that media type
		}
		r := h.do(key.method, path+"?zz_unknown=1", body)
		if key.method == http.MethodHead {
			if r.StatusCode != http.StatusBadRequest {
				t.Errorf("%s %s: %d", key.method, path, r.StatusCode)
			}
			continue
		}
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(string(r.body), `unknown query parameter \"zz_unknown\"`) {
			t.Errorf("%s %s?zz_unknown=1: %d %s", key.method, path, r.StatusCode, r.body)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d operations", n)
	}
}
