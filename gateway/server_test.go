package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/pleskgate/pleskgate/plesksim"
)

func TestServerHygiene(t *testing.T) {
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.MaxBodyBytes = 1024 })
	t.Run("413", func(t *testing.T) {
		body := newClientBody("big")
		body["description"] = strings.Repeat("x", 2048)
		h.expect(h.do("POST", "/clients", body), http.StatusRequestEntityTooLarge).problem(t)
		if len(h.sim.Clients()) != 0 {
			t.Fatal("an oversize body created a client")
		}
	})
	t.Run("panic is a 500", func(t *testing.T) {
		h.gw.echo.GET("/test-panic", func(echo.Context) error { panic("boom") })
		h.expect(h.anonymous().do("GET", "/test-panic", nil), http.StatusInternalServerError).problem(t)
		h.expect(h.do("GET", "/clients", nil), http.StatusOK) // still serving
	})
	t.Run("request id", func(t *testing.T) {
		r := h.with("X-Request-ID", "abc-123").do("GET", "/clients", nil)
		if r.Header.Get("X-Request-ID") != "abc-123" {
			t.Fatal("X-Request-ID not echoed")
		}
		if h.do("GET", "/clients", nil).Header.Get("X-Request-ID") == "" {
			t.Fatal("no X-Request-ID generated")
		}
	})
	t.Run("CORS off by default", func(t *testing.T) {
		r := h.with("Origin", "https://app.example").do("GET", "/clients", nil)
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatal("CORS answered while not configured")
		}
	})
	t.Run("If-Match", func(t *testing.T) {
		id := h.createClient("etagged")
		path := fmt.Sprintf("/clients/%d", id)
		h.expect(h.with("If-Match", `"stale"`).do("DELETE", path, nil), http.StatusPreconditionFailed).problem(t)
		h.expect(h.with("If-Match", `"stale"`).do("PUT", path+"/owner", obj{"owner_login": "res1", "ipv4_addresses": []string{"192.0.2.10"}}), http.StatusPreconditionFailed)
		if len(h.sim.Clients()) != 1 || h.sim.Clients()[0].OwnerLogin != "admin" {
			t.Fatal("a failed precondition changed state")
		}
		etag := h.do("GET", path, nil).Header.Get("ETag")
		h.expect(h.with("If-Match", etag).do("DELETE", path, nil), http.StatusNoContent)
	})
}

func TestCORSWhenConfigured(t *testing.T) {
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.CORSOrigins = []string{"https://app.example"} })
	r := h.with("Origin", "https://app.example").do("GET", "/clients", nil)
	if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("CORS headers: %v", r.Header)
	}
	// A frontend on that origin can read the idempotency answers' headers.
	for _, h := range []string{"ETag", "Location", "Idempotent-Replayed", "Idempotent-Reconciled", "Idempotent-Recorded"} {
		if !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), h) {
			t.Fatalf("Access-Control-Expose-Headers %q lacks %s", r.Header.Get("Access-Control-Expose-Headers"), h)
		}
	}
	r = h.with("Origin", "https://evil.example").do("GET", "/clients", nil)
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS allowed an unlisted origin")
	}
}
