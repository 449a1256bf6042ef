package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestPanicIsA500LoggedAndCounted: a handler that panics answers a 500
// problem, and the request still gets its access-log line and its HTTP
// metrics, like any other 500.
func TestPanicIsA500LoggedAndCounted(t *testing.T) {
	h := newHarness(t)
	h.gw.echo.GET("/boom", func(echo.Context) error { panic("boom") })
	p := h.expect(h.do("GET", "/boom", nil), http.StatusInternalServerError).problem(t)
	if p.Type != problemType("internal") || p.RequestID == "" {
		t.Fatalf("problem %+v", p)
	}
	if n := h.logs.FilterMessage("panic serving request").Len(); n != 1 {
		t.Fatalf("%d panic log lines, want 1", n)
	}
	var logged bool
	for _, e := range h.logs.FilterMessage("request").All() {
		if e.ContextMap()["route"] == "/boom" && e.ContextMap()["status"] == int64(500) {
			logged = true
		}
	}
	if !logged {
		t.Fatal("no access-log line with status 500 for the panicked request")
	}
	m := h.anonymous().expect(h.anonymous().do("GET", "/metrics", nil), http.StatusOK)
	if want := `pleskgate_http_requests_total{method="GET",operation="/boom",status="500"}`; !strings.Contains(string(m.body), want) {
		t.Fatalf("/metrics lacks %s", want)
	}
}
