package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pleskgate/pleskgate/plesksim"
)

// TestUpstreamUserinfoIsRedacted: GET /meta shows the upstream URL without
// its userinfo or query.
func TestUpstreamUserinfoIsRedacted(t *testing.T) {
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.UpstreamLabel = "https://plesk-user:S3cretPass@panel.example:8443/?token=T0ken"
	})
	r := h.expect(h.do("GET", "/meta", nil), http.StatusOK)
	for _, leak := range []string{"plesk-user", "S3cretPass", "T0ken", "@"} {
		if strings.Contains(string(r.body), leak) {
			t.Fatalf("/meta shows %q: %s", leak, r.body)
		}
	}
	if !strings.Contains(string(r.body), `"https://panel.example:8443/"`) {
		t.Fatalf("/meta lacks the redacted URL: %s", r.body)
	}
	for raw, want := range map[string]string{
		"http://u:p@panel:8443":  "http://panel:8443",
		"https://panel:8443":     "https://panel:8443",
		"http://u:p%zz@panel":    "(unparsable URL)",
		"http://only-user@panel": "http://panel",
		"":                       "",
	} {
		if got := RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}
