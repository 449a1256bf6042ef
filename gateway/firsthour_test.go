package gateway

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// GET / — the first URL a newcomer tries — leads to Swagger UI instead of
// a 404 problem.
func TestRootLeadsToDocs(t *testing.T) {
	h := newHarness(t).anonymous()
	r := h.do("GET", "/", nil)
	if r.StatusCode != 200 || r.Request.URL.Path != "/docs/" || !bytes.Contains(r.body, []byte("swagger")) {
		t.Fatalf("GET / → %d at %s: %.200s", r.StatusCode, r.Request.URL.Path, r.body)
	}
}

// Problem bodies end with a newline, as success bodies do (a terminal's
// prompt then starts on its own line after curl).
func TestErrorBodiesEndWithNewline(t *testing.T) {
	h := newHarness(t)
	ok := h.expect(h.do("GET", "/clients", nil), 200)
	if !bytes.HasSuffix(ok.body, []byte("}\n")) {
		t.Fatalf("success body ends %q", ok.body[max(0, len(ok.body)-10):])
	}
	for _, r := range []response{
		h.do("GET", "/clients/424242", nil),                // 404 from Plesk
		h.do("GET", "/clients?login=a&id=3", nil),          // 400 from the gateway
		h.as("admin", "wrong").do("GET", "/clients", nil),  // 401
		h.do("POST", "/clients", "not json", "text/plain"), // 415
		h.anonymous().do("GET", "/no-such-route", nil),     // 404 route
	} {
		if r.StatusCode < 400 || !bytes.HasSuffix(r.body, []byte("}\n")) {
			t.Errorf("%s %s → %d, body ends %q", r.Request.Method, r.Request.URL, r.StatusCode, r.body[max(0, len(r.body)-10):])
		}
	}
}

// A fresh gateway's /metrics already has the series of the label values
// known in advance, at 0, so the shipped dashboard shows 0 rather than "No
// data" until the first descriptor read or Idempotency-Key. Only series
// keyed by operation wait for that operation's first request.
func TestMetricsPresentFromTheStart(t *testing.T) {
	h := newHarness(t).anonymous()
	r := h.expect(h.do("GET", "/metrics", nil), 200)
	text := string(r.body)
	for _, want := range []string{
		`pleskgate_descriptor_cache_requests_total{outcome="hit"} 0`,
		`pleskgate_descriptor_cache_requests_total{outcome="miss"} 0`,
		`pleskgate_descriptor_cache_requests_total{outcome="collapsed"} 0`,
		`pleskgate_descriptor_cache_requests_total{outcome="bypass"} 0`,
		`pleskgate_idempotency_requests_total{outcome="new"} 0`,
		`pleskgate_idempotency_requests_total{outcome="replayed"} 0`,
		`pleskgate_idempotency_requests_total{outcome="conflict"} 0`,
		`pleskgate_idempotency_requests_total{outcome="store_error"} 0`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("a fresh /metrics lacks %s", want)
		}
	}
	// Every family the dashboard queries is there, but those keyed by
	// operation (they appear with its first request).
	byOperation := map[string]bool{
		"pleskgate_http_requests_total": true, "pleskgate_http_request_duration_seconds": true,
		"pleskgate_upstream_packets_total": true, "pleskgate_upstream_request_duration_seconds": true,
	}
	dash, err := os.ReadFile("../deploy/grafana/pleskgate.json")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, name := range regexp.MustCompile(`pleskgate_[a-z_]+`).FindAllString(string(dash), -1) {
		family := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		if seen[family] || byOperation[family] {
			continue
		}
		seen[family] = true
		if !strings.Contains(text, "\n"+family+"{") && !strings.Contains(text, "\n"+family+" ") {
			t.Errorf("the dashboard queries %s, missing from a fresh /metrics", family)
		}
	}
}
